//! The engine facade: what the desktop shell, the CLI and the tests call.

use crate::apps::{AppError, AppStore, Application, Apps};
use crate::automation::{self, AutoSync, Decision};
use crate::clusters::{ClusterError, Clusters, ContextList, ContextState};
use crate::comparison::{
    self, Comparison, ReconcileError, ResourceDiff, ResourceStatus, SyncStatus,
};
use crate::errors::{ErrorCode, ErrorInfo};
use crate::history::{History, HistoryEntry, LastOperation, OperationKind};
use crate::repos::manager::Repositories;
use crate::repos::{Commit, RepoError};
use crate::resources::ResourceKey;
use crate::settings::{Settings, SettingsStore};
use crate::sync::{self, OperationPhase, SyncEvent, SyncOptions, SyncPlan, SyncResult};
use crate::tracked::Freshness;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use ts_rs::TS;

/// An application with its comparison result. Failures to render or to reach the cluster make
/// the status Unknown and carry the reason; they are not errors of the call.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AppStatus {
    pub app: Application,
    pub sync: SyncStatus,
    /// The worst health of the app's live resources; none when no rule applies (or unknown).
    pub health: Option<crate::health::HealthStatus>,
    pub commit: Option<Commit>,
    pub resources: Vec<ResourceStatus>,
    pub notes: Vec<String>,
    pub error: Option<ErrorInfo>,
    /// The newest sync, automated sync or rollback, if any.
    #[serde(rename = "lastOperation")]
    pub last_operation: Option<LastOperation>,
    /// Set while the app's cluster does not answer: the rest is the last known state.
    pub stale: Option<crate::events::Stale>,
}

impl AppStatus {
    /// The status as tiles, the rail and the fleet matrix show it.
    pub fn summary(&self) -> crate::events::AppSummary {
        let status = self;
        crate::events::AppSummary {
            app: status.app.clone(),
            sync: status.sync,
            health: status.health,
            commit: status.commit.clone(),
            error: status.error.clone(),
            last_operation: status.last_operation.clone(),
            stale: status.stale.clone(),
            out_of_sync: status
                .resources
                .iter()
                .filter(|r| r.status != comparison::ResourceSync::Synced)
                .count() as u32,
            resources: status.resources.len() as u32,
        }
    }
}

/// The status of `app` from one comparison.
fn status_from(
    app: &Application,
    comparison: &Comparison,
    last_operation: Option<LastOperation>,
    stale: Option<crate::events::Stale>,
) -> AppStatus {
    AppStatus {
        sync: comparison.sync_status(),
        health: comparison.health(),
        commit: Some(comparison.commit.clone()),
        resources: comparison.statuses(),
        notes: comparison.notes.clone(),
        error: None,
        last_operation,
        app: app.clone(),
        stale,
    }
}

/// What the app page shows in its graph views: the status and the tree, from one comparison.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AppView {
    pub status: AppStatus,
    /// Empty when the app could not be compared (the status says why) or the tree not read.
    pub tree: Vec<crate::tree::TreeNode>,
    /// Why the tree could not be read, when the comparison could.
    #[serde(rename = "treeError")]
    pub tree_error: Option<ErrorInfo>,
}

