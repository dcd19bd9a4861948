//! The whole loop against a real HTTPS API server (kube-sandbox) and a real Git repository:
//! an app starts OutOfSync, a sync applies it, and it ends Synced with tracked objects.

mod world;
use world::{World, app, cluster, drift_and_sync_back, engine_for, file, tools_path, world_with};

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::discovery::ApiResource;
use plumbline_core::comparison::{ResourceSync, SyncStatus};
use plumbline_core::resources::{ResourceKey, TRACKING_ANNOTATION};
use plumbline_core::sync::{OperationPhase, ResultStatus, SyncEvent};
use plumbline_core::{Engine, repos};
use serde_json::json;
use std::path::Path;
use std::sync::Mutex;

const CONFIGMAP: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  greeting: hello\n";
const APP: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {app: web}\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n        ports:\n        - containerPort: 80\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports:\n  - port: 80\n";

async fn world() -> World {
    let files = vec![
        file("apps/guestbook/config.yaml", CONFIGMAP),
        file("apps/guestbook/nested/web.yaml", APP),
    ];
    world_with("guestbook", "default", "apps/guestbook", files).await
}

fn key(group: &str, kind: &str, name: &str) -> ResourceKey {
    ResourceKey {
        group: group.into(),
        kind: kind.into(),
        namespace: "default".into(),
        name: name.into(),
    }
}

