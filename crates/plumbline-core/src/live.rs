//! Live changes: reflectors on the kinds and namespaces of an application (its own resources
//! and what the cluster makes from them). They say, within a fraction of a second, that
//! something changed, and they keep the objects, so that the refresh that follows reads them
//! from memory instead of listing the cluster again. Nothing polls.

use crate::reconcile::{Comparison, api_for};
use crate::resources::Resolved;
use futures::{FutureExt, StreamExt};
use kube::api::DynamicObject;
use kube::runtime::{WatchStreamExt, reflector, watcher};
use serde_json::Value;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

/// Changes closer together than this are reported once.
const QUIET: Duration = Duration::from_millis(150);

/// A running watch; dropping it stops every watcher and forgets what they kept.
pub struct Watch {
    objects: Arc<LiveObjects>,
    task: tokio::task::JoinHandle<()>,
}

impl Watch {
    /// Resolves once every watcher has listed what is there (and so keeps it).
    pub async fn ready(&self) {
        for scope in &self.objects.scopes {
            // An error means the watch task is gone: there is nothing more to wait for.
            let _ = scope.store.wait_until_ready().await;
        }
    }

    /// What the watch keeps, for as long as it runs.
    pub fn objects(&self) -> std::sync::Weak<LiveObjects> {
        Arc::downgrade(&self.objects)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The objects a watch keeps, one reflector store per (kind, namespace).
pub struct LiveObjects {
    scopes: Vec<Scope>,
}

struct Scope {
    resolved: Resolved,
    namespace: String,
    store: reflector::Store<DynamicObject>,
}

impl LiveObjects {
    /// The objects of `resolved` in `namespace` (empty for cluster-scoped kinds), as a list
    /// would return them with their apiVersion and kind; `None` when no watch keeps that scope
    /// or it has not finished its first listing.
    pub fn objects(&self, resolved: &Resolved, namespace: &str) -> Option<Vec<Value>> {
        let scope = self.scopes.iter().find(|s| {
            s.namespace == namespace
                && s.resolved.api.api_version == resolved.api.api_version
                && s.resolved.api.kind == resolved.api.kind
        })?;
        scope.store.wait_until_ready().now_or_never()?.ok()?;
        Some(
            scope
                .store
                .state()
                .iter()
                .map(|object| as_listed(&resolved.api, object))
                .collect(),
        )
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

/// The (kind, namespace) scopes to watch for `comparison`: each resource's own, and the kinds
/// the cluster creates for it (ReplicaSets, Pods, Jobs, Endpoints, claims) in its namespaces.
fn scopes(comparison: &Comparison) -> Vec<(Resolved, String)> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut add = |resolved: Resolved, namespace: String| {
        let id = (
            resolved.api.api_version.clone(),
            resolved.api.kind.clone(),
            namespace.clone(),
        );
        if seen.insert(id) {
            out.push((resolved, namespace));
        }
    };
    for r in comparison.resources.iter().filter(|r| r.served) {
        add(r.resolved.clone(), r.key.namespace.clone());
        if !r.key.namespace.is_empty() {
            for child in crate::tree::child_kinds() {
                add(
                    Resolved {
                        api: child,
                        namespaced: true,
                    },
                    r.key.namespace.clone(),
                );
            }
        }
    }
    out
}

/// Watches what `comparison` shows, keeps it, and calls `on_change` after each burst of
/// changes.
pub fn watch(
    client: &kube::Client,
    comparison: &Comparison,
    on_change: impl Fn() + Send + Sync + 'static,
) -> Watch {
    let mut streams = Vec::new();
    let mut kept = Vec::new();
    for (resolved, namespace) in scopes(comparison) {
        let api = api_for(client, &resolved, &namespace);
        let writer = reflector::store::Writer::new(resolved.api.clone());
        kept.push(Scope {
            store: writer.as_reader(),
            resolved,
            namespace,
        });
        // A watch the server refuses (no right to watch Pods there, say) is retried with a
        // growing pause rather than at once, again and again.
        let events = watcher(api, watcher::Config::default()).default_backoff();
        streams.push(reflector(writer, events).boxed());
    }
    let task = tokio::spawn(async move {
        let mut events = futures::stream::select_all(streams);
        while let Some(event) = events.next().await {
            // Each watcher first lists what is there (Init … InitDone): not a change. Apply and
            // Delete come only after that.
            let changed = match event {
                Ok(watcher::Event::Apply(_) | watcher::Event::Delete(_)) => true,
                Ok(
                    watcher::Event::Init | watcher::Event::InitApply(_) | watcher::Event::InitDone,
                ) => false,
                // The watcher retries by itself; a failed watch says nothing about the objects.
                Err(e) => {
                    tracing::debug!(error = %e, "a watch failed; it is retried");
                    false
                }
            };
            if changed {
                // Let a burst (a rollout touches many objects) settle into one notice; the
                // stores take in every event meanwhile.
                let _ =
                    tokio::time::timeout(QUIET, async { while events.next().await.is_some() {} })
                        .await;
                on_change();
            }
        }
    });
    Watch {
        objects: Arc::new(LiveObjects { scopes: kept }),
        task,
    }
}
