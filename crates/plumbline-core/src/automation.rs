//! Automated sync, as Argo CD's `syncPolicy.automated` decides it: an app out of sync with a
//! commit it has not tried yet is synced; one already tried at that commit is left alone, unless
//! self-heal is on and the last try succeeded, in which case drift is synced back (at most once
//! every [`SELF_HEAL_WAIT`]). A failed try is not repeated until a new commit or a sync by hand.
//! Plumbline adds one rule: protected contexts are never synced without the user.

use crate::apps::SyncPolicy;
use crate::comparison::SyncStatus;
use crate::history::HistoryEntry;
use crate::sync::{OperationPhase, SyncResult};
use serde::Serialize;
use std::time::Duration;
use ts_rs::TS;

/// How long self-heal waits after the last operation ended before it syncs drift again
/// (Argo CD's `selfHealTimeoutSeconds` default).
pub const SELF_HEAL_WAIT: Duration = Duration::from_secs(5);

/// What automated sync did for an application.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "outcome", rename_all = "camelCase")]
pub enum AutoSync {
    /// The app is synced by hand.
    Manual,
    /// Nothing to do.
    InSync,
    /// Out of sync and left so, for the reason given.
    Held { reason: String },
    /// A sync ran, with this result.
    Ran { result: SyncResult },
}

/// Whether to sync now, or why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Manual,
    InSync,
    Hold(String),
    /// Sync, pruning when the policy says so.
    Sync {
        prune: bool,
    },
}

/// Decides for an app whose comparison says `status` at commit `commit`; `last` is its newest
/// history entry and `since_last` the time since that entry finished.
pub fn decide(
    policy: &SyncPolicy,
    protected_context: Option<&str>,
    status: SyncStatus,
    commit: &str,
    last: Option<&HistoryEntry>,
    since_last: Option<Duration>,
) -> Decision {
    let Some(automated) = &policy.automated else {
        return Decision::Manual;
    };
    match status {
        SyncStatus::Synced => return Decision::InSync,
        SyncStatus::Unknown => {
            return Decision::Hold("the app cannot be compared; nothing is synced blind".into());
        }
        SyncStatus::OutOfSync => {}
    }
    if let Some(context) = protected_context {
        return Decision::Hold(format!(
            "context {context:?} is protected: automated sync waits for a sync by hand"
        ));
    }
    let short = &commit[..commit.len().min(7)];
    let Some(last) = last.filter(|e| e.result.commit.sha == commit) else {
        return Decision::Sync {
            prune: automated.prune,
        };
    };
    match last.result.phase {
        OperationPhase::Running => Decision::Hold(format!(
            "the last sync to {short} did not finish; automated sync tries again on a new commit, or sync by hand"
        )),
        OperationPhase::Succeeded if automated.self_heal => match since_last {
            Some(waited) if waited < SELF_HEAL_WAIT => Decision::Hold(format!(
                "self-heal waits {} s after the last sync",
                SELF_HEAL_WAIT.as_secs()
            )),
            _ => Decision::Sync {
                prune: automated.prune,
            },
        },
        OperationPhase::Succeeded => Decision::Hold(format!(
            "{short} is synced already; without self-heal, drift in the cluster is left for you to sync"
        )),
        OperationPhase::Failed => Decision::Hold(format!(
            "the last sync to {short} failed; automated sync tries again on a new commit, or sync by hand"
        )),
        OperationPhase::Interrupted => Decision::Hold(format!(
            "the last sync to {short} was interrupted; automated sync tries again on a new commit, or sync by hand"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apps::Automated;
    use crate::history::OperationKind;
    use crate::repos::Commit;
    use crate::sync::SyncOptions;

    const NEW: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const OLD: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    fn policy(prune: bool, self_heal: bool) -> SyncPolicy {
        SyncPolicy {
            create_namespace: false,
            automated: Some(Automated { prune, self_heal }),
        }
    }

    fn entry(sha: &str, phase: OperationPhase) -> HistoryEntry {
        HistoryEntry {
            id: 1,
            kind: OperationKind::AutoSync,
            by: None,
            revision: "main".into(),
            rollback_of: None,
            started_at: String::new(),
            finished_at: None,
            options: SyncOptions::default(),
            result: SyncResult {
                phase,
                commit: Commit {
                    sha: sha.into(),
                    summary: String::new(),
                },
                results: Vec::new(),
                message: String::new(),
                log: Vec::new(),
                missing_namespace: None,
            },
        }
    }

    fn decide_with(
        policy: &SyncPolicy,
        status: SyncStatus,
        last: Option<HistoryEntry>,
        since: u64,
    ) -> Decision {
        decide(
            policy,
            None,
            status,
            NEW,
            last.as_ref(),
            Some(Duration::from_secs(since)),
        )
    }

    #[test]
    fn manual_apps_and_synced_apps_are_left_alone() {
        let manual = SyncPolicy::default();
        assert_eq!(
            decide_with(&manual, SyncStatus::OutOfSync, None, 60),
            Decision::Manual
        );
        assert_eq!(
            decide_with(&policy(true, true), SyncStatus::Synced, None, 60),
            Decision::InSync
        );
        assert!(matches!(
            decide_with(&policy(true, true), SyncStatus::Unknown, None, 60),
            Decision::Hold(_)
        ));
    }

    #[test]
    fn a_commit_not_tried_yet_is_synced_with_the_policys_prune() {
        for prune in [false, true] {
            let p = policy(prune, false);
            assert_eq!(
                decide_with(&p, SyncStatus::OutOfSync, None, 60),
                Decision::Sync { prune }
            );
            let older = entry(OLD, OperationPhase::Succeeded);
            assert_eq!(
                decide_with(&p, SyncStatus::OutOfSync, Some(older), 60),
                Decision::Sync { prune }
            );
        }
    }

    #[test]
    fn drift_at_a_synced_commit_waits_for_self_heal() {
        let done = || Some(entry(NEW, OperationPhase::Succeeded));
        let Decision::Hold(why) =
            decide_with(&policy(false, false), SyncStatus::OutOfSync, done(), 60)
        else {
            panic!("held without self-heal")
        };
        assert!(why.contains("without self-heal"), "{why}");
        assert_eq!(
            decide_with(&policy(false, true), SyncStatus::OutOfSync, done(), 60),
            Decision::Sync { prune: false }
        );
        assert!(matches!(
            decide_with(&policy(false, true), SyncStatus::OutOfSync, done(), 2),
            Decision::Hold(_)
        ));
    }

    #[test]
    fn a_failed_commit_is_not_tried_again_even_with_self_heal() {
        for phase in [OperationPhase::Failed, OperationPhase::Running] {
            let Decision::Hold(why) = decide_with(
                &policy(true, true),
                SyncStatus::OutOfSync,
                Some(entry(NEW, phase)),
                600,
            ) else {
                panic!("held after a failure")
            };
            assert!(why.contains("tries again on a new commit"), "{why}");
        }
    }

    #[test]
    fn protected_contexts_wait_for_the_user() {
        let Decision::Hold(why) = decide(
            &policy(true, true),
            Some("prod"),
            SyncStatus::OutOfSync,
            NEW,
            None,
            None,
        ) else {
            panic!("held on a protected context")
        };
        assert!(why.contains("\"prod\" is protected"), "{why}");
    }
}
