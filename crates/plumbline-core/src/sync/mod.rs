//! Sync: runs a [`SyncPlan`] — every step dry-run on the server first (any failure stops the
//! sync before anything changes), then group by group in plan order with server-side apply
//! (field manager `plumbline`), each (phase, wave) group waiting for its resources to be
//! healthy before the next starts, hooks run and deleted by their policies, prunes last.

pub mod plan;

use crate::clusters::bounded;
use crate::comparison::{Compared, Comparison, api_for};
use crate::health::{self, HealthStatus};
pub use crate::order::{HookDeletePolicy, SyncPhase};
use crate::repos::Commit;
use crate::resources::{FIELD_MANAGER, Resolved, ResourceKey, kube_message};
use kube::api::{DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
pub use plan::{PlanStep, SyncAction, SyncOptions, SyncPlan, plan};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use ts_rs::TS;

/// How long a group may take to become healthy (and a hook to finish) before the sync fails.
pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(300);

/// What happened to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub enum ResultStatus {
    Synced,
    SyncFailed,
    Pruned,
    PruneSkipped,
    /// Not attempted, because an earlier step failed (or, for SyncFail hooks, none did).
    Skipped,
}

/// What a sync did to one resource, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ResourceResult {
    pub key: ResourceKey,
    pub status: ResultStatus,
    pub message: String,
    pub phase: SyncPhase,
    /// Small integers in practice; a number in TypeScript.
    #[ts(type = "number")]
    pub wave: i64,
    pub hook: bool,
}

/// How a sync ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub enum OperationPhase {
    /// Still running (a history entry of a sync that has not finished, or never did).
    Running,
    Succeeded,
    Failed,
    /// The process running it stopped (killed, crashed, the machine went down) before it ended;
    /// its results are what it had done by then.
    Interrupted,
}

/// The outcome of one sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SyncResult {
    pub phase: OperationPhase,
    pub commit: Commit,
    pub results: Vec<ResourceResult>,
    pub message: String,
    /// What happened, line by line, with the time since the start.
    pub log: Vec<String>,
    /// The destination namespace, when the sync stopped because it does not exist: a sync
    /// with Create namespace makes it.
    #[serde(default)]
    pub missing_namespace: Option<String>,
}

/// Progress of a running sync, pushed to the UI as it happens.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum SyncEvent {
    /// What the sync will do, before it does anything.
    Planned {
        plan: SyncPlan,
    },
    DryRun {
        key: ResourceKey,
    },
    Applying {
        key: ResourceKey,
    },
    /// A group is applied; the sync waits for these to be healthy (or, for hooks, to finish).
    Waiting {
        keys: Vec<ResourceKey>,
        /// What it waits for, in words, with the names of hooks the server named.
        message: String,
    },
    Done {
        result: ResourceResult,
    },
}

type Progress<'a> = &'a (dyn Fn(SyncEvent) + Send + Sync);

/// One step with what it needs to run.
struct Task<'a> {
    step: &'a PlanStep,
    resolved: Resolved,
    /// The object to apply (none for prunes).
    object: Option<Value>,
    live: bool,
    served: bool,
    /// A hook the server names: created (not applied) from its `generateName` at each run.
    generated: bool,
}

/// A step done: what was done, in words, and the name of the object it left in the cluster.
struct Done {
    message: String,
    name: String,
}

impl Task<'_> {
    fn key(&self) -> &ResourceKey {
        &self.step.key
    }

    fn deletes_before_creation(&self) -> bool {
        self.step
            .hook
            .as_ref()
            .is_some_and(|p| p.contains(&HookDeletePolicy::BeforeHookCreation))
    }
}

/// Runs `plan` (made from `comparison`) against the cluster behind `client`.
pub async fn run(
    client: &kube::Client,
    comparison: &Comparison,
    plan: &SyncPlan,
    progress: Progress<'_>,
) -> SyncResult {
    Run {
        client,
        app: &comparison.app.name,
        plan,
        progress,
        started: Instant::now(),
        log: Mutex::new(Vec::new()),
        health_timeout: plan
            .options
            .timeout
            .map_or(HEALTH_TIMEOUT, |s| Duration::from_secs(s.into())),
    }
    .execute(comparison)
    .await
}

