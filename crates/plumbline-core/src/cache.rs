//! The cluster cache, as Argo CD's application controller keeps one: for each connected
//! context, one watch per kind in use there — cluster-wide, or one per namespace in use where
//! the credentials allow no cluster-wide list — shared by every application on the context.
//! Comparisons and trees read objects from here instead of listing the cluster, and each
//! change is told to the cache's listener with the object's key, so that only the
//! applications it touches are compared again.

use crate::resources::{Resolved, ResourceKey, TRACKING_ANNOTATION};
use futures::StreamExt;
use kube::api::DynamicObject;
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// How long a reader waits for a new watch's first listing before it lists by itself.
const FIRST_LISTING: Duration = Duration::from_secs(15);

/// Kinds the cluster makes in numbers and only the tree reads: their field managers are
/// dropped as they come in (a Pod's are a third of it).
const LEAN_KINDS: &[&str] = &["Pod", "ReplicaSet", "Endpoints", "EndpointSlice", "Event"];

/// What the cache tells its listener.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// An object was created, changed or deleted (after the watch's first listing; a listing
    /// again after a lost connection tells what differs). `app` is the application its
    /// tracking id names, if any.
    Changed {
        key: ResourceKey,
        app: Option<String>,
    },
    /// A watch lost the server: the connection failed, not a refusal. The watch retries.
    Trouble(String),
}

/// Hears every notice of a cache, on the watch's own task: keep it short.
pub type Listener = Arc<dyn Fn(&str, Notice) + Send + Sync>;

/// One context's watched objects.
pub struct ClusterCache {
    context: String,
    client: kube::Client,
    listener: Listener,
    kinds: Mutex<HashMap<(String, String), Kind>>,
}

/// How one kind is watched.
enum Kind {
    Cluster(Arc<Scope>),
    /// The credentials refused a cluster-wide list: one watch per namespace asked for.
    Namespaces(HashMap<String, Arc<Scope>>),
}

/// One watch and what it keeps: objects by namespace, then name.
struct Scope {
    resolved: Resolved,
    objects: RwLock<HashMap<String, HashMap<String, Arc<Value>>>>,
    phase: tokio::sync::watch::Sender<Phase>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    /// The first listing is under way.
    Listing,
    /// Listed, and watched since.
    Ready,
    /// The server refused to list (403): no point in retrying with these credentials.
    Refused(String),
    /// The first listing failed for another reason; the watch retries by itself.
    Failed(String),
}

impl Drop for Scope {
    fn drop(&mut self) {
        if let Some(task) = self.task.lock().unwrap_or_else(|p| p.into_inner()).take() {
            task.abort();
        }
    }
}

impl Drop for ClusterCache {
    fn drop(&mut self) {
        // Scopes are shared with readers for a moment at most; stop their watches now.
        let kinds = std::mem::take(&mut *self.kinds.lock().unwrap_or_else(|p| p.into_inner()));
        for kind in kinds.into_values() {
            for scope in kind.scopes() {
                scope.stop();
            }
        }
    }
}

impl Kind {
    fn scopes(&self) -> Vec<Arc<Scope>> {
        match self {
            Kind::Cluster(scope) => vec![scope.clone()],
            Kind::Namespaces(scopes) => scopes.values().cloned().collect(),
        }
    }
}

impl ClusterCache {
    /// A cache of `context` reached through `client` (one meant for long watches); nothing is
    /// watched until someone reads.
    pub fn new(context: &str, client: kube::Client, listener: Listener) -> Self {
        Self {
            context: context.to_string(),
            client,
            listener,
            kinds: Mutex::new(HashMap::new()),
        }
    }

    /// The objects of `resolved` in `namespace` (empty for cluster-scoped kinds), as a list
    /// would give them, with apiVersion and kind. The kind is watched from now on. None when
    /// the cache cannot say: the server refused, or the first listing failed or is slow;
    /// the caller then asks the server itself and hears why.
    pub async fn objects(&self, resolved: &Resolved, namespace: &str) -> Option<Vec<Value>> {
        let scope = self.scope(resolved, namespace);
        match scope.settled().await? {
            Phase::Ready => Some(scope.read(resolved, namespace)),
            Phase::Refused(_) if resolved.namespaced && !namespace.is_empty() => {
                // Watch this namespace alone from now on (and every other one asked for).
                let scope = self.per_namespace(resolved, namespace);
                (scope.settled().await? == Phase::Ready).then(|| scope.read(resolved, namespace))
            }
            _ => None,
        }
    }