/// Why an engine call failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    /// Boxed: it is the largest, and every call returns this type.
    Reconcile(Box<ReconcileError>),
    #[error("application {app:?} has no resource {key}")]
    NoSuchResource { app: String, key: ResourceKey },
    #[error("application {app:?} is already {holder}; wait for it to finish")]
    Busy { app: String, holder: String },
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(
        "context {context:?} is protected: type its name to confirm that {action} may change it"
    )]
    ConfirmationRequired { context: String, action: String },
    #[error(transparent)]
    Store(#[from] crate::apps::StoreError),
    #[error(transparent)]
    Plan(#[from] crate::sync::plan::PlanError),
    #[error(transparent)]
    History(#[from] crate::history::HistoryError),
    #[error(
        "application {0:?} syncs automatically, which would undo a rollback at once: turn automated sync off first"
    )]
    AutomatedRollback(String),
    #[error("the Argo CD Application could not be imported: {0}")]
    Import(#[from] crate::argocd::ImportError),
    #[error("{0}")]
    Settings(String),
}

impl From<ReconcileError> for EngineError {
    fn from(e: ReconcileError) -> Self {
        Self::Reconcile(Box::new(e))
    }
}

/// Plumbline's engine over one set of kubeconfig files and one app store.
pub struct Engine {
    clusters: Clusters,
    apps: Apps,
    repositories: Arc<Repositories>,
    settings: Arc<dyn SettingsStore>,
    renders: Arc<crate::render::RenderCache>,
    /// The kubeconfig files every session reads (`KUBECONFIG`, `~/.kube/config`).
    default_files: Vec<std::path::PathBuf>,
    comparisons: Mutex<HashMap<String, Arc<Comparison>>>,
    /// Every app's last known status, the cluster caches and the listeners of both.
    statuses: crate::statuses::Statuses,
    /// Who runs operations from this engine, as the history says it ("the window").
    operator: String,
    history: History,
    predictions: comparison::Predictions,
    /// Where each app has tracked objects, per context: where its leftovers are.
    tracked: crate::tracked::Tracked,
}

impl Engine {
    /// An engine over the contexts of `clusters`, the applications in `store`, their
    /// `repositories` and the user's `settings`. Connects to nothing yet.
    pub fn new(
        clusters: Clusters,
        store: Arc<dyn AppStore>,
        repositories: Arc<Repositories>,
        settings: Arc<dyn SettingsStore>,
    ) -> Self {
        let default_files = clusters.paths();
        let history = History::new(&repositories.history_dir());
        let engine = Self {
            clusters,
            apps: Apps::new(store),
            repositories,
            settings,
            renders: Arc::default(),
            default_files,
            comparisons: Mutex::new(HashMap::new()),
            statuses: crate::statuses::Statuses::new(),
            operator: "Plumbline".into(),
            history,
            predictions: Default::default(),
            tracked: Default::default(),
        };
        if let Ok(settings) = engine.settings.load() {
            engine.use_kubeconfig_files(&settings);
        }
        engine
    }

    /// Says who runs this engine's operations, for the history and for a second operation
    /// that finds one running ("the window", "the command line").
    pub fn with_operator(mut self, operator: &str) -> Self {
        self.operator = operator.to_string();
        self
    }

    fn use_kubeconfig_files(&self, settings: &Settings) {
        if settings.kubeconfig_files.is_empty() && self.clusters.paths() == self.default_files {
            return;
        }
        let mut paths = self.default_files.clone();
        for extra in &settings.kubeconfig_files {
            let path = std::path::PathBuf::from(extra);
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
        self.clusters.set_paths(paths);
    }

    pub fn settings(&self) -> Result<Settings, EngineError> {
        Ok(self.settings.load()?)
    }

    /// Reads contexts from one more kubeconfig file (reported like the others if it is broken).
    pub fn add_kubeconfig_file(&self, path: &str) -> Result<ContextList, EngineError> {
        self.settings.update(&mut |settings| {
            if !settings.kubeconfig_files.iter().any(|f| f == path) {
                settings.kubeconfig_files.push(path.to_string());
            }
        })?;
        self.use_kubeconfig_files(&self.settings.load()?);
        Ok(self.contexts())
    }

    pub fn remove_kubeconfig_file(&self, path: &str) -> Result<ContextList, EngineError> {
        self.settings
            .update(&mut |settings| settings.kubeconfig_files.retain(|f| f != path))?;
        self.use_kubeconfig_files(&self.settings.load()?);
        Ok(self.contexts())
    }

    /// Marks `context` protected or not.
    pub fn protect_context(&self, context: &str, protected: bool) -> Result<(), EngineError> {
        Ok(self.settings.update(&mut |settings| {
            settings.protected_contexts.retain(|c| c != context);
            if protected {
                settings.protected_contexts.push(context.to_string());
            }
        })?)
    }

    /// Which desktop notifications are muted.
    pub fn set_notifications(
        &self,
        notifications: crate::settings::Notifications,
    ) -> Result<(), EngineError> {
        Ok(self.settings.update(&mut |settings| {
            settings.notifications = notifications.clone();
        })?)
    }

    /// How often repositories are fetched while the engine keeps watching (none: the
    /// default); taken up within seconds.
    pub fn set_fetch_interval(&self, seconds: Option<u32>) -> Result<(), EngineError> {
        if let Some(s) = seconds
            && s < crate::settings::MIN_FETCH_INTERVAL
        {
            return Err(EngineError::Settings(format!(
                "a fetch interval of {s} s is too short: at least {} s",
                crate::settings::MIN_FETCH_INTERVAL
            )));
        }
        Ok(self.settings.update(&mut |settings| {
            settings.fetch_interval_seconds = seconds;
        })?)
    }

    /// Fetches the app's repository now (when it is an added one) and compares the app again:
    /// what Refresh does. A failed fetch is an error; the status is then the last one.
    pub async fn refresh(&self, name: &str) -> Result<AppStatus, EngineError> {
        let app = self.apps.get(name)?;
        if self.repositories.get(&app.repo).is_ok() {
            let cancel = Arc::new(std::sync::atomic::AtomicBool::new(false));
            self.repositories.fetch(&app.repo, |_| {}, cancel).await?;
        }
        self.status(name).await
    }

    /// Changes whenever the contexts are re-read or a context's state changes.
    pub fn contexts_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.clusters.changes()
    }

    /// Re-reads the kubeconfig files if one changed on disk; true when it did.
    pub fn reload_contexts_if_changed(&self) -> bool {
        self.clusters.reload_if_changed()
    }

    /// Asks the cluster of `context` for its version, within seconds, and remembers the answer.
    pub async fn probe_context(&self, context: &str) -> ContextState {
        self.clusters.probe(context).await
    }

    /// The namespaces of `context`, for the destination picker.
    pub async fn namespaces(&self, context: &str) -> Result<Vec<String>, EngineError> {
        use kube::api::{Api, ListParams};
        let client = self.clusters.client(context).await?;
        let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client);
        let list =
            api.list(&ListParams::default())
                .await
                .map_err(|e| ClusterError::Unreachable {
                    context: context.to_string(),
                    message: e.to_string(),
                })?;
        let mut names: Vec<String> = list
            .items
            .into_iter()
            .filter_map(|ns| ns.metadata.name)
            .collect();
        names.sort();
        Ok(names)
    }

    fn is_protected(&self, context: &str) -> Result<bool, EngineError> {
        let settings = self.settings.load()?;
        Ok(settings.protected_contexts.iter().any(|c| c == context))
    }

    /// Refuses a change to a protected context unless `confirmation` is its name.
    fn check_protected(
        &self,
        context: &str,
        action: &str,
        confirmation: Option<&str>,
    ) -> Result<(), EngineError> {
        if self.is_protected(context)? && confirmation != Some(context) {
            return Err(EngineError::ConfirmationRequired {
                context: context.to_string(),
                action: action.to_string(),
            });
        }
        Ok(())
    }

    /// Every kubeconfig context with its last known state, and the files that could not be read.
    pub fn contexts(&self) -> ContextList {
        let mut list = self.clusters.kubeconfigs().list();
        let protected = self.settings.load().unwrap_or_default().protected_contexts;
        for context in &mut list.contexts {
            context.state = self.clusters.state(&context.name);
            context.protected = protected.contains(&context.name);
        }
        list
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
            // A server that accepts and never answers would hold the comparison (and the
            // repository's lock) for ever: past the wait, the comparison says so and the clone
            // goes on without it (the next comparison, or the watch's fetch, finds it done).
            let cancel = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let clone = self.repositories.fetch(&app.repo, |_| {}, cancel);
            match tokio::time::timeout(CLONE_WAIT, clone).await {
                Ok(done) => {
                    done?;
                }
                Err(_) => {
                    return Err(RepoError::Fetch {
                        url: app.repo.clone(),
                        message: format!(
                            "the clone got no answer within {} seconds; Plumbline compares the app when it is done",
                            CLONE_WAIT.as_secs()
                        ),
                    }
                    .into());
                }
            }
        }
        Ok(dir)
    }

    /// Compares the application now and remembers the result for [`Self::diff`].
    pub async fn status(&self, name: &str) -> Result<AppStatus, EngineError> {
        Ok(self.compared(name).await?.0)
    }

    /// The status and the resource tree from one comparison: what the app page shows in its
    /// graph views, at the cost of one comparison instead of two.
    /// While the engine keeps watching the app's cluster, the view is read from its last
    /// comparison, which the watch keeps current; otherwise the app is compared first.
    pub async fn view(&self, name: &str) -> Result<AppView, EngineError> {
        let (status, comparison) = match self.current(name) {
            Some(current) => current,
            None => self.compared(name).await?,
        };
        let tree = match comparison {
            Some(comparison) => Some(self.tree_of(&status.app, &comparison).await),
            None => None,
        };
        let (tree, tree_error) = match tree {
            Some(Ok(nodes)) => (nodes, None),
            Some(Err(e)) => (Vec::new(), Some(ErrorInfo::from(&e))),
            None => (Vec::new(), None),
        };
        Ok(AppView {
            status,
            tree,
            tree_error,
        })
    }

    /// The app's status, and the comparison it came from when there was one.
    async fn compared(
        &self,
        name: &str,
    ) -> Result<(AppStatus, Option<Arc<Comparison>>), EngineError> {
        let app = self.apps.get(name)?;
        let last_operation = self.last_operation(name);
        // What the page shows may come from the cluster cache: it is at most a moment behind
        // the cluster, and a change it has not taken in yet brings another comparison. Plans
        // and syncs always list afresh.
        let stale = self.statuses.stale(&app.destination.context);
        let status_of = |comparison: &Comparison, last_operation| {
            status_from(&app, comparison, last_operation, stale.clone())
        };
        let result = self.compare_with(&app, Freshness::Recent).await;
        // A comparison that failed reading the cluster, just as the cluster stopped answering
        // and before the watch's probe noticed: the cluster is asked once more, and if it does
        // not answer, the last comparison stands (the probe marks it stale) rather than Unknown.
        let unanswered = match &result {
            Err(EngineError::Reconcile(e))
                if stale.is_none()
                    && matches!(**e, ReconcileError::Cluster { .. })
                    && self.cached(name).is_some() =>
            {
                !matches!(
                    self.probe_context(&app.destination.context).await,
                    ContextState::Connected { .. }
                )
            }
            _ => false,
        };
        let compared = match result {
            Ok(comparison) => (status_of(&comparison, last_operation), Some(comparison)),
            // While the cluster does not answer, the last comparison stands, marked stale.
            Err(e) if (stale.is_some() || unanswered) && self.cached(name).is_some() => {
                tracing::debug!(app = name, error = %e, "cluster unreachable: the last comparison stands");
                let last = self.cached(name).expect("checked above");
                (status_of(&last, last_operation), Some(last))
            }
            Err(e) => {
                tracing::warn!(app = name, error = %e, "comparison failed");
                (
                    AppStatus {
                        app: app.clone(),
                        sync: SyncStatus::Unknown,
                        health: None,
                        commit: None,
                        resources: Vec::new(),
                        notes: Vec::new(),
                        // The context says why, once; the app does not repeat it.
                        error: stale.is_none().then(|| ErrorInfo::from(&e)),
                        last_operation,
                        stale: stale.clone(),
                    },
                    None,
                )
            }
        };
        self.statuses
            .observe(compared.0.summary(), compared.1.as_deref());
        Ok(compared)
    }

    /// Compares again only `keys` of app `name` — objects that changed in its cluster — and
    /// keeps the rest of its last comparison: a change costs work in proportion to the objects
    /// it touches, not to the size of its app. A whole comparison instead when that cannot be
    /// done: no last comparison, the app changed, a key that is not one of its resources, a
    /// cluster that does not answer or a cache that cannot say.
    pub(crate) async fn recompare(
        &self,
        name: &str,
        keys: &std::collections::BTreeSet<ResourceKey>,
    ) -> Result<AppStatus, EngineError> {
        let app = self.apps.get(name)?;
        let context = &app.destination.context;
        let (Some(previous), Some(cache), None) = (
            self.cached(name),
            self.statuses.cache(context),
            self.statuses.stale(context),
        ) else {
            return self.status(name).await;
        };
        if previous.app != app {
            return self.status(name).await;
        }
        let mut changed = Vec::new();
        for key in keys {
            let Some(resolved) = previous
                .resources
                .iter()
                .chain(&previous.hooks)
                .find(|r| &r.key == key)
                .map(|r| &r.resolved)
            else {
                return self.status(name).await;
            };
            let Some(live) = cache.object(resolved, &key.namespace, &key.name).await else {
                return self.status(name).await;
            };
            changed.push((key.clone(), live));
        }
        let client = self.clusters.client(context).await?;
        let Some(comparison) =
            comparison::recompare(&previous, changed, &client, &self.predictions).await
        else {
            return self.status(name).await;
        };
        let comparison = Arc::new(comparison);
        self.comparisons
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_string(), comparison.clone());
        // A change in the cluster is no operation: the last one stands as last told.
        let last_operation = match self.statuses.summary(name) {
            Some(told) => told.last_operation,
            None => self.last_operation(name),
        };
        let status = status_from(&app, &comparison, last_operation, None);
        self.statuses.observe(status.summary(), Some(&comparison));
        Ok(status)
    }

    /// The app's status from its last comparison, when the watch keeps that current: its
    /// cluster is watched and answers, and the app has not changed since.
    fn current(&self, name: &str) -> Option<(AppStatus, Option<Arc<Comparison>>)> {
        let app = self.apps.get(name).ok()?;
        let context = &app.destination.context;
        self.statuses.cache(context)?;
        if self.statuses.stale(context).is_some() {
            return None;
        }
        let comparison = self.cached(name).filter(|c| c.app == app)?;
        // The last comparison failed (a mistake in a new commit, say): that is what to show.
        let told = self.statuses.summary(name)?;
        if told.error.is_some() || told.commit.as_ref() != Some(&comparison.commit) {
            return None;
        }
        let status = status_from(&app, &comparison, self.last_operation(name), None);
        Some((status, Some(comparison)))
    }

    /// What the overview says of the app's last operation (an interrupted one settled first).
    fn last_operation(&self, name: &str) -> Option<LastOperation> {
        // A history that cannot be read says so in the History panel; here it is just absent.
        let _ = self.history.settle_interrupted(name);
        self.history
            .list(name)
            .ok()
            .and_then(|h| h.into_iter().next())
            .map(|e| LastOperation {
                kind: e.kind,
                phase: e.result.phase,
                at: e.finished_at.unwrap_or(e.started_at),
                commit: e.result.commit,
            })
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

    /// What a sync with `options` would do, from a fresh comparison. Changes nothing.
    pub async fn plan(&self, name: &str, options: &SyncOptions) -> Result<SyncPlan, EngineError> {
        let app = self.apps.get(name)?;
        let comparison = self.compare_now(&app).await?;
        Ok(sync::plan(&comparison, &with_policy(&app, options))?)
    }

    /// The app's resources and what the cluster made from them (ReplicaSets, Pods, Endpoints,
    /// volume claims), from a fresh comparison.
    pub async fn tree(&self, name: &str) -> Result<Vec<crate::tree::TreeNode>, EngineError> {
        let app = self.apps.get(name)?;
        let comparison = self.compare(&app).await?;
        self.tree_of(&app, &comparison).await
    }

    async fn tree_of(
        &self,
        app: &Application,
        comparison: &Comparison,
    ) -> Result<Vec<crate::tree::TreeNode>, EngineError> {
        let context = &app.destination.context;
        // While the cluster does not answer, the tree is what its cache last knew.
        let client = match self.clusters.existing_client(context) {
            Some(client) if self.statuses.stale(context).is_some() => client,
            _ => self.clusters.client(context).await?,
        };
        let cache = self.statuses.cache(context);
        let cluster = comparison::Cluster {
            client: &client,
            predictions: &self.predictions,
            live: cache.as_deref(),
            tracked: &[],
        };
        crate::tree::build(&cluster, comparison).await.map_err(|e| {
            EngineError::from(ReconcileError::Cluster {
                context: context.clone(),
                what: "the objects the cluster made for the app".into(),
                message: crate::resources::kube_message(&e),
            })
        })
    }

    // `keep_watching` is added by [`crate::watching`], the layer above the engine.

    /// Every event from now on: statuses, contexts, activity.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<crate::events::Event> {
        self.statuses.subscribe()
    }

    /// Every application's last known status (those compared at least once).
    pub fn summaries(&self) -> Vec<crate::events::AppSummary> {
        self.statuses.summaries()
    }

    /// The recent transitions, newest first.
    pub fn activity(&self) -> Vec<crate::events::Activity> {
        self.statuses.recent()
    }

    /// Calls `on_change` whenever the app's status or objects change (while the engine keeps
    /// watching), until the returned subscription is dropped.
    pub fn watch(
        &self,
        name: &str,
        on_change: impl Fn() + Send + 'static,
    ) -> crate::statuses::Subscription {
        use crate::events::Event;
        let name = name.to_string();
        crate::statuses::Subscription::new(
            self.subscribe(),
            move |event| match event {
                Event::Status { status } => status.app.name == name,
                Event::Objects { app } => *app == name,
                _ => false,
            },
            move |_| on_change(),
        )
    }

    pub(crate) fn statuses(&self) -> &crate::statuses::Statuses {
        &self.statuses
    }

    pub(crate) fn clusters(&self) -> &Clusters {
        &self.clusters
    }

    fn cached(&self, name: &str) -> Option<Arc<Comparison>> {
        self.comparisons
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
    }

    /// A Pod of the app (one in the namespaces its resources live in), or why not.
    async fn app_pod(&self, name: &str, pod: &ResourceKey) -> Result<kube::Client, EngineError> {
        let app = self.apps.get(name)?;
        let comparison = match self.cached(name) {
            Some(c) => c,
            None => self.compare(&app).await?,
        };
        let ours = pod.kind == "Pod"
            && pod.group.is_empty()
            && (pod.namespace == app.destination.namespace
                || comparison
                    .resources
                    .iter()
                    .any(|r| r.key.namespace == pod.namespace));
        if !ours {
            return Err(EngineError::NoSuchResource {
                app: name.to_string(),
                key: pod.clone(),
            });
        }
        Ok(self.clusters.client(&app.destination.context).await?)
    }

    fn cluster_error(&self, name: &str, what: String, e: &kube::Error) -> EngineError {
        let context = self
            .apps
            .get(name)
            .map(|a| a.destination.context)
            .unwrap_or_default();
        EngineError::from(ReconcileError::Cluster {
            context,
            what,
            message: crate::resources::kube_message(e),
        })
    }

    /// The containers of one of the app's Pods, for the log view.
    pub async fn pod_containers(
        &self,
        name: &str,
        pod: &ResourceKey,
    ) -> Result<Vec<String>, EngineError> {
        let client = self.app_pod(name, pod).await?;
        crate::logs::containers(&client, pod)
            .await
            .map_err(|e| self.cluster_error(name, format!("the containers of {pod}"), &e))
    }

    /// Streams the log of one of the app's Pods a line at a time, until it ends (with
    /// `follow`, until the future is dropped).
    pub async fn pod_logs(
        &self,
        name: &str,
        pod: &ResourceKey,
        options: &crate::logs::LogOptions,
        on_line: &(dyn Fn(String) + Send + Sync),
    ) -> Result<(), EngineError> {
        let client = self.app_pod(name, pod).await?;
        crate::logs::stream(&client, pod, options, on_line)
            .await
            .map_err(|e| self.cluster_error(name, format!("the log of {pod}"), &e))
    }

    /// The Kubernetes Events about one resource of the app, newest first.
    pub async fn events(
        &self,
        name: &str,
        key: &ResourceKey,
    ) -> Result<Vec<crate::kube_events::EventInfo>, EngineError> {
        let app = self.apps.get(name)?;
        let context = &app.destination.context;
        let client = self.clusters.client(context).await?;
        crate::kube_events::about(&client, key).await.map_err(|e| {
            EngineError::from(ReconcileError::Cluster {
                context: context.clone(),
                what: format!("the events of {key}"),
                message: crate::resources::kube_message(&e),
            })
        })
    }

    /// Syncs the application to its revision, reporting progress as it goes.
    /// `confirmation` is the context's name as the user typed it, for a protected context.
    pub async fn sync(
        &self,
        name: &str,
        options: &SyncOptions,
        confirmation: Option<&str>,
        progress: &(dyn Fn(SyncEvent) + Send + Sync),
    ) -> Result<SyncResult, EngineError> {
        let app = self.apps.get(name)?;
        let action = if options.prune {
            "a sync with prune"
        } else {
            "a sync"
        };
        if !options.dry_run {
            self.check_protected(&app.destination.context, action, confirmation)?;
        }
        self.operate(app, OperationKind::Sync, None, options, progress)
            .await
    }

    /// An Argo CD `Application` manifest read as an application, for the user to review and
    /// add; its destination matched to a kubeconfig context.
    pub fn import_argocd(&self, manifest: &str) -> Result<crate::argocd::ImportedApp, EngineError> {
        let contexts = self.clusters.kubeconfigs().list().contexts;
        Ok(crate::argocd::import(manifest, &contexts)?)
    }

    /// The application as an Argo CD `Application` manifest.
    pub fn export_argocd(&self, name: &str) -> Result<String, EngineError> {
        Ok(crate::argocd::export(&self.apps.get(name)?))
    }

    /// Runs the app's automated sync policy once: compares, then syncs or says why not (see
    /// [`crate::automation`]). The shell calls this when Git or the cluster changes.
    pub async fn auto_sync(
        &self,
        name: &str,
        progress: &(dyn Fn(SyncEvent) + Send + Sync),
    ) -> Result<AutoSync, EngineError> {
        let app = self.apps.get(name)?;
        if app.sync_policy.automated.is_none() {
            return Ok(AutoSync::Manual);
        }
        if self.is_syncing(name) {
            return Ok(AutoSync::Held {
                reason: "a sync is running".into(),
            });
        }
        let comparison = self.compare(&app).await?;
        let context = &app.destination.context;
        let protected = self.is_protected(context)?;
        let history = self.history.list(name)?;
        let last = history.first();
        let since_last = last
            .and_then(|e| e.finished_at.as_deref())
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .and_then(|t| (chrono::Utc::now() - t.to_utc()).to_std().ok());
        let decision = automation::decide(
            &app.sync_policy,
            protected.then_some(context.as_str()),
            comparison.sync_status(),
            &comparison.commit.sha,
            last,
            since_last,
        );
        match decision {
            Decision::Manual => Ok(AutoSync::Manual),
            Decision::InSync => Ok(AutoSync::InSync),
            Decision::Hold(reason) => Ok(AutoSync::Held { reason }),
            Decision::Sync { prune } => {
                // Git wins while automation is on: fields someone took by hand are taken back,
                // as Argo CD's server-side apply does.
                let options = SyncOptions {
                    prune,
                    force_conflicts: true,
                    ..SyncOptions::default()
                };
                tracing::info!(app = name, prune, "automated sync");
                let result = self
                    .operate(app, OperationKind::AutoSync, None, &options, progress)
                    .await?;
                Ok(AutoSync::Ran { result })
            }
        }
    }

    fn is_syncing(&self, name: &str) -> bool {
        self.history.is_running(name)
    }

    /// Syncs the application to the commit of history entry `id`, leaving its revision as it
    /// is (the app shows OutOfSync afterwards, as Argo CD shows it). Refused while automated
    /// sync is on: it would sync the app straight back.
    pub async fn rollback(
        &self,
        name: &str,
        id: u32,
        options: &SyncOptions,
        confirmation: Option<&str>,
        progress: &(dyn Fn(SyncEvent) + Send + Sync),
    ) -> Result<SyncResult, EngineError> {
        let mut app = self.apps.get(name)?;
        if app.sync_policy.automated.is_some() {
            return Err(EngineError::AutomatedRollback(name.to_string()));
        }
        let entry = self.history.get(name, id)?;
        if !options.dry_run {
            self.check_protected(&app.destination.context, "a rollback", confirmation)?;
        }
        app.revision = entry.result.commit.sha;
        self.operate(app, OperationKind::Rollback, Some(id), options, progress)
            .await
    }

    /// The sync and rollback history of an application, newest first.
    pub fn history(&self, name: &str) -> Result<Vec<HistoryEntry>, EngineError> {
        self.apps.get(name)?;
        self.history.settle_interrupted(name)?;
        Ok(self.history.list(name)?)
    }

    /// What changed in Git between two history entries: each resource added, removed or
    /// changed from the commit of `from` to the commit of `to`, normalized and masked.
    pub async fn history_diff(
        &self,
        name: &str,
        from: u32,
        to: u32,
    ) -> Result<Vec<ResourceDiff>, EngineError> {
        let app = self.apps.get(name)?;
        let (from, to) = (self.history.get(name, from)?, self.history.get(name, to)?);
        let render = |sha: String| {
            let mut at = app.clone();
            at.revision = sha;
            async move {
                comparison::manifests(&at, self.render_source(&at).await?)
                    .await
                    .map_err(EngineError::from)
            }
        };
        let before = render(from.result.commit.sha).await?;
        let after = render(to.result.commit.sha).await?;
        Ok(comparison::diff_manifests(&before, &after))
    }

    /// Diffs the manifests in a folder on disk against `context`/`namespace`, as if they were
    /// an application's: what a sync of the working copy would change. Only the resources in
    /// the folder are compared (nothing is tracked, so nothing needs pruning).
    pub async fn diff_local(
        &self,
        dir: &std::path::Path,
        context: &str,
        namespace: &str,
    ) -> Result<Vec<ResourceDiff>, EngineError> {
        let app = Application {
            name: "local".into(),
            repo: dir.display().to_string(),
            revision: "working copy".into(),
            path: String::new(),
            destination: crate::apps::Destination {
                context: context.into(),
                namespace: namespace.into(),
            },
            source: Default::default(),
            ignore: Vec::new(),
            sync_policy: Default::default(),
        };
        let client = self.clusters.client(context).await?;
        let search_path = self.clusters.search_path();
        let tools = crate::render::Tools::new(move || search_path.get());
        // Off the runtime: a tool runs, and its first use may wait for the login shell.
        let (folder, local) = (dir.to_path_buf(), app.clone());
        let rendered =
            tokio::task::spawn_blocking(move || comparison::render_local(&folder, &local, &tools))
                .await
                .unwrap_or_else(|e| {
                    Err(crate::render::RenderError::Read {
                        path: dir.display().to_string(),
                        message: format!("the render stopped: {e}"),
                    })
                })
                .map_err(|e| EngineError::from(ReconcileError::from(e)))?;
        let commit = Commit {
            sha: "local".into(),
            summary: dir.display().to_string(),
        };
        let cluster = comparison::Cluster {
            client: &client,
            predictions: &self.predictions,
            live: None,
            tracked: &[],
        };
        let comparison = comparison::compare_rendered(&app, commit, rendered, &cluster).await?;
        Ok(comparison
            .resources
            .iter()
            .filter(|r| r.desired.is_some())
            .map(|r| r.diff())
            .collect())
    }

    /// The diff of every resource of the app that is not Synced, from a fresh comparison.
    pub async fn diffs(&self, name: &str) -> Result<Vec<ResourceDiff>, EngineError> {
        let comparison = self.compare(&self.apps.get(name)?).await?;
        Ok(comparison
            .resources
            .iter()
            .filter(|r| r.status != comparison::ResourceSync::Synced)
            .map(|r| r.diff())
            .collect())
    }

    /// The app's rendered manifests at its revision (no cluster needed).
    pub async fn render(&self, name: &str) -> Result<Vec<serde_json::Value>, EngineError> {
        let app = self.apps.get(name)?;
        let manifests = comparison::manifests(&app, self.render_source(&app).await?).await?;
        Ok(manifests.into_values().collect())
    }

    /// Removes an application and its history (its resources stay in the cluster).
    pub fn remove_app(&self, name: &str) -> Result<(), EngineError> {
        self.apps.remove(name)?;
        self.history.remove(name)?;
        self.comparisons
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name);
        Ok(())
    }

    async fn operate(
        &self,
        app: Application,
        kind: OperationKind,
        rollback_of: Option<u32>,
        options: &SyncOptions,
        progress: &(dyn Fn(SyncEvent) + Send + Sync),
    ) -> Result<SyncResult, EngineError> {
        let name = app.name.clone();
        let options = &with_policy(&app, options);
        let by = if kind == OperationKind::AutoSync {
            format!("automation in {}", self.operator)
        } else {
            self.operator.clone()
        };
        // One operation per application, across every Plumbline process; the lock goes when
        // this operation ends, or with the process.
        let _running = self.history.begin(&name, kind, &by).map_err(|e| match e {
            crate::history::HistoryError::Busy { app, holder } => EngineError::Busy { app, holder },
            other => other.into(),
        })?;
        // Whatever is still Running in the history now was left by a process that stopped.
        self.history.settle_interrupted(&name)?;
        let client = self.clusters.client(&app.destination.context).await?;
        let comparison = self.compare_now(&app).await?;
        let plan = sync::plan(&comparison, options)?;
        let entry = (!options.dry_run)
            .then(|| {
                self.history.start(
                    &name,
                    HistoryEntry {
                        id: 0,
                        kind,
                        by: Some(by.clone()),
                        revision: app.revision.clone(),
                        rollback_of,
                        started_at: String::new(),
                        finished_at: None,
                        options: options.clone(),
                        result: SyncResult {
                            phase: OperationPhase::Running,
                            commit: comparison.commit.clone(),
                            results: Vec::new(),
                            message: String::new(),
                            log: Vec::new(),
                            missing_namespace: None,
                        },
                    },
                )
            })
            .transpose()?;
        // Each result goes into the history as it comes (a few times a second at most, and
        // whenever a group is applied), so that a sync killed half way says what it did.
        let recorded = Mutex::new((Vec::new(), std::time::Instant::now()));
        let record = |event: SyncEvent| {
            if let Some(id) = entry {
                let mut recorded = recorded.lock().unwrap_or_else(|p| p.into_inner());
                let flush = match &event {
                    SyncEvent::Done { result } => {
                        recorded.0.push(result.clone());
                        recorded.1.elapsed() >= RECORD_EVERY
                    }
                    SyncEvent::Waiting { .. } => true,
                    _ => false,
                };
                if flush {
                    recorded.1 = std::time::Instant::now();
                    if let Err(e) = self.history.record(&name, id, &recorded.0) {
                        tracing::warn!(app = %name, "results not recorded: {e}");
                    }
                }
            }
            progress(event);
        };
        let result = sync::run(&client, &comparison, &plan, &record).await;
        if !options.dry_run {
            self.tracked.forget(&app.destination.context);
        }
        tracing::info!(app = %name, phase = ?result.phase, "{}", result.message);
        if let Some(id) = entry {
            self.history.finish(&name, id, &result)?;
        }
        if !options.dry_run {
            let context = &app.destination.context;
            let short = &result.commit.sha[..result.commit.sha.len().min(7)];
            match (result.phase, kind) {
                (OperationPhase::Failed, _) => self.statuses.activity(
                    crate::events::ActivityKind::SyncFailed,
                    Some(&name),
                    context,
                    format!("{} of {name} failed: {}", kind.noun(), result.message),
                ),
                (OperationPhase::Succeeded, OperationKind::AutoSync) => self.statuses.activity(
                    crate::events::ActivityKind::AutoSynced,
                    Some(&name),
                    context,
                    format!("automated sync of {name} to {short}: {}", result.message),
                ),
                _ => {}
            }
        }
        // Compare again, so that the next diff and every tile show the state after the sync.
        let _ = self.compared(&name).await;
        Ok(result)
    }

    /// Compares `app` with what its cluster holds (from the cluster cache while the engine
    /// keeps watching).
    async fn compare(&self, app: &Application) -> Result<Arc<Comparison>, EngineError> {
        self.compare_with(app, Freshness::Recent).await
    }

    /// Compares `app` for a plan or a sync: every object is listed afresh, leftovers are
    /// looked for afresh too.
    async fn compare_now(&self, app: &Application) -> Result<Arc<Comparison>, EngineError> {
        self.compare_with(app, Freshness::Now).await
    }

    async fn compare_with(
        &self,
        app: &Application,
        freshness: Freshness,
    ) -> Result<Arc<Comparison>, EngineError> {
        let context = &app.destination.context;
        let started = std::time::Instant::now();
        let cache = match freshness {
            Freshness::Recent => self.statuses.cache(context),
            Freshness::Now => None,
        };
        let result = self
            .compare_uncached(app, cache.as_deref(), freshness)
            .await;
        tracing::debug!(
            app = app.name,
            elapsed_ms = started.elapsed().as_millis(),
            "compared"
        );
        // The first use of a context, or trouble reaching it, also tells the context's state
        // (one small request), so that the rail says what the app page found.
        let cluster_trouble = matches!(&result, Err(EngineError::Cluster(_)))
            || matches!(&result, Err(EngineError::Reconcile(e)) if matches!(**e, ReconcileError::Cluster { .. }));
        let known_unreachable = self.clusters.recently_unreachable(context);
        if (cluster_trouble && !known_unreachable)
            || self.clusters.state(context) == ContextState::NotConnected
        {
            self.clusters.probe(context).await;
        }
        let comparison = Arc::new(result?);
        self.comparisons
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(app.name.clone(), comparison.clone());
        Ok(comparison)
    }

    async fn compare_uncached(
        &self,
        app: &Application,
        cache: Option<&crate::cache::ClusterCache>,
        freshness: Freshness,
    ) -> Result<Comparison, EngineError> {
        let context = &app.destination.context;
        let client = self.clusters.client(context).await?;
        let source = self.render_source(app).await?;
        // A mistake in Git is said before anything about the cluster.
        let (commit, rendered) = comparison::render_off_thread(app, source).await?;
        // Where the app has put objects before, whatever their kind: where its leftovers are.
        let mut namespaces = std::collections::BTreeSet::from([app.destination.namespace.clone()]);
        if let Some(last) = self.cached(&app.name) {
            namespaces.extend(last.resources.iter().map(|r| r.key.namespace.clone()));
        }
        let found = self
            .tracked
            .find(&client, context, &app.name, &namespaces, freshness)
            .await
            .map_err(|e| {
                if let crate::tracked::SweepError::Failed(e) = &e {
                    self.clusters.observe_failure(context, e);
                }
                EngineError::from(ReconcileError::Cluster {
                    context: context.clone(),
                    what: "the kinds it serves".into(),
                    message: e.to_string(),
                })
            })?;
        let cluster = comparison::Cluster {
            client: &client,
            predictions: &self.predictions,
            live: cache,
            tracked: &found.scopes,
        };
        let mut comparison = comparison::compare_rendered(app, commit, rendered, &cluster).await?;
        comparison.notes.extend(found.notes);
        Ok(comparison)
    }

    async fn render_source(&self, app: &Application) -> Result<comparison::Source, EngineError> {
        let search_path = self.clusters.search_path();
        Ok(comparison::Source {
            repo: self.source(app).await?,
            exports: self.repositories.exports_dir(),
            // Rendered off the runtime: a tool's first use may wait for the login shell.
            tools: crate::render::Tools::new(move || search_path.get()),
            cache: self.renders.clone(),
        })
    }
}

