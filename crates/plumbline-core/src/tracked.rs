//! Every object on a context that carries an application's tracking id, whatever its kind or
//! namespace: what a comparison must also look at to find the leftovers of resources that
//! left Git (the last ConfigMap of an app, everything in a namespace it no longer uses). Argo
//! CD finds them in its cluster cache; here one sweep lists the metadata of every kind the
//! context serves, keeps only which (kind, namespace) each app has objects in, and is kept
//! for a while per context.

use crate::clusters::bounded;
use crate::resources::{Resolved, TRACKING_ANNOTATION, kube_message};
use kube::api::{Api, DynamicObject, ListParams};
use kube::discovery::ApiResource;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a sweep stands for the comparisons that follow it. Plans and syncs sweep afresh,
/// and a sync forgets the sweep of its context.
const SWEEP_KEPT: Duration = Duration::from_secs(180);

/// Items per page of a metadata list.
const PAGE: u32 = 500;

/// Kinds never looked through, as Argo CD's default resource exclusions leave them out of its
/// cache: high-churn records that GitOps does not apply. (group, kind); `*` is any kind.
const EXCLUDED: &[(&str, &str)] = &[
    ("", "Event"),
    ("events.k8s.io", "Event"),
    ("coordination.k8s.io", "Lease"),
    ("authentication.k8s.io", "*"),
    ("authorization.k8s.io", "*"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
    ("metrics.k8s.io", "*"),
];

/// A kind and the namespace to list it in ("" for cluster-scoped kinds, or all namespaces).
pub type Scope = (Resolved, String);

/// Where an application has tracked objects on one context, and what could not be searched.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub scopes: Vec<Scope>,
    /// Said in words: kinds the credentials may not list, discovery that failed.
    pub notes: Vec<String>,
}

/// Sweeps of each context, shared by every application on it.
#[derive(Default)]
pub struct Tracked {
    sweeps: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Slot>>>>,
}

/// A context's last sweep, or why the last attempt failed (and when).
#[derive(Default)]
struct Slot {
    sweep: Option<Sweep>,
    failed: Option<(Instant, String)>,
}

/// Why the leftovers could not be looked for.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The cluster refused or did not answer, just now.
    #[error("{}", kube_message(.0))]
    Failed(kube::Error),
    /// A sweep a moment ago failed so: other apps of the context do not wait for it again.
    #[error("{0}")]
    Recently(String),
}

/// How long a failed sweep stands for the apps that come after it.
const FAILURE_KEPT: Duration = Duration::from_secs(10);

/// One sweep of one context.
struct Sweep {
    at: Instant,
    /// Per app, the scopes it has tracked objects in.
    by_app: HashMap<String, BTreeSet<ScopeKey>>,
    kinds: HashMap<String, Resolved>,
    /// Namespaced kinds the credentials may not list across namespaces, looked through per
    /// namespace instead (`by_namespace` keeps what was found there).
    refused: Vec<Resolved>,
    by_namespace: HashMap<String, HashMap<String, BTreeSet<ScopeKey>>>,
    notes: Vec<String>,
}

/// (kind id, namespace): a scope without its API details.
type ScopeKey = (String, String);

fn kind_id(resolved: &Resolved) -> String {
    format!("{}/{}", resolved.api.api_version, resolved.api.kind)
}

/// Whether a sweep kept from earlier will do, or a new one must be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// One made within the last few minutes (a refresh of the page).
    Recent,
    /// One made now (a plan or a sync, which must not miss a leftover).
    Now,
}

