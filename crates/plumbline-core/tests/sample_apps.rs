//! The sample apps in `tests/apps/` against the sandbox: sync waves, hooks, prune, and a CRD
//! with its custom resources — each synced, drifted by hand, seen OutOfSync with the exact
//! diff, and synced back. Also selective sync, dry run, creating the namespace, history and
//! rollback.

mod world;

use plumbline_core::comparison::{ResourceSync, SyncStatus};
use plumbline_core::health::HealthStatus;
use plumbline_core::history::OperationKind;
use plumbline_core::resources::ResourceKey;
use plumbline_core::sync::{
    OperationPhase, ResultStatus, SyncAction, SyncEvent, SyncOptions, SyncPhase,
};
use serde_json::json;
use std::sync::Mutex;
use world::{
    api, drift_and_sync_back, file, sample_app, sync_succeeds, world_with, world_with_history,
};

fn key(group: &str, kind: &str, namespace: &str, name: &str) -> ResourceKey {
    ResourceKey {
        group: group.into(),
        kind: kind.into(),
        namespace: namespace.into(),
        name: name.into(),
    }
}

/// The label of an event, for checking the order of what a sync did.
fn label(event: &SyncEvent) -> Option<String> {
    match event {
        SyncEvent::Applying { key } => Some(format!("apply {}/{}", key.kind, key.name)),
        SyncEvent::Waiting { keys, .. } => Some(format!(
            "wait {}",
            keys.iter()
                .map(|k| format!("{}/{}", k.kind, k.name))
                .collect::<Vec<_>>()
                .join(",")
        )),
        _ => None,
    }
}

/// Syncs `app` and checks that it succeeded; returns the result and the labels of what it
/// applied and waited for, in order.
async fn sync_in_order(
    w: &world::World,
    app: &str,
) -> (plumbline_core::sync::SyncResult, Vec<String>) {
    let events = Mutex::new(Vec::new());
    let result = w
        .engine
        .sync(app, &SyncOptions::default(), None, &|e| {
            events.lock().unwrap().extend(label(&e))
        })
        .await
        .unwrap();
    assert_eq!(result.phase, OperationPhase::Succeeded, "{result:?}");
    (result, events.into_inner().unwrap())
}

fn position(labels: &[String], wanted: &str) -> usize {
    labels
        .iter()
        .position(|l| l == wanted)
        .unwrap_or_else(|| panic!("no {wanted:?} in {labels:?}"))
}

#[tokio::test]
async fn waves_are_applied_in_order_each_after_the_last_is_healthy() {
    let w = world_with("waves", "default", "waves", sample_app("waves")).await;
    let plan = w
        .engine
        .plan("waves", &SyncOptions::default())
        .await
        .unwrap();
    let steps: Vec<_> = plan
        .steps
        .iter()
        .map(|s| (s.key.kind.as_str(), s.key.name.as_str(), s.wave, s.action))
        .collect();
    assert_eq!(
        steps,
        [
            ("ConfigMap", "settings", -1, SyncAction::Create),
            ("Deployment", "db", 0, SyncAction::Create),
            ("Service", "web", 1, SyncAction::Create),
            ("Deployment", "web", 1, SyncAction::Create),
            ("Ingress", "web", 1, SyncAction::Create),
        ]
    );

    let (result, labels) = sync_in_order(&w, "waves").await;
    assert!(
        position(&labels, "apply ConfigMap/settings")
            < position(&labels, "wait ConfigMap/settings")
    );
    assert!(
        position(&labels, "wait ConfigMap/settings") < position(&labels, "apply Deployment/db")
    );
    // The web tier starts only once the database Deployment is healthy.
    assert!(position(&labels, "wait Deployment/db") < position(&labels, "apply Deployment/web"));
    let db = result.results.iter().find(|r| r.key.name == "db").unwrap();
    assert!(db.message.contains("healthy"), "{db:?}");
    let events = w
        .engine
        .events("waves", &key("apps", "Deployment", "default", "db"))
        .await
        .unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.reason == "ScalingReplicaSet" && e.message.contains("db-")),
        "{events:?}"
    );
    assert!(
        events.iter().all(|e| !e.message.contains("web-")),
        "only db's own: {events:?}"
    );

    // The tree: Deployment → ReplicaSet → its Pods, Service → Endpoints of the same name.
    let tree = w.engine.tree("waves").await.unwrap();
    let parent_of = |kind: &str, name_prefix: &str| -> Vec<String> {
        tree.iter()
            .filter(|n| n.key.kind == kind && n.key.name.starts_with(name_prefix))
            .map(|n| {
                n.parent
                    .as_ref()
                    .map(|p| format!("{}/{}", p.kind, p.name))
                    .unwrap_or_default()
            })
            .collect()
    };
    let replica_sets = parent_of("ReplicaSet", "web-");
    assert_eq!(replica_sets, ["Deployment/web"], "{tree:?}");
    let rs = tree
        .iter()
        .find(|n| n.key.kind == "ReplicaSet" && n.key.name.starts_with("web-"))
        .unwrap();
    let pods = parent_of("Pod", "web-");
    assert_eq!(pods.len(), 2, "{tree:?}");
    assert!(
        pods.iter()
            .all(|p| p == &format!("ReplicaSet/{}", rs.key.name))
    );
    assert_eq!(parent_of("Endpoints", "web"), ["Service/web"]);
    assert_eq!(
        tree.iter().filter(|n| n.parent.is_none()).count(),
        5,
        "the app's own five resources"
    );
    // The network: Ingress → Service → the Pods its selector matches (web's, not db's).
    let routes = |kind: &str| -> Vec<String> {
        let node = tree
            .iter()
            .find(|n| n.key.kind == kind && n.key.name == "web")
            .unwrap();
        node.routes_to
            .iter()
            .map(|k| format!("{}/{}", k.kind, k.name))
            .collect()
    };
    assert_eq!(routes("Ingress"), ["Service/web"]);
    // The graph views get the status and the same tree from one comparison.
    let view = w.engine.view("waves").await.unwrap();
    assert_eq!(
        view.status.sync,
        SyncStatus::Synced,
        "{:?}",
        view.status.resources
    );
    assert_eq!(view.tree_error, None);
    let keys = |nodes: &[plumbline_core::tree::TreeNode]| -> Vec<String> {
        let mut keys: Vec<String> = nodes.iter().map(|n| n.key.to_string()).collect();
        keys.sort();
        keys
    };
    assert_eq!(keys(&view.tree), keys(&tree));
    let selected = routes("Service");
    assert_eq!(selected.len(), 2, "{selected:?}");
    assert!(
        selected.iter().all(|p| p.starts_with("Pod/web-")),
        "{selected:?}"
    );
    assert!(
        !labels
            .iter()
            .any(|l| l.contains("wait") && l.contains("Deployment/web")),
        "the last wave is not waited for: {labels:?}"
    );

    let deployments = api(&w.client, "apps", "v1", "Deployment", "default");
    drift_and_sync_back(
        &w,
        "waves",
        &key("apps", "Deployment", "default", "web"),
        &deployments,
        json!({"spec": {"replicas": 5}}),
        &["-replicas: 5", "+replicas: 2"],
    )
    .await;
}