struct Run<'a> {
    client: &'a kube::Client,
    /// The application's name, as its tracking ids carry it.
    app: &'a str,
    plan: &'a SyncPlan,
    progress: Progress<'a>,
    started: Instant,
    log: Mutex<Vec<String>>,
    health_timeout: Duration,
}

impl<'a> Run<'a> {
    fn note(&self, line: String) {
        tracing::info!("{line}");
        let elapsed = self.started.elapsed().as_secs_f64();
        self.log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(format!("+{elapsed:.2}s {line}"));
    }

    fn result(&self, task: &Task, status: ResultStatus, message: String) -> ResourceResult {
        let result = ResourceResult {
            key: task.key().clone(),
            status,
            message,
            phase: task.step.phase,
            wave: task.step.wave,
            hook: task.step.hook.is_some(),
        };
        (self.progress)(SyncEvent::Done {
            result: result.clone(),
        });
        result
    }

    fn finish(
        &self,
        phase: OperationPhase,
        message: String,
        results: Vec<ResourceResult>,
    ) -> SyncResult {
        self.note(message.clone());
        SyncResult {
            phase,
            commit: self.plan.commit.clone(),
            results,
            message,
            log: std::mem::take(&mut *self.log.lock().unwrap_or_else(|p| p.into_inner())),
            missing_namespace: None,
        }
    }

    async fn execute(&self, comparison: &'a Comparison) -> SyncResult {
        (self.progress)(SyncEvent::Planned {
            plan: self.plan.clone(),
        });
        let tasks: Vec<Task> = self
            .plan
            .steps
            .iter()
            .map(|s| task(comparison, s))
            .collect();
        self.note(format!(
            "sync of {} to {}: {} steps, {} changes",
            comparison.app.name,
            short(&self.plan.commit.sha),
            tasks.len(),
            self.plan.changes()
        ));

        if let Some(namespace) = &self.plan.missing_namespace {
            let results = tasks
                .iter()
                .map(|t| self.untouched(t, "not applied: its namespace does not exist"))
                .collect();
            let mut result = self.finish(
                OperationPhase::Failed,
                format!(
                    "the namespace {namespace:?} does not exist on context {:?}; nothing was changed. Sync with Create namespace to create it, or turn Create namespace on in the application's sync policy",
                    comparison.app.destination.context
                ),
                results,
            );
            result.missing_namespace = Some(namespace.clone());
            return result;
        }
        let failures = self.dry_run_all(&tasks).await;
        if !failures.is_empty() {
            let results = tasks
                .iter()
                .map(|t| match failures.iter().find(|(k, _)| k == t.key()) {
                    Some((_, message)) => self.result(
                        t,
                        ResultStatus::SyncFailed,
                        format!("dry run failed: {message}"),
                    ),
                    None => {
                        self.untouched(t, "not applied: the dry run of another resource failed")
                    }
                })
                .collect();
            return self.finish(
                OperationPhase::Failed,
                format!(
                    "{} of {} resources failed the dry run; nothing was changed",
                    failures.len(),
                    tasks.len()
                ),
                results,
            );
        }
        if self.plan.options.dry_run {
            let results = tasks.iter().map(|t| self.dry_run_result(t)).collect();
            return self.finish(
                OperationPhase::Succeeded,
                format!(
                    "dry run: {} of {} resources would change; nothing was changed",
                    self.plan.changes(),
                    tasks.len()
                ),
                results,
            );
        }

        let (main, on_failure): (Vec<&Task>, Vec<&Task>) = tasks
            .iter()
            .partition(|t| t.step.phase != SyncPhase::SyncFail);
        let main_groups = groups(&main);
        let mut results = Vec::new();
        let mut failure: Option<String> = None;
        for (index, group) in main_groups.iter().enumerate() {
            if failure.is_some() {
                results.extend(
                    group
                        .iter()
                        .map(|t| self.untouched(t, "not applied: an earlier step failed")),
                );
                continue;
            }
            let last = index + 1 == main_groups.len();
            let (outcome, problem) = self.run_group(group, last).await;
            results.extend(outcome);
            failure = problem;
        }
        match failure {
            None => {
                results.extend(on_failure.iter().map(|t| {
                    self.untouched(t, "not run: SyncFail hooks run only when a sync fails")
                }));
                let synced = results
                    .iter()
                    .filter(|r| matches!(r.status, ResultStatus::Synced | ResultStatus::Pruned))
                    .count();
                self.finish(
                    OperationPhase::Succeeded,
                    format!(
                        "{synced} of {} resources synced to {}",
                        results.len(),
                        short(&self.plan.commit.sha)
                    ),
                    results,
                )
            }
            Some(problem) => {
                for group in groups(&on_failure) {
                    let (outcome, _) = self.run_group(&group, false).await;
                    results.extend(outcome);
                }
                self.finish(
                    OperationPhase::Failed,
                    format!("sync failed: {problem}"),
                    results,
                )
            }
        }
    }

