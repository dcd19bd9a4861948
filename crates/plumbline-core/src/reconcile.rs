//! Compare desired state (Git, rendered) with live state (cluster) for one application.

use crate::apps::Application;
use crate::diff::{self, DiffLine};
use crate::render::{self, RenderError};
use crate::repos::{self, Commit, RepoError};
use crate::resources::{
    self, FIELD_MANAGER, ResolveError, Resolved, Resolver, ResourceKey, TRACKING_ANNOTATION,
    kube_message,
};
use crate::sync;
use futures::StreamExt;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use ts_rs::TS;

/// How many requests one comparison has in flight against one cluster.
const CONCURRENCY: usize = 8;

/// Sync status of an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub enum SyncStatus {
    Synced,
    OutOfSync,
    Unknown,
}

/// Sync status of one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub enum ResourceSync {
    Synced,
    OutOfSync,
    /// Desired but not in the cluster.
    Missing,
    /// In the cluster, tracked by the app, but no longer desired.
    RequiresPruning,
}

/// One resource's status as the UI lists it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ResourceStatus {
    pub key: ResourceKey,
    pub api_version: String,
    pub status: ResourceSync,
    /// The file in the repository that defines it, when desired.
    pub file: Option<String>,
    /// Why the comparison fell back or what the server said.
    pub message: Option<String>,
}

/// One resource compared: desired (as it will be applied), live, and the server's prediction.
#[derive(Debug, Clone)]
pub struct Compared {
    pub key: ResourceKey,
    pub resolved: Resolved,
    pub file: Option<String>,
    pub desired: Option<Value>,
    pub live: Option<Value>,
    /// Result of a server-side apply dry run, when the server accepted one.
    pub predicted: Option<Value>,
    pub message: Option<String>,
    pub status: ResourceSync,
}

/// A whole application compared.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub app: Application,
    pub commit: Commit,
    pub resources: Vec<Compared>,
    pub notes: Vec<String>,
}

impl Comparison {
    /// Synced when every resource is, else OutOfSync.
    pub fn sync_status(&self) -> SyncStatus {
        if self
            .resources
            .iter()
            .all(|r| r.status == ResourceSync::Synced)
        {
            SyncStatus::Synced
        } else {
            SyncStatus::OutOfSync
        }
    }

    /// Each resource's status, as the UI lists it.
    pub fn statuses(&self) -> Vec<ResourceStatus> {
        self.resources
            .iter()
            .map(|r| ResourceStatus {
                key: r.key.clone(),
                api_version: r.resolved.api.api_version.clone(),
                status: r.status,
                file: r.file.clone(),
                message: r.message.clone(),
            })
            .collect()
    }
}

/// The diff of one resource, masked, ready to show.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ResourceDiff {
    pub key: ResourceKey,
    pub status: ResourceSync,
    /// Live object as YAML (normalized, masked); empty when missing.
    pub live: String,
    /// What the object will be after sync (normalized, masked); empty when it will be pruned.
    pub desired: String,
    pub lines: Vec<DiffLine>,
    /// Set when the diff is the fallback two-way diff, saying why.
    pub note: Option<String>,
}

impl Compared {
    /// The masked YAML diff of live against desired.
    pub fn diff(&self) -> ResourceDiff {
        let mut live = self.live.as_ref().map(diff::normalize);
        let mut desired = match (&self.predicted, &self.desired) {
            (Some(p), _) => Some(diff::normalize(p)),
            (None, Some(d)) => Some(diff::normalize(d)),
            (None, None) => None,
        };
        let mut note = None;
        if self.predicted.is_none()
            && let (Some(l), Some(d)) = (&live, &desired)
        {
            live = Some(diff::project_onto(l, d));
            note = Some(format!(
                "Two-way diff of the fields in Git: the server did not dry-run this resource{}",
                self.message
                    .as_deref()
                    .map(|m| format!(" ({m})"))
                    .unwrap_or_default()
            ));
        }
        diff::mask_secrets(live.as_mut(), desired.as_mut());
        let live_text = live.as_ref().map(diff::to_yaml).unwrap_or_default();
        let desired_text = desired.as_ref().map(diff::to_yaml).unwrap_or_default();
        ResourceDiff {
            key: self.key.clone(),
            status: self.status,
            lines: diff::lines(&live_text, &desired_text),
            live: live_text,
            desired: desired_text,
            note,
        }
    }
}

/// Why an application could not be compared.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    #[error("{0} is defined twice: in {1} and in {2}")]
    Duplicate(ResourceKey, String, String),
    #[error("reading {what} from context {context:?} failed: {message}")]
    Cluster {
        context: String,
        what: String,
        message: String,
    },
}

/// A typed API handle for a resolved kind in `namespace` (empty for cluster-scoped kinds).
pub fn api_for(client: &kube::Client, resolved: &Resolved, namespace: &str) -> Api<DynamicObject> {
    if resolved.namespaced {
        Api::namespaced_with(client.clone(), namespace, &resolved.api)
    } else {
        Api::all_with(client.clone(), &resolved.api)
    }
}

