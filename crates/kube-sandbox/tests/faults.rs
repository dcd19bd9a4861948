//! Faults on demand, seen by a kube-rs client: throttling and server errors as Status objects
//! (with Retry-After), added latency, and a kube-runtime watcher that rides through dropped
//! watch streams and a server restart.

mod common;

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, PostParams};
use kube::runtime::watcher;
use kube_sandbox::{Sandbox, SandboxOptions};
use std::time::{Duration, Instant};

async fn client(sandbox: &Sandbox) -> kube::Client {
    common::client_for(sandbox).await
}

fn configmap(name: &str) -> ConfigMap {
    serde_json::from_value(serde_json::json!({"metadata": {"name": name}})).unwrap()
}

#[tokio::test]
async fn throttling_and_server_errors_are_status_objects() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let client = client(&sandbox).await;

    // kube-rs retries a 429 after the server's Retry-After: the call succeeds, a second later.
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    sandbox.faults().throttle_next(1, 1);
    let started = Instant::now();
    api.list(&ListParams::default()).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured: {:?}",
        started.elapsed()
    );

    sandbox.faults().fail_next(1);
    let failed = api.list(&ListParams::default()).await;
    assert!(
        matches!(failed, Err(kube::Error::Api(ref s)) if s.code == 500 && s.reason == "InternalError"),
        "{failed:?}"
    );
    assert!(
        api.list(&ListParams::default()).await.is_ok(),
        "the fault is used up"
    );
}

#[tokio::test]
async fn added_latency_delays_every_request() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client(&sandbox).await, "default");
    api.list(&ListParams::default()).await.unwrap();
    sandbox.faults().set_latency(Duration::from_millis(300));
    let started = Instant::now();
    api.list(&ListParams::default()).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_watcher_rides_through_dropped_streams_and_a_restart() {
    let mut sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client(&sandbox).await, "default");
    let mut events = watcher(api.clone(), watcher::Config::default()).boxed();
    let mut wait_for = async |name: &str| {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let event = tokio::time::timeout_at(deadline, events.next())
                .await
                .unwrap_or_else(|_| panic!("the watcher never saw {name}"));
            if let Some(Ok(watcher::Event::Apply(cm) | watcher::Event::InitApply(cm))) = event
                && cm.metadata.name.as_deref() == Some(name)
            {
                return;
            }
        }
    };

    api.create(&PostParams::default(), &configmap("before"))
        .await
        .unwrap();
    wait_for("before").await;

    sandbox.faults().drop_watches();
    api.create(&PostParams::default(), &configmap("after-drop"))
        .await
        .unwrap();
    wait_for("after-drop").await;

    sandbox.restart().await.unwrap();
    api.create(&PostParams::default(), &configmap("after-restart"))
        .await
        .unwrap();
    wait_for("after-restart").await;
}
