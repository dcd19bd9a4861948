//! What the engine tells its listeners while it keeps watching (the window, `plumbline watch`,
//! notifications): each application's status as it changes, each context's state, and the
//! transitions worth telling a person — an app out of sync, degraded or missing, an operation
//! failed, automation that synced, a cluster lost or back.

use crate::apps::Application;
use crate::clusters::ContextState;
use crate::comparison::SyncStatus;
use crate::errors::ErrorInfo;
use crate::health::HealthStatus;
use crate::history::LastOperation;
use crate::repos::Commit;
use serde::Serialize;
use ts_rs::TS;

/// One thing the engine tells.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
#[ts(rename = "EngineEvent")]
pub enum Event {
    /// An application's status changed (or was first known).
    Status { status: Box<AppSummary> },
    /// An application is no longer in the store.
    Removed { app: String },
    /// Objects of the application changed in the cluster: its own or what the cluster made
    /// from them (the app page reads its view again).
    Objects { app: String },
    /// A context's state changed.
    Context {
        context: String,
        state: ContextState,
    },
    /// Something worth telling a person.
    Activity { activity: Activity },
}

/// An application's status as tiles, the rail and the fleet matrix show it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AppSummary {
    pub app: Application,
    pub sync: SyncStatus,
    pub health: Option<HealthStatus>,
    pub commit: Option<Commit>,
    /// Why it could not be compared; none while its cluster is unreachable (`stale` says so).
    pub error: Option<ErrorInfo>,
    pub last_operation: Option<LastOperation>,
    /// Set while the app's cluster does not answer: what is shown is the last known state.
    pub stale: Option<Stale>,
    /// How many of its resources are not synced (out of sync, missing, to prune).
    pub out_of_sync: u32,
    pub resources: u32,
}

/// Why a status is not current.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Stale {
    /// RFC 3339: when the cluster stopped answering.
    pub since: String,
    pub reason: String,
}

/// A transition worth telling a person, with when it happened.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    /// Grows by one with each activity of this engine.
    #[ts(type = "number")]
    pub id: u64,
    /// RFC 3339.
    pub at: String,
    pub kind: ActivityKind,
    pub app: Option<String>,
    pub context: String,
    /// The sentence a notification or the activity list shows.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub enum ActivityKind {
    OutOfSync,
    /// Back in sync.
    Synced,
    Degraded,
    Missing,
    /// Healthy again after Degraded or Missing.
    Healthy,
    SyncFailed,
    /// Automated sync synced the app.
    AutoSynced,
    Unreachable,
    /// A context that did not answer answers again.
    Reachable,
    /// A repository could not be fetched (told once until a fetch works again).
    FetchFailed,
}

impl ActivityKind {
    /// Whether it is news for a desktop notification; recoveries are only listed.
    pub fn notifies(self) -> bool {
        !matches!(self, ActivityKind::Synced | ActivityKind::Healthy)
    }
}

/// The transitions from `before` to `after` of one app, as (kind, sentence). A rollout's
/// Progressing is not news; neither is anything said while either status is stale.
pub fn transitions(before: &AppSummary, after: &AppSummary) -> Vec<(ActivityKind, String)> {
    if before.stale.is_some() || after.stale.is_some() {
        return Vec::new();
    }
    let name = &after.app.name;
    let at = after
        .commit
        .as_ref()
        .map(|c| format!(" at {}", &c.sha[..c.sha.len().min(7)]))
        .unwrap_or_default();
    let mut out = Vec::new();
    match (before.sync, after.sync) {
        (SyncStatus::Synced, SyncStatus::OutOfSync) => out.push((
            ActivityKind::OutOfSync,
            format!(
                "{name} is out of sync: {} of {} resources differ from Git{at}",
                after.out_of_sync, after.resources
            ),
        )),
        (SyncStatus::OutOfSync, SyncStatus::Synced) => {
            out.push((ActivityKind::Synced, format!("{name} is synced{at}")))
        }
        _ => {}
    }
    match (before.health, after.health) {
        (b, Some(HealthStatus::Degraded)) if b != Some(HealthStatus::Degraded) => {
            out.push((ActivityKind::Degraded, format!("{name} is degraded")))
        }
        (b, Some(HealthStatus::Missing)) if b != Some(HealthStatus::Missing) => out.push((
            ActivityKind::Missing,
            format!("{name} is missing from its cluster"),
        )),
        (Some(HealthStatus::Degraded | HealthStatus::Missing), Some(HealthStatus::Healthy)) => {
            out.push((ActivityKind::Healthy, format!("{name} is healthy again")))
        }
        _ => {}
    }
    out
}