/// How long a comparison waits for its repository's first clone.
const CLONE_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// How often a running operation's results are written into its history entry.
const RECORD_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// `options` with what the app's sync policy adds to every sync (Create namespace).
fn with_policy(app: &Application, options: &SyncOptions) -> SyncOptions {
    SyncOptions {
        create_namespace: options.create_namespace || app.sync_policy.create_namespace,
        ..options.clone()
    }
}

const CHECK_CLUSTER: &str =
    "Check that the cluster is running and that the context's credentials are valid.";

impl From<&EngineError> for ErrorInfo {
    fn from(e: &EngineError) -> Self {
        let message = e.to_string();
        let (code, detail) = match e {
            EngineError::App(AppError::NotFound(_)) => (ErrorCode::NotFound, None),
            EngineError::App(AppError::Invalid { .. } | AppError::AlreadyExists(_)) => {
                (ErrorCode::Invalid, None)
            }
            EngineError::App(AppError::Store(_)) => (
                ErrorCode::Store,
                Some("Your applications were not changed. Check the disk and try again."),
            ),
            EngineError::Repo(e) => return Self::from(e),
            EngineError::Cluster(_) => (ErrorCode::Cluster, Some(CHECK_CLUSTER)),
            EngineError::Reconcile(e) => match &**e {
                ReconcileError::Repo(repo) => return Self::from(repo),
                // The message says which tool and how to install it.
                ReconcileError::Render(crate::render::RenderError::ToolMissing { .. }) => {
                    (ErrorCode::Manifest, None)
                }
                ReconcileError::Cluster { .. } => (ErrorCode::Cluster, Some(CHECK_CLUSTER)),
                _ => (
                    ErrorCode::Manifest,
                    Some(
                        "Fix the manifest in Git and commit; Plumbline reads the committed files.",
                    ),
                ),
            },
            EngineError::NoSuchResource { .. } => {
                (ErrorCode::NotFound, Some("Refresh the application."))
            }
            EngineError::Busy { .. } => (ErrorCode::Busy, None),
            EngineError::ConfirmationRequired { .. } => (ErrorCode::ConfirmationRequired, None),
            EngineError::Store(_) => (
                ErrorCode::Store,
                Some("Your settings were not changed. Check the disk and try again."),
            ),
            EngineError::Plan(_) => (ErrorCode::NotFound, Some("Refresh the application.")),
            EngineError::History(crate::history::HistoryError::NoSuchEntry { .. }) => {
                (ErrorCode::NotFound, None)
            }
            EngineError::History(_) => (
                ErrorCode::Store,
                Some("The operation's record could not be kept. Check the disk and try again."),
            ),
            EngineError::Settings(_) => (ErrorCode::Invalid, None),
            EngineError::Import(_) => (
                ErrorCode::Invalid,
                Some("Fix the manifest and import it again."),
            ),
            EngineError::AutomatedRollback(_) => (
                ErrorCode::Invalid,
                Some(
                    "Set the sync policy to manual in the application's settings, then roll back.",
                ),
            ),
        };
        Self::new(code, message, detail)
    }
}
