//! The sandbox's controllers as a client sees them: a Deployment rolls out through a
//! ReplicaSet to running Pods with Endpoints; images that say so fail; a stuck rollout
//! exceeds its progress deadline; deleting the Deployment takes everything with it.

mod common;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Endpoints, Event, Pod, Service};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::runtime::wait::{Condition, await_condition};
use kube_sandbox::{ControllerOptions, Sandbox, SandboxOptions};
use serde_json::json;
use std::time::Duration;

async fn client() -> (Sandbox, kube::Client) {
    common::start(SandboxOptions {
        controllers: Some(ControllerOptions {
            pod_start_delay: Duration::from_millis(200),
        }),
        ..Default::default()
    })
    .await
}

fn deployment(name: &str, image: &str, replicas: i32, deadline: i32) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas, "progressDeadlineSeconds": deadline,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [{"name": "main", "image": image, "ports": [{"containerPort": 8080, "name": "http"}]}]}}
        }
    }))
    .unwrap()
}

async fn wait_for<K>(api: &Api<K>, name: &str, what: &str, condition: impl Condition<K>) -> K
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
{
    let found = tokio::time::timeout(
        Duration::from_secs(15),
        await_condition(api.clone(), name, condition),
    )
    .await
    .unwrap_or_else(|_| panic!("timed out waiting for {name} to be {what}"))
    .unwrap();
    found.unwrap_or_else(|| panic!("{name} disappeared while waiting for it to be {what}"))
}

fn available(d: Option<&Deployment>) -> bool {
    d.and_then(|d| d.status.as_ref())
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| {
            c.iter().any(|c| {
                c.type_.as_deref() == Some("Progressing")
                    && c.reason.as_deref() == Some("NewReplicaSetAvailable")
            })
        })
}

#[tokio::test]
async fn a_deployment_rolls_out_to_running_pods_with_endpoints() {
    let (_sandbox, client) = client().await;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let services: Api<Service> = Api::namespaced(client.clone(), "default");
    deployments
        .create(
            &PostParams::default(),
            &deployment("web", "nginx:1.27", 2, 600),
        )
        .await
        .unwrap();
    let service: Service = serde_json::from_value(json!({"metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}]}}))
    .unwrap();
    services
        .create(&PostParams::default(), &service)
        .await
        .unwrap();

    let web = wait_for(&deployments, "web", "rolled out", available).await;
    let status = web.status.unwrap();
    assert_eq!(
        (
            status.replicas,
            status.ready_replicas,
            status.updated_replicas
        ),
        (Some(2), Some(2), Some(2))
    );
    assert_eq!(status.observed_generation, web.metadata.generation);

    let replicasets: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    let rs = replicasets
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;
    assert_eq!(rs.len(), 1);
    let hash = rs[0].metadata.labels.as_ref().unwrap()["pod-template-hash"].clone();
    assert_eq!(
        rs[0].metadata.name.as_deref(),
        Some(format!("web-{hash}").as_str())
    );

    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let running = pods
        .list(&ListParams::default().labels("app=web"))
        .await
        .unwrap()
        .items;
    assert_eq!(running.len(), 2);
    for pod in &running {
        assert_eq!(
            pod.status.as_ref().unwrap().phase.as_deref(),
            Some("Running")
        );
        assert!(
            pod.metadata
                .name
                .as_ref()
                .unwrap()
                .starts_with(&format!("web-{hash}-"))
        );
    }

    let endpoints: Api<Endpoints> = Api::namespaced(client.clone(), "default");
    let ep = endpoints.get("web").await.unwrap();
    let subset = &ep.subsets.unwrap()[0];
    assert_eq!(subset.addresses.as_ref().unwrap().len(), 2);
    assert_eq!(
        subset.ports.as_ref().unwrap()[0].port,
        8080,
        "the named targetPort resolves"
    );

    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    let reasons: Vec<String> = events
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|e| e.reason)
        .collect();
    for reason in [
        "ScalingReplicaSet",
        "SuccessfulCreate",
        "Scheduled",
        "Started",
    ] {
        assert!(
            reasons.iter().any(|r| r == reason),
            "no {reason} event in {reasons:?}"
        );
    }

    deployments
        .delete("web", &DeleteParams::default())
        .await
        .unwrap();
    assert!(
        replicasets
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty(),
        "the ReplicaSet is collected"
    );
    assert!(
        pods.list(&ListParams::default().labels("app=web"))
            .await
            .unwrap()
            .items
            .is_empty(),
        "and its Pods"
    );
}

#[tokio::test]
async fn a_new_template_rolls_over_to_a_new_replicaset() {
    let (_sandbox, client) = client().await;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    deployments
        .create(
            &PostParams::default(),
            &deployment("web", "nginx:1.25", 1, 600),
        )
        .await
        .unwrap();
    wait_for(&deployments, "web", "rolled out", available).await;
    let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]}}}});
    deployments
        .patch(
            "web",
            &Default::default(),
            &kube::api::Patch::Strategic(&patch),
        )
        .await
        .unwrap();
    let web = wait_for(
        &deployments,
        "web",
        "rolled out again",
        |d: Option<&Deployment>| {
            available(d)
                && d.and_then(|d| d.status.as_ref())
                    .and_then(|s| s.observed_generation)
                    == Some(2)
        },
    )
    .await;
    assert_eq!(
        web.metadata.annotations.unwrap()["deployment.kubernetes.io/revision"],
        "2"
    );
    let replicasets: Api<ReplicaSet> = Api::namespaced(client, "default");
    let mut scales: Vec<i32> = replicasets
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .iter()
        .map(|rs| rs.spec.replicas.unwrap())
        .collect();
    scales.sort();
    assert_eq!(
        scales,
        [0, 1],
        "the old ReplicaSet is scaled to zero and kept"
    );
}

