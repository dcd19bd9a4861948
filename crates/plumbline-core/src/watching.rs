//! Keeping watch, as Argo CD's application controller does, while the returned [`Watching`]
//! lives:
//! - each context with applications gets a cluster cache ([`crate::cache`]); a change there
//!   marks the applications it touches, and only those are compared again, a burst at a time;
//! - each context with applications is probed every few seconds: one that stops answering is
//!   marked unreachable within seconds, its applications keep their last known status, marked
//!   stale, and nothing of it is compared until it answers again (with fresh watches);
//! - each repository is fetched on an interval, jittered, and every application is compared
//!   again each interval besides (a local repository has no fetch to say it moved);
//! - automated sync acts on what the comparisons find (unless the watcher only observes, as
//!   `plumbline watch` does by default: the window is the one that acts).
//!
//! The comparisons land in [`crate::statuses`], which tells every subscriber. This layer sits
//! above the engine: it adds [`Engine::keep_watching`] to it.

use crate::apps::Application;
use crate::cache::{ClusterCache, Notice};
use crate::clusters::ContextState;
use crate::comparison::SyncStatus;
use crate::engine::{AppStatus, Engine};
use crate::events::{self, ActivityKind, Event, Stale};
use crate::resources::ResourceKey;
use crate::statuses::Task;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

impl Engine {
    /// Keeps every application's status current from now on, as long as the returned handle
    /// lives: watches the clusters of the applications, probes them, fetches their
    /// repositories, runs automated sync, and tells [`Engine::subscribe`]rs.
    pub fn keep_watching(self: &Arc<Self>) -> Watching {
        start(self.clone(), Automation::Run)
    }

    /// Keeps watching as [`Engine::keep_watching`] does, except that automated sync is left to
    /// whoever else watches (the window): `plumbline watch` only tells.
    pub fn keep_watching_without_acting(self: &Arc<Self>) -> Watching {
        start(self.clone(), Automation::Hold)
    }
}

/// How often a context with applications is asked whether it still answers.
pub const PROBE_EVERY: Duration = Duration::from_secs(3);

/// How long that question may take before the context counts as unreachable.
pub const PROBE_WITHIN: Duration = Duration::from_secs(5);

/// Changes this close together are taken in as one burst.
const COALESCE: Duration = Duration::from_millis(200);

/// How many applications of one context are compared at once.
const COMPARING: usize = 4;

/// How often the application store is looked at for applications added, changed or removed
/// (by this process or another).
const STORE_EVERY: Duration = Duration::from_secs(2);

/// A fetch that takes longer is stopped (and reported), so that it cannot hold the next.
const FETCH_LIMIT: Duration = Duration::from_secs(300);

/// Keeps watching while it lives; dropping it stops every watch, probe and fetch, and
/// comparisons list the cluster again.
pub struct Watching {
    task: tokio::task::JoinHandle<()>,
    engine: std::sync::Weak<Engine>,
}

impl Drop for Watching {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(engine) = self.engine.upgrade() {
            engine.statuses().stopped();
        }
    }
}

/// Whether the watcher runs the automated syncs its comparisons call for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Automation {
    Run,
    /// Only observe: automated apps are compared and told, never synced.
    Hold,
}

/// Starts keeping watch for `engine`.
fn start(engine: Arc<Engine>, automation: Automation) -> Watching {
    Watching {
        engine: Arc::downgrade(&engine),
        task: tokio::spawn(supervise(engine, automation)),
    }
}

/// What a context's loop is asked to do.
enum Ask {
    /// Compare these applications again.
    Compare(BTreeSet<String>),
    /// Something changed in the cluster.
    Notice(Notice),
}

