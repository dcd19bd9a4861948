//! Compare desired state (Git, rendered) with live state (cluster) for one application.

use crate::apps::Application;
use crate::diff::{self, DiffLine, Ignored};
use crate::render::{self, RenderError};
use crate::repos::{self, Commit, RepoError};
use crate::resources::{
    self, FIELD_MANAGER, ResolveError, Resolved, Resolver, ResourceKey, TRACKING_ANNOTATION,
    kube_message,
};
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
    /// Not known: the context's credentials may not read its kind there (a view-only user
    /// and a Secret, say). The app is Unknown while nothing else is out of sync.
    Unknown,
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
    /// The live object's health (Missing when it is not in the cluster; none when no rule applies).
    pub health: Option<crate::health::Health>,
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
    pub predicted: Option<Arc<Value>>,
    pub message: Option<String>,
    pub status: ResourceSync,
    /// False when the cluster does not serve the kind yet: its CRD is part of this app.
    pub served: bool,
    /// Fields the app's ignore rules leave out of the comparison.
    pub ignored: diff::Ignored,
    /// A hook with `generateName` and no name: the server names each run, and `key.name` is
    /// the prefix it names them from.
    pub generated: bool,
}

/// A whole application compared.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub app: Application,
    pub commit: Commit,
    pub resources: Vec<Arc<Compared>>,
    /// Hook objects (PreSync, Sync, PostSync, SyncFail): run by a sync, never compared.
    pub hooks: Vec<Arc<Compared>>,
    pub notes: Vec<String>,
    /// Whether the destination namespace exists in the cluster.
    pub namespace_exists: bool,
}