#[tokio::test]
async fn hooks_run_in_their_phases_and_are_deleted_by_their_policies() {
    let w = world_with("hooks", "default", "hooks", sample_app("hooks")).await;
    let plan = w
        .engine
        .plan("hooks", &SyncOptions::default())
        .await
        .unwrap();
    let steps: Vec<_> = plan
        .steps
        .iter()
        .map(|s| (s.phase, s.key.name.as_str(), s.hook.is_some()))
        .collect();
    assert_eq!(
        steps,
        [
            (SyncPhase::PreSync, "migrate", true),
            (SyncPhase::Sync, "settings", false),
            (SyncPhase::Sync, "web", false),
            (SyncPhase::PostSync, "smoke", true),
            (SyncPhase::SyncFail, "sync-failed", true),
        ]
    );
    let status = w.engine.status("hooks").await.unwrap();
    assert_eq!(
        status.resources.len(),
        2,
        "hooks are not compared: {:?}",
        status.resources
    );

    let (result, labels) = sync_in_order(&w, "hooks").await;
    assert!(position(&labels, "wait Job/migrate") < position(&labels, "apply ConfigMap/settings"));
    assert!(
        position(&labels, "wait ConfigMap/settings,Deployment/web")
            < position(&labels, "apply Job/smoke")
    );
    let outcome = |name: &str| {
        result
            .results
            .iter()
            .find(|r| r.key.name == name)
            .unwrap()
            .clone()
    };
    assert!(
        outcome("migrate").message.contains("hook finished"),
        "{:?}",
        outcome("migrate")
    );
    assert_eq!(outcome("sync-failed").status, ResultStatus::Skipped);

    let jobs = api(&w.client, "batch", "v1", "Job", "default");
    let configmaps = api(&w.client, "", "v1", "ConfigMap", "default");
    assert!(
        jobs.get_opt("migrate").await.unwrap().is_none(),
        "HookSucceeded deletes it"
    );
    let smoke = jobs.get("smoke").await.unwrap();
    assert!(configmaps.get_opt("sync-failed").await.unwrap().is_none());
    assert_eq!(
        w.engine.status("hooks").await.unwrap().sync,
        SyncStatus::Synced
    );

    drift_and_sync_back(
        &w,
        "hooks",
        &key("", "ConfigMap", "default", "settings"),
        &configmaps,
        json!({"data": {"greeting": "changed by hand"}}),
        &["-greeting: changed by hand", "+greeting: hello"],
    )
    .await;
    let again = jobs.get("smoke").await.unwrap();
    assert_ne!(
        smoke.metadata.uid, again.metadata.uid,
        "BeforeHookCreation replaces the hook"
    );
}

#[tokio::test]
async fn a_failing_hook_stops_the_sync_and_runs_the_sync_fail_hooks() {
    let mut files = sample_app("hooks");
    for (path, content) in &mut files {
        if path.ends_with("migrate.yaml") {
            *content = String::from_utf8(content.clone())
                .unwrap()
                .replace("busybox:1.36", "busybox:fail")
                .into_bytes();
        }
    }
    let w = world_with("hooks", "default", "hooks", files).await;
    let result = w
        .engine
        .sync("hooks", &SyncOptions::default(), None, &|_| {})
        .await
        .unwrap();
    assert_eq!(result.phase, OperationPhase::Failed);
    let outcome = |name: &str| {
        result
            .results
            .iter()
            .find(|r| r.key.name == name)
            .unwrap()
            .clone()
    };
    assert_eq!(outcome("migrate").status, ResultStatus::SyncFailed);
    let status = w.engine.status("hooks").await.unwrap();
    assert_eq!(
        status.health,
        Some(HealthStatus::Missing),
        "hooks do not count: {:?}",
        status.resources
    );
    assert!(
        outcome("migrate").message.contains("Degraded"),
        "{:?}",
        outcome("migrate")
    );
    for later in ["settings", "web", "smoke"] {
        assert_eq!(outcome(later).status, ResultStatus::Skipped, "{later}");
    }
    assert_eq!(outcome("sync-failed").status, ResultStatus::Synced);
    assert!(
        result.message.contains("Job.batch default/migrate"),
        "{}",
        result.message
    );

    let configmaps = api(&w.client, "", "v1", "ConfigMap", "default");
    assert!(configmaps.get_opt("sync-failed").await.unwrap().is_some());
    assert!(configmaps.get_opt("settings").await.unwrap().is_none());
    let jobs = api(&w.client, "batch", "v1", "Job", "default");
    assert!(
        jobs.get_opt("migrate").await.unwrap().is_some(),
        "no HookFailed policy: kept to look at"
    );
}