    /// Applies one group; returns each step's result and, when the group failed, why.
    async fn run_group(
        &self,
        group: &[&Task<'_>],
        last: bool,
    ) -> (Vec<ResourceResult>, Option<String>) {
        let first = group[0].step;
        self.note(format!(
            "{:?} wave {}{}: {} resources",
            first.phase,
            first.wave,
            if first.is_prune() { " (prune)" } else { "" },
            group.len()
        ));
        // Namespaces and CRDs first, one by one: everything else in the group may need them.
        let (needed, rest): (Vec<&Task>, Vec<&Task>) = group.iter().partition(|t| {
            !t.step.is_prune() && t.key().group.is_empty() && t.key().kind == "Namespace"
                || t.key().kind == "CustomResourceDefinition"
        });
        let mut outcome: Vec<(&Task, Result<Done, String>)> = Vec::new();
        for task in &needed {
            let mut r = self.perform(task).await;
            if let Ok(done) = &r
                && task.key().kind == "CustomResourceDefinition"
            {
                // Its kinds are served once it is Established.
                if let Err(e) = self.settle(&[(task, done.name.clone())]).await.remove(0).1 {
                    r = Err(e);
                }
            }
            outcome.push((*task, r));
        }
        if outcome.iter().all(|(_, r)| r.is_ok()) {
            let applied = bounded(
                rest.iter()
                    .map(|t| async move { (*t, self.perform(t).await) })
                    .collect(),
            )
            .await;
            outcome.extend(applied);
        } else {
            outcome.extend(rest.iter().map(|t| {
                (
                    *t,
                    Err("not applied: a namespace or CRD of this group failed".to_string()),
                )
            }));
        }

        // Hooks always run to completion; other resources gate the next group by their health;
        // what was pruned, by being gone (a Namespace takes its time to empty), as in Argo CD.
        let applied_ok = outcome.iter().all(|(_, r)| r.is_ok());
        let watched: Vec<(&Task, String)> = outcome
            .iter()
            .filter(|(t, _)| match t.step.action {
                SyncAction::Prune => true,
                SyncAction::PruneSkipped => false,
                _ => t.step.hook.is_some() || !last,
            })
            .filter_map(|(t, r)| r.as_ref().ok().map(|done| (*t, done.name.clone())))
            .collect();
        let settled = if applied_ok && !watched.is_empty() {
            let message = waiting_for(&watched);
            self.note(message.clone());
            (self.progress)(SyncEvent::Waiting {
                keys: watched.iter().map(|(t, _)| t.key().clone()).collect(),
                message,
            });
            self.settle(&watched).await
        } else {
            Vec::new()
        };

        let mut problem = None;
        let mut results = Vec::new();
        for (task, applied) in outcome {
            let health = settled
                .iter()
                .find(|(k, _)| k == task.key())
                .map(|(_, h)| h.clone());
            let name = applied.as_ref().map(|d| d.name.clone()).ok();
            let (status, message) = match (applied, health) {
                (Err(e), _) => (ResultStatus::SyncFailed, e),
                (Ok(done), None) => (success_status(task.step.action), done.message),
                (Ok(done), Some(Ok(health))) => (
                    success_status(task.step.action),
                    if task.step.hook.is_some() {
                        format!("{}; hook finished{}", done.message, health)
                    } else {
                        format!("{}; healthy{health}", done.message)
                    },
                ),
                (Ok(done), Some(Err(e))) => {
                    (ResultStatus::SyncFailed, format!("{}; {e}", done.message))
                }
            };
            if status == ResultStatus::SyncFailed && problem.is_none() {
                problem = Some(format!("{}: {message}", task.key()));
            }
            if let (Some(policies), Some(name)) = (&task.step.hook, &name) {
                let delete = (status == ResultStatus::Synced
                    && policies.contains(&HookDeletePolicy::HookSucceeded))
                    || (status == ResultStatus::SyncFailed
                        && policies.contains(&HookDeletePolicy::HookFailed));
                if delete && let Err(e) = self.delete(task, name, false).await {
                    self.note(format!("{}: could not delete the hook: {e}", task.key()));
                }
            }
            self.note(format!("{}: {message}", task.key()));
            results.push(self.result(task, status, message));
        }
        (results, problem)
    }

    /// Applies, prunes, or leaves one step alone; the words say what was done.
    async fn perform(&self, task: &Task<'_>) -> Result<Done, String> {
        let done = |message: &str| Done {
            message: message.to_string(),
            name: task.key().name.clone(),
        };
        match task.step.action {
            SyncAction::NoOp => Ok(done("in sync; not applied")),
            SyncAction::PruneSkipped => Ok(done(task.step.note.as_deref().unwrap_or("not pruned"))),
            SyncAction::Prune => {
                (self.progress)(SyncEvent::Applying {
                    key: task.key().clone(),
                });
                self.delete(task, &task.key().name, false)
                    .await
                    .map(|()| done("pruned"))
            }
            SyncAction::Create | SyncAction::Update if task.generated => {
                (self.progress)(SyncEvent::Applying {
                    key: task.key().clone(),
                });
                if task.deletes_before_creation() {
                    self.delete_earlier_runs(task).await?;
                }
                let name = self
                    .create(task, false)
                    .await
                    .map_err(|e| kube_message(&e))?;
                Ok(Done {
                    message: format!("created {name}"),
                    name,
                })
            }
            SyncAction::Create | SyncAction::Update => {
                (self.progress)(SyncEvent::Applying {
                    key: task.key().clone(),
                });
                if task.live && task.deletes_before_creation() {
                    self.delete(task, &task.key().name, true).await?;
                }
                self.apply(task, false)
                    .await
                    .map_err(|e| kube_message(&e))?;
                Ok(done(
                    if task.step.action == SyncAction::Create || task.deletes_before_creation() {
                        "created (server-side apply)"
                    } else {
                        "configured (server-side apply)"
                    },
                ))
            }
        }
    }

    async fn apply(&self, task: &Task<'_>, dry_run: bool) -> Result<(), kube::Error> {
        let object = task
            .object
            .as_ref()
            .unwrap_or_else(|| unreachable!("applied steps have an object"));
        let api = api_for(self.client, &task.resolved, &task.key().namespace);
        let mut params = PatchParams::apply(FIELD_MANAGER);
        params.force = self.plan.options.force_conflicts;
        params.dry_run = dry_run;
        api.patch(&task.key().name, &params, &Patch::Apply(object))
            .await
            .map(|_| ())
    }

    /// Creates a hook the server names (server-side apply needs a name); returns the name.
    async fn create(&self, task: &Task<'_>, dry_run: bool) -> Result<String, kube::Error> {
        let object = task
            .object
            .clone()
            .unwrap_or_else(|| unreachable!("created steps have an object"));
        let object: DynamicObject =
            serde_json::from_value(object).map_err(kube::Error::SerdeError)?;
        let api = api_for(self.client, &task.resolved, &task.key().namespace);
        let params = PostParams {
            dry_run,
            field_manager: Some(FIELD_MANAGER.into()),
        };
        let created = api.create(&params, &object).await?;
        Ok(created.metadata.name.unwrap_or_default())
    }

    /// Deletes the objects earlier runs of a hook the server names left behind (found by
    /// the hook's tracking id), and waits until they are gone.
    async fn delete_earlier_runs(&self, task: &Task<'_>) -> Result<(), String> {
        let api = api_for(self.client, &task.resolved, &task.key().namespace);
        let id = task.key().tracking_id(self.app);
        let listed = api
            .list(&ListParams::default())
            .await
            .map_err(|e| format!("could not list its earlier runs: {}", kube_message(&e)))?;
        for earlier in listed.items.iter().filter(|o| {
            o.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(crate::resources::TRACKING_ANNOTATION))
                == Some(&id)
        }) {
            let name = earlier.metadata.name.clone().unwrap_or_default();
            self.delete(task, &name, true).await?;
            self.note(format!("{}: deleted the earlier run {name}", task.key()));
        }
        Ok(())
    }