impl Comparison {
    /// OutOfSync when a resource is; else Unknown when one could not be read; else Synced.
    pub fn sync_status(&self) -> SyncStatus {
        let statuses = || self.resources.iter().map(|r| r.status);
        if statuses().any(|s| !matches!(s, ResourceSync::Synced | ResourceSync::Unknown)) {
            SyncStatus::OutOfSync
        } else if statuses().any(|s| s == ResourceSync::Unknown) {
            SyncStatus::Unknown
        } else {
            SyncStatus::Synced
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
                health: r.health(),
            })
            .collect()
    }

    /// The app's health: the worst of its resources' (missing ones aside); Missing when it has
    /// resources but none is live, none when nothing has a health rule.
    pub fn health(&self) -> Option<crate::health::HealthStatus> {
        use crate::health::HealthStatus;
        let desired: Vec<&Compared> = self
            .resources
            .iter()
            .filter(|r| r.desired.is_some())
            .map(|r| &**r)
            .collect();
        if !desired.is_empty()
            && desired
                .iter()
                .all(|r| r.live.is_none() && r.status != ResourceSync::Unknown)
        {
            return Some(HealthStatus::Missing);
        }
        crate::health::worst(
            desired
                .iter()
                .filter(|r| r.live.is_some())
                .filter_map(|r| r.health())
                .map(|h| h.status),
        )
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
    /// Health of the live object; Missing when a desired object is not live.
    pub fn health(&self) -> Option<crate::health::Health> {
        match &self.live {
            Some(live) => crate::health::assess(live),
            None if self.status == ResourceSync::Unknown => None,
            None if self.desired.is_some() => Some(crate::health::Health {
                status: crate::health::HealthStatus::Missing,
                message: "not in the cluster".into(),
            }),
            None => None,
        }
    }

    /// The two sides compared, normalised: live, and what it will be after a sync — the
    /// server's dry-run answer, or else Argo CD's three-way prediction.
    fn sides(&self) -> (Option<Value>, Option<Value>) {
        match (&self.predicted, &self.desired, &self.live) {
            (Some(p), _, live) => (live.as_ref().map(diff::normalize), Some(diff::normalize(p))),
            (None, Some(d), Some(l)) => {
                let p = diff::three_way::predict(d, l);
                (Some(p.live), Some(p.predicted))
            }
            (None, d, l) => (
                l.as_ref().map(diff::normalize),
                d.as_ref().map(diff::normalize),
            ),
        }
    }

    /// The masked YAML diff of live against desired.
    pub fn diff(&self) -> ResourceDiff {
        let (mut live, mut desired) = self.sides();
        for side in [live.as_mut(), desired.as_mut()].into_iter().flatten() {
            self.ignored.apply(side);
        }
        let note = (self.predicted.is_none() && self.live.is_some() && self.desired.is_some())
            .then(|| {
                format!(
                    "Compared without the server's prediction{}: as Argo CD's default diff does, a field counts when Git sets it, or when the last kubectl apply set it and Git no longer does; what the server defaulted or a controller added does not",
                    self.message
                        .as_deref()
                        .map(|m| format!(" (the dry run was refused: {m})"))
                        .unwrap_or_default()
                )
            });
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
    #[error("{file}: {message}")]
    Manifest { file: String, message: String },
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

/// Reads the app's files at its revision and renders them by their source type. The output
/// depends only on the commit, the path and the parameters, so it is kept: a refresh with
/// no new commit reads no files and runs no tool.
fn render_app(
    app: &Application,
    source: &Source,
) -> Result<(Commit, render::Rendered), SourceError> {
    let what = format!(
        "{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}",
        source.repo.display(),
        app.path,
        app.name,
        app.destination.namespace,
        serde_json::to_string(&app.source).unwrap_or_default()
    );
    let commit = repos::resolve_revision(&source.repo, &app.revision)?;
    if let Some(cached) = source.cache.get(&what, &commit.sha) {
        return Ok((commit, cached));
    }
    // Read by name again: if the branch moved meanwhile, this is the newer commit's output.
    let snapshot = repos::read_revision(&source.repo, &app.revision, &app.path)?;
    let source_type = app
        .source
        .source_type
        .unwrap_or_else(|| render::detect(&snapshot.files, &app.path));
    let rendered = match source_type {
        render::SourceType::Directory => {
            let commit = repos::CommitFiles::open(&source.repo, &snapshot.commit.sha)?;
            let read = |path: &str| commit.read(path);
            let sha = &snapshot.commit.sha;
            // Argo CD's build environment, for the values of Jsonnet variables and arguments.
            let options = app.source.directory.jsonnet.with_build_env(&[
                ("ARGOCD_APP_NAME", app.name.clone()),
                ("ARGOCD_APP_NAMESPACE", app.destination.namespace.clone()),
                ("ARGOCD_APP_REVISION", sha.clone()),
                ("ARGOCD_APP_REVISION_SHORT", sha.chars().take(7).collect()),
                ("ARGOCD_APP_SOURCE_REPO_URL", app.repo.clone()),
                ("ARGOCD_APP_SOURCE_PATH", app.path.clone()),
                ("ARGOCD_APP_SOURCE_TARGET_REVISION", app.revision.clone()),
            ]);
            render::directory(
                &render::select(&snapshot.files, &app.path, &app.source.directory)?,
                &render::JsonnetContext {
                    app_path: &app.path,
                    options: &options,
                    read: &read,
                },
            )?
        }
        tool => {
            // Only what the overlay or chart reads is written out, in a folder of this render's
            // own, removed once the tool has run.
            let commit = repos::CommitFiles::open(&source.repo, &snapshot.commit.sha)?;
            let inputs = if tool == render::SourceType::Kustomize {
                render::inputs::kustomize(&commit, &app.path)?
            } else {
                render::inputs::helm(&commit, &app.path, &app.source.helm.values_files)?
            };
            let scratch = render::scratch(&source.exports)?;
            let root = scratch.path().join("repo");
            repos::export_paths(&source.repo, &snapshot.commit.sha, &root, &inputs)?;
            if tool == render::SourceType::Kustomize {
                render::kustomize(&root, &app.path, &source.tools)?
            } else {
                render::helm(
                    &root,
                    &app.path,
                    &app.name,
                    &app.destination.namespace,
                    &app.source.helm,
                    &source.tools,
                    scratch.path(),
                )?
            }
        }
    };
    source
        .cache
        .put(what, snapshot.commit.sha.clone(), rendered.clone());
    Ok((snapshot.commit, rendered))
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

/// Reads and renders the app on a blocking thread: Git and the tools are slow and synchronous.
pub async fn render_off_thread(
    app: &Application,
    source: Source,
) -> Result<(Commit, render::Rendered), ReconcileError> {
    let owned = app.clone();
    tokio::task::spawn_blocking(move || render_app(&owned, &source))
        .await
        .map_err(|e| RepoError::Git {
            repo: app.repo.clone(),
            message: e.to_string(),
        })?
        .map_err(ReconcileError::from)
}

/// The app's manifests at its revision, keyed without asking a cluster (namespaced or not is
/// not known offline: an object without a namespace gets the destination's).
pub async fn manifests(
    app: &Application,
    source: Source,
) -> Result<BTreeMap<ResourceKey, Value>, ReconcileError> {
    let (_, rendered) = render_off_thread(app, source).await?;
    let mut out = BTreeMap::new();
    for manifest in rendered.manifests {
        let text = |p: &str| {
            manifest
                .object
                .pointer(p)
                .and_then(Value::as_str)
                .unwrap_or_default()
        };
        let key = ResourceKey {
            group: resources::split_api_version(text("/apiVersion"))
                .0
                .to_string(),
            kind: text("/kind").to_string(),
            namespace: match text("/metadata/namespace") {
                "" => app.destination.namespace.clone(),
                ns => ns.to_string(),
            },
            name: text("/metadata/name").to_string(),
        };
        out.insert(key, manifest.object);
    }
    Ok(out)
}

/// Each resource that differs between two sets of manifests: changed (OutOfSync), only in
/// `after` (Missing: added), only in `before` (RequiresPruning: removed); normalized, masked.
pub fn diff_manifests(
    before: &BTreeMap<ResourceKey, Value>,
    after: &BTreeMap<ResourceKey, Value>,
) -> Vec<ResourceDiff> {
    let keys: std::collections::BTreeSet<&ResourceKey> =
        before.keys().chain(after.keys()).collect();
    let mut out = Vec::new();
    for key in keys {
        let mut old = before.get(key).map(diff::normalize);
        let mut new = after.get(key).map(diff::normalize);
        if old == new {
            continue;
        }
        let status = match (&old, &new) {
            (Some(_), Some(_)) => ResourceSync::OutOfSync,
            (None, _) => ResourceSync::Missing,
            (_, None) => ResourceSync::RequiresPruning,
        };
        diff::mask_secrets(old.as_mut(), new.as_mut());
        let live = old.as_ref().map(diff::to_yaml).unwrap_or_default();
        let desired = new.as_ref().map(diff::to_yaml).unwrap_or_default();
        out.push(ResourceDiff {
            key: key.clone(),
            status,
            lines: diff::lines(&live, &desired),
            live,
            desired,
            note: None,
        });
    }
    out
}

/// Diffs desired objects with live ones read from files, with no cluster to ask: paired by
/// (group, kind, namespace, name), an object without a namespace taking `namespace` (and a
/// cluster-scoped one never having one), then compared as Argo CD's default diff compares
/// when the server cannot predict, with `ignore` rules applied. Only what differs is returned:
/// changed (OutOfSync), only desired (Missing), only live (RequiresPruning); masked.
pub fn diff_offline(
    desired: Vec<Value>,
    live: Vec<Value>,
    namespace: Option<&str>,
    ignore: &[diff::IgnoreRule],
) -> Vec<ResourceDiff> {
    let key = |obj: &Value,
               default_namespace: Option<&str>,
               cluster_scoped: &dyn Fn(&str, &str) -> bool| {
        let text = |p: &str| obj.pointer(p).and_then(Value::as_str).unwrap_or_default();
        let group = resources::split_api_version(text("/apiVersion"))
            .0
            .to_string();
        let kind = text("/kind").to_string();
        let namespace = if cluster_scoped(&group, &kind) {
            String::new()
        } else {
            match (text("/metadata/namespace"), default_namespace) {
                ("", Some(ns)) => ns.to_string(),
                (ns, _) => ns.to_string(),
            }
        };
        ResourceKey {
            group,
            kind,
            namespace,
            name: text("/metadata/name").to_string(),
        }
    };
    // A kind that is not built in is cluster-scoped when its live objects have no namespace.
    let unnamespaced: std::collections::HashSet<(String, String)> = live
        .iter()
        .filter(|o| {
            o.pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .is_none()
        })
        .map(|o| {
            let text = |p: &str| o.pointer(p).and_then(Value::as_str).unwrap_or_default();
            (
                resources::split_api_version(text("/apiVersion"))
                    .0
                    .to_string(),
                text("/kind").to_string(),
            )
        })
        .collect();
    let cluster_scoped = |group: &str, kind: &str| {
        kube_schema::is_cluster_scoped(group, kind)
            || unnamespaced.contains(&(group.to_string(), kind.to_string()))
    };
    let live: BTreeMap<ResourceKey, Value> = live
        .into_iter()
        .map(|o| (key(&o, None, &cluster_scoped), o))
        .collect();
    let mut desired: BTreeMap<ResourceKey, Value> = desired
        .into_iter()
        .map(|o| (key(&o, namespace, &cluster_scoped), o))
        .collect();
    // Without a namespace to put them in, objects that name none pair with the one live object
    // of their kind and name, wherever it is.
    if namespace.is_none() {
        let unplaced: Vec<ResourceKey> = desired
            .keys()
            .filter(|k| k.namespace.is_empty() && !live.contains_key(*k))
            .cloned()
            .collect();
        for k in unplaced {
            let mut candidates = live
                .keys()
                .filter(|l| l.group == k.group && l.kind == k.kind && l.name == k.name);
            if let (Some(only), None) = (candidates.next(), candidates.next()) {
                let only = only.clone();
                if let Some(obj) = desired.remove(&k) {
                    desired.insert(only, obj);
                }
            }
        }
    }
    let keys: std::collections::BTreeSet<&ResourceKey> =
        desired.keys().chain(live.keys()).collect();
    let mut out = Vec::new();
    for key in keys {
        let (live_obj, desired_obj) = (live.get(key), desired.get(key));
        let ignored = Ignored::for_resource(
            ignore,
            (&key.group, &key.kind, &key.namespace, &key.name),
            live_obj,
        );
        let (status, mut before, mut after) = match (live_obj, desired_obj) {
            (Some(l), Some(d)) => {
                let p = diff::three_way::predict(d, l);
                (ResourceSync::OutOfSync, Some(p.live), Some(p.predicted))
            }
            (None, Some(d)) => (ResourceSync::Missing, None, Some(diff::normalize(d))),
            (Some(l), None) => (
                ResourceSync::RequiresPruning,
                Some(diff::normalize(l)),
                None,
            ),
            (None, None) => continue,
        };
        for side in [before.as_mut(), after.as_mut()].into_iter().flatten() {
            ignored.apply(side);
        }
        if status == ResourceSync::OutOfSync && before == after {
            continue;
        }
        diff::mask_secrets(before.as_mut(), after.as_mut());
        let live_text = before.as_ref().map(diff::to_yaml).unwrap_or_default();
        let desired_text = after.as_ref().map(diff::to_yaml).unwrap_or_default();
        out.push(ResourceDiff {
            key: key.clone(),
            status,
            lines: diff::lines(&live_text, &desired_text),
            live: live_text,
            desired: desired_text,
            note: None,
        });
    }
    out
}

/// Where a comparison reads the live objects: the cluster behind `client`, or its cache
/// (`live`) when the engine keeps watching, and the dry-run answers kept so far.
pub struct Cluster<'a> {
    pub client: &'a kube::Client,
    pub predictions: &'a Predictions,
    pub live: Option<&'a crate::cache::ClusterCache>,
    /// Where the app has tracked objects besides the kinds and namespaces it desires: a
    /// leftover there needs pruning too.
    pub tracked: &'a [crate::tracked::Scope],
}

impl Cluster<'_> {
    /// The objects of `resolved` in `namespace`: from the cache when it has them, else
    /// listed.
    pub async fn objects(
        &self,
        resolved: &Resolved,
        namespace: &str,
    ) -> Result<Vec<Value>, kube::Error> {
        if let Some(cache) = self.live
            && let Some(kept) = cache.objects(resolved, namespace).await
        {
            return Ok(kept);
        }
        let list = api_for(self.client, resolved, namespace)
            .list(&ListParams::default())
            .await?;
        Ok(list
            .items
            .iter()
            .map(|item| as_listed(&resolved.api, item))
            .collect())
    }
}

/// An object as JSON with its apiVersion and kind (list items from a real server carry
/// neither).
pub fn as_listed(api: &kube::discovery::ApiResource, object: &DynamicObject) -> Value {
    let mut value = serde_json::to_value(object).unwrap_or(Value::Null);
    value["apiVersion"] = Value::String(api.api_version.clone());
    value["kind"] = Value::String(api.kind.clone());
    value
}

/// Server-side dry-run results by (context, resource), with the live resourceVersion and a
/// hash of the desired object they answered: while neither changes, neither does the answer,
/// so a refresh of an unchanged app sends no dry run at all. A refusal the server would repeat
/// (a read-only user's 403, a cluster without dry run) is kept too.
#[derive(Default)]
pub struct Predictions {
    entries: std::sync::Mutex<HashMap<(String, ResourceKey), Prediction>>,
}

/// (live resourceVersion, hash of the desired object, the server's answer: shared with the
/// comparisons that use it, not copied into each; or its words refusing).
type Prediction = (String, u64, Answer);

/// The server's prediction, or why it would not make one.
type Answer = Result<Arc<Value>, String>;

/// Past this many entries the cache starts over (a few MiB for typical objects).
const PREDICTIONS_KEPT: usize = 20_000;

impl Predictions {
    fn get(&self, context: &str, key: &ResourceKey, version: &str, desired: u64) -> Option<Answer> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(&(context.to_string(), key.clone())) {
            Some((v, d, answer)) if v == version && *d == desired => Some(answer.clone()),
            _ => None,
        }
    }

    fn put(&self, context: &str, key: &ResourceKey, version: String, desired: u64, answer: Answer) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= PREDICTIONS_KEPT {
            entries.clear();
        }
        entries.insert(
            (context.to_string(), key.clone()),
            (version, desired, answer),
        );
    }
}

