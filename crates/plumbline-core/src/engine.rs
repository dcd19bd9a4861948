//! The engine facade: what the desktop shell, the CLI and the tests call.

use crate::apps::{AppError, AppStore, Application, Apps};
use crate::clusters::{ClusterError, Clusters, ContextList, Kubeconfigs};
use crate::ipc::ErrorInfo;
use crate::reconcile::{
    self, Comparison, ReconcileError, ResourceDiff, ResourceStatus, SyncStatus,
};
use crate::repos::manager::Repositories;
use crate::repos::{Commit, RepoError};
use crate::resources::ResourceKey;
use crate::sync::{self, SyncEvent, SyncResult};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use ts_rs::TS;

/// An application with its comparison result. Failures to render or to reach the cluster make
/// the status Unknown and carry the reason; they are not errors of the call.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AppStatus {
    pub app: Application,
    pub sync: SyncStatus,
    pub commit: Option<Commit>,
    pub resources: Vec<ResourceStatus>,
    pub notes: Vec<String>,
    pub error: Option<ErrorInfo>,
}

/// Why an engine call failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    Reconcile(#[from] ReconcileError),
    #[error("application {app:?} has no resource {key}")]
    NoSuchResource { app: String, key: ResourceKey },
    #[error("application {0:?} is already syncing; wait for that sync to finish")]
    Busy(String),
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// Plumbline's engine over one set of kubeconfig files and one app store.
pub struct Engine {
    clusters: Clusters,
    apps: Apps,
    repositories: Arc<Repositories>,
    comparisons: Mutex<HashMap<String, Arc<Comparison>>>,
    syncing: Mutex<HashSet<String>>,
}

impl Engine {
    /// An engine over `kubeconfigs`, the applications in `store` and their `repositories`.
    /// Connects to nothing yet.
    pub fn new(
        kubeconfigs: Kubeconfigs,
        store: Arc<dyn AppStore>,
        repositories: Arc<Repositories>,
    ) -> Self {
        Self {
            clusters: Clusters::new(kubeconfigs),
            apps: Apps::new(store),
            repositories,
            comparisons: Mutex::new(HashMap::new()),
            syncing: Mutex::new(HashSet::new()),
        }
    }

    /// Every kubeconfig context, and the files that could not be read.
    pub fn contexts(&self) -> ContextList {
        self.clusters.kubeconfigs().list()
    }

    /// The application catalogue.
    pub fn apps(&self) -> &Apps {
        &self.apps
    }

    /// The repositories the user added.
    pub fn repositories(&self) -> &Arc<Repositories> {
        &self.repositories
    }

    /// Where the app's files are read from: the clone of an added repository (cloned now if it
    /// never was), or the local repository its `repo` names.
    async fn source(&self, app: &Application) -> Result<std::path::PathBuf, EngineError> {
        if self.repositories.get(&app.repo).is_err() {
            return Ok(std::path::PathBuf::from(&app.repo));
        }
        let dir = self.repositories.clone_dir(&app.repo);
        if !dir.join("HEAD").exists() {
            let cancel = Arc::new(std::sync::atomic::AtomicBool::new(false));
            self.repositories.fetch(&app.repo, |_| {}, cancel).await?;
        }
        Ok(dir)
    }

    /// Compares the application now and remembers the result for [`Self::diff`].
    pub async fn status(&self, name: &str) -> Result<AppStatus, EngineError> {
        let app = self.apps.get(name)?;
        match self.compare(&app).await {
            Ok(comparison) => Ok(AppStatus {
                sync: comparison.sync_status(),
                commit: Some(comparison.commit.clone()),
                resources: comparison.statuses(),
                notes: comparison.notes.clone(),
                error: None,
                app,
            }),
            Err(e) => {
                tracing::warn!(app = name, error = %e, "comparison failed");
                Ok(AppStatus {
                    app,
                    sync: SyncStatus::Unknown,
                    commit: None,
                    resources: Vec::new(),
                    notes: Vec::new(),
                    error: Some(ErrorInfo::from(&e)),
                })
            }
        }
    }

    /// The diff of one resource, from the last comparison (comparing first if there is none).
    pub async fn diff(&self, name: &str, key: &ResourceKey) -> Result<ResourceDiff, EngineError> {
        let cached = self
            .comparisons
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned();
        let comparison = match cached {
            Some(c) => c,
            None => self.compare(&self.apps.get(name)?).await?,
        };
        comparison
            .resources
            .iter()
            .find(|r| &r.key == key)
            .map(|r| r.diff())
            .ok_or_else(|| EngineError::NoSuchResource {
                app: name.to_string(),
                key: key.clone(),
            })
    }

    /// Syncs the application to its revision, reporting progress as it goes.
    pub async fn sync(
        &self,
        name: &str,
        progress: &(dyn Fn(SyncEvent) + Send + Sync),
    ) -> Result<SyncResult, EngineError> {
        let app = self.apps.get(name)?;
        if !self
            .syncing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_string())
        {
            return Err(EngineError::Busy(name.to_string()));
        }
        let outcome = async {
            let client = self.clusters.client(&app.destination.context).await?;
            let comparison = self.compare(&app).await?;
            let result = sync::run(&client, &comparison, progress).await;
            tracing::info!(app = name, phase = ?result.phase, "{}", result.message);
            // Refresh so that the next diff shows the state after the sync.
            let _ = self.compare(&app).await;
            Ok(result)
        }
        .await;
        self.syncing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name);
        outcome
    }

    async fn compare(&self, app: &Application) -> Result<Arc<Comparison>, EngineError> {
        let client = self.clusters.client(&app.destination.context).await?;
        let source = self.source(app).await?;
        let comparison = Arc::new(reconcile::compare(app, source, &client).await?);
        self.comparisons
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(app.name.clone(), comparison.clone());
        Ok(comparison)
    }
}