/// Reads the app's files at its revision and renders them by their source type.
fn render_app(
    app: &Application,
    source: &Source,
) -> Result<(repos::Snapshot, render::Rendered), SourceError> {
    let snapshot = repos::read_revision(&source.repo, &app.revision, &app.path)?;
    let source_type = app
        .source
        .source_type
        .unwrap_or_else(|| render::detect(&snapshot.files, &app.path));
    let rendered = match source_type {
        render::SourceType::Directory => render::directory(&snapshot.files)?,
        tool => {
            // Tools are slow; their output depends only on the commit, path and parameters.
            let key = format!(
                "{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}",
                source.repo.display(),
                snapshot.commit.sha,
                app.path,
                app.name,
                app.destination.namespace,
                serde_json::to_string(&app.source).unwrap_or_default()
            );
            if let Some(cached) = source.cache.get(&key) {
                return Ok((snapshot, cached));
            }
            let root = source.exports.join(&snapshot.commit.sha);
            repos::export_commit(&source.repo, &snapshot.commit.sha, &root)?;
            let rendered = if tool == render::SourceType::Kustomize {
                render::kustomize(&root, &app.path, &source.tools)?
            } else {
                render::helm(
                    &root,
                    &app.path,
                    &app.name,
                    &app.destination.namespace,
                    &app.source.helm,
                    &source.tools,
                )?
            };
            source.cache.put(key, rendered.clone());
            rendered
        }
    };
    Ok((snapshot, rendered))
}

/// Why an application's files could not be turned into manifests (kept small: it crosses a
/// blocking task).
enum SourceError {
    Repo(RepoError),
    Render(RenderError),
}

impl From<RepoError> for SourceError {
    fn from(e: RepoError) -> Self {
        Self::Repo(e)
    }
}

impl From<RenderError> for SourceError {
    fn from(e: RenderError) -> Self {
        Self::Render(e)
    }
}

impl From<SourceError> for ReconcileError {
    fn from(e: SourceError) -> Self {
        match e {
            SourceError::Repo(e) => e.into(),
            SourceError::Render(e) => e.into(),
        }
    }
}

/// Where an application's files come from and what renders them.
pub struct Source {
    /// The Git repository.
    pub repo: PathBuf,
    /// Where commits are exported for Kustomize and Helm (one folder per commit).
    pub exports: PathBuf,
    pub tools: render::Tools,
    pub cache: Arc<render::RenderCache>,
}

/// Renders the app at its revision, reads the live objects, and compares each pair.
pub async fn compare(
    app: &Application,
    source: Source,
    client: &kube::Client,
) -> Result<Comparison, ReconcileError> {
    let (snapshot, rendered) = {
        let owned = app.clone();
        tokio::task::spawn_blocking(move || render_app(&owned, &source))
            .await
            .map_err(|e| RepoError::Git {
                repo: app.repo.clone(),
                message: e.to_string(),
            })?
            .map_err(ReconcileError::from)?
    };

    let mut resolver = Resolver::new(client.clone());
    let mut desired: BTreeMap<ResourceKey, (Resolved, String, Value)> = BTreeMap::new();
    for manifest in rendered.manifests {
        let (key, resolved, object) = prepare(app, &mut resolver, &manifest.file, manifest.object)
            .await
            .map_err(|e| match e {
                ReconcileError::Resolve(ResolveError::Discovery {
                    api_version,
                    message,
                }) => ReconcileError::Cluster {
                    context: app.destination.context.clone(),
                    what: format!("the kinds of {api_version}"),
                    message,
                },
                other => other,
            })?;
        if let Some((_, first_file, _)) = desired.get(&key) {
            return Err(ReconcileError::Duplicate(
                key,
                first_file.clone(),
                manifest.file,
            ));
        }
        desired.insert(key, (resolved, manifest.file, object));
    }

    // One list per (kind, namespace) finds both the desired objects and extraneous tracked ones.
    let mut scopes: HashMap<(String, String), Resolved> = HashMap::new();
    for (key, (resolved, _, _)) in &desired {
        scopes
            .entry((
                resolved.api.api_version.clone() + "/" + &resolved.api.kind,
                key.namespace.clone(),
            ))
            .or_insert_with(|| resolved.clone());
    }
    let listings = futures::stream::iter(scopes.into_iter().map(|((_, ns), resolved)| {
        let client = client.clone();
        async move {
            let api = api_for(&client, &resolved, &ns);
            let list = api.list(&ListParams::default()).await;
            (resolved, list)
        }
    }))
    .buffer_unordered(CONCURRENCY)
    .collect::<Vec<_>>()
    .await;

    let mut live: BTreeMap<ResourceKey, (Resolved, Value)> = BTreeMap::new();
    for (resolved, list) in listings {
        let list = list.map_err(|e| ReconcileError::Cluster {
            context: app.destination.context.clone(),
            what: resolved.api.plural.clone(),
            message: kube_message(&e),
        })?;
        for item in list.items {
            let mut value = serde_json::to_value(&item).unwrap_or(Value::Null);
            // List items from a real server carry no apiVersion/kind; put them back for diffs.
            value["apiVersion"] = json!(resolved.api.api_version);
            value["kind"] = json!(resolved.api.kind);
            let key = key_of(&resolved, &value);
            live.insert(key, (resolved.clone(), value));
        }
    }

    let mut resources: Vec<Compared> =
        futures::stream::iter(desired.into_iter().map(|(key, (resolved, file, object))| {
            let live_obj = live.get(&key).map(|(_, v)| v.clone());
            let client = client.clone();
            async move { compare_one(&client, key, resolved, file, object, live_obj).await }
        }))
        .buffered(CONCURRENCY)
        .collect()
        .await;

    let desired_keys: std::collections::HashSet<ResourceKey> =
        resources.iter().map(|r| r.key.clone()).collect();
    for (key, (resolved, value)) in live {
        if !desired_keys.contains(&key) && resources::is_tracked_by(&value, &key, &app.name) {
            resources.push(Compared {
                key,
                resolved,
                file: None,
                desired: None,
                live: Some(value),
                predicted: None,
                message: None,
                status: ResourceSync::RequiresPruning,
            });
        }
    }
    resources.sort_by_key(sync::order_key);
    Ok(Comparison {
        app: app.clone(),
        commit: snapshot.commit,
        resources,
        notes: rendered.notes,
    })
}