/// Runs one loop per context with applications and one fetch loop per repository they use,
/// and keeps both sets in step with the application store.
async fn supervise(engine: Arc<Engine>, automation: Automation) {
    let mut contexts: HashMap<String, (mpsc::UnboundedSender<Ask>, Task)> = HashMap::new();
    let mut fetches: HashMap<String, Task> = HashMap::new();
    let mut seen: BTreeMap<String, Application> = BTreeMap::new();
    let (fetched_tx, mut fetched) = mpsc::unbounded_channel::<String>();
    let mut store = tokio::time::interval(STORE_EVERY);
    let mut interval =
        engine
            .settings()
            .map(|s| s.fetch_interval())
            .unwrap_or(Duration::from_secs(
                crate::settings::DEFAULT_FETCH_INTERVAL.into(),
            ));
    let mut resync = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    loop {
        // Which apps to compare again, by context.
        let mut due: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        tokio::select! {
            _ = store.tick() => {
                let apps: BTreeMap<String, Application> = match engine.apps().list() {
                    Ok(apps) => apps.into_iter().map(|a| (a.name.clone(), a)).collect(),
                    Err(e) => {
                        tracing::warn!("the application store could not be read: {e}");
                        continue;
                    }
                };
                for name in seen.keys().filter(|n| !apps.contains_key(*n)) {
                    engine.statuses().forget(name);
                }
                for (name, app) in &apps {
                    if seen.get(name) != Some(app) {
                        due.entry(app.destination.context.clone()).or_default().insert(name.clone());
                    }
                }
                seen = apps;
                let wanted: BTreeSet<&String> = seen.values().map(|a| &a.destination.context).collect();
                contexts.retain(|context, _| wanted.contains(context));
                engine
                    .statuses()
                    .keep_caches(|context| wanted.iter().any(|w| w.as_str() == context));
                let repos: BTreeSet<&String> = seen
                    .values()
                    .map(|a| &a.repo)
                    .filter(|url| engine.repositories().get(url).is_ok())
                    .collect();
                fetches.retain(|url, _| repos.contains(url));
                let now = engine.settings().map(|s| s.fetch_interval()).unwrap_or(interval);
                if now != interval {
                    interval = now;
                    resync = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
                    fetches.clear();
                }
                for url in repos {
                    if !fetches.contains_key(url) {
                        let task = tokio::spawn(fetch_loop(engine.clone(), url.clone(), interval, fetched_tx.clone()));
                        fetches.insert(url.clone(), Task(task));
                    }
                }
            }
            _ = resync.tick() => {
                for app in seen.values() {
                    due.entry(app.destination.context.clone()).or_default().insert(app.name.clone());
                }
            }
            Some(url) = fetched.recv() => {
                for app in seen.values().filter(|a| a.repo == url) {
                    due.entry(app.destination.context.clone()).or_default().insert(app.name.clone());
                }
            }
        }
        for (context, apps) in due {
            let (ask, _) = contexts.entry(context.clone()).or_insert_with(|| {
                let (tx, rx) = mpsc::unbounded_channel();
                let task = tokio::spawn(context_loop(
                    engine.clone(),
                    context.clone(),
                    tx.clone(),
                    rx,
                    automation,
                ));
                (tx, Task(task))
            });
            let _ = ask.send(Ask::Compare(apps));
        }
    }
}

/// Fetches `url` every `interval` (the first time after a short random pause, and each time
/// within a tenth of the interval either way, so that repositories do not fetch together),
/// and says when a fetch brought something.
async fn fetch_loop(
    engine: Arc<Engine>,
    url: String,
    interval: Duration,
    fetched: mpsc::UnboundedSender<String>,
) {
    let mut failing = false;
    let mut pause = jitter(&url, Duration::ZERO, Duration::from_secs(10));
    loop {
        tokio::time::sleep(pause).await;
        pause = jitter(&url, interval.mul_f64(0.9), interval.mul_f64(1.1));
        let cancel = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop = cancel.clone();
        let limit = tokio::spawn(async move {
            tokio::time::sleep(FETCH_LIMIT).await;
            stop.store(true, Ordering::Relaxed);
        });
        let result = engine.repositories().fetch(&url, |_| {}, cancel).await;
        limit.abort();
        match result {
            Ok(_) => {
                if failing {
                    tracing::info!(url, "fetched again");
                }
                failing = false;
                let _ = fetched.send(url.clone());
            }
            Err(e) => {
                if !failing {
                    engine.statuses().activity(
                        ActivityKind::FetchFailed,
                        None,
                        "",
                        format!("{url} could not be fetched: {e}"),
                    );
                }
                failing = true;
            }
        }
    }
}