#[tokio::test]
async fn prune_only_when_asked_then_history_diff_and_rollback() {
    let files = sample_app("prune");
    let kept: Vec<_> = files
        .iter()
        .filter(|(p, _)| p.ends_with("keep.yaml"))
        .cloned()
        .collect();
    let (w, ids) = world_with_history(
        "prune",
        "default",
        "prune",
        &[("both", files), ("drop old", kept)],
    )
    .await;
    let mut app = w.engine.apps().get("prune").unwrap();
    app.revision = ids[0].clone();
    w.engine.apps().update(app.clone()).unwrap();
    sync_succeeds(&w, "prune", &SyncOptions::default()).await;

    app.revision = "main".into();
    w.engine.apps().update(app).unwrap();
    let status = w.engine.status("prune").await.unwrap();
    assert_eq!(status.sync, SyncStatus::OutOfSync);
    let old = key("", "ConfigMap", "default", "old");
    let state =
        |s: &plumbline_core::AppStatus| s.resources.iter().find(|r| r.key == old).map(|r| r.status);
    assert_eq!(state(&status), Some(ResourceSync::RequiresPruning));

    let skipped = w
        .engine
        .sync("prune", &SyncOptions::default(), None, &|_| {})
        .await
        .unwrap();
    let old_result = skipped.results.iter().find(|r| r.key == old).unwrap();
    assert_eq!(old_result.status, ResultStatus::PruneSkipped);
    let configmaps = api(&w.client, "", "v1", "ConfigMap", "default");
    assert!(configmaps.get_opt("old").await.unwrap().is_some());
    assert_eq!(
        w.engine.status("prune").await.unwrap().sync,
        SyncStatus::OutOfSync
    );

    let prune = SyncOptions {
        prune: true,
        ..Default::default()
    };
    let pruned = w.engine.sync("prune", &prune, None, &|_| {}).await.unwrap();
    assert_eq!(
        pruned.results.iter().find(|r| r.key == old).unwrap().status,
        ResultStatus::Pruned
    );
    assert!(configmaps.get_opt("old").await.unwrap().is_none());
    assert_eq!(
        w.engine.status("prune").await.unwrap().sync,
        SyncStatus::Synced
    );

    // Drift by hand: someone deletes what Git still has.
    configmaps
        .delete("keep", &Default::default())
        .await
        .unwrap();
    let status = w.engine.status("prune").await.unwrap();
    let keep = key("", "ConfigMap", "default", "keep");
    assert_eq!(
        status
            .resources
            .iter()
            .find(|r| r.key == keep)
            .unwrap()
            .status,
        ResourceSync::Missing
    );
    w.engine
        .sync("prune", &SyncOptions::default(), None, &|_| {})
        .await
        .unwrap();
    assert!(configmaps.get_opt("keep").await.unwrap().is_some());

    let history = w.engine.history("prune").unwrap();
    let summary: Vec<_> = history
        .iter()
        .map(|e| (e.id, e.result.phase, e.options.prune))
        .collect();
    assert_eq!(
        summary,
        [
            (4, OperationPhase::Succeeded, false),
            (3, OperationPhase::Succeeded, true),
            (2, OperationPhase::Succeeded, false),
            (1, OperationPhase::Succeeded, false),
        ]
    );
    assert_eq!(history[3].result.commit.sha, ids[0]);
    assert_eq!(history[0].result.commit.sha, ids[1]);

    let changes = w.engine.history_diff("prune", 1, 4).await.unwrap();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(
        (&changes[0].key, changes[0].status),
        (&old, ResourceSync::RequiresPruning)
    );
    assert!(changes[0].desired.is_empty() && changes[0].live.contains("goodbye"));

    let rollback = w
        .engine
        .rollback("prune", 1, &SyncOptions::default(), None, &|_| {})
        .await
        .unwrap();
    assert_eq!(rollback.phase, OperationPhase::Succeeded, "{rollback:?}");
    assert_eq!(rollback.commit.sha, ids[0]);
    assert!(
        configmaps.get_opt("old").await.unwrap().is_some(),
        "the old commit's ConfigMap is back"
    );
    let newest = &w.engine.history("prune").unwrap()[0];
    assert_eq!(
        (newest.kind, newest.rollback_of),
        (OperationKind::Rollback, Some(1))
    );
    assert_eq!(
        w.engine.apps().get("prune").unwrap().revision,
        "main",
        "the app still follows main"
    );
    assert_eq!(
        w.engine.status("prune").await.unwrap().sync,
        SyncStatus::OutOfSync
    );
}

#[tokio::test]
async fn the_prune_app_drifted_by_hand_shows_the_exact_diff_and_syncs_back() {
    let w = world_with("prune", "default", "prune", sample_app("prune")).await;
    sync_succeeds(&w, "prune", &SyncOptions::default()).await;
    drift_and_sync_back(
        &w,
        "prune",
        &key("", "ConfigMap", "default", "keep"),
        &api(&w.client, "", "v1", "ConfigMap", "default"),
        json!({"data": {"greeting": "by hand"}}),
        &["-greeting: by hand", "+greeting: hello"],
    )
    .await;
}