    /// Deletes the object `name` of the task's kind (in the background, as Argo CD prunes);
    /// with `wait`, until it is gone.
    async fn delete(&self, task: &Task<'_>, name: &str, wait: bool) -> Result<(), String> {
        let api = api_for(self.client, &task.resolved, &task.key().namespace);
        let params = DeleteParams::background();
        match api.delete(name, &params).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => return Ok(()),
            Err(e) => return Err(format!("delete failed: {}", kube_message(&e))),
        }
        if !wait {
            return Ok(());
        }
        let deadline = Instant::now() + self.health_timeout;
        let mut pause = Duration::from_millis(100);
        loop {
            match api.get_opt(name).await {
                Ok(None) => return Ok(()),
                Ok(Some(_)) if Instant::now() < deadline => {}
                Ok(Some(_)) => return Err("the previous hook object is still being deleted".into()),
                Err(e) => return Err(kube_message(&e)),
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 3 / 2).min(Duration::from_secs(1));
        }
    }

    /// Dry-runs every step that changes something, in parallel; returns the failures.
    async fn dry_run_all(&self, tasks: &[Task<'_>]) -> Vec<(ResourceKey, String)> {
        let created: Vec<&str> = tasks
            .iter()
            .filter(|t| {
                t.key().kind == "Namespace"
                    && t.key().group.is_empty()
                    && t.step.action == SyncAction::Create
            })
            .map(|t| t.key().name.as_str())
            .collect();
        let checks: Vec<&Task> = tasks
            .iter()
            .filter(|t| {
                match t.step.action {
                    SyncAction::Create | SyncAction::Update => {
                        // Not checkable yet: its namespace or its kind comes with this sync, or it
                        // is a hook that will be recreated (an update could hit immutable fields).
                        t.served
                            && !created.contains(&t.key().namespace.as_str())
                            && !(t.live && t.deletes_before_creation())
                    }
                    SyncAction::Prune => true,
                    SyncAction::NoOp | SyncAction::PruneSkipped => false,
                }
            })
            .collect();
        bounded(checks.into_iter().map(|t| self.dry_run(t)).collect())
            .await
            .into_iter()
            .flatten()
            .collect()
    }

    /// One step's dry run; the key and the server's words when it is refused.
    async fn dry_run(&self, task: &Task<'_>) -> Option<(ResourceKey, String)> {
        (self.progress)(SyncEvent::DryRun {
            key: task.key().clone(),
        });
        let outcome = if task.step.action == SyncAction::Prune {
            let api = api_for(self.client, &task.resolved, &task.key().namespace);
            let params = DeleteParams {
                dry_run: true,
                ..DeleteParams::background()
            };
            api.delete(&task.key().name, &params).await.map(|_| ())
        } else if task.generated {
            self.create(task, true).await.map(|_| ())
        } else {
            self.apply(task, true).await
        };
        outcome.err().map(|e| (task.key().clone(), explain(&e)))
    }

    fn dry_run_result(&self, task: &Task) -> ResourceResult {
        let (status, message) = match task.step.action {
            SyncAction::Create => (
                ResultStatus::Synced,
                "would be created (dry run)".to_string(),
            ),
            SyncAction::Update => (ResultStatus::Synced, "would be configured (dry run)".into()),
            SyncAction::NoOp => (ResultStatus::Synced, "in sync".into()),
            SyncAction::Prune => (ResultStatus::Pruned, "would be pruned (dry run)".into()),
            SyncAction::PruneSkipped => (
                ResultStatus::PruneSkipped,
                task.step.note.clone().unwrap_or_default(),
            ),
        };
        self.result(task, status, message)
    }

    /// The result of a step the sync did not get to (prunes not asked for stay PruneSkipped).
    fn untouched(&self, task: &Task, why: &str) -> ResourceResult {
        if task.step.action == SyncAction::PruneSkipped {
            return self.result(
                task,
                ResultStatus::PruneSkipped,
                task.step.note.clone().unwrap_or_default(),
            );
        }
        self.result(task, ResultStatus::Skipped, why.to_string())
    }

    /// Waits until each task's object (by name) is healthy or, for a hook, finished. Returns
    /// per key the health message suffix, or why it failed: Degraded, deleted, or still not
    /// healthy at the timeout.
    async fn settle(
        &self,
        tasks: &[(&Task<'_>, String)],
    ) -> Vec<(ResourceKey, Result<String, String>)> {
        let deadline = Instant::now() + self.health_timeout;
        let mut pending: Vec<&(&Task, String)> = tasks.iter().collect();
        let mut done = Vec::new();
        let mut pause = Duration::from_millis(100);
        loop {
            let checks = bounded(
                pending
                    .iter()
                    .map(|pair| async move {
                        let (t, name) = *pair;
                        let api = api_for(self.client, &t.resolved, &t.key().namespace);
                        (*pair, api.get_opt(name).await)
                    })
                    .collect(),
            )
            .await;
            let mut still = Vec::new();
            let timed_out = Instant::now() >= deadline;
            for (pair, got) in checks {
                let (task, name) = pair;
                let pruned = task.step.action == SyncAction::Prune;
                let verdict = match got {
                    // Written but not readable with these credentials: nothing to wait on.
                    Err(kube::Error::Api(status)) if status.code == 403 => Some(Ok(
                        " (not read back: these credentials may not read it)".into(),
                    )),
                    Err(e) => Some(Err(format!("could not read it back: {}", kube_message(&e)))),
                    Ok(None) if pruned => Some(Ok(String::new())),
                    // Still there only while its deletion runs: a dry run deletes nothing.
                    Ok(Some(obj)) if pruned => match obj.metadata.deletion_timestamp {
                        None => Some(Ok(String::new())),
                        Some(_) if timed_out => Some(Err(format!(
                            "gave up waiting for the deletion of {name} within {}s{}",
                            self.health_timeout.as_secs(),
                            match obj.metadata.finalizers.as_deref() {
                                Some([]) | None => String::new(),
                                Some(left) => format!(": finalizers {} remain", left.join(", ")),
                            }
                        ))),
                        Some(_) => None,
                    },
                    Ok(None) => timed_out.then(|| Err(format!("{name} is gone from the cluster"))),
                    Ok(Some(obj)) => {
                        let value = serde_json::to_value(&obj).unwrap_or(Value::Null);
                        let health = health::assess(&with_type(value, &task.resolved));
                        match health {
                            None => Some(Ok(String::new())),
                            Some(h)
                                if matches!(
                                    h.status,
                                    HealthStatus::Healthy | HealthStatus::Suspended
                                ) =>
                            {
                                Some(Ok(if h.message.is_empty() {
                                    String::new()
                                } else {
                                    format!(": {}", h.message)
                                }))
                            }
                            Some(h) if h.status == HealthStatus::Degraded => {
                                Some(Err(format!("Degraded: {}", h.message)))
                            }
                            Some(h) if timed_out => Some(Err(format!(
                                "{} {name} within {}s: still {:?}{}",
                                if task.step.hook.is_some() {
                                    "gave up waiting for the hook"
                                } else {
                                    "gave up waiting for the health of"
                                },
                                self.health_timeout.as_secs(),
                                h.status,
                                if h.message.is_empty() {
                                    String::new()
                                } else {
                                    format!(": {}", h.message)
                                }
                            ))),
                            Some(_) => None,
                        }
                    }
                };
                match verdict {
                    Some(v) => done.push((task.key().clone(), v)),
                    None => still.push(pair),
                }
            }
            if still.is_empty() {
                return done;
            }
            pending = still;
            tokio::time::sleep(pause).await;
            pause = (pause * 3 / 2).min(Duration::from_secs(1));
        }
    }
}

/// What a group waits for, in words: the hooks it waits to finish, the resources to be healthy,
/// what it pruned to be gone.
fn waiting_for(watched: &[(&Task<'_>, String)]) -> String {
    let (pruned, rest): (Vec<_>, Vec<_>) = watched
        .iter()
        .partition(|(t, _)| t.step.action == SyncAction::Prune);
    let (hooks, resources): (Vec<_>, Vec<_>) =
        rest.into_iter().partition(|(t, _)| t.step.hook.is_some());
    let named = |list: &[&(&Task, String)]| {
        list.iter()
            .map(|(t, name)| {
                let key = t.key();
                let kind = if key.group.is_empty() {
                    key.kind.clone()
                } else {
                    format!("{}.{}", key.kind, key.group)
                };
                if key.namespace.is_empty() {
                    format!("{kind} {name}")
                } else {
                    format!("{kind} {}/{name}", key.namespace)
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let parts: Vec<String> = [
        ("the hooks to finish: ", hooks),
        ("health: ", resources),
        ("the deletion of ", pruned),
    ]
    .into_iter()
    .filter(|(_, list)| !list.is_empty())
    .map(|(what, list)| format!("{what}{}", named(&list)))
    .collect();
    format!("waiting for {}", parts.join("; and for "))
}

/// The words of a refused dry run, with what to do about a field conflict.
fn explain(e: &kube::Error) -> String {
    let message = kube_message(e);
    match e {
        kube::Error::Api(s) if s.code == 409 => format!(
            "{message} (another field manager owns these fields; sync with force conflicts to take them)"
        ),
        _ => message,
    }
}

fn success_status(action: SyncAction) -> ResultStatus {
    match action {
        SyncAction::Prune => ResultStatus::Pruned,
        SyncAction::PruneSkipped => ResultStatus::PruneSkipped,
        _ => ResultStatus::Synced,
    }
}

/// A GET from a real server may omit apiVersion and kind; health rules need the kind.
fn with_type(mut value: Value, resolved: &Resolved) -> Value {
    value["apiVersion"] = json!(resolved.api.api_version);
    value["kind"] = json!(resolved.api.kind);
    value
}

/// Consecutive steps of one (phase, prune, wave) form a group.
fn groups<'t, 'a>(tasks: &[&'t Task<'a>]) -> Vec<Vec<&'t Task<'a>>> {
    let mut out: Vec<Vec<&Task>> = Vec::new();
    for task in tasks {
        match out.last_mut() {
            Some(group) if group[0].step.group() == task.step.group() => group.push(task),
            _ => out.push(vec![task]),
        }
    }
    out
}

fn task<'a>(comparison: &Comparison, step: &'a PlanStep) -> Task<'a> {
    let find = |list: &[std::sync::Arc<Compared>]| {
        list.iter()
            .find(|r| r.key == step.key)
            .map(|r| (**r).clone())
    };
    let found = if step.hook.is_some() {
        find(&comparison.hooks)
    } else {
        find(&comparison.resources)
    };
    match found {
        Some(r) => Task {
            step,
            resolved: r.resolved,
            object: r.desired,
            live: r.live.is_some(),
            served: r.served,
            generated: r.generated,
        },
        // The destination namespace the plan creates.
        None => Task {
            step,
            resolved: Resolved {
                api: kube::discovery::ApiResource::erase::<k8s_openapi::api::core::v1::Namespace>(
                    &(),
                ),
                namespaced: false,
            },
            object: Some(
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": step.key.name}}),
            ),
            live: false,
            served: true,
            generated: false,
        },
    }
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(7)]
}
