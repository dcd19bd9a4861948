//! Every sample app through a read-only context (the sandbox's view-only token): the server
//! refuses dry runs there, so Plumbline compares as Argo CD's default diff does. Synced apps
//! show no false drift, a change by hand shows exactly, the comparison says how it was made,
//! and a sync fails cleanly with the server's refusal and nothing applied.

mod world;

use plumbline_core::comparison::{ResourceSync, SyncStatus};
use plumbline_core::resources::ResourceKey;
use plumbline_core::sync::{OperationPhase, SyncOptions};
use serde_json::{Value, json};
use world::{api, engine_for, patch_by_hand, sample_app, sync_succeeds, tools_path, world_with};

fn key(group: &str, kind: &str, namespace: &str, name: &str) -> ResourceKey {
    ResourceKey {
        group: group.into(),
        kind: kind.into(),
        namespace: namespace.into(),
        name: name.into(),
    }
}

/// A sample app, a change to make by hand to one of its resources, and the diff it gives.
struct Case {
    app: &'static str,
    /// The app's folder in the repository, when it is not the app's name.
    path: Option<&'static str>,
    drifted: ResourceKey,
    version: &'static str,
    patch: Value,
    expected: &'static [&'static str],
}

async fn check(case: Case) {
    let Case {
        app,
        path,
        drifted,
        version,
        patch,
        expected,
    } = case;
    let w = world_with(app, "default", path.unwrap_or(app), sample_app(app)).await;
    if app == "jsonnet" {
        let mut options = w.engine.apps().get(app).unwrap();
        options.source.directory.jsonnet = world::jsonnet_options();
        w.engine.apps().update(options).unwrap();
    }
    sync_succeeds(&w, app, &SyncOptions::default()).await;
    // Give controllers (the aggregation of a ClusterRole) a moment, as a user would.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    w._sandbox
        .write_kubeconfig_for(kube_sandbox::Access::ReadOnly, &kubeconfig, "sandbox")
        .unwrap();
    let viewer = engine_for(&kubeconfig, dir.path(), tools_path());
    viewer
        .apps()
        .add(w.engine.apps().get(app).unwrap())
        .unwrap();

    let status = viewer.status(app).await.unwrap();
    assert_eq!(
        status.sync,
        SyncStatus::Synced,
        "{app}: no false drift: {:?}",
        status.resources
    );
    assert!(
        status.notes.iter().any(
            |n| n.starts_with("Compared without the server's prediction")
                && n.contains("forbidden")
        ),
        "{app}: the comparison says how it was made: {:?}",
        status.notes
    );

    let group_version = match drifted.group.as_str() {
        "" => String::new(),
        g => g.to_string(),
    };
    let objects = api(
        &w.client,
        &group_version,
        version,
        &drifted.kind,
        &drifted.namespace,
    );
    patch_by_hand(&objects, &drifted.name, patch).await;
    let status = viewer.status(app).await.unwrap();
    let out_of_sync: Vec<&ResourceKey> = status
        .resources
        .iter()
        .filter(|r| r.status != ResourceSync::Synced)
        .map(|r| &r.key)
        .collect();
    assert_eq!(out_of_sync, [&drifted], "{app}");
    let diff = viewer.diff(app, &drifted).await.unwrap();
    assert!(
        diff.note
            .as_deref()
            .is_some_and(|n| n.starts_with("Compared without the server's prediction")),
        "{app}: {:?}",
        diff.note
    );
    let changed: Vec<String> = diff
        .lines
        .iter()
        .filter(|l| l.change != plumbline_core::diff::LineChange::Equal)
        .map(|l| {
            let sign = if l.change == plumbline_core::diff::LineChange::Delete {
                '-'
            } else {
                '+'
            };
            format!("{sign}{}", l.text.trim())
        })
        .collect();
    assert_eq!(changed, expected, "{app}:\n{}", diff.live);

    let before = objects.get(&drifted.name).await.unwrap();
    let refused = viewer
        .sync(app, &SyncOptions::default(), None, &|_| {})
        .await
        .unwrap();
    assert_eq!(refused.phase, OperationPhase::Failed, "{app}");
    assert!(
        refused.message.contains("nothing was changed")
            && refused
                .results
                .iter()
                .any(|r| r.message.contains("forbidden")),
        "{app}: {refused:?}"
    );
    let after = objects.get(&drifted.name).await.unwrap();
    assert_eq!(
        before.metadata.resource_version, after.metadata.resource_version,
        "{app}: nothing applied"
    );
}

