//! What the engine knows of every application's status, and who listens: the last summary of
//! each app, which apps each cluster object belongs to, which contexts are stale, the recent
//! activity, and the broadcast of every [`Event`]. Every comparison the engine makes, whoever
//! asked for it, updates the status kept here, and every change goes out to every subscriber.
//! What keeps the statuses current (watches, probes, fetches) is [`crate::watching`].

use crate::apps::Application;
use crate::cache::ClusterCache;
use crate::comparison::{Comparison, SyncStatus};
use crate::events::{self, Activity, ActivityKind, AppSummary, Event, Stale};
use crate::resources::ResourceKey;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// How many activities are kept for the activity list.
const RECENT: usize = 200;

/// What the engine knows of every application's status, and who listens.
pub(crate) struct Statuses {
    events: broadcast::Sender<Event>,
    known: Mutex<HashMap<String, AppSummary>>,
    recent: Mutex<VecDeque<Activity>>,
    next_activity: AtomicU64,
    /// Each watched context's cache (kept by [`crate::watching`]).
    caches: Mutex<HashMap<String, Arc<ClusterCache>>>,
    /// Contexts that do not answer, and since when.
    stale: Mutex<HashMap<String, Stale>>,
    index: Mutex<Index>,
}

/// Which applications an object belongs to.
#[derive(Default)]
struct Index {
    /// (context, resource) → the applications that desire it or track it.
    keys: HashMap<(String, ResourceKey), BTreeSet<String>>,
    /// (context, namespace) → the applications with resources there (what the cluster makes
    /// there may be theirs).
    namespaces: HashMap<(String, String), BTreeSet<String>>,
    /// What was indexed of each application, to take it out again.
    of_app: HashMap<String, (String, Vec<ResourceKey>, BTreeSet<String>)>,
}

impl Index {
    fn forget(&mut self, app: &str) {
        let Some((context, keys, namespaces)) = self.of_app.remove(app) else {
            return;
        };
        for key in keys {
            let id = (context.clone(), key);
            if let Some(apps) = self.keys.get_mut(&id) {
                apps.remove(app);
                if apps.is_empty() {
                    self.keys.remove(&id);
                }
            }
        }
        for namespace in namespaces {
            let id = (context.clone(), namespace);
            if let Some(apps) = self.namespaces.get_mut(&id) {
                apps.remove(app);
                if apps.is_empty() {
                    self.namespaces.remove(&id);
                }
            }
        }
    }

    fn add(&mut self, comparison: &Comparison) {
        let app = &comparison.app.name;
        let context = &comparison.app.destination.context;
        self.forget(app);
        let keys: Vec<ResourceKey> = comparison
            .resources
            .iter()
            .chain(&comparison.hooks)
            .map(|r| r.key.clone())
            .collect();
        let mut namespaces: BTreeSet<String> = keys.iter().map(|k| k.namespace.clone()).collect();
        namespaces.insert(comparison.app.destination.namespace.clone());
        for key in &keys {
            self.keys
                .entry((context.clone(), key.clone()))
                .or_default()
                .insert(app.clone());
        }
        for namespace in &namespaces {
            self.namespaces
                .entry((context.clone(), namespace.clone()))
                .or_default()
                .insert(app.clone());
        }
        self.of_app
            .insert(app.clone(), (context.clone(), keys, namespaces));
    }

    /// The applications whose status a change of `key` may change, and those whose tree it
    /// may change (a superset).
    fn touched(&self, context: &str, key: &ResourceKey) -> (BTreeSet<String>, BTreeSet<String>) {
        let own = self
            .keys
            .get(&(context.to_string(), key.clone()))
            .cloned()
            .unwrap_or_default();
        let mut near = self
            .namespaces
            .get(&(context.to_string(), key.namespace.clone()))
            .cloned()
            .unwrap_or_default();
        near.extend(own.iter().cloned());
        (own, near)
    }
}

impl Statuses {
    pub(crate) fn new() -> Self {
        Self {
            events: broadcast::channel(4096).0,
            known: Mutex::default(),
            recent: Mutex::default(),
            next_activity: AtomicU64::new(1),
            caches: Mutex::default(),
            stale: Mutex::default(),
            index: Mutex::default(),
        }
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    pub(crate) fn send(&self, event: Event) {
        // No subscriber is not an error: nobody is listening yet.
        let _ = self.events.send(event);
    }

    /// Every application's last known status, by name.
    pub(crate) fn summaries(&self) -> Vec<AppSummary> {
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<AppSummary> = known.values().cloned().collect();
        out.sort_by(|a, b| a.app.name.cmp(&b.app.name));
        out
    }

    /// Which applications a change to `key` on `context` concerns: those that desire or track
    /// it, and those with resources in its namespace (what the cluster made there may be theirs).
    pub(crate) fn touched(
        &self,
        context: &str,
        key: &ResourceKey,
    ) -> (BTreeSet<String>, BTreeSet<String>) {
        self.index
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .touched(context, key)
    }

    /// Reads of `context` come from `cache` from now on.
    pub(crate) fn set_cache(&self, context: &str, cache: Arc<ClusterCache>) {
        self.caches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(context.to_string(), cache);
    }

    /// Drops the caches of the contexts `keep` says no.
    pub(crate) fn keep_caches(&self, keep: impl Fn(&str) -> bool) {
        self.caches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|context, _| keep(context));
    }

