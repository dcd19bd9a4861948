//! Pod logs against the sandbox: a container's log, the one before a restart refused when
//! there was none, a followed log that keeps coming until dropped, and Pods of other
//! namespaces refused. Always the sandbox: the control plane's kwok Nodes serve no logs.

mod world;

use plumbline_core::logs::LogOptions;
use plumbline_core::resources::ResourceKey;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use world::{file, sync_succeeds, world_on_sandbox};

const WEB: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n        ports:\n        - containerPort: 80\n";

#[tokio::test]
async fn a_pods_log_is_read_followed_and_kept_to_the_app() {
    let w = world_on_sandbox("web", "default", "app", vec![file("app/web.yaml", WEB)]).await;
    sync_succeeds(&w, "web", &Default::default()).await;
    let pod = loop {
        let tree = w.engine.tree("web").await.unwrap();
        if let Some(pod) = tree.into_iter().find(|n| n.key.kind == "Pod") {
            break pod.key;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(w.engine.pod_containers("web", &pod).await.unwrap(), ["web"]);

    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    w.engine
        .pod_logs("web", &pod, &LogOptions::default(), &move |l| {
            sink.lock().unwrap().push(l)
        })
        .await
        .unwrap();
    assert_eq!(
        *lines.lock().unwrap(),
        [
            "web: starting nginx:1.27",
            "web: configuration loaded",
            "web: listening on :80",
            "web: ready"
        ]
    );

    let previous = LogOptions {
        previous: true,
        ..Default::default()
    };
    let refused = w
        .engine
        .pod_logs("web", &pod, &previous, &|_| {})
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("previous terminated container \"web\""),
        "{refused}"
    );

    // Followed: the last line, then new ones as they come, until the reader stops.
    let followed = Arc::new(Mutex::new(Vec::new()));
    let sink = followed.clone();
    let follow = LogOptions {
        follow: true,
        tail_lines: Some(1),
        container: Some("web".into()),
        ..Default::default()
    };
    let on_line = move |l: String| sink.lock().unwrap().push(l);
    let reading = w.engine.pod_logs("web", &pod, &follow, &on_line);
    let _ = tokio::time::timeout(Duration::from_millis(2500), reading).await;
    let got = followed.lock().unwrap().clone();
    assert_eq!(got[0], "web: ready");
    assert!(got.iter().any(|l| l == "web: served request 1"), "{got:?}");

    let elsewhere = ResourceKey {
        namespace: "kube-system".into(),
        ..pod.clone()
    };
    let refused = w
        .engine
        .pod_logs("web", &elsewhere, &LogOptions::default(), &|_| {})
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("has no resource"), "{refused}");
}