#[tokio::test]
async fn a_crd_and_its_custom_resources_sync_together() {
    let w = world_with("widgets", "default", "crd", sample_app("crd")).await;
    let status = w.engine.status("widgets").await.unwrap();
    assert!(
        status.error.is_none(),
        "the kind comes from the app's own CRD: {:?}",
        status.error
    );
    let states: Vec<_> = status
        .resources
        .iter()
        .map(|r| (r.key.kind.as_str(), r.status))
        .collect();
    assert_eq!(
        states,
        [
            ("CustomResourceDefinition", ResourceSync::Missing),
            ("Widget", ResourceSync::Missing),
            ("Widget", ResourceSync::Missing)
        ]
    );
    assert_eq!(
        status.health,
        Some(HealthStatus::Missing),
        "nothing is live yet"
    );
    sync_succeeds(&w, "widgets", &SyncOptions::default()).await;
    let widgets = api(&w.client, "example.com", "v1", "Widget", "default");
    let sprocket = widgets.get("sprocket").await.unwrap();
    assert_eq!(sprocket.data["spec"]["size"], 3);
    let synced = w.engine.status("widgets").await.unwrap();
    assert_eq!(synced.sync, SyncStatus::Synced);
    assert_eq!(
        synced.health,
        Some(HealthStatus::Healthy),
        "{:?}",
        synced.resources
    );
    let crd = &synced.resources[0];
    assert_eq!(
        crd.health.as_ref().map(|h| h.status),
        Some(HealthStatus::Healthy)
    );
    assert_eq!(
        synced.resources[1].health, None,
        "a Widget has no health rule"
    );

    drift_and_sync_back(
        &w,
        "widgets",
        &key("example.com", "Widget", "default", "sprocket"),
        &widgets,
        json!({"spec": {"size": 4}}),
        &["-size: 4", "+size: 3"],
    )
    .await;
}

#[tokio::test]
async fn selective_sync_applies_only_the_chosen_resources_and_runs_no_hooks() {
    let w = world_with("hooks", "default", "hooks", sample_app("hooks")).await;
    let settings = key("", "ConfigMap", "default", "settings");
    let only = SyncOptions {
        resources: vec![settings.clone()],
        ..Default::default()
    };
    let result = sync_succeeds(&w, "hooks", &only).await;
    let touched: Vec<_> = result.results.iter().map(|r| &r.key).collect();
    assert_eq!(touched, [&settings]);
    assert!(
        api(&w.client, "", "v1", "ConfigMap", "default")
            .get_opt("settings")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        api(&w.client, "apps", "v1", "Deployment", "default")
            .get_opt("web")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        api(&w.client, "batch", "v1", "Job", "default")
            .get_opt("migrate")
            .await
            .unwrap()
            .is_none()
    );

    let unknown = SyncOptions {
        resources: vec![key("", "ConfigMap", "default", "nope")],
        ..Default::default()
    };
    let e = w
        .engine
        .sync("hooks", &unknown, None, &|_| {})
        .await
        .unwrap_err();
    assert!(e.to_string().contains("ConfigMap default/nope"), "{e}");
}

#[tokio::test]
async fn a_dry_run_changes_nothing_and_keeps_no_history() {
    let w = world_with("waves", "default", "waves", sample_app("waves")).await;
    let dry = SyncOptions {
        dry_run: true,
        ..Default::default()
    };
    let result = sync_succeeds(&w, "waves", &dry).await;
    assert!(
        result.message.contains("5 of 5 resources would change"),
        "{}",
        result.message
    );
    assert!(
        api(&w.client, "", "v1", "ConfigMap", "default")
            .get_opt("settings")
            .await
            .unwrap()
            .is_none()
    );
    assert!(w.engine.history("waves").unwrap().is_empty());
}