fn key_of(resolved: &Resolved, obj: &Value) -> ResourceKey {
    ResourceKey {
        group: resolved.api.group.clone(),
        kind: resolved.api.kind.clone(),
        namespace: obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        name: obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    }
}

/// Resolves a manifest's kind, fills in its namespace and adds the tracking annotation.
async fn prepare(
    app: &Application,
    resolver: &mut Resolver,
    file: &str,
    mut object: Value,
) -> Result<(ResourceKey, Resolved, Value), ReconcileError> {
    let text = |pointer: &str| {
        object
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let missing = |field| ResolveError::MissingField {
        file: file.to_string(),
        field,
    };
    let api_version = text("/apiVersion").ok_or_else(|| missing("apiVersion"))?;
    let kind = text("/kind").ok_or_else(|| missing("kind"))?;
    let name = text("/metadata/name")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| missing("metadata.name"))?;
    let resolved = resolver.resolve(file, &api_version, &kind).await?;
    let namespace = if resolved.namespaced {
        text("/metadata/namespace").unwrap_or_else(|| app.destination.namespace.clone())
    } else {
        String::new()
    };
    let key = ResourceKey {
        group: resolved.api.group.clone(),
        kind: resolved.api.kind.clone(),
        namespace,
        name,
    };
    let meta = object
        .as_object_mut()
        .map(|o| o.entry("metadata").or_insert_with(|| json!({})))
        .unwrap_or_else(|| unreachable!("render yields objects only"));
    if resolved.namespaced {
        meta["namespace"] = json!(key.namespace);
    } else if let Some(m) = meta.as_object_mut() {
        m.remove("namespace");
    }
    if !meta.get("annotations").is_some_and(Value::is_object) {
        meta["annotations"] = json!({});
    }
    meta["annotations"][TRACKING_ANNOTATION] = json!(key.tracking_id(&app.name));
    Ok((key, resolved, object))
}

async fn compare_one(
    client: &kube::Client,
    key: ResourceKey,
    resolved: Resolved,
    file: String,
    desired: Value,
    live: Option<Value>,
) -> Compared {
    let mut compared = Compared {
        key,
        resolved,
        file: Some(file),
        desired: Some(desired),
        live,
        predicted: None,
        message: None,
        status: ResourceSync::Missing,
    };
    let Some(live) = &compared.live else {
        return compared;
    };
    let desired = compared
        .desired
        .as_ref()
        .unwrap_or_else(|| unreachable!("set above"));
    match dry_run_apply(client, &compared.resolved, &compared.key, desired).await {
        Ok(predicted) => compared.predicted = Some(predicted),
        Err(e) => compared.message = Some(kube_message(&e)),
    }
    let after = match &compared.predicted {
        Some(p) => diff::normalize(p),
        None => diff::normalize(desired),
    };
    let before = match &compared.predicted {
        Some(_) => diff::normalize(live),
        None => diff::project_onto(&diff::normalize(live), &after),
    };
    compared.status = if before == after {
        ResourceSync::Synced
    } else {
        ResourceSync::OutOfSync
    };
    compared
}

/// Server-side apply with `dryRun=All`: the object as the server would make it.
pub async fn dry_run_apply(
    client: &kube::Client,
    resolved: &Resolved,
    key: &ResourceKey,
    desired: &Value,
) -> Result<Value, kube::Error> {
    let api = api_for(client, resolved, &key.namespace);
    let params = PatchParams::apply(FIELD_MANAGER).dry_run();
    let obj = api
        .patch(&key.name, &params, &Patch::Apply(desired))
        .await?;
    Ok(serde_json::to_value(obj).unwrap_or(Value::Null))
}