/// A context's state as a transition, when it is one: lost or back.
pub fn context_transition(
    context: &str,
    before: &ContextState,
    after: &ContextState,
) -> Option<(ActivityKind, String)> {
    match (before, after) {
        (ContextState::Unreachable { .. }, ContextState::Unreachable { .. }) => None,
        (_, ContextState::Unreachable { message }) => Some((
            ActivityKind::Unreachable,
            format!("cluster {context} does not answer: {message}"),
        )),
        (ContextState::Unreachable { .. }, ContextState::Connected { .. }) => Some((
            ActivityKind::Reachable,
            format!("cluster {context} answers again"),
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(sync: SyncStatus, health: Option<HealthStatus>) -> AppSummary {
        AppSummary {
            app: Application {
                name: "web".into(),
                ..Default::default()
            },
            sync,
            health,
            commit: Some(Commit {
                sha: "0123456789abcdef".into(),
                summary: String::new(),
            }),
            error: None,
            last_operation: None,
            stale: None,
            out_of_sync: 2,
            resources: 14,
        }
    }

    fn kinds(before: &AppSummary, after: &AppSummary) -> Vec<ActivityKind> {
        transitions(before, after)
            .into_iter()
            .map(|(k, _)| k)
            .collect()
    }

    #[test]
    fn drift_degradation_and_recovery_are_told_and_a_rollout_is_not() {
        use HealthStatus::*;
        use SyncStatus::*;
        let healthy = summary(Synced, Some(Healthy));
        let drifted = summary(OutOfSync, Some(Healthy));
        assert_eq!(
            transitions(&healthy, &drifted),
            [(
                ActivityKind::OutOfSync,
                "web is out of sync: 2 of 14 resources differ from Git at 0123456".to_string()
            )]
        );
        assert_eq!(kinds(&drifted, &healthy), [ActivityKind::Synced]);
        let rolling = summary(Synced, Some(Progressing));
        assert!(
            kinds(&healthy, &rolling).is_empty(),
            "a rollout is not news"
        );
        assert!(kinds(&rolling, &healthy).is_empty());
        let degraded = summary(OutOfSync, Some(Degraded));
        assert_eq!(
            kinds(&healthy, &degraded),
            [ActivityKind::OutOfSync, ActivityKind::Degraded]
        );
        assert_eq!(
            kinds(&degraded, &healthy),
            [ActivityKind::Synced, ActivityKind::Healthy]
        );
        assert_eq!(
            kinds(&healthy, &summary(Synced, Some(Missing))),
            [ActivityKind::Missing]
        );
        assert!(kinds(&degraded, &degraded).is_empty(), "no change, no news");
        assert!(
            kinds(&healthy, &summary(SyncStatus::Unknown, None)).is_empty(),
            "a comparison that failed says so on the tile, not as news"
        );
    }

    #[test]
    fn nothing_is_told_while_the_cluster_is_unreachable() {
        let healthy = summary(SyncStatus::Synced, Some(HealthStatus::Healthy));
        let mut stale = summary(SyncStatus::OutOfSync, Some(HealthStatus::Degraded));
        stale.stale = Some(Stale {
            since: "2026-11-30T14:02:00Z".into(),
            reason: "connection refused".into(),
        });
        assert!(kinds(&healthy, &stale).is_empty());
        assert!(kinds(&stale, &healthy).is_empty());
    }

    #[test]
    fn a_context_is_told_when_it_is_lost_and_when_it_is_back() {
        let up = ContextState::Connected {
            version: "v1.31.0".into(),
        };
        let down = ContextState::Unreachable {
            message: "connection refused".into(),
        };
        assert_eq!(
            context_transition("prod", &up, &down),
            Some((
                ActivityKind::Unreachable,
                "cluster prod does not answer: connection refused".to_string()
            ))
        );
        assert_eq!(
            context_transition("prod", &ContextState::NotConnected, &down).map(|t| t.0),
            Some(ActivityKind::Unreachable)
        );
        assert_eq!(context_transition("prod", &down, &down), None);
        assert_eq!(
            context_transition("prod", &down, &up).map(|t| t.0),
            Some(ActivityKind::Reachable)
        );
        assert_eq!(
            context_transition("prod", &ContextState::NotConnected, &up),
            None
        );
    }
}
