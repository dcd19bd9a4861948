//! Live changes: watches on the kinds and namespaces of an application (its own resources and
//! what the cluster makes from them) that say, within a fraction of a second, that something
//! changed. The UI then refreshes what it shows; nothing polls.

use crate::reconcile::{Comparison, api_for};
use crate::resources::Resolved;
use futures::StreamExt;
use kube::runtime::watcher;
use std::collections::HashSet;
use std::time::Duration;

/// Changes closer together than this are reported once.
const QUIET: Duration = Duration::from_millis(150);

/// A running watch; dropping it stops every watcher.
pub struct Watch {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.task.abort();
    }
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

/// Watches what `comparison` shows and calls `on_change` after each burst of changes.
pub fn watch(
    client: &kube::Client,
    comparison: &Comparison,
    on_change: impl Fn() + Send + Sync + 'static,
) -> Watch {
    let streams: Vec<_> = scopes(comparison)
        .into_iter()
        .map(|(resolved, namespace)| {
            let api = api_for(client, &resolved, &namespace);
            watcher(api, watcher::Config::default()).boxed()
        })
        .collect();
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
                // Let a burst (a rollout touches many objects) settle into one notice.
                let _ =
                    tokio::time::timeout(QUIET, async { while events.next().await.is_some() {} })
                        .await;
                on_change();
            }
        }
    });
    Watch { task }
}