impl Tracked {
    /// Where `app` has tracked objects on `context`: across all namespaces where the
    /// credentials allow it, else in each of `namespaces`.
    pub async fn find(
        &self,
        client: &kube::Client,
        context: &str,
        app: &str,
        namespaces: &BTreeSet<String>,
        freshness: Freshness,
    ) -> Result<Found, SweepError> {
        let slot = self
            .sweeps
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(context.to_string())
            .or_default()
            .clone();
        // One sweep at a time per context: apps refreshing together share it.
        let mut guard = slot.lock().await;
        if let Some((at, message)) = &guard.failed
            && at.elapsed() < FAILURE_KEPT
        {
            return Err(SweepError::Recently(message.clone()));
        }
        let stale = guard
            .sweep
            .as_ref()
            .is_none_or(|s| freshness == Freshness::Now || s.at.elapsed() > SWEEP_KEPT);
        if stale {
            match sweep(client).await {
                Ok(swept) => {
                    guard.sweep = Some(swept);
                    guard.failed = None;
                }
                Err(e) => {
                    guard.failed = Some((Instant::now(), kube_message(&e)));
                    return Err(SweepError::Failed(e));
                }
            }
        }
        let sweep = guard
            .sweep
            .as_mut()
            .unwrap_or_else(|| unreachable!("swept above"));
        let mut keys: BTreeSet<ScopeKey> = sweep.by_app.get(app).cloned().unwrap_or_default();
        let mut notes = sweep.notes.clone();
        if !sweep.refused.is_empty() {
            for namespace in namespaces.iter().filter(|n| !n.is_empty()) {
                if !sweep.by_namespace.contains_key(namespace) {
                    let (found, refused) = look_in(client, &sweep.refused, namespace).await;
                    if !refused.is_empty() {
                        notes.push(format!(
                            "leftovers could not be looked for among {} in namespace {namespace:?}: the credentials may not list them",
                            refused.join(", ")
                        ));
                    }
                    sweep.by_namespace.insert(namespace.clone(), found);
                }
                keys.extend(
                    sweep.by_namespace[namespace]
                        .get(app)
                        .into_iter()
                        .flatten()
                        .cloned(),
                );
            }
        }
        let scopes = keys
            .into_iter()
            .filter_map(|(kind, namespace)| Some((sweep.kinds.get(&kind)?.clone(), namespace)))
            .collect();
        Ok(Found { scopes, notes })
    }

    /// Drops the sweep of `context` (after a sync changed what is there).
    pub fn forget(&self, context: &str) {
        self.sweeps
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(context);
    }
}

/// Lists the metadata of every kind the cluster serves and keeps where each app's tracked
/// objects are.
async fn sweep(client: &kube::Client) -> Result<Sweep, kube::Error> {
    let (kinds, mut notes) = listable_kinds(client).await?;
    let listed = bounded(
        kinds
            .iter()
            .map(|resolved| async move {
                let api: Api<DynamicObject> = Api::all_with(client.clone(), &resolved.api);
                (resolved, tracked_in(&api, resolved).await)
            })
            .collect(),
    )
    .await;
    let mut by_app: HashMap<String, BTreeSet<ScopeKey>> = HashMap::new();
    let mut refused = Vec::new();
    let mut unlisted = Vec::new();
    for (resolved, outcome) in listed {
        match outcome {
            Ok(found) => {
                for (app, keys) in found {
                    by_app.entry(app).or_default().extend(keys);
                }
            }
            Err(kube::Error::Api(status)) if status.code == 403 && resolved.namespaced => {
                refused.push(resolved.clone());
            }
            Err(e) => unlisted.push(format!("{} ({})", resolved.api.plural, kube_message(&e))),
        }
    }
    if !unlisted.is_empty() {
        unlisted.sort();
        notes.push(format!(
            "leftovers could not be looked for among {}",
            unlisted.join(", ")
        ));
    }
    Ok(Sweep {
        at: Instant::now(),
        by_app,
        kinds: kinds
            .into_iter()
            .map(|resolved| (kind_id(&resolved), resolved))
            .collect(),
        refused,
        by_namespace: HashMap::new(),
        notes,
    })
}

