//! Automated sync against the sandbox: a new commit is synced by itself, drift is left alone
//! or healed as the policy says, a failed commit is not retried, protected contexts wait, and
//! rollback is refused while automation is on.

mod world;

use plumbline_core::apps::{Automated, SyncPolicy};
use plumbline_core::automation::AutoSync;
use plumbline_core::comparison::SyncStatus;
use plumbline_core::history::OperationKind;
use plumbline_core::sync::{OperationPhase, SyncOptions};
use serde_json::json;
use world::{World, api, commit, file, patch_by_hand, world_with};

const CM: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: steady\n";

async fn automated(prune: bool, self_heal: bool) -> World {
    let w = world_with("auto", "default", "app", vec![file("app/cm.yaml", CM)]).await;
    let mut app = w.engine.apps().get("auto").unwrap();
    app.sync_policy = SyncPolicy {
        automated: Some(Automated { prune, self_heal }),
        create_namespace: false,
    };
    w.engine.apps().update(app).unwrap();
    w
}

async fn auto_sync(w: &World) -> AutoSync {
    w.engine.auto_sync("auto", &|_| {}).await.unwrap()
}

fn ran(outcome: &AutoSync) -> &plumbline_core::sync::SyncResult {
    match outcome {
        AutoSync::Ran { result } => result,
        other => panic!("expected a sync, got {other:?}"),
    }
}

fn held(outcome: &AutoSync) -> &str {
    match outcome {
        AutoSync::Held { reason } => reason,
        other => panic!("expected it held, got {other:?}"),
    }
}

#[tokio::test]
async fn a_new_commit_is_synced_by_itself_and_drift_waits_without_self_heal() {
    let w = automated(true, false).await;
    let first = auto_sync(&w).await;
    assert_eq!(ran(&first).phase, OperationPhase::Succeeded, "{first:?}");
    assert_eq!(auto_sync(&w).await, AutoSync::InSync);
    let history = w.engine.history("auto").unwrap();
    assert_eq!(history[0].kind, OperationKind::AutoSync);

    let config_maps = api(&w.client, "", "v1", "ConfigMap", "default");
    patch_by_hand(
        &config_maps,
        "settings",
        json!({"data": {"mode": "by hand"}}),
    )
    .await;
    let reason = held(&auto_sync(&w).await).to_string();
    assert!(reason.contains("without self-heal"), "{reason}");
    assert_eq!(
        w.engine.status("auto").await.unwrap().sync,
        SyncStatus::OutOfSync
    );

    // A push: the next pass syncs the new commit, taking the field back from kubectl, and
    // prunes what the commit dropped (the policy prunes).
    let extra = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  a: b\n";
    commit(&w.repo, "Add extra", &[file("app/extra.yaml", extra)]);
    let second = auto_sync(&w).await;
    assert_eq!(ran(&second).phase, OperationPhase::Succeeded, "{second:?}");
    let live = config_maps.get("settings").await.unwrap();
    assert_eq!(live.data["data"]["mode"], "steady");
    assert!(config_maps.get_opt("extra").await.unwrap().is_some());
    assert_eq!(auto_sync(&w).await, AutoSync::InSync);
}

#[tokio::test]
async fn self_heal_syncs_drift_back_after_its_wait() {
    let w = automated(false, true).await;
    ran(&auto_sync(&w).await);
    let config_maps = api(&w.client, "", "v1", "ConfigMap", "default");
    patch_by_hand(
        &config_maps,
        "settings",
        json!({"data": {"mode": "by hand"}}),
    )
    .await;
    // Right after a sync, self-heal waits (Argo CD's five seconds).
    let reason = held(&auto_sync(&w).await).to_string();
    assert!(reason.contains("self-heal waits"), "{reason}");
    tokio::time::sleep(plumbline_core::automation::SELF_HEAL_WAIT).await;
    let healed = auto_sync(&w).await;
    assert_eq!(ran(&healed).phase, OperationPhase::Succeeded, "{healed:?}");
    let live = config_maps.get("settings").await.unwrap();
    assert_eq!(live.data["data"]["mode"], "steady");
    assert_eq!(
        w.engine.status("auto").await.unwrap().sync,
        SyncStatus::Synced
    );
}

#[tokio::test]
async fn a_failed_commit_is_not_retried_until_the_next_one() {
    let w = automated(false, true).await;
    ran(&auto_sync(&w).await);
    // A commit the server refuses: a Deployment whose selector does not match its Pods.
    let bad = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: other}\n    spec:\n      containers:\n      - name: web\n        image: nginx\n";
    commit(&w.repo, "Break it", &[file("app/web.yaml", bad)]);
    let failed = auto_sync(&w).await;
    assert_eq!(ran(&failed).phase, OperationPhase::Failed, "{failed:?}");
    tokio::time::sleep(plumbline_core::automation::SELF_HEAL_WAIT).await;
    let reason = held(&auto_sync(&w).await).to_string();
    assert!(reason.contains("failed"), "{reason}");
    // The failed sync changed nothing (its dry run failed); the fix is a new commit, synced.
    let fixed = CM.replace("steady", "fixed");
    commit(
        &w.repo,
        "Fix it",
        &[
            file("app/cm.yaml", &fixed),
            file("app/web.yaml", &bad.replace("other", "web")),
        ],
    );
    assert_eq!(ran(&auto_sync(&w).await).phase, OperationPhase::Succeeded);
    let live = api(&w.client, "", "v1", "ConfigMap", "default")
        .get("settings")
        .await
        .unwrap();
    assert_eq!(live.data["data"]["mode"], "fixed");
}

#[tokio::test]
async fn protected_contexts_and_rollback_wait_for_the_user() {
    let w = automated(true, true).await;
    w.engine.protect_context("sandbox", true).unwrap();
    let reason = held(&auto_sync(&w).await).to_string();
    assert!(reason.contains("protected"), "{reason}");
    assert!(w.engine.history("auto").unwrap().is_empty(), "nothing ran");

    w.engine.protect_context("sandbox", false).unwrap();
    ran(&auto_sync(&w).await);
    let refused = w
        .engine
        .rollback("auto", 1, &SyncOptions::default(), None, &|_| {})
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("turn automated sync off first"),
        "{refused}"
    );
}

#[tokio::test]
async fn manual_apps_are_never_synced_by_automation() {
    let w = world_with("auto", "default", "app", vec![file("app/cm.yaml", CM)]).await;
    assert_eq!(auto_sync(&w).await, AutoSync::Manual);
    assert!(w.engine.history("auto").unwrap().is_empty());
}