/// A pause between `low` and `high`, different for each repository and each time.
fn jitter(seed: &str, low: Duration, high: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write(seed.as_bytes());
    let fraction = (hasher.finish() % 10_000) as f64 / 10_000.0;
    low + (high.saturating_sub(low)).mul_f64(fraction)
}

/// One context: probes it, keeps its cache, compares its applications when asked (a burst at
/// a time) and when its cluster changes under them, and runs their automated syncs.
async fn context_loop(
    engine: Arc<Engine>,
    context: String,
    me: mpsc::UnboundedSender<Ask>,
    mut asks: mpsc::UnboundedReceiver<Ask>,
    automation: Automation,
) {
    let statuses = engine.statuses();
    // Apps to compare whole (a new commit, the interval, a fresh watch)...
    let mut pending: BTreeSet<String> = BTreeSet::new();
    // ...and apps of which only some objects changed in the cluster.
    let mut changed: BTreeMap<String, BTreeSet<ResourceKey>> = BTreeMap::new();
    // Comparisons run as tasks of this loop (a few at a time), so that one that waits — on a
    // repository that does not answer, say — holds up no other; an app is never compared
    // twice at once (asked again meanwhile, it is compared again after).
    let mut comparing: tokio::task::JoinSet<Option<AppStatus>> = tokio::task::JoinSet::new();
    let mut in_flight: HashMap<tokio::task::Id, String> = HashMap::new();
    let mut state = ContextState::NotConnected;
    let mut next_probe = tokio::time::Instant::now();
    let syncing: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    loop {
        if tokio::time::Instant::now() >= next_probe {
            let now = engine.clusters().probe_within(&context, PROBE_WITHIN).await;
            next_probe = tokio::time::Instant::now() + PROBE_EVERY;
            if now != state {
                let apps = engine.apps().list().unwrap_or_default();
                if let Some((kind, message)) = events::context_transition(&context, &state, &now) {
                    statuses.activity(kind, None, &context, message);
                }
                statuses.send(Event::Context {
                    context: context.clone(),
                    state: now.clone(),
                });
                match &now {
                    ContextState::Connected { .. } => {
                        statuses.set_stale(&context, None, &apps);
                        // Fresh watches: the old ones may be waiting out a long backoff.
                        let listener = listener(me.clone());
                        match engine.clusters().watch_client(&context).await {
                            Ok(client) => {
                                let cache = ClusterCache::new(&context, client, listener);
                                statuses.set_cache(&context, Arc::new(cache));
                            }
                            Err(e) => tracing::warn!(context, "no client to watch with: {e}"),
                        }
                        pending.extend(
                            apps.iter()
                                .filter(|a| a.destination.context == context)
                                .map(|a| a.name.clone()),
                        );
                    }
                    other => {
                        let since = match statuses.stale(&context) {
                            Some(s) => s.since,
                            None => chrono::Utc::now()
                                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        };
                        let reason = describe_state(other);
                        statuses.set_stale(&context, Some(Stale { since, reason }), &apps);
                    }
                }
                state = now;
            }
        }
        if matches!(state, ContextState::Connected { .. }) {
            let ready: Vec<String> = pending
                .iter()
                .chain(changed.keys())
                .filter(|name| !in_flight.values().any(|n| n == *name))
                .cloned()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .take(COMPARING.saturating_sub(in_flight.len()))
                .collect();
            for name in ready {
                let whole = pending.remove(&name);
                let keys = changed.remove(&name).unwrap_or_default();
                let engine = engine.clone();
                let task = comparing.spawn({
                    let name = name.clone();
                    async move {
                        let compared = if whole {
                            engine.status(&name).await
                        } else {
                            engine.recompare(&name, &keys).await
                        };
                        compared.ok()
                    }
                });
                in_flight.insert(task.id(), name);
            }
        }
        // Wait for the next ask, a comparison done or the next probe, then take in the rest
        // of the burst.
        let first = tokio::select! {
            ask = asks.recv() => match ask {
                Some(ask) => ask,
                None => return,
            },
            Some(done) = comparing.join_next_with_id() => {
                match done {
                    Ok((id, Some(status))) => {
                        in_flight.remove(&id);
                        if automation == Automation::Run {
                            automate(&engine, &status, &me, &syncing);
                        }
                    }
                    Ok((id, None)) => {
                        in_flight.remove(&id);
                    }
                    Err(e) => {
                        in_flight.remove(&e.id());
                    }
                }
                continue;
            }
            _ = tokio::time::sleep_until(next_probe) => continue,
        };
        let mut burst = vec![first];
        let until = tokio::time::Instant::now() + COALESCE;
        while let Ok(Some(ask)) = tokio::time::timeout_at(until, asks.recv()).await {
            burst.push(ask);
        }
        let mut nearby: BTreeSet<String> = BTreeSet::new();
        for ask in burst {
            match ask {
                Ask::Compare(names) => pending.extend(names),
                Ask::Notice(Notice::Trouble(message)) => {
                    tracing::debug!(context, "a watch lost the server: {message}");
                    next_probe = tokio::time::Instant::now();
                }
                Ask::Notice(Notice::Changed { key, app }) => {
                    let (own, near) = statuses.touched(&context, &key);
                    // An object that says it is an app's but is not among its resources (a
                    // leftover, a new one) is that app's: compared whole.
                    if let Some(app) = app
                        && !own.contains(&app)
                        && engine
                            .apps()
                            .get(&app)
                            .is_ok_and(|a| a.destination.context == context)
                    {
                        pending.insert(app.clone());
                        nearby.insert(app);
                    }
                    for app in own {
                        changed.entry(app).or_default().insert(key.clone());
                    }
                    nearby.extend(near);
                }
            }
        }
        for app in nearby {
            statuses.send(Event::Objects { app });
        }
    }
}