/// In `namespace`, where each app has tracked objects of `kinds`; also the kinds refused.
async fn look_in(
    client: &kube::Client,
    kinds: &[Resolved],
    namespace: &str,
) -> (HashMap<String, BTreeSet<ScopeKey>>, Vec<String>) {
    let listed = bounded(
        kinds
            .iter()
            .map(|resolved| async move {
                let api: Api<DynamicObject> =
                    Api::namespaced_with(client.clone(), namespace, &resolved.api);
                (resolved, tracked_in(&api, resolved).await)
            })
            .collect(),
    )
    .await;
    let mut found: HashMap<String, BTreeSet<ScopeKey>> = HashMap::new();
    let mut refused = Vec::new();
    for (resolved, outcome) in listed {
        match outcome {
            Ok(apps) => {
                for (app, keys) in apps {
                    found.entry(app).or_default().extend(keys);
                }
            }
            Err(_) => refused.push(resolved.api.plural.clone()),
        }
    }
    refused.sort();
    (found, refused)
}

/// Pages through the metadata of `api`'s objects; per app, the scopes of the objects whose
/// tracking id names the object itself (a copy a controller made of its owner's annotations
/// names the owner, and does not count).
async fn tracked_in(
    api: &Api<DynamicObject>,
    resolved: &Resolved,
) -> Result<HashMap<String, BTreeSet<ScopeKey>>, kube::Error> {
    let mut found: HashMap<String, BTreeSet<ScopeKey>> = HashMap::new();
    let mut params = ListParams::default().limit(PAGE);
    loop {
        let page = api.list_metadata(&params).await?;
        for item in &page.items {
            let Some(id) = item
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(TRACKING_ANNOTATION))
            else {
                continue;
            };
            let key = crate::resources::ResourceKey {
                group: resolved.api.group.clone(),
                kind: resolved.api.kind.clone(),
                namespace: item.metadata.namespace.clone().unwrap_or_default(),
                name: item.metadata.name.clone().unwrap_or_default(),
            };
            if let Some((app, _)) = id.split_once(':')
                && *id == key.tracking_id(app)
            {
                found
                    .entry(app.to_string())
                    .or_default()
                    .insert((kind_id(resolved), key.namespace));
            }
        }
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(next) => params = params.continue_token(&next),
            None => return Ok(found),
        }
    }
}

/// Every kind the cluster serves that can be listed (each group at its preferred version), and
/// what discovery could not say.
async fn listable_kinds(
    client: &kube::Client,
) -> Result<(Vec<Resolved>, Vec<String>), kube::Error> {
    let mut versions = vec![("".to_string(), "v1".to_string())];
    for group in client.list_api_groups().await?.groups {
        if let Some(preferred) = group
            .preferred_version
            .or_else(|| group.versions.first().cloned())
        {
            versions.push((group.name, preferred.version));
        }
    }
    let listed = bounded(
        versions
            .into_iter()
            .map(|(group, version)| async move {
                let resources = if group.is_empty() {
                    client.list_core_api_resources(&version).await
                } else {
                    client
                        .list_api_group_resources(&format!("{group}/{version}"))
                        .await
                };
                (group, version, resources)
            })
            .collect(),
    )
    .await;
    let mut kinds = Vec::new();
    let mut failed = Vec::new();
    for (group, version, resources) in listed {
        let resources = match resources {
            Ok(r) => r,
            Err(e) => {
                failed.push(format!("{group}/{version} ({})", kube_message(&e)));
                continue;
            }
        };
        for r in resources.resources {
            let excluded = EXCLUDED
                .iter()
                .any(|(g, k)| *g == group && (*k == "*" || *k == r.kind));
            if r.name.contains('/') || !r.verbs.iter().any(|v| v == "list") || excluded {
                continue;
            }
            let api_version = if group.is_empty() {
                version.clone()
            } else {
                format!("{group}/{version}")
            };
            kinds.push(Resolved {
                api: ApiResource {
                    group: group.clone(),
                    version: version.clone(),
                    api_version,
                    kind: r.kind,
                    plural: r.name,
                },
                namespaced: r.namespaced,
            });
        }
    }
    let mut notes = Vec::new();
    if !failed.is_empty() {
        failed.sort();
        notes.push(format!(
            "leftovers could not be looked for in the API groups the cluster did not describe: {}",
            failed.join(", ")
        ));
    }
    Ok((kinds, notes))
}