    /// The last status told of `app`.
    pub(crate) fn summary(&self, app: &str) -> Option<AppSummary> {
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        known.get(app).cloned()
    }

    /// The recent activity, newest first.
    pub(crate) fn recent(&self) -> Vec<Activity> {
        let recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        recent.iter().rev().cloned().collect()
    }

    /// Why `context`'s statuses are not current, while it does not answer.
    pub(crate) fn stale(&self, context: &str) -> Option<Stale> {
        let stale = self.stale.lock().unwrap_or_else(|p| p.into_inner());
        stale.get(context).cloned()
    }

    /// The cache of `context`, while the engine watches it.
    pub(crate) fn cache(&self, context: &str) -> Option<Arc<ClusterCache>> {
        let caches = self.caches.lock().unwrap_or_else(|p| p.into_inner());
        caches.get(context).cloned()
    }

    pub(crate) fn activity(
        &self,
        kind: ActivityKind,
        app: Option<&str>,
        context: &str,
        message: String,
    ) {
        let activity = Activity {
            id: self.next_activity.fetch_add(1, Ordering::Relaxed),
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            kind,
            app: app.map(str::to_string),
            context: context.to_string(),
            message,
        };
        tracing::info!(kind = ?activity.kind, app = activity.app, "{}", activity.message);
        {
            let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
            if recent.len() == RECENT {
                recent.pop_front();
            }
            recent.push_back(activity.clone());
        }
        self.send(Event::Activity { activity });
    }

    /// Takes in what a comparison found (`comparison` when it could compare): the status kept
    /// changes, listeners hear of it and of any transition. While the app's context does not
    /// answer, a failed comparison changes nothing: the last known status stands, stale.
    pub(crate) fn observe(&self, summary: AppSummary, comparison: Option<&Comparison>) {
        if comparison.is_none() && self.stale(&summary.app.destination.context).is_some() {
            return;
        }
        if let Some(comparison) = comparison {
            self.index
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .add(comparison);
        }
        self.put(summary);
    }

    /// Keeps `summary`, telling its listeners when it changed and of any transition.
    fn put(&self, summary: AppSummary) {
        let before = self
            .known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(summary.app.name.clone(), summary.clone());
        if before.as_ref() == Some(&summary) {
            return;
        }
        self.send(Event::Status {
            status: Box::new(summary.clone()),
        });
        if let Some(before) = before {
            for (kind, message) in events::transitions(&before, &summary) {
                self.activity(
                    kind,
                    Some(&summary.app.name),
                    &summary.app.destination.context,
                    message,
                );
            }
        }
    }

    /// Marks every application of `context` stale (the context does not answer), or current
    /// again (`stale` none; their next comparison says the rest).
    pub(crate) fn set_stale(&self, context: &str, stale: Option<Stale>, apps: &[Application]) {
        {
            let mut contexts = self.stale.lock().unwrap_or_else(|p| p.into_inner());
            match &stale {
                Some(s) => contexts.insert(context.to_string(), s.clone()),
                None => contexts.remove(context),
            };
        }
        let Some(stale) = stale else {
            return;
        };
        for app in apps.iter().filter(|a| a.destination.context == context) {
            let known = self
                .known
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&app.name)
                .cloned();
            let summary = match known {
                Some(known) => AppSummary {
                    stale: Some(stale.clone()),
                    ..known
                },
                // Never compared: nothing is known but that its cluster does not answer.
                None => AppSummary {
                    app: app.clone(),
                    sync: SyncStatus::Unknown,
                    health: None,
                    commit: None,
                    error: None,
                    last_operation: None,
                    stale: Some(stale.clone()),
                    out_of_sync: 0,
                    resources: 0,
                },
            };
            self.put(summary);
        }
    }

    /// Nobody watches any more: no cache, and nothing is stale for want of a probe.
    pub(crate) fn stopped(&self) {
        self.caches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.stale.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    pub(crate) fn forget(&self, app: &str) {
        self.known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(app);
        self.index
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .forget(app);
        self.send(Event::Removed {
            app: app.to_string(),
        });
    }
}

/// A task that stops when its handle is dropped.
pub(crate) struct Task(pub(crate) tokio::task::JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Calls a listener on some of the engine's events until dropped.
pub struct Subscription {
    _task: Task,
}

impl Subscription {
    /// Calls `on_event` with each event `filter` lets through, on a task of its own.
    pub(crate) fn new(
        mut events: broadcast::Receiver<Event>,
        filter: impl Fn(&Event) -> bool + Send + 'static,
        on_event: impl Fn(Event) + Send + 'static,
    ) -> Self {
        let task = tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(event) if filter(&event) => on_event(event),
                    Ok(_) => {}
                    // Too slow to keep up: what was missed is a change anyway.
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::debug!(missed = n, "a subscriber fell behind");
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        Self { _task: Task(task) }
    }
}