/// The words for a context that cannot be used now.
fn describe_state(state: &ContextState) -> String {
    match state {
        ContextState::Unreachable { message } => format!("the cluster does not answer: {message}"),
        ContextState::Unauthorized { message } => {
            format!("the cluster refused the credentials: {message}")
        }
        ContextState::TlsError { message } => format!("the TLS handshake failed: {message}"),
        ContextState::Invalid { message } => message.clone(),
        ContextState::NotConnected | ContextState::Connected { .. } => String::new(),
    }
}

fn listener(me: mpsc::UnboundedSender<Ask>) -> crate::cache::Listener {
    Arc::new(move |_context: &str, notice: Notice| {
        let _ = me.send(Ask::Notice(notice));
    })
}

/// Starts the automated sync `status` calls for, if it calls for one and none runs.
fn automate(
    engine: &Arc<Engine>,
    status: &AppStatus,
    me: &mpsc::UnboundedSender<Ask>,
    syncing: &Arc<Mutex<BTreeSet<String>>>,
) {
    let name = status.app.name.clone();
    if status.app.sync_policy.automated.is_none() || status.sync != SyncStatus::OutOfSync {
        return;
    }
    if !syncing
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(name.clone())
    {
        return;
    }
    let (engine, me, syncing) = (engine.clone(), me.clone(), syncing.clone());
    tokio::spawn(async move {
        let outcome = engine.auto_sync(&name, &|_| {}).await;
        syncing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&name);
        match outcome {
            Ok(crate::automation::AutoSync::Held { reason }) => {
                tracing::info!(app = name, "automated sync held: {reason}");
                if reason.starts_with("self-heal waits") {
                    tokio::time::sleep(crate::automation::SELF_HEAL_WAIT).await;
                    let _ = me.send(Ask::Compare(BTreeSet::from([name])));
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(app = name, "automated sync failed: {e}"),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_its_bounds_and_differs_between_repositories() {
        let (low, high) = (Duration::from_secs(162), Duration::from_secs(198));
        let pauses: BTreeSet<u128> = (0..50)
            .map(|i| jitter(&format!("https://git.example/{i}.git"), low, high))
            .inspect(|p| assert!(*p >= low && *p <= high, "{p:?}"))
            .map(|p| p.as_millis())
            .collect();
        assert!(pauses.len() > 40, "pauses spread out: {pauses:?}");
    }
}