fn content_hash(value: &Value) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_vec(value)
        .unwrap_or_default()
        .hash(&mut hasher);
    hasher.finish()
}

/// Renders a folder on disk (not a commit) by its detected source type, for `diff --local`.
pub fn render_local(
    dir: &std::path::Path,
    app: &Application,
    tools: &render::Tools,
) -> Result<render::Rendered, RenderError> {
    let files = render::read_directory(dir)?;
    match render::detect(&files, "") {
        render::SourceType::Directory => {
            let read = |path: &str| std::fs::read(dir.join(path)).ok();
            render::directory(
                &render::select(&files, "", &app.source.directory)?,
                &render::JsonnetContext {
                    app_path: "",
                    options: &app.source.directory.jsonnet,
                    read: &read,
                },
            )
        }
        render::SourceType::Kustomize => render::kustomize(dir, "", tools),
        render::SourceType::Helm => {
            let scratch = tempfile::tempdir().map_err(|e| RenderError::Read {
                path: std::env::temp_dir().display().to_string(),
                message: e.to_string(),
            })?;
            render::helm(
                dir,
                "",
                &app.name,
                &app.destination.namespace,
                &app.source.helm,
                tools,
                scratch.path(),
            )
        }
    }
}

/// Compares manifests already rendered (from `commit`) with the live objects.
pub async fn compare_rendered(
    app: &Application,
    commit: Commit,
    rendered: render::Rendered,
    cluster: &Cluster<'_>,
) -> Result<Comparison, ReconcileError> {
    let (client, predictions) = (cluster.client, cluster.predictions);
    let mut resolver = Resolver::new(client.clone());
    let defined = crd_kinds(rendered.manifests.iter().map(|m| &m.object));
    let mut notes = rendered.notes;
    let mut desired: BTreeMap<ResourceKey, Desired> = BTreeMap::new();
    let mut hooks: BTreeMap<ResourceKey, Desired> = BTreeMap::new();
    for manifest in rendered.manifests {
        let role = crate::order::hook_role(&manifest.object).map_err(|message| {
            ReconcileError::Manifest {
                file: manifest.file.clone(),
                message: format!("{}: {message}", describe(&manifest.object)),
            }
        })?;
        if role == crate::order::HookRole::Skip {
            notes.push(format!(
                "{}: {} is skipped (a hook that is never run)",
                manifest.file,
                describe(&manifest.object)
            ));
            continue;
        }
        let (key, resolved, served, object) = prepare(
            app,
            &mut resolver,
            &defined,
            &manifest.file,
            manifest.object,
            role.is_hook(),
        )
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
        if let Some(first) = desired.get(&key).or(hooks.get(&key)) {
            return Err(ReconcileError::Duplicate(
                key,
                first.file.clone(),
                manifest.file,
            ));
        }
        let target = if role.is_hook() {
            &mut hooks
        } else {
            &mut desired
        };
        target.insert(
            key,
            Desired {
                resolved,
                file: manifest.file,
                object,
                served,
            },
        );
    }

    // One list per (kind, namespace) finds both the desired objects and extraneous tracked ones.
    let mut scopes: HashMap<(String, String), Resolved> = HashMap::new();
    for (key, d) in desired.iter().chain(&hooks).filter(|(_, d)| d.served) {
        scopes
            .entry(scope_of(&d.resolved, &key.namespace))
            .or_insert_with(|| d.resolved.clone());
    }
    for (resolved, namespace) in cluster.tracked {
        scopes
            .entry(scope_of(resolved, namespace))
            .or_insert_with(|| resolved.clone());
    }
    let listings =
        futures::stream::iter(scopes.into_iter().map(|((_, ns), resolved)| async move {
            let objects = cluster.objects(&resolved, &ns).await;
            (resolved, ns, objects)
        }))
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await;

    // What these credentials may not list (a view-only user and Secrets) stays unknown, the
    // rest is compared; anything else failing fails the comparison.
    let mut live: BTreeMap<ResourceKey, (Resolved, Value)> = BTreeMap::new();
    let mut unreadable: HashMap<(String, String), String> = HashMap::new();
    for (resolved, ns, objects) in listings {
        let objects = match objects {
            Err(kube::Error::Api(status)) if status.code == 403 => {
                unreadable.insert(scope_of(&resolved, &ns), status.message.clone());
                continue;
            }
            other => other.map_err(|e| ReconcileError::Cluster {
                context: app.destination.context.clone(),
                what: resolved.api.plural.clone(),
                message: kube_message(&e),
            })?,
        };
        for value in objects {
            let key = key_of(&resolved, &value);
            live.insert(key, (resolved.clone(), value));
        }
    }

    // Each live object goes to the resource it belongs to (moved, not copied); what is left
    // over is extraneous.
    let paired: Vec<_> = desired
        .into_iter()
        .map(|(key, d)| {
            let live_obj = live.remove(&key).map(|(_, v)| v);
            (key, d, live_obj)
        })
        .collect();
    let mut resources: Vec<Compared> =
        futures::stream::iter(paired.into_iter().map(|(key, d, live_obj)| {
            let client = client.clone();
            let refused = unreadable
                .get(&scope_of(&d.resolved, &key.namespace))
                .cloned();
            async move {
                match refused {
                    Some(message) => unreadable_one(key, d, message),
                    None => compare_one(&client, app, key, d, live_obj, predictions).await,
                }
            }
        }))
        .buffered(CONCURRENCY)
        .collect()
        .await;
    let hooks: Vec<Compared> = hooks
        .into_iter()
        .map(|(key, d)| Compared {
            // A hook the server names has no one live object: each run is a new one.
            live: live.remove(&key).map(|(_, v)| v),
            generated: is_generated(&d.object),
            key,
            resolved: d.resolved,
            file: Some(d.file),
            desired: Some(d.object),
            predicted: None,
            message: None,
            status: ResourceSync::Synced,
            served: d.served,
            ignored: Default::default(),
        })
        .collect();

    let extraneous = live.into_iter().filter_map(|(key, (resolved, value))| {
        (resources::is_tracked_by(&value, &key, &app.name)
            && !crate::order::hook_role(&value)
                .is_ok_and(|role| role != crate::order::HookRole::Resource))
        .then(|| Compared {
            key,
            resolved,
            file: None,
            desired: None,
            live: Some(value),
            predicted: None,
            message: None,
            status: ResourceSync::RequiresPruning,
            served: true,
            ignored: Default::default(),
            generated: false,
        })
    });
    resources.extend(extraneous);
    let unpredicted: Vec<&Compared> = resources
        .iter()
        .filter(|r| r.predicted.is_none() && r.live.is_some() && r.desired.is_some())
        .collect();
    if let Some(first) = unpredicted.first() {
        let compared = resources
            .iter()
            .filter(|r| r.live.is_some() && r.desired.is_some())
            .count();
        notes.push(format!(
            "Compared without the server's prediction for {} of {compared} resources{}: as Argo CD's default diff does then, a field counts when Git sets it (or the last kubectl apply set it and Git no longer does); what the server defaulted or a controller added does not",
            unpredicted.len(),
            first
                .message
                .as_deref()
                .map(|m| format!(" (the server refused the dry run: {m})"))
                .unwrap_or_default()
        ));
    }
    // Cached: the wave is read from each object, once rather than at every comparison.
    resources.sort_by_cached_key(|r| {
        (
            crate::order::wave(r.desired.as_ref().or(r.live.as_ref())),
            crate::order::kind_rank(&r.key.kind),
            r.key.clone(),
        )
    });
    Ok(Comparison {
        app: app.clone(),
        commit,
        resources: resources.into_iter().map(Arc::new).collect(),
        hooks: hooks.into_iter().map(Arc::new).collect(),
        notes,
        namespace_exists: namespace_exists(client, &app.destination.namespace).await,
    })
}