#[tokio::test]
async fn the_destination_namespace_is_created_only_when_asked() {
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: b\n";
    let w = world_with("fresh", "fresh", "", vec![file("cm.yaml", cm)]).await;
    let refused = w
        .engine
        .sync("fresh", &SyncOptions::default(), None, &|_| {})
        .await
        .unwrap();
    assert_eq!(refused.phase, OperationPhase::Failed);
    assert_eq!(refused.missing_namespace.as_deref(), Some("fresh"));
    assert!(
        refused.message.starts_with(
            "the namespace \"fresh\" does not exist on context \"sandbox\"; nothing was changed. Sync with Create namespace"
        ),
        "{}",
        refused.message
    );
    let unasked = w
        .engine
        .plan("fresh", &SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(unasked.missing_namespace.as_deref(), Some("fresh"));

    let create = SyncOptions {
        create_namespace: true,
        ..Default::default()
    };
    let plan = w.engine.plan("fresh", &create).await.unwrap();
    assert_eq!(
        plan.steps
            .iter()
            .map(|s| (s.key.kind.as_str(), s.action))
            .collect::<Vec<_>>(),
        [
            ("Namespace", SyncAction::Create),
            ("ConfigMap", SyncAction::Create)
        ]
    );
    sync_succeeds(&w, "fresh", &create).await;
    assert!(
        api(&w.client, "", "v1", "ConfigMap", "fresh")
            .get_opt("settings")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        w.engine.status("fresh").await.unwrap().sync,
        SyncStatus::Synced
    );
}

#[tokio::test]
async fn create_namespace_in_the_sync_policy_makes_every_sync_create_it() {
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: b\n";
    let w = world_with("fresh", "by-policy", "", vec![file("cm.yaml", cm)]).await;
    let mut app = w.engine.apps().get("fresh").unwrap();
    app.sync_policy.create_namespace = true;
    w.engine.apps().update(app).unwrap();
    let plan = w
        .engine
        .plan("fresh", &SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(plan.missing_namespace, None);
    assert!(plan.options.create_namespace);
    let result = sync_succeeds(&w, "fresh", &SyncOptions::default()).await;
    assert_eq!(result.missing_namespace, None);
    let history = w.engine.history("fresh").unwrap();
    assert!(
        history[0].options.create_namespace,
        "the history says how it ran"
    );
    assert!(
        api(&w.client, "", "v1", "Namespace", "")
            .get_opt("by-policy")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn ignore_rules_keep_hand_edits_by_a_named_manager_out_of_the_status() {
    let w = world_with("waves", "default", "waves", sample_app("waves")).await;
    let mut app = w.engine.apps().get("waves").unwrap();
    app.ignore = vec![
        plumbline_core::diff::IgnoreRule {
            group: "apps".into(),
            kind: "Deployment".into(),
            managed_fields_managers: vec!["kubectl-patch".into()],
            ..Default::default()
        },
        plumbline_core::diff::IgnoreRule {
            kind: "ConfigMap".into(),
            json_pointers: vec!["/data/greeting".into()],
            ..Default::default()
        },
    ];
    w.engine.apps().update(app).unwrap();
    sync_succeeds(&w, "waves", &SyncOptions::default()).await;

    let deployments = api(&w.client, "apps", "v1", "Deployment", "default");
    world::patch_by_hand(&deployments, "web", json!({"spec": {"replicas": 5}})).await;
    let configmaps = api(&w.client, "", "v1", "ConfigMap", "default");
    world::patch_by_hand(&configmaps, "settings", json!({"data": {"greeting": "hi"}})).await;
    let status = w.engine.status("waves").await.unwrap();
    assert_eq!(status.sync, SyncStatus::Synced, "{:?}", status.resources);
    let diff = w
        .engine
        .diff("waves", &key("apps", "Deployment", "default", "web"))
        .await
        .unwrap();
    assert!(
        !diff.live.contains("replicas") && !diff.desired.contains("replicas"),
        "{}",
        diff.live
    );

    // A change by another manager still shows.
    let params = kube::api::PatchParams {
        field_manager: Some("kubectl-edit".into()),
        ..Default::default()
    };
    deployments
        .patch(
            "db",
            &params,
            &kube::api::Patch::Merge(json!({"spec": {"replicas": 3}})),
        )
        .await
        .unwrap();
    let status = w.engine.status("waves").await.unwrap();
    let db = status
        .resources
        .iter()
        .find(|r| r.key.name == "db")
        .unwrap();
    assert_eq!(db.status, ResourceSync::OutOfSync);
}

/// The names of the Jobs in `namespace` that start with `prefix`.
async fn jobs_named(client: &kube::Client, namespace: &str, prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = api(client, "batch", "v1", "Job", namespace)
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|j| j.metadata.name)
        .filter(|n| n.starts_with(prefix))
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn generate_name_hooks_run_in_their_waves_under_the_servers_names() {
    let w = world_with(
        "migrations",
        "default",
        "generate-name-hooks",
        sample_app("generate-name-hooks"),
    )
    .await;
    let plan = w
        .engine
        .plan("migrations", &SyncOptions::default())
        .await
        .unwrap();
    let steps: Vec<_> = plan
        .steps
        .iter()
        .map(|s| {
            (
                s.phase,
                s.wave,
                s.key.name.as_str(),
                s.action,
                s.generate_name,
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            (
                SyncPhase::PreSync,
                -1,
                "upgrade-sql-schema-",
                SyncAction::Create,
                true
            ),
            (
                SyncPhase::PreSync,
                1,
                "seed-data-",
                SyncAction::Create,
                true
            ),
            (SyncPhase::Sync, 0, "settings", SyncAction::Create, false),
            (SyncPhase::Sync, 0, "api", SyncAction::Create, false),
            (
                SyncPhase::PostSync,
                0,
                "smoke-test-",
                SyncAction::Create,
                true
            ),
        ]
    );
    let status = w.engine.status("migrations").await.unwrap();
    assert_eq!(status.resources.len(), 2, "hooks are not compared");

    let (first, labels) = sync_in_order(&w, "migrations").await;
    assert!(
        position(&labels, "wait Job/upgrade-sql-schema-")
            < position(&labels, "apply Job/seed-data-")
            && position(&labels, "wait Job/seed-data-")
                < position(&labels, "apply ConfigMap/settings")
            && position(&labels, "wait ConfigMap/settings,Deployment/api")
                < position(&labels, "apply Job/smoke-test-"),
        "{labels:?}"
    );
    let upgrade = jobs_named(&w.client, "default", "upgrade-sql-schema-").await;
    assert_eq!(upgrade.len(), 1, "{upgrade:?}");
    assert!(upgrade[0].len() > "upgrade-sql-schema-".len());
    let outcome = first
        .results
        .iter()
        .find(|r| r.key.name == "upgrade-sql-schema-")
        .unwrap();
    assert_eq!(
        outcome.message,
        format!(
            "created {}; hook finished: Reached expected number of succeeded pods",
            upgrade[0]
        )
    );
    assert!(
        first.log.iter().any(|l| l.ends_with(&format!(
            "waiting for the hooks to finish: Job.batch default/{}",
            upgrade[0]
        ))),
        "{:?}",
        first.log
    );
    assert!(
        jobs_named(&w.client, "default", "seed-data-")
            .await
            .is_empty(),
        "HookSucceeded deleted the seed run"
    );
    assert_eq!(
        jobs_named(&w.client, "default", "smoke-test-").await.len(),
        1
    );
    assert_eq!(
        w.engine.status("migrations").await.unwrap().sync,
        SyncStatus::Synced,
        "earlier hook runs never count as drift or as needing pruning"
    );

    let configmaps = api(&w.client, "", "v1", "ConfigMap", "default");
    drift_and_sync_back(
        &w,
        "migrations",
        &key("", "ConfigMap", "default", "settings"),
        &configmaps,
        json!({"data": {"schema": "v1"}}),
        &["-schema: v1", "+schema: v2"],
    )
    .await;
    // BeforeHookCreation: each hook's earlier run made way for this sync's.
    let again = jobs_named(&w.client, "default", "upgrade-sql-schema-").await;
    assert_eq!(again.len(), 1, "{again:?}");
    assert_ne!(again, upgrade, "a new run under a new name");
    assert_eq!(
        jobs_named(&w.client, "default", "smoke-test-").await.len(),
        1
    );
}

#[tokio::test]
async fn a_hook_that_never_finishes_is_named_and_given_up_on_at_the_timeout() {
    let files = vec![file(
        "stuck/hook.yaml",
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: wait-for-db-\n  annotations:\n    argocd.argoproj.io/hook: PreSync\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - {name: wait, image: registry.example/doesnotexist:1}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: after}\ndata: {a: b}\n",
    )];
    let w = world_with("stuck", "default", "stuck", files).await;
    let options = SyncOptions {
        timeout: Some(2),
        ..Default::default()
    };
    let result = w
        .engine
        .sync("stuck", &options, None, &|_| {})
        .await
        .unwrap();
    assert_eq!(result.phase, OperationPhase::Failed, "{result:?}");
    let created = jobs_named(&w.client, "default", "wait-for-db-").await;
    assert_eq!(created.len(), 1);
    let hook = result
        .results
        .iter()
        .find(|r| r.key.name == "wait-for-db-")
        .unwrap();
    assert_eq!(hook.status, ResultStatus::SyncFailed);
    assert!(
        hook.message.contains(&format!(
            "gave up waiting for the hook {} within 2s: still Progressing",
            created[0]
        )),
        "{}",
        hook.message
    );
    assert!(
        result.log.iter().any(|l| l.contains(&format!(
            "waiting for the hooks to finish: Job.batch default/{}",
            created[0]
        ))),
        "{:?}",
        result.log
    );
    let after = result
        .results
        .iter()
        .find(|r| r.key.name == "after")
        .unwrap();
    assert_eq!(after.status, ResultStatus::Skipped);
    assert!(
        api(&w.client, "", "v1", "ConfigMap", "default")
            .get_opt("after")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn names_and_hook_phases_that_cannot_work_are_refused_with_their_file() {
    let cases = [
        (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  generateName: web-\nspec: {}\n",
            "bad/app.yaml: Deployment web-… has generateName but no name: only hooks may leave their name to the server",
        ),
        (
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations:\n    helm.sh/hook: pre-instal\nspec: {}\n",
            "bad/app.yaml: Job migrate: helm.sh/hook: \"pre-instal\" is not a Helm hook event",
        ),
        (
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: migrate-\n  annotations:\n    argocd.argoproj.io/hook: PreSynk\nspec: {}\n",
            "bad/app.yaml: Job migrate-…: argocd.argoproj.io/hook: \"PreSynk\" is not a hook phase",
        ),
    ];
    for (manifest, expected) in cases {
        let files = vec![
            file(
                "bad/good.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine}\n",
            ),
            file("bad/app.yaml", manifest),
        ];
        let w = world_with("bad", "default", "bad", files).await;
        let status = w.engine.status("bad").await.unwrap();
        assert_eq!(status.sync, SyncStatus::Unknown);
        let error = status.error.unwrap().message;
        assert!(error.starts_with(expected), "{error}");
        assert!(
            w.engine
                .sync("bad", &SyncOptions::default(), None, &|_| {})
                .await
                .is_err()
        );
        assert!(
            api(&w.client, "", "v1", "ConfigMap", "default")
                .get_opt("fine")
                .await
                .unwrap()
                .is_none(),
            "nothing applied"
        );
    }
}

#[tokio::test]
async fn a_helm_charts_hooks_run_as_argo_cd_maps_them() {
    let w = world_with("shop", "default", "helm-hooks", sample_app("helm-hooks")).await;
    let plan = w
        .engine
        .plan("shop", &SyncOptions::default())
        .await
        .unwrap();
    let steps: Vec<_> = plan
        .steps
        .iter()
        .map(|s| {
            (
                s.phase,
                s.wave,
                s.key.kind.as_str(),
                s.key.name.as_str(),
                s.generate_name,
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            (SyncPhase::PreSync, -5, "Job", "shop-db-migrate-", true),
            (SyncPhase::Sync, 0, "ConfigMap", "shop-settings", false),
            (SyncPhase::Sync, 0, "Deployment", "shop-web", false),
            (SyncPhase::PostSync, 0, "Job", "shop-notify", false),
        ],
        "the test Pod is never run"
    );
    let status = w.engine.status("shop").await.unwrap();
    assert!(
        status
            .notes
            .iter()
            .any(|n| n.contains("Pod shop-test-connection is skipped")),
        "{:?}",
        status.notes
    );

    let first = sync_succeeds(&w, "shop", &SyncOptions::default()).await;
    assert!(
        jobs_named(&w.client, "default", "shop-db-migrate-")
            .await
            .is_empty(),
        "hook-succeeded: {first:?}"
    );
    let jobs = api(&w.client, "batch", "v1", "Job", "default");
    let notify = jobs.get("shop-notify").await.unwrap();
    assert!(
        api(&w.client, "", "v1", "Pod", "default")
            .get_opt("shop-test-connection")
            .await
            .unwrap()
            .is_none()
    );

    let deployments = api(&w.client, "apps", "v1", "Deployment", "default");
    drift_and_sync_back(
        &w,
        "shop",
        &key("apps", "Deployment", "default", "shop-web"),
        &deployments,
        json!({"spec": {"replicas": 4}}),
        &["-replicas: 4", "+replicas: 2"],
    )
    .await;
    let again = jobs.get("shop-notify").await.unwrap();
    assert_ne!(
        notify.metadata.uid, again.metadata.uid,
        "before-hook-creation replaced it"
    );
}

#[tokio::test]
async fn a_kustomize_overlay_with_a_name_prefix_and_hooks_syncs_and_comes_back() {
    let w = world_with(
        "shop",
        "default",
        "kustomize-hooks",
        sample_app("kustomize-hooks"),
    )
    .await;
    let plan = w
        .engine
        .plan("shop", &SyncOptions::default())
        .await
        .unwrap();
    let steps: Vec<_> = plan
        .steps
        .iter()
        .map(|s| (s.phase, s.key.kind.as_str(), s.key.name.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            (SyncPhase::PreSync, "Job", "shop-migrate"),
            (SyncPhase::Sync, "ConfigMap", "shop-settings-k6cm94h6ch"),
            (SyncPhase::Sync, "Service", "shop-web"),
            (SyncPhase::Sync, "Deployment", "shop-web"),
            (SyncPhase::PostSync, "Job", "shop-smoke"),
        ]
    );
    let first = sync_succeeds(&w, "shop", &SyncOptions::default()).await;
    let web = first
        .results
        .iter()
        .find(|r| r.key.kind == "Deployment")
        .unwrap();
    assert!(web.message.contains("healthy"), "{web:?}");
    let jobs = api(&w.client, "batch", "v1", "Job", "default");
    let migrate = jobs.get("shop-migrate").await.unwrap();
    assert!(
        jobs.get_opt("shop-smoke").await.unwrap().is_none(),
        "HookSucceeded"
    );

    let services = api(&w.client, "", "v1", "Service", "default");
    drift_and_sync_back(
        &w,
        "shop",
        &key("", "Service", "default", "shop-web"),
        &services,
        json!({"spec": {"selector": {"team": "other"}}}),
        &["-team: other", "+team: shop"],
    )
    .await;
    assert_ne!(
        migrate.metadata.uid,
        jobs.get("shop-migrate").await.unwrap().metadata.uid,
        "BeforeHookCreation replaced the PreSync Job"
    );
    let exports: Vec<_> = std::fs::read_dir(w._dir.path().join("exports"))
        .unwrap()
        .collect();
    assert!(
        exports.is_empty(),
        "nothing of the commit stays on disk: {exports:?}"
    );
}

#[tokio::test]
async fn a_kustomization_that_reaches_out_of_the_repository_is_refused() {
    let files = vec![
        file(
            "apps/web/kustomization.yaml",
            "resources:\n- cm.yaml\n- ../../../../..\n",
        ),
        file(
            "apps/web/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n",
        ),
    ];
    let w = world_with("web", "default", "apps/web", files).await;
    let status = w.engine.status("web").await.unwrap();
    assert_eq!(status.sync, SyncStatus::Unknown);
    assert_eq!(
        status.error.unwrap().message,
        "apps/web/kustomization.yaml: \"../../../../..\" is outside the repository: Plumbline renders only what the repository holds"
    );
    assert!(
        w.engine
            .sync("web", &SyncOptions::default(), None, &|_| {})
            .await
            .is_err()
    );
}

#[tokio::test]
async fn the_leftovers_of_kinds_and_namespaces_no_longer_in_git_need_pruning() {
    let files = sample_app("leftovers");
    let kept: Vec<_> = files
        .iter()
        .filter(|(p, _)| p.ends_with("settings.yaml"))
        .cloned()
        .collect();
    let (w, ids) = world_with_history(
        "leftovers",
        "default",
        "leftovers",
        &[("everything", files), ("only the settings", kept)],
    )
    .await;
    let mut app = w.engine.apps().get("leftovers").unwrap();
    app.revision = ids[0].clone();
    w.engine.apps().update(app.clone()).unwrap();
    sync_succeeds(&w, "leftovers", &SyncOptions::default()).await;

    // Git drops the only Service, and everything in the namespace "reports".
    app.revision = "main".into();
    w.engine.apps().update(app).unwrap();
    let status = w.engine.status("leftovers").await.unwrap();
    assert_eq!(status.sync, SyncStatus::OutOfSync, "{:?}", status.resources);
    let mut prunable: Vec<String> = status
        .resources
        .iter()
        .filter(|r| r.status == ResourceSync::RequiresPruning)
        .map(|r| r.key.to_string())
        .collect();
    prunable.sort();
    assert_eq!(
        prunable,
        [
            "CronJob.batch reports/nightly",
            "Namespace reports",
            "Service default/web"
        ]
    );

    let prune = SyncOptions {
        prune: true,
        ..Default::default()
    };
    let plan = w.engine.plan("leftovers", &prune).await.unwrap();
    let pruned: Vec<String> = plan
        .steps
        .iter()
        .filter(|s| s.action == SyncAction::Prune)
        .map(|s| s.key.to_string())
        .collect();
    assert_eq!(
        pruned,
        [
            "CronJob.batch reports/nightly",
            "Service default/web",
            "Namespace reports"
        ],
        "in reverse order: the namespace last"
    );
    // A Namespace takes its time to empty on a cluster: the sync waits until it is gone.
    sync_succeeds(&w, "leftovers", &prune).await;
    assert!(
        api(&w.client, "", "v1", "Namespace", "")
            .get_opt("reports")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        api(&w.client, "", "v1", "Service", "default")
            .get_opt("web")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        api(&w.client, "batch", "v1", "CronJob", "reports")
            .get_opt("nightly")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        w.engine.status("leftovers").await.unwrap().sync,
        SyncStatus::Synced
    );

    let configmaps = api(&w.client, "", "v1", "ConfigMap", "default");
    drift_and_sync_back(
        &w,
        "leftovers",
        &key("", "ConfigMap", "default", "settings"),
        &configmaps,
        json!({"data": {"greeting": "hi"}}),
        &["-greeting: hi", "+greeting: hello"],
    )
    .await;
}

#[tokio::test]
async fn an_aggregated_cluster_roles_rules_are_its_controllers() {
    let w = world_with("rbac", "default", "rbac", sample_app("rbac")).await;
    sync_succeeds(&w, "rbac", &SyncOptions::default()).await;
    let roles = api(
        &w.client,
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "",
    );
    // The controller fills the aggregated role; that is not drift.
    for _ in 0..50 {
        let role = roles.get("shop-monitoring").await.unwrap();
        if role
            .data
            .get("rules")
            .and_then(|r| r.as_array())
            .is_some_and(|r| !r.is_empty())
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let status = w.engine.status("rbac").await.unwrap();
    assert_eq!(status.sync, SyncStatus::Synced, "{:?}", status.resources);
    drift_and_sync_back(
        &w,
        "rbac",
        &key("rbac.authorization.k8s.io", "ClusterRole", "", "shop-monitoring-pods"),
        &roles,
        json!({"rules": [{"apiGroups": [""], "resources": ["pods", "services"], "verbs": ["get", "list", "watch", "delete"]}]}),
        &["-- delete"],
    )
    .await;
}

#[tokio::test]
async fn a_secret_from_string_data_compares_by_value_and_never_shows_one() {
    let w = world_with("secrets", "default", "secrets", sample_app("secrets")).await;
    sync_succeeds(&w, "secrets", &SyncOptions::default()).await;
    assert_eq!(
        w.engine.status("secrets").await.unwrap().sync,
        SyncStatus::Synced,
        "stringData in Git agrees with the data the server made of it"
    );
    let secrets = api(&w.client, "", "v1", "Secret", "default");
    let secret = key("", "Secret", "default", "db-credentials");
    world::patch_by_hand(
        &secrets,
        "db-credentials",
        json!({"data": {"password": "Y2hhbmdlZC1ieS1oYW5k"}}),
    )
    .await;
    let status = w.engine.status("secrets").await.unwrap();
    assert_eq!(status.sync, SyncStatus::OutOfSync);
    let diff = w.engine.diff("secrets", &secret).await.unwrap();
    let changed: Vec<String> = diff
        .lines
        .iter()
        .filter(|l| l.change != plumbline_core::diff::LineChange::Equal)
        .map(|l| l.text.trim().to_string())
        .collect();
    assert_eq!(
        changed,
        ["password: ++++++++", "password: ++++++++++++"],
        "the value changed; neither shows"
    );
    // Git writes stringData and the hand edit wrote data: no field is contested, so a plain
    // sync takes the value back (as on kube-apiserver, where every write folds stringData).
    sync_succeeds(&w, "secrets", &SyncOptions::default()).await;
    assert_eq!(
        w.engine.status("secrets").await.unwrap().sync,
        SyncStatus::Synced
    );
    let diff = w
        .engine
        .diff("secrets", &key("", "Secret", "default", "db-credentials"))
        .await
        .unwrap();
    for value in [
        "s3cr3t-from-git",
        "czNjcjN0LWZyb20tZ2l0",
        "shop",
        "c2hvcA==",
    ] {
        assert!(
            !diff.live.contains(value) && !diff.desired.contains(value),
            "{value} shown"
        );
    }
}

#[tokio::test]
async fn a_jsonnet_app_renders_with_its_arguments_and_syncs() {
    let w = world_with("guestbook", "default", "jsonnet/app", sample_app("jsonnet")).await;
    let mut app = w.engine.apps().get("guestbook").unwrap();
    app.source.directory.jsonnet = world::jsonnet_options();
    w.engine.apps().update(app.clone()).unwrap();
    let status = w.engine.status("guestbook").await.unwrap();
    let mut keys: Vec<String> = status.resources.iter().map(|r| r.key.to_string()).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "ConfigMap default/guestbook-ui-settings",
            "Deployment.apps default/guestbook-ui",
            "Service default/guestbook-ui"
        ],
        "{:?}",
        status.error
    );
    assert!(
        status
            .resources
            .iter()
            .all(|r| r.file.as_deref() == Some("jsonnet/app/main.jsonnet")),
        "{:?}",
        status.resources
    );
    sync_succeeds(&w, "guestbook", &SyncOptions::default()).await;
    let deployments = api(&w.client, "apps", "v1", "Deployment", "default");
    let live = deployments.get("guestbook-ui").await.unwrap();
    assert_eq!(live.data["spec"]["replicas"], 2, "the code argument 1 + 1");
    assert_eq!(
        live.data["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.29"
    );
    assert_eq!(live.metadata.labels.unwrap()["env"], "staging");
    drift_and_sync_back(
        &w,
        "guestbook",
        &key("apps", "Deployment", "default", "guestbook-ui"),
        &deployments,
        json!({"spec": {"replicas": 5}}),
        &["-replicas: 5", "+replicas: 2"],
    )
    .await;

    // A mistake in the Jsonnet names the file and line, and nothing is applied.
    let broken = "local k = import 'k8s.libsonnet';\nfunction(replicas, image)\n  [k.deployment('web', replicas, 'nginx', std.extVar('env')),\n   k.servise('web')]\n";
    world::commit(&w.repo, "typo", &[file("jsonnet/app/main.jsonnet", broken)]);
    let status = w.engine.status("guestbook").await.unwrap();
    assert_eq!(status.sync, SyncStatus::Unknown);
    let error = status.error.unwrap().message;
    assert_eq!(
        error, "jsonnet/app/main.jsonnet, line 4: field \"servise\" does not exist",
        "{error}"
    );
    assert!(
        w.engine
            .sync("guestbook", &SyncOptions::default(), None, &|_| {})
            .await
            .is_err()
    );
}