    /// One object of `resolved` (`namespace` empty for cluster-scoped kinds): `Some(None)` when
    /// the cache knows it is not there, None when the cache cannot say (as [`Self::objects`]).
    pub async fn object(
        &self,
        resolved: &Resolved,
        namespace: &str,
        name: &str,
    ) -> Option<Option<Value>> {
        let scope = self.scope(resolved, namespace);
        let scope = match scope.settled().await? {
            Phase::Ready => scope,
            Phase::Refused(_) if resolved.namespaced && !namespace.is_empty() => {
                let scope = self.per_namespace(resolved, namespace);
                (scope.settled().await? == Phase::Ready).then_some(scope)?
            }
            _ => return None,
        };
        let objects = scope.objects.read().unwrap_or_else(|p| p.into_inner());
        let ns = if resolved.namespaced { namespace } else { "" };
        Some(
            objects
                .get(ns)
                .and_then(|in_ns| in_ns.get(name))
                .map(|o| (**o).clone()),
        )
    }

    /// How many watches this cache runs (one per kind, more where it watches namespaces).
    pub fn watches(&self) -> usize {
        let kinds = self.kinds.lock().unwrap_or_else(|p| p.into_inner());
        kinds.values().map(|k| k.scopes().len()).sum()
    }

    /// The watch that serves (`resolved`, `namespace`), started if there is none.
    fn scope(&self, resolved: &Resolved, namespace: &str) -> Arc<Scope> {
        let id = (resolved.api.api_version.clone(), resolved.api.kind.clone());
        let mut kinds = self.kinds.lock().unwrap_or_else(|p| p.into_inner());
        let kind = kinds
            .entry(id)
            .or_insert_with(|| Kind::Cluster(self.start(resolved, None)));
        match kind {
            Kind::Cluster(scope) => scope.clone(),
            Kind::Namespaces(scopes) => scopes
                .entry(namespace.to_string())
                .or_insert_with(|| self.start(resolved, Some(namespace)))
                .clone(),
        }
    }

    /// Switches `resolved` to a watch per namespace (the cluster-wide one was refused) and
    /// returns the one for `namespace`.
    fn per_namespace(&self, resolved: &Resolved, namespace: &str) -> Arc<Scope> {
        let id = (resolved.api.api_version.clone(), resolved.api.kind.clone());
        let mut kinds = self.kinds.lock().unwrap_or_else(|p| p.into_inner());
        let kind = kinds
            .entry(id)
            .or_insert_with(|| Kind::Namespaces(HashMap::new()));
        if let Kind::Cluster(refused) = kind {
            tracing::info!(
                context = self.context,
                kind = resolved.api.kind,
                "no cluster-wide list allowed; watching namespace by namespace"
            );
            refused.stop();
            *kind = Kind::Namespaces(HashMap::new());
        }
        let Kind::Namespaces(scopes) = kind else {
            unreachable!("switched above")
        };
        scopes
            .entry(namespace.to_string())
            .or_insert_with(|| self.start(resolved, Some(namespace)))
            .clone()
    }

    fn start(&self, resolved: &Resolved, namespace: Option<&str>) -> Arc<Scope> {
        let api = match namespace {
            Some(ns) if resolved.namespaced => {
                kube::Api::<DynamicObject>::namespaced_with(self.client.clone(), ns, &resolved.api)
            }
            _ => kube::Api::<DynamicObject>::all_with(self.client.clone(), &resolved.api),
        };
        let scope = Arc::new(Scope {
            resolved: resolved.clone(),
            objects: RwLock::new(HashMap::new()),
            phase: tokio::sync::watch::Sender::new(Phase::Listing),
            task: Mutex::new(None),
        });
        let task = tokio::spawn(run(
            Arc::downgrade(&scope),
            api,
            self.context.clone(),
            self.listener.clone(),
        ));
        *scope.task.lock().unwrap_or_else(|p| p.into_inner()) = Some(task);
        scope
    }
}