/// `previous` again after some of its objects changed in the cluster (`changed`: each key with
/// the object as the cluster has it now, or none when it is gone), every other resource as it
/// was: the work is in proportion to what changed, not to the app's size, as Argo CD's
/// controller works from its cluster cache. None when a key is not one of its resources (a new
/// object of the app): then only a whole comparison will do. Hooks are never compared.
pub async fn recompare(
    previous: &Comparison,
    changed: Vec<(ResourceKey, Option<Value>)>,
    client: &kube::Client,
    predictions: &Predictions,
) -> Option<Comparison> {
    let mut next = previous.clone();
    for (key, live) in changed {
        if next.hooks.iter().any(|h| h.key == key) {
            continue;
        }
        let at = next.resources.iter().position(|r| r.key == key)?;
        let was = &next.resources[at];
        match (&was.desired, &was.file) {
            (Some(object), Some(file)) => {
                let desired = Desired {
                    resolved: was.resolved.clone(),
                    file: file.clone(),
                    object: object.clone(),
                    served: was.served,
                };
                next.resources[at] =
                    Arc::new(compare_one(client, &next.app, key, desired, live, predictions).await);
            }
            // Extraneous: pruned by someone, or changed and still to prune.
            _ => match live {
                None => {
                    next.resources.remove(at);
                }
                Some(live) => Arc::make_mut(&mut next.resources[at]).live = Some(live),
            },
        }
    }
    Some(next)
}

