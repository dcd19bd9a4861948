//! Every sample app through a read-only context (Kubernetes' view role, on either cluster): the
//! server refuses dry runs there, so Plumbline compares as Argo CD's default diff does. Synced
//! apps show no false drift, what view may not read (Secrets, RBAC, CRDs and custom resources)
//! is Unknown with the reason and the rest still compared, a change by hand shows exactly, the
//! comparison says how it was made, and a sync fails cleanly with the server's refusal and
//! nothing applied.

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

/// A sample app, the resources a view-only user may not read in it, and a change to make by
/// hand to one it may read, with the diff it gives.
struct Case {
    app: &'static str,
    /// The app's folder in the repository, when it is not the app's name.
    path: Option<&'static str>,
    /// Kubernetes' view role reads no Secrets, RBAC objects, CRDs or custom resources.
    unreadable: &'static [&'static str],
    drifted: Option<Drift>,
}

struct Drift {
    key: ResourceKey,
    version: &'static str,
    patch: Value,
    expected: &'static [&'static str],
}

async fn check(case: Case) {
    let Case {
        app,
        path,
        unreadable,
        drifted,
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
    w.cluster
        .write_kubeconfig_for(test_cluster::Access::ReadOnly, &kubeconfig, "sandbox");
    let viewer = engine_for(&kubeconfig, dir.path(), tools_path());
    viewer
        .apps()
        .add(w.engine.apps().get(app).unwrap())
        .unwrap();

    let status = viewer.status(app).await.unwrap();
    let unknown: Vec<&str> = status
        .resources
        .iter()
        .filter(|r| r.status == ResourceSync::Unknown)
        .map(|r| r.key.name.as_str())
        .collect();
    assert_eq!(unknown, unreadable, "{app}: {:?}", status.resources);
    assert!(
        status
            .resources
            .iter()
            .filter(|r| r.status == ResourceSync::Unknown)
            .all(|r| r
                .message
                .as_deref()
                .is_some_and(|m| m.contains("may not read"))),
        "{app}: each unreadable resource says why: {:?}",
        status.resources
    );
    let expected_sync = if unreadable.is_empty() {
        SyncStatus::Synced
    } else {
        SyncStatus::Unknown
    };
    assert_eq!(
        status.sync, expected_sync,
        "{app}: no false drift: {:?} {:?}",
        status.resources, status.error
    );
    if unknown.len() < status.resources.len() {
        assert!(
            status.notes.iter().any(
                |n| n.starts_with("Compared without the server's prediction")
                    && n.contains("forbidden")
            ),
            "{app}: the comparison says how it was made: {:?}",
            status.notes
        );
    }

    let mut drifted_object = None;
    if let Some(Drift {
        key: drifted,
        version,
        patch,
        expected,
    }) = drifted
    {
        let objects = api(
            &w.client,
            &drifted.group,
            version,
            &drifted.kind,
            &drifted.namespace,
        );
        patch_by_hand(&objects, &drifted.name, patch).await;
        let status = viewer.status(app).await.unwrap();
        let out_of_sync: Vec<&ResourceKey> = status
            .resources
            .iter()
            .filter(|r| !matches!(r.status, ResourceSync::Synced | ResourceSync::Unknown))
            .map(|r| &r.key)
            .collect();
        assert_eq!(out_of_sync, [&drifted], "{app}");
        assert_eq!(status.sync, SyncStatus::OutOfSync, "{app}");
        let diff = viewer.diff(app, &drifted).await.unwrap();
        assert!(
            diff.note
                .as_deref()
                .is_some_and(|n| n.starts_with("Compared without the server's prediction")),
            "{app}: {:?}",
            diff.note
        );
        assert_eq!(
            world::changed_lines(&diff),
            expected,
            "{app}:\n{}",
            diff.live
        );
        let before = world::content(objects.get(&drifted.name).await.unwrap());
        drifted_object = Some((objects, drifted.name, before));
    }

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
    if let Some((objects, name, before)) = drifted_object {
        let after = world::content(objects.get(&name).await.unwrap());
        assert_eq!(before, after, "{app}: nothing applied");
    }
}

#[tokio::test]
async fn waves() {
    check(Case {
        app: "waves",
        path: None,
        unreadable: &[],
        drifted: Some(Drift {
            key: key("apps", "Deployment", "default", "web"),
            version: "v1",
            patch: json!({"spec": {"replicas": 5}}),
            expected: &["-replicas: 5", "+replicas: 2"],
        }),
    })
    .await;
}

#[tokio::test]
async fn hooks() {
    check(Case {
        app: "hooks",
        path: None,
        unreadable: &[],
        drifted: Some(Drift {
            key: key("", "ConfigMap", "default", "settings"),
            version: "v1",
            patch: json!({"data": {"greeting": "changed by hand"}}),
            expected: &["-greeting: changed by hand", "+greeting: hello"],
        }),
    })
    .await;
}

#[tokio::test]
async fn prune() {
    check(Case {
        app: "prune",
        path: None,
        unreadable: &[],
        drifted: Some(Drift {
            key: key("", "ConfigMap", "default", "keep"),
            version: "v1",
            patch: json!({"data": {"greeting": "by hand"}}),
            expected: &["-greeting: by hand", "+greeting: hello"],
        }),
    })
    .await;
}

#[tokio::test]
async fn crd() {
    check(Case {
        app: "crd",
        path: None,
        unreadable: &["widgets.example.com", "gear", "sprocket"],
        drifted: None,
    })
    .await;
}

#[tokio::test]
async fn generate_name_hooks() {
    check(Case {
        app: "generate-name-hooks",
        path: None,
        unreadable: &[],
        drifted: Some(Drift {
            key: key("", "ConfigMap", "default", "settings"),
            version: "v1",
            patch: json!({"data": {"schema": "v1"}}),
            expected: &["-schema: v1", "+schema: v2"],
        }),
    })
    .await;
}

#[tokio::test]
async fn helm_hooks() {
    check(Case {
        app: "helm-hooks",
        path: None,
        unreadable: &[],
        drifted: Some(Drift {
            key: key("apps", "Deployment", "default", "helm-hooks-web"),
            version: "v1",
            patch: json!({"spec": {"replicas": 4}}),
            expected: &["-replicas: 4", "+replicas: 2"],
        }),
    })
    .await;
}

#[tokio::test]
async fn kustomize_hooks() {
    check(Case {
        app: "kustomize-hooks",
        path: None,
        unreadable: &[],
        drifted: Some(Drift {
            key: key("", "Service", "default", "shop-web"),
            version: "v1",
            patch: json!({"spec": {"selector": {"team": "other"}}}),
            expected: &["-team: other", "+team: shop"],
        }),
    })
    .await;
}

#[tokio::test]
async fn leftovers() {
    check(Case {
        app: "leftovers",
        path: None,
        unreadable: &[],
        drifted: Some(Drift {
            key: key("", "ConfigMap", "default", "settings"),
            version: "v1",
            patch: json!({"data": {"greeting": "hi"}}),
            expected: &["-greeting: hi", "+greeting: hello"],
        }),
    })
    .await;
}

#[tokio::test]
async fn rbac() {
    check(Case {
        app: "rbac",
        path: None,
        unreadable: &["shop-monitoring", "shop-monitoring-pods", "shop-monitor"],
        drifted: None,
    })
    .await;
}

#[tokio::test]
async fn secrets() {
    check(Case {
        app: "secrets",
        path: None,
        unreadable: &["db-credentials"],
        drifted: Some(Drift {
            key: key("", "ConfigMap", "default", "db-settings"),
            version: "v1",
            patch: json!({"data": {"host": "db.elsewhere"}}),
            expected: &["-host: db.elsewhere", "+host: db.shop.svc"],
        }),
    })
    .await;
}

#[tokio::test]
async fn jsonnet() {
    check(Case {
        app: "jsonnet",
        path: Some("jsonnet/app"),
        unreadable: &[],
        drifted: Some(Drift {
            key: key("apps", "Deployment", "default", "guestbook-ui"),
            version: "v1",
            patch: json!({"spec": {"replicas": 5}}),
            expected: &["-replicas: 5", "+replicas: 2"],
        }),
    })
    .await;
}