#[tokio::test]
async fn out_of_sync_app_syncs_and_becomes_synced() {
    let w = world().await;

    let before = w.engine.status("guestbook").await.unwrap();
    assert!(before.error.is_none(), "{:?}", before.error);
    assert_eq!(before.sync, SyncStatus::OutOfSync);
    let statuses: Vec<_> = before
        .resources
        .iter()
        .map(|r| (r.key.kind.as_str(), r.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("ConfigMap", ResourceSync::Missing),
            ("Service", ResourceSync::Missing),
            ("Deployment", ResourceSync::Missing)
        ],
        "resources are listed in sync order"
    );

    let events = Mutex::new(Vec::new());
    let result = w
        .engine
        .sync("guestbook", &Default::default(), None, &|e| {
            events.lock().unwrap().push(e)
        })
        .await
        .unwrap();
    assert_eq!(result.phase, OperationPhase::Succeeded, "{result:?}");
    assert!(
        result
            .results
            .iter()
            .all(|r| r.status == ResultStatus::Synced)
    );
    let applied: Vec<_> = events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            SyncEvent::Applying { key } => Some(key.kind.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(applied, ["ConfigMap", "Service", "Deployment"]);

    let after = w.engine.status("guestbook").await.unwrap();
    assert_eq!(after.sync, SyncStatus::Synced, "{:?}", after.resources);

    let deployments: Api<DynamicObject> = Api::namespaced_with(
        w.client.clone(),
        "default",
        &ApiResource::from_gvk(&kube::core::GroupVersionKind::gvk(
            "apps",
            "v1",
            "Deployment",
        )),
    );
    let web = deployments.get("web").await.unwrap();
    let annotations = web.metadata.annotations.unwrap_or_default();
    assert_eq!(
        annotations.get(TRACKING_ANNOTATION).map(String::as_str),
        Some("guestbook:apps/Deployment:default/web")
    );
    let managers: Vec<_> = web
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert!(managers.iter().any(|m| m == "plumbline"), "{managers:?}");
}

#[tokio::test]
async fn drift_in_the_cluster_shows_as_a_diff() {
    let w = world().await;
    w.engine
        .sync("guestbook", &Default::default(), None, &|_| {})
        .await
        .unwrap();

    // Someone edits the ConfigMap by hand; the field now belongs to another manager.
    let configmaps: Api<DynamicObject> = Api::namespaced_with(
        w.client.clone(),
        "default",
        &ApiResource::from_gvk(&kube::core::GroupVersionKind::gvk("", "v1", "ConfigMap")),
    );
    let patch = json!({"data": {"greeting": "changed by hand"}});
    configmaps
        .patch("settings", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();

    let status = w.engine.status("guestbook").await.unwrap();
    assert_eq!(status.sync, SyncStatus::OutOfSync);
    let cm = status
        .resources
        .iter()
        .find(|r| r.key.kind == "ConfigMap")
        .unwrap();
    assert_eq!(cm.status, ResourceSync::OutOfSync);

    let diff = w
        .engine
        .diff("guestbook", &key("", "ConfigMap", "settings"))
        .await
        .unwrap();
    let changed: Vec<_> = diff
        .lines
        .iter()
        .filter(|l| l.change != plumbline_core::diff::LineChange::Equal)
        .map(|l| l.text.trim())
        .collect();
    assert!(
        changed.contains(&"greeting: changed by hand"),
        "{changed:?}"
    );
    assert!(changed.contains(&"greeting: hello"), "{changed:?}");
    assert!(!diff.live.contains("managedFields") && !diff.live.contains("resourceVersion"));
}

#[tokio::test]
async fn unreachable_cluster_makes_the_app_unknown_with_a_reason() {
    let w = world().await;
    drop(w.cluster);
    let status = w.engine.status("guestbook").await.unwrap();
    assert_eq!(status.sync, SyncStatus::Unknown);
    let error = status.error.expect("the reason is shown");
    assert!(
        error.message.contains("sandbox"),
        "names the context: {}",
        error.message
    );
}

#[tokio::test]
async fn the_unreachable_message_says_why() {
    let w = world().await;
    drop(w.cluster);
    let error = w.engine.status("guestbook").await.unwrap().error.unwrap();
    assert_eq!(error.code, plumbline_core::ipc::ErrorCode::Cluster);
    assert!(
        error.message.to_lowercase().contains("connection refused"),
        "root cause is shown: {}",
        error.message
    );
}

#[tokio::test]
async fn a_namespace_created_by_the_sync_comes_first_and_its_contents_follow() {
    let ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n";
    let w = world_with(
        "shop",
        "shop",
        "",
        vec![file("cm.yaml", CONFIGMAP), file("ns.yaml", ns)],
    )
    .await;
    let engine = &w.engine;
    let result = engine
        .sync("shop", &Default::default(), None, &|_| {})
        .await
        .unwrap();
    assert_eq!(result.phase, OperationPhase::Succeeded, "{result:?}");
    let kinds: Vec<_> = result.results.iter().map(|r| r.key.kind.as_str()).collect();
    assert_eq!(kinds, ["Namespace", "ConfigMap"]);
    assert_eq!(
        engine.status("shop").await.unwrap().sync,
        SyncStatus::Synced
    );
}

#[tokio::test]
async fn bad_yaml_and_a_missing_repository_are_named_and_other_apps_keep_working() {
    let w = world().await;
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken");
    let bad = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n";
    repos::create_with_history(&broken, &[("oops", vec![file("app/bad.yaml", bad)])]).unwrap();
    w.engine
        .apps()
        .add(app("broken", &broken, "app", "default"))
        .unwrap();
    let nowhere = dir.path().join("nowhere");
    w.engine
        .apps()
        .add(app("gone", &nowhere, "app", "default"))
        .unwrap();

    let broken_status = w.engine.status("broken").await.unwrap();
    assert_eq!(broken_status.sync, SyncStatus::Unknown);
    let error = broken_status.error.unwrap();
    assert_eq!(error.code, plumbline_core::ipc::ErrorCode::Manifest);
    assert!(
        error.message.starts_with("app/bad.yaml, line "),
        "names file and line: {}",
        error.message
    );

    let gone = w.engine.status("gone").await.unwrap().error.unwrap();
    assert_eq!(gone.code, plumbline_core::ipc::ErrorCode::Repository);
    assert!(
        gone.message.contains("nowhere"),
        "names the path: {}",
        gone.message
    );

    assert_eq!(
        w.engine.status("guestbook").await.unwrap().sync,
        SyncStatus::OutOfSync
    );
    assert!(
        w.engine
            .sync("broken", &Default::default(), None, &|_| {})
            .await
            .is_err(),
        "a broken app does not sync"
    );
}

#[tokio::test]
async fn a_protected_context_syncs_only_when_its_name_is_typed() {
    use plumbline_core::EngineError;
    let w = world().await;
    w.engine.protect_context("sandbox", true).unwrap();
    let listed = w.engine.contexts();
    assert!(
        listed
            .contexts
            .iter()
            .any(|c| c.name == "sandbox" && c.protected)
    );

    for confirmation in [None, Some("prod"), Some("Sandbox")] {
        let refused = w
            .engine
            .sync("guestbook", &Default::default(), confirmation, &|_| {})
            .await;
        assert!(
            matches!(refused, Err(EngineError::ConfirmationRequired { ref context, .. }) if context == "sandbox"),
            "{confirmation:?}: {refused:?}"
        );
    }
    let configmaps: Api<DynamicObject> = Api::namespaced_with(
        w.client.clone(),
        "default",
        &ApiResource::from_gvk(&kube::core::GroupVersionKind::gvk("", "v1", "ConfigMap")),
    );
    assert!(
        configmaps.get_opt("settings").await.unwrap().is_none(),
        "nothing was applied"
    );
    let result = w
        .engine
        .sync("guestbook", &Default::default(), Some("sandbox"), &|_| {})
        .await
        .unwrap();
    assert_eq!(
        result.phase,
        OperationPhase::Succeeded,
        "{}",
        result.message
    );

    w.engine.protect_context("sandbox", false).unwrap();
    w.engine
        .sync("guestbook", &Default::default(), None, &|_| {})
        .await
        .unwrap();
}

#[tokio::test]
async fn namespaces_are_listed_and_contexts_show_their_state() {
    use plumbline_core::clusters::ContextState;
    let w = world().await;
    let state = |engine: &Engine| {
        engine
            .contexts()
            .contexts
            .into_iter()
            .find(|c| c.name == "sandbox")
            .unwrap()
            .state
    };
    assert_eq!(state(&w.engine), ContextState::NotConnected);
    let namespaces = w.engine.namespaces("sandbox").await.unwrap();
    assert!(
        namespaces.contains(&"default".to_string())
            && namespaces.contains(&"kube-system".to_string()),
        "{namespaces:?}"
    );
    let probed = w.engine.probe_context("sandbox").await;
    assert!(
        matches!(probed, ContextState::Connected { .. }),
        "{probed:?}"
    );
    assert_eq!(state(&w.engine), probed);
}

async fn configmap_data(client: &kube::Client, namespace: &str, name: &str) -> serde_json::Value {
    let api: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        namespace,
        &ApiResource::from_gvk(&kube::core::GroupVersionKind::gvk("", "v1", "ConfigMap")),
    );
    api.get(name).await.unwrap().data["data"].clone()
}

#[tokio::test]
async fn a_kustomize_overlay_is_rendered_with_its_base_and_synced() {
    let files = vec![
        file("base/kustomization.yaml", "resources: [settings.yaml]\n"),
        file("base/settings.yaml", CONFIGMAP),
        file(
            "overlays/dev/kustomization.yaml",
            "resources: [../../base]\nnamePrefix: dev-\nconfigMapGenerator: []\npatches:\n- patch: |-\n    apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: settings}\n    data: {greeting: hello from dev}\n",
        ),
    ];
    let w = world_with("guestbook", "default", "overlays/dev", files).await;
    let status = w.engine.status("guestbook").await.unwrap();
    assert_eq!(status.sync, SyncStatus::OutOfSync, "{:?}", status.error);
    let names: Vec<&str> = status
        .resources
        .iter()
        .map(|r| r.key.name.as_str())
        .collect();
    assert_eq!(names, ["dev-settings"]);
    assert_eq!(
        status.resources[0].file.as_deref(),
        Some("overlays/dev (kustomize)")
    );
    w.engine
        .sync("guestbook", &Default::default(), None, &|_| {})
        .await
        .unwrap();
    let data = configmap_data(&w.client, "default", "dev-settings").await;
    assert_eq!(data["greeting"], "hello from dev");
    assert_eq!(
        w.engine.status("guestbook").await.unwrap().sync,
        SyncStatus::Synced
    );
    drift_and_sync_back(
        &w,
        "guestbook",
        &key("", "ConfigMap", "dev-settings"),
        &world::api(&w.client, "", "v1", "ConfigMap", "default"),
        json!({"data": {"greeting": "edited"}}),
        &["-greeting: edited", "+greeting: hello from dev"],
    )
    .await;
}

#[tokio::test]
async fn a_helm_chart_is_rendered_with_values_files_and_inline_values() {
    let files = vec![
        file(
            "chart/Chart.yaml",
            "apiVersion: v2\nname: guestbook\nversion: 0.1.0\n",
        ),
        file("chart/values.yaml", "greeting: hello\nmode: slow\n"),
        file("chart/values-prod.yaml", "greeting: hello from prod\n"),
        file(
            "chart/templates/settings.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-settings\ndata:\n  greeting: {{ .Values.greeting | quote }}\n  mode: {{ .Values.mode | quote }}\n  namespace: {{ .Release.Namespace | quote }}\n",
        ),
    ];
    let w = world_with("guestbook", "default", "chart", files).await;
    let mut app = w.engine.apps().get("guestbook").unwrap();
    app.source.helm.values_files = vec!["values-prod.yaml".into()];
    app.source.helm.values = "mode: fast\n".into();
    w.engine.apps().update(app).unwrap();

    let status = w.engine.status("guestbook").await.unwrap();
    assert_eq!(status.sync, SyncStatus::OutOfSync, "{:?}", status.error);
    assert_eq!(status.resources[0].key.name, "guestbook-settings");
    w.engine
        .sync("guestbook", &Default::default(), None, &|_| {})
        .await
        .unwrap();
    let data = configmap_data(&w.client, "default", "guestbook-settings").await;
    assert_eq!(data["greeting"], "hello from prod");
    assert_eq!(data["mode"], "fast");
    assert_eq!(data["namespace"], "default");
    drift_and_sync_back(
        &w,
        "guestbook",
        &key("", "ConfigMap", "guestbook-settings"),
        &world::api(&w.client, "", "v1", "ConfigMap", "default"),
        json!({"data": {"mode": "slow"}}),
        &["-mode: slow", "+mode: fast"],
    )
    .await;
}

#[tokio::test]
async fn a_missing_tool_and_a_broken_template_are_named() {
    let files = vec![
        file(
            "chart/Chart.yaml",
            "apiVersion: v2\nname: broken\nversion: 0.1.0\n",
        ),
        file(
            "chart/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.nope.deeper }}\n",
        ),
    ];
    let w = world_with("guestbook", "default", "chart", files).await;
    let status = w.engine.status("guestbook").await.unwrap();
    let error = status.error.expect("the template fails");
    assert!(
        error.message.contains("helm template") && error.message.contains("cm.yaml"),
        "{}",
        error.message
    );

    // Without Helm on the PATH the app says which tool and how to get it.
    let (_cluster, dir, kubeconfig) = cluster().await;
    let repo = dir.path().join("repo");
    repos::create_with_history(
        &repo,
        &[(
            "chart",
            vec![file(
                "chart/Chart.yaml",
                "apiVersion: v2\nname: c\nversion: 0.1.0\n",
            )],
        )],
    )
    .unwrap();
    let engine = engine_for(&kubeconfig, dir.path(), "/nonexistent".into());
    engine
        .apps()
        .add(app("c", &repo, "chart", "default"))
        .unwrap();
    let error = engine.status("c").await.unwrap().error.expect("no helm");
    assert!(error.message.contains("needs `helm`"), "{}", error.message);
    assert!(error.message.contains("helm.sh"), "{}", error.message);
}

#[tokio::test]
async fn a_chart_is_rendered_once_per_commit_and_parameters() {
    // A `helm` that logs each run, then runs the real one.
    let wrapper_dir = tempfile::tempdir().unwrap();
    let runs = wrapper_dir.path().join("runs.log");
    let real = tools_path()
        .split(':')
        .map(|d| Path::new(d).join("helm"))
        .find(|p| p.is_file())
        .unwrap();
    let wrapper = wrapper_dir.path().join("helm");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho run >> {}\nexec {} \"$@\"\n",
            runs.display(),
            real.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();

    let (_cluster, dir, kubeconfig) = cluster().await;
    let repo = dir.path().join("repo");
    let chart = vec![
        file(
            "chart/Chart.yaml",
            "apiVersion: v2\nname: c\nversion: 0.1.0\n",
        ),
        file(
            "chart/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {mode: {{ .Values.mode | default \"slow\" | quote }}}\n",
        ),
    ];
    repos::create_with_history(&repo, &[("chart", chart)]).unwrap();
    let engine = engine_for(
        &kubeconfig,
        dir.path(),
        format!("{}:{}", wrapper_dir.path().display(), tools_path()),
    );
    engine
        .apps()
        .add(app("c", &repo, "chart", "default"))
        .unwrap();
    let count = || {
        std::fs::read_to_string(&runs)
            .unwrap_or_default()
            .lines()
            .count()
    };

    for _ in 0..3 {
        let status = engine.status("c").await.unwrap();
        assert_eq!(status.sync, SyncStatus::OutOfSync, "{:?}", status.error);
    }
    assert_eq!(count(), 1, "three refreshes of one commit render once");

    let mut changed = engine.apps().get("c").unwrap();
    changed.source.helm.values = "mode: fast\n".into();
    engine.apps().update(changed).unwrap();
    engine.status("c").await.unwrap();
    assert_eq!(count(), 2, "new parameters render again");
}