/// A desired object, ready to apply.
struct Desired {
    resolved: Resolved,
    file: String,
    object: Value,
    served: bool,
}

/// Whether `namespace` exists; when the cluster will not say, assume it does (a sync then
/// reports the server's own words if it does not).
async fn namespace_exists(client: &kube::Client, namespace: &str) -> bool {
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    !matches!(api.get_opt(namespace).await, Ok(None))
}

/// The kinds that the app's own CRDs define: (group, kind) → how to reach them.
fn crd_kinds<'a>(objects: impl Iterator<Item = &'a Value>) -> HashMap<(String, String), Resolved> {
    let mut kinds = HashMap::new();
    for crd in objects
        .filter(|o| o.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition"))
    {
        let text = |p: &str| crd.pointer(p).and_then(Value::as_str).map(str::to_string);
        let (Some(group), Some(kind), Some(plural)) = (
            text("/spec/group"),
            text("/spec/names/kind"),
            text("/spec/names/plural"),
        ) else {
            continue;
        };
        let versions = crd.pointer("/spec/versions").and_then(Value::as_array);
        let version = versions
            .into_iter()
            .flatten()
            .find(|v| v.get("storage") == Some(&json!(true)))
            .or_else(|| versions.and_then(|v| v.first()))
            .and_then(|v| v.get("name")?.as_str())
            .unwrap_or("v1")
            .to_string();
        let api = kube::discovery::ApiResource {
            api_version: format!("{group}/{version}"),
            group: group.clone(),
            version,
            kind: kind.clone(),
            plural,
        };
        let namespaced = text("/spec/scope").as_deref() != Some("Cluster");
        kinds.insert((group, kind), Resolved { api, namespaced });
    }
    kinds
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

/// How a manifest is named in words: its kind and name (or `generateName` prefix).
fn describe(obj: &Value) -> String {
    let text = |p: &str| obj.pointer(p).and_then(Value::as_str).unwrap_or_default();
    let kind = match text("/kind") {
        "" => "object",
        kind => kind,
    };
    match (text("/metadata/name"), text("/metadata/generateName")) {
        ("", "") => kind.to_string(),
        ("", prefix) => format!("{kind} {prefix}…"),
        (name, _) => format!("{kind} {name}"),
    }
}

/// True for an object the server is to name: `generateName` and no name.
pub fn is_generated(obj: &Value) -> bool {
    let text = |p: &str| obj.pointer(p).and_then(Value::as_str).unwrap_or_default();
    text("/metadata/name").is_empty() && !text("/metadata/generateName").is_empty()
}

/// Resolves a manifest's kind, fills in its namespace and adds the tracking annotation. A
/// `hook` may leave its name to the server (`generateName`); anything else must have one, as
/// Argo CD requires.
async fn prepare(
    app: &Application,
    resolver: &mut Resolver,
    defined: &HashMap<(String, String), Resolved>,
    file: &str,
    mut object: Value,
    hook: bool,
) -> Result<(ResourceKey, Resolved, bool, Value), ReconcileError> {
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
    let name = match (
        text("/metadata/name").filter(|n| !n.is_empty()),
        text("/metadata/generateName").filter(|n| !n.is_empty()),
    ) {
        (Some(name), _) => name,
        (None, Some(prefix)) if hook => prefix,
        (None, Some(prefix)) => {
            return Err(ReconcileError::Manifest {
                file: file.to_string(),
                message: format!(
                    "{kind} {prefix}… has generateName but no name: only hooks may leave their name to the server (Argo CD applies every other resource by name); give it metadata.name, or make it a hook"
                ),
            });
        }
        (None, None) => return Err(missing("metadata.name").into()),
    };
    // A kind the cluster does not serve yet may come from a CRD in this same app.
    let (resolved, served) = match resolver.resolve(file, &api_version, &kind).await {
        Ok(resolved) => (resolved, true),
        Err(ResolveError::UnknownKind { .. })
            if defined.contains_key(&(
                resources::split_api_version(&api_version).0.to_string(),
                kind.clone(),
            )) =>
        {
            let group = resources::split_api_version(&api_version).0.to_string();
            (defined[&(group, kind.clone())].clone(), false)
        }
        Err(e) => return Err(e.into()),
    };
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
    Ok((key, resolved, served, object))
}

/// What is known of a resource whose kind these credentials may not read there: only what
/// Git says, and the server's refusal.
fn unreadable_one(key: ResourceKey, desired: Desired, refusal: String) -> Compared {
    Compared {
        key,
        resolved: desired.resolved,
        file: Some(desired.file),
        desired: Some(desired.object),
        live: None,
        predicted: None,
        message: Some(format!(
            "not compared: this context's credentials may not read it ({refusal})"
        )),
        status: ResourceSync::Unknown,
        served: desired.served,
        ignored: Default::default(),
        generated: false,
    }
}

/// The kind and namespace one list covers.
fn scope_of(resolved: &Resolved, namespace: &str) -> (String, String) {
    (
        resolved.api.api_version.clone() + "/" + &resolved.api.kind,
        namespace.to_string(),
    )
}

async fn compare_one(
    client: &kube::Client,
    app: &Application,
    key: ResourceKey,
    desired: Desired,
    live: Option<Value>,
    predictions: &Predictions,
) -> Compared {
    let ignored = Ignored::for_resource(
        &app.ignore,
        (&key.group, &key.kind, &key.namespace, &key.name),
        live.as_ref(),
    );
    let mut compared = Compared {
        key,
        resolved: desired.resolved,
        file: Some(desired.file),
        desired: Some(desired.object),
        live,
        predicted: None,
        message: None,
        status: ResourceSync::Missing,
        served: desired.served,
        ignored,
        generated: false,
    };
    let Some(live) = &compared.live else {
        return compared;
    };
    let desired = compared
        .desired
        .as_ref()
        .unwrap_or_else(|| unreachable!("set above"));
    // Forced, so that the prediction shows what a sync would make of fields another
    // manager owns, rather than no prediction at all.
    let version = live
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let hash = content_hash(desired);
    let context = &app.destination.context;
    let answer = match predictions.get(context, &compared.key, &version, hash) {
        Some(answer) => answer,
        None => {
            let asked =
                dry_run_apply(client, &compared.resolved, &compared.key, desired, true).await;
            // The server's own refusal stands until Git or the object changes; a network
            // failure is asked again.
            let lasting = matches!(&asked, Ok(_) | Err(kube::Error::Api(_)));
            let answer = asked.map(Arc::new).map_err(|e| kube_message(&e));
            if lasting && !version.is_empty() {
                predictions.put(context, &compared.key, version, hash, answer.clone());
            }
            answer
        }
    };
    match answer {
        Ok(predicted) => compared.predicted = Some(predicted),
        Err(message) => compared.message = Some(message),
    }
    let (before, after) = compared.sides();
    let (mut before, mut after) = (
        before.unwrap_or_else(|| unreachable!("live is there")),
        after.unwrap_or_else(|| unreachable!("desired is there")),
    );
    compared.ignored.apply(&mut before);
    compared.ignored.apply(&mut after);
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
    force: bool,
) -> Result<Value, kube::Error> {
    let api = api_for(client, resolved, &key.namespace);
    let mut params = PatchParams::apply(FIELD_MANAGER).dry_run();
    params.force = force;
    let obj = api
        .patch(&key.name, &params, &Patch::Apply(desired))
        .await?;
    Ok(serde_json::to_value(obj).unwrap_or(Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys_of(diffs: &[ResourceDiff]) -> Vec<(String, ResourceSync)> {
        diffs
            .iter()
            .map(|d| (d.key.to_string(), d.status))
            .collect()
    }

    /// What a case is about, Git's objects, the live ones, the namespace given, and the diffs
    /// expected (key and status).
    type Case<'a> = (
        &'a str,
        Vec<Value>,
        Vec<Value>,
        Option<&'a str>,
        Vec<(&'a str, ResourceSync)>,
    );

    #[test]
    fn offline_objects_pair_by_the_destination_namespace_and_scope() {
        let cm = |ns: Option<&str>, value: &str| {
            let mut o = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"k": value}});
            if let Some(ns) = ns {
                o["metadata"]["namespace"] = json!(ns);
            }
            o
        };
        let role = |ns: Option<&str>| {
            let mut o = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                               "metadata": {"name": "reader"}, "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]});
            if let Some(ns) = ns {
                o["metadata"]["namespace"] = json!(ns);
            }
            o
        };
        let widget = |ns: Option<&str>| {
            let mut o = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 1}});
            if let Some(ns) = ns {
                o["metadata"]["namespace"] = json!(ns);
            }
            o
        };
        let cases: Vec<Case> = vec![
            (
                "--namespace puts Git's objects in the destination",
                vec![cm(None, "v")],
                vec![cm(Some("shop"), "v")],
                Some("shop"),
                vec![],
            ),
            (
                "and a change there shows",
                vec![cm(None, "new")],
                vec![cm(Some("shop"), "v")],
                Some("shop"),
                vec![("ConfigMap shop/settings", ResourceSync::OutOfSync)],
            ),
            (
                "without --namespace, the one live object of that kind and name",
                vec![cm(None, "v")],
                vec![cm(Some("shop"), "v")],
                None,
                vec![],
            ),
            (
                "a namespace in Git on a cluster-scoped object means nothing",
                vec![role(Some("shop"))],
                vec![role(None)],
                Some("shop"),
                vec![],
            ),
            (
                "a custom kind whose live objects have no namespace is cluster-scoped",
                vec![widget(None)],
                vec![widget(None)],
                Some("shop"),
                vec![],
            ),
            (
                "in Git only: missing; live only: requires pruning",
                vec![cm(None, "v")],
                vec![role(None)],
                Some("shop"),
                vec![
                    ("ConfigMap shop/settings", ResourceSync::Missing),
                    (
                        "ClusterRole.rbac.authorization.k8s.io reader",
                        ResourceSync::RequiresPruning,
                    ),
                ],
            ),
        ];
        for (what, desired, live, namespace, expected) in cases {
            let diffs = diff_offline(desired, live, namespace, &[]);
            let expected: Vec<(String, ResourceSync)> = expected
                .into_iter()
                .map(|(k, s)| (k.to_string(), s))
                .collect();
            assert_eq!(keys_of(&diffs), expected, "{what}");
        }
    }

    #[test]
    fn offline_ignore_rules_work_as_the_apps_do() {
        let deployment = |replicas: i64| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "web", "namespace": "shop", "managedFields": [
                       {"manager": "hpa", "operation": "Update", "fieldsV1": {"f:spec": {"f:replicas": {}}}}]},
                   "spec": {"replicas": replicas, "paused": false}})
        };
        let by_pointer = diff::IgnoreRule {
            group: "apps".into(),
            kind: "Deployment".into(),
            json_pointers: vec!["/spec/replicas".into()],
            ..Default::default()
        };
        let by_manager = diff::IgnoreRule {
            managed_fields_managers: vec!["hpa".into()],
            ..Default::default()
        };
        assert_eq!(
            diff_offline(vec![deployment(2)], vec![deployment(7)], None, &[]).len(),
            1
        );
        for rule in [by_pointer, by_manager] {
            let diffs = diff_offline(
                vec![deployment(2)],
                vec![deployment(7)],
                None,
                std::slice::from_ref(&rule),
            );
            assert!(diffs.is_empty(), "{rule:?}: {diffs:?}");
        }
    }

    #[test]
    fn a_prediction_holds_only_for_the_same_live_version_and_desired_object() {
        let predictions = Predictions::default();
        let key = ResourceKey {
            group: String::new(),
            kind: "ConfigMap".into(),
            namespace: "web".into(),
            name: "settings".into(),
        };
        let desired = json!({"data": {"a": "1"}});
        let hash = content_hash(&desired);
        let answer = Arc::new(json!({"predicted": true}));
        predictions.put("dev", &key, "41".into(), hash, Ok(answer.clone()));
        assert_eq!(predictions.get("dev", &key, "41", hash), Some(Ok(answer)));
        assert_eq!(
            predictions.get("dev", &key, "42", hash),
            None,
            "live changed"
        );
        let other = content_hash(&json!({"data": {"a": "2"}}));
        assert_ne!(hash, other);
        assert_eq!(
            predictions.get("dev", &key, "41", other),
            None,
            "Git changed"
        );
        assert_eq!(
            predictions.get("prod", &key, "41", hash),
            None,
            "another cluster"
        );
    }
}