#[tokio::test]
async fn waves() {
    check(Case {
        path: None,
        app: "waves",
        drifted: key("apps", "Deployment", "default", "web"),
        version: "v1",
        patch: json!({"spec": {"replicas": 5}}),
        expected: &["-replicas: 5", "+replicas: 2"],
    })
    .await;
}

#[tokio::test]
async fn hooks() {
    check(Case {
        path: None,
        app: "hooks",
        drifted: key("", "ConfigMap", "default", "settings"),
        version: "v1",
        patch: json!({"data": {"greeting": "changed by hand"}}),
        expected: &["-greeting: changed by hand", "+greeting: hello"],
    })
    .await;
}

#[tokio::test]
async fn prune() {
    check(Case {
        path: None,
        app: "prune",
        drifted: key("", "ConfigMap", "default", "keep"),
        version: "v1",
        patch: json!({"data": {"greeting": "by hand"}}),
        expected: &["-greeting: by hand", "+greeting: hello"],
    })
    .await;
}

#[tokio::test]
async fn crd() {
    check(Case {
        path: None,
        app: "crd",
        drifted: key("example.com", "Widget", "default", "sprocket"),
        version: "v1",
        patch: json!({"spec": {"size": 4}}),
        expected: &["-size: 4", "+size: 3"],
    })
    .await;
}

#[tokio::test]
async fn generate_name_hooks() {
    check(Case {
        path: None,
        app: "generate-name-hooks",
        drifted: key("", "ConfigMap", "default", "settings"),
        version: "v1",
        patch: json!({"data": {"schema": "v1"}}),
        expected: &["-schema: v1", "+schema: v2"],
    })
    .await;
}

#[tokio::test]
async fn helm_hooks() {
    check(Case {
        path: None,
        app: "helm-hooks",
        drifted: key("apps", "Deployment", "default", "helm-hooks-web"),
        version: "v1",
        patch: json!({"spec": {"replicas": 4}}),
        expected: &["-replicas: 4", "+replicas: 2"],
    })
    .await;
}

#[tokio::test]
async fn kustomize_hooks() {
    check(Case {
        path: None,
        app: "kustomize-hooks",
        drifted: key("", "Service", "default", "shop-web"),
        version: "v1",
        patch: json!({"spec": {"selector": {"team": "other"}}}),
        expected: &["-team: other", "+team: shop"],
    })
    .await;
}

#[tokio::test]
async fn leftovers() {
    check(Case {
        path: None,
        app: "leftovers",
        drifted: key("", "ConfigMap", "default", "settings"),
        version: "v1",
        patch: json!({"data": {"greeting": "hi"}}),
        expected: &["-greeting: hi", "+greeting: hello"],
    })
    .await;
}

#[tokio::test]
async fn rbac() {
    check(Case {
        path: None,
        app: "rbac",
        drifted: key(
            "rbac.authorization.k8s.io",
            "ClusterRole",
            "",
            "shop-monitoring-pods",
        ),
        version: "v1",
        patch: json!({"rules": [{"apiGroups": [""], "resources": ["pods", "services"], "verbs": ["get", "list", "watch", "delete"]}]}),
        expected: &["-- delete"],
    })
    .await;
}

#[tokio::test]
async fn secrets() {
    check(Case {
        path: None,
        app: "secrets",
        drifted: key("", "Secret", "default", "db-credentials"),
        version: "v1",
        patch: json!({"data": {"password": "Y2hhbmdlZC1ieS1oYW5k"}}),
        expected: &["-password: ++++++++", "+password: ++++++++++++"],
    })
    .await;
}

#[tokio::test]
async fn jsonnet() {
    check(Case {
        app: "jsonnet",
        path: Some("jsonnet/app"),
        drifted: key("apps", "Deployment", "default", "guestbook-ui"),
        version: "v1",
        patch: json!({"spec": {"replicas": 5}}),
        expected: &["-replicas: 5", "+replicas: 2"],
    })
    .await;
}