impl Scope {
    /// The phase once the first listing is over, or none if it takes too long.
    async fn settled(&self) -> Option<Phase> {
        let mut phase = self.phase.subscribe();
        let settled = tokio::time::timeout(FIRST_LISTING, phase.wait_for(|p| *p != Phase::Listing));
        match settled.await {
            Ok(Ok(p)) => Some(p.clone()),
            _ => None,
        }
    }

    fn stop(&self) {
        if let Some(task) = self.task.lock().unwrap_or_else(|p| p.into_inner()).take() {
            task.abort();
        }
    }

    fn read(&self, resolved: &Resolved, namespace: &str) -> Vec<Value> {
        let objects = self.objects.read().unwrap_or_else(|p| p.into_inner());
        let in_scope: Box<dyn Iterator<Item = &Arc<Value>>> = if resolved.namespaced {
            Box::new(objects.get(namespace).into_iter().flat_map(|m| m.values()))
        } else {
            Box::new(objects.values().flat_map(|m| m.values()))
        };
        in_scope.map(|o| (**o).clone()).collect()
    }
}

/// Runs one watch until its scope is dropped: keeps its objects and tells what changed.
async fn run(
    scope: std::sync::Weak<Scope>,
    api: kube::Api<DynamicObject>,
    context: String,
    listener: Listener,
) {
    let (api_version, kind, lean) = match scope.upgrade() {
        Some(s) => (
            s.resolved.api.api_version.clone(),
            s.resolved.api.kind.clone(),
            LEAN_KINDS.contains(&s.resolved.api.kind.as_str()),
        ),
        None => return,
    };
    let group = crate::resources::split_api_version(&api_version)
        .0
        .to_string();
    let as_value = |object: DynamicObject| -> (String, String, Arc<Value>) {
        let mut value = serde_json::to_value(object).unwrap_or(Value::Null);
        value["apiVersion"] = Value::String(api_version.clone());
        value["kind"] = Value::String(kind.clone());
        if lean && let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("managedFields");
        }
        let text = |p: &str| {
            value
                .pointer(p)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        (
            text("/metadata/namespace"),
            text("/metadata/name"),
            Arc::new(value),
        )
    };
    let tell = |namespace: &str, name: &str, object: &Value| {
        let app = object
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(TRACKING_ANNOTATION))
            .and_then(Value::as_str)
            .and_then(|id| id.split_once(':'))
            .map(|(app, _)| app.to_string());
        listener(
            &context,
            Notice::Changed {
                key: ResourceKey {
                    group: group.clone(),
                    kind: kind.clone(),
                    namespace: namespace.to_string(),
                    name: name.to_string(),
                },
                app,
            },
        );
    };

    let events = watcher(api, watcher::Config::default()).default_backoff();
    futures::pin_mut!(events);
    let mut listing: Option<HashMap<String, HashMap<String, Arc<Value>>>> = None;
    while let Some(event) = events.next().await {
        let Some(scope) = scope.upgrade() else {
            return;
        };
        match event {
            Ok(watcher::Event::Init) => listing = Some(HashMap::new()),
            Ok(watcher::Event::InitApply(object)) => {
                let (ns, name, value) = as_value(object);
                listing
                    .get_or_insert_default()
                    .entry(ns)
                    .or_default()
                    .insert(name, value);
            }
            Ok(watcher::Event::InitDone) => {
                let fresh = listing.take().unwrap_or_default();
                let first = *scope.phase.borrow() != Phase::Ready;
                let old = std::mem::replace(
                    &mut *scope.objects.write().unwrap_or_else(|p| p.into_inner()),
                    fresh,
                );
                if !first {
                    // Listed again after a lost watch: what differs is what changed meanwhile.
                    let objects = scope.objects.read().unwrap_or_else(|p| p.into_inner());
                    for (ns, name, object) in differences(&old, &objects) {
                        tell(ns, name, object);
                    }
                }
                scope.phase.send_replace(Phase::Ready);
            }
            Ok(watcher::Event::Apply(object)) => {
                let (ns, name, value) = as_value(object);
                // Kept first, then told: whoever hears of it reads it as it is now.
                scope
                    .objects
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .entry(ns.clone())
                    .or_default()
                    .insert(name.clone(), value.clone());
                tell(&ns, &name, &value);
            }
            Ok(watcher::Event::Delete(object)) => {
                let (ns, name, value) = as_value(object);
                {
                    let mut objects = scope.objects.write().unwrap_or_else(|p| p.into_inner());
                    if let Some(names) = objects.get_mut(&ns) {
                        names.remove(&name);
                        if names.is_empty() {
                            objects.remove(&ns);
                        }
                    }
                }
                tell(&ns, &name, &value);
            }
            Err(e) => {
                let refused = match &e {
                    watcher::Error::InitialListFailed(kube::Error::Api(status))
                    | watcher::Error::WatchStartFailed(kube::Error::Api(status)) => {
                        status.code == 403 || status.code == 401
                    }
                    _ => false,
                };
                let message = describe(&e);
                let ready = *scope.phase.borrow() == Phase::Ready;
                if refused && !ready {
                    scope.phase.send_replace(Phase::Refused(message));
                    return;
                }
                if !ready {
                    scope.phase.send_replace(Phase::Failed(message.clone()));
                }
                if is_connection(&e) {
                    listener(&context, Notice::Trouble(message));
                } else {
                    tracing::debug!(context, kind, error = %message, "a watch failed; it is retried");
                }
            }
        }
    }
}