#[tokio::test]
async fn images_that_say_so_fail_and_a_stuck_rollout_exceeds_its_deadline() {
    let (_sandbox, client) = client().await;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    deployments
        .create(
            &PostParams::default(),
            &deployment("crash", "app:crashloop", 1, 1),
        )
        .await
        .unwrap();
    deployments
        .create(
            &PostParams::default(),
            &deployment("pull", "registry.local/missing:1.0", 1, 600),
        )
        .await
        .unwrap();

    let waiting_reason = |pod: &Pod| {
        pod.status.as_ref()?.container_statuses.as_ref()?[0]
            .state
            .as_ref()?
            .waiting
            .as_ref()?
            .reason
            .clone()
    };
    let mut watch = kube::runtime::watcher(pods.clone(), Default::default()).boxed();
    let mut seen = std::collections::BTreeSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !(seen.contains("CrashLoopBackOff") && seen.contains("ImagePullBackOff")) {
        let event = tokio::time::timeout_at(deadline, watch.next())
            .await
            .expect("pods reached their failure states");
        if let Some(Ok(kube::runtime::watcher::Event::Apply(pod))) = event
            && let Some(reason) = waiting_reason(&pod)
        {
            seen.insert(reason);
        }
    }
    assert!(
        seen.contains("ErrImagePull"),
        "ErrImagePull comes before ImagePullBackOff: {seen:?}"
    );

    let crash = wait_for(
        &deployments,
        "crash",
        "past its deadline",
        |d: Option<&Deployment>| {
            d.and_then(|d| d.status.as_ref())
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| {
                    c.iter().any(|c| {
                        c.reason.as_deref() == Some("ProgressDeadlineExceeded")
                            && c.status.as_deref() == Some("False")
                    })
                })
        },
    )
    .await;
    assert_eq!(crash.status.unwrap().ready_replicas, None);
    let crashing = pods
        .list(&ListParams::default().labels("app=crash"))
        .await
        .unwrap()
        .items;
    assert!(
        crashing[0]
            .status
            .as_ref()
            .unwrap()
            .container_statuses
            .as_ref()
            .unwrap()[0]
            .restart_count
            >= 1
    );
}