/// The objects present in one listing and not the same in the other (resourceVersion).
fn differences<'a>(
    old: &'a HashMap<String, HashMap<String, Arc<Value>>>,
    new: &'a HashMap<String, HashMap<String, Arc<Value>>>,
) -> Vec<(&'a str, &'a str, &'a Value)> {
    let version = |o: &Value| {
        o.pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let find = |listing: &'a HashMap<String, HashMap<String, Arc<Value>>>, ns: &str, name: &str| {
        listing.get(ns).and_then(|m| m.get(name))
    };
    let mut out = Vec::new();
    for (ns, names) in old {
        for (name, object) in names {
            if find(new, ns, name).is_none() {
                out.push((ns.as_str(), name.as_str(), object.as_ref()));
            }
        }
    }
    for (ns, names) in new {
        for (name, object) in names {
            match find(old, ns, name) {
                Some(before) if version(before) == version(object) => {}
                _ => out.push((ns.as_str(), name.as_str(), object.as_ref())),
            }
        }
    }
    out
}

/// A watch error in words, with the server's own when it gave some.
fn describe(e: &watcher::Error) -> String {
    match e {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => crate::resources::kube_message(e),
        other => other.to_string(),
    }
}

/// True when the error says the server could not be reached or went away, not that it refused.
fn is_connection(e: &watcher::Error) -> bool {
    match e {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => !matches!(e, kube::Error::Api(_)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn listing(objects: &[(&str, &str, &str)]) -> HashMap<String, HashMap<String, Arc<Value>>> {
        let mut out: HashMap<String, HashMap<String, Arc<Value>>> = HashMap::new();
        for (ns, name, version) in objects {
            out.entry(ns.to_string()).or_default().insert(
                name.to_string(),
                Arc::new(json!({"metadata": {"name": name, "namespace": ns, "resourceVersion": version}})),
            );
        }
        out
    }

    #[test]
    fn a_listing_again_tells_what_was_added_changed_and_removed_meanwhile() {
        let old = listing(&[
            ("a", "kept", "1"),
            ("a", "changed", "2"),
            ("b", "gone", "3"),
        ]);
        let new = listing(&[("a", "kept", "1"), ("a", "changed", "7"), ("c", "new", "8")]);
        let mut told: Vec<(String, String, String)> = differences(&old, &new)
            .into_iter()
            .map(|(ns, name, o)| {
                let version = o["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap()
                    .to_string();
                (ns.to_string(), name.to_string(), version)
            })
            .collect();
        told.sort();
        assert_eq!(
            told,
            [
                ("a".into(), "changed".into(), "7".into()),
                ("b".into(), "gone".into(), "3".into()),
                ("c".into(), "new".into(), "8".into()),
            ]
        );
    }
}
