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
            ..Default::default()
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

fn job(name: &str, image: &str, backoff_limit: i32) -> k8s_openapi::api::batch::v1::Job {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"backoffLimit": backoff_limit, "template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "main", "image": image}]}}}
    }))
    .unwrap()
}

fn condition_reason(
    conditions: Option<&Vec<k8s_openapi::api::batch::v1::JobCondition>>,
    kind: &str,
) -> Option<String> {
    conditions?
        .iter()
        .find(|c| c.type_ == kind && c.status == "True")
        .and_then(|c| c.reason.clone())
}

#[tokio::test]
async fn jobs_complete_or_fail_by_their_backoff_limit() {
    use k8s_openapi::api::batch::v1::Job;
    let (_sandbox, client) = client().await;
    let jobs: Api<Job> = Api::namespaced(client, "default");
    jobs.create(&PostParams::default(), &job("ok", "busybox:1.36", 6))
        .await
        .unwrap();
    jobs.create(&PostParams::default(), &job("bad", "busybox:fail", 1))
        .await
        .unwrap();

    let done = wait_for(&jobs, "ok", "complete", |j: Option<&Job>| {
        condition_reason(
            j.and_then(|j| j.status.as_ref())
                .and_then(|s| s.conditions.as_ref()),
            "Complete",
        )
        .is_some()
    })
    .await;
    assert_eq!(done.status.as_ref().unwrap().succeeded, Some(1));
    assert!(done.status.unwrap().completion_time.is_some());

    let failed = wait_for(&jobs, "bad", "failed", |j: Option<&Job>| {
        condition_reason(
            j.and_then(|j| j.status.as_ref())
                .and_then(|s| s.conditions.as_ref()),
            "Failed",
        )
        .is_some()
    })
    .await;
    let status = failed.status.unwrap();
    assert_eq!(
        condition_reason(status.conditions.as_ref(), "Failed").as_deref(),
        Some("BackoffLimitExceeded")
    );
    assert_eq!(
        status.failed,
        Some(2),
        "one try and one retry, as backoffLimit 1 allows"
    );
}

#[tokio::test]
async fn statefulsets_daemonsets_claims_and_load_balancers_settle() {
    use k8s_openapi::api::apps::v1::{DaemonSet, StatefulSet};
    use k8s_openapi::api::core::v1::PersistentVolumeClaim;
    let (_sandbox, client) = client().await;
    let template = json!({"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db", "image": "postgres:17"}]}});
    let set: StatefulSet = serde_json::from_value(json!({
        "metadata": {"name": "db"},
        "spec": {"replicas": 2, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}}, "template": template,
                 "volumeClaimTemplates": [{"metadata": {"name": "data"},
                     "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "2Gi"}}}}]}
    }))
    .unwrap();
    let sets: Api<StatefulSet> = Api::namespaced(client.clone(), "default");
    sets.create(&PostParams::default(), &set).await.unwrap();
    let ready = wait_for(&sets, "db", "ready", |s: Option<&StatefulSet>| {
        s.and_then(|s| s.status.as_ref())
            .is_some_and(|s| s.ready_replicas == Some(2))
    })
    .await;
    let status = ready.status.unwrap();
    assert_eq!(status.current_revision, status.update_revision);
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    for name in ["db-0", "db-1"] {
        let volumes = pods.get(name).await.unwrap().spec.unwrap().volumes.unwrap();
        assert!(volumes.iter().any(|v| {
            v.persistent_volume_claim
                .as_ref()
                .is_some_and(|c| c.claim_name == format!("data-{name}"))
        }));
    }
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), "default");
    let claim = wait_for(
        &claims,
        "data-db-1",
        "bound",
        |c: Option<&PersistentVolumeClaim>| {
            c.and_then(|c| c.status.as_ref())
                .and_then(|s| s.phase.as_deref())
                == Some("Bound")
        },
    )
    .await;
    assert_eq!(claim.status.unwrap().capacity.unwrap()["storage"].0, "2Gi");

    let daemon: DaemonSet = serde_json::from_value(json!({
        "metadata": {"name": "agent"},
        "spec": {"selector": {"matchLabels": {"app": "agent"}},
                 "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [{"name": "a", "image": "agent:1"}]}}}
    }))
    .unwrap();
    let daemons: Api<DaemonSet> = Api::namespaced(client.clone(), "default");
    daemons
        .create(&PostParams::default(), &daemon)
        .await
        .unwrap();
    wait_for(
        &daemons,
        "agent",
        "ready on the node",
        |d: Option<&DaemonSet>| {
            d.and_then(|d| d.status.as_ref())
                .is_some_and(|s| s.number_ready == 1 && s.desired_number_scheduled == 1)
        },
    )
    .await;

    let services: Api<Service> = Api::namespaced(client, "default");
    let lb: Service = serde_json::from_value(json!({"metadata": {"name": "edge"},
        "spec": {"type": "LoadBalancer", "selector": {"app": "db"}, "ports": [{"port": 443}]}}))
    .unwrap();
    services.create(&PostParams::default(), &lb).await.unwrap();
    let edge = wait_for(
        &services,
        "edge",
        "given an address",
        |s: Option<&Service>| {
            s.and_then(|s| s.status.as_ref())
                .and_then(|s| s.load_balancer.as_ref())
                .and_then(|l| l.ingress.as_ref())
                .is_some()
        },
    )
    .await;
    assert!(
        edge.status.unwrap().load_balancer.unwrap().ingress.unwrap()[0]
            .ip
            .is_some()
    );
}

#[tokio::test]
async fn an_aggregated_cluster_role_gathers_the_rules_of_the_roles_it_selects() {
    use k8s_openapi::api::rbac::v1::ClusterRole;
    let (_sandbox, client) = client().await;
    let roles: Api<ClusterRole> = Api::all(client);
    let role = |value: serde_json::Value| serde_json::from_value::<ClusterRole>(value).unwrap();
    roles
        .create(
            &PostParams::default(),
            &role(json!({"metadata": {"name": "monitoring"},
                "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"example.com/aggregate-to-monitoring": "true"}}]}})),
        )
        .await
        .unwrap();
    roles
        .create(
            &PostParams::default(),
            &role(json!({"metadata": {"name": "monitoring-pods", "labels": {"example.com/aggregate-to-monitoring": "true"}},
                "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]})),
        )
        .await
        .unwrap();
    roles
        .create(
            &PostParams::default(),
            &role(json!({"metadata": {"name": "unrelated"},
                "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]})),
        )
        .await
        .unwrap();
    let aggregated = wait_for(
        &roles,
        "monitoring",
        "aggregated",
        |r: Option<&ClusterRole>| {
            r.and_then(|r| r.rules.as_ref())
                .is_some_and(|rules| !rules.is_empty())
        },
    )
    .await;
    let rules = aggregated.rules.unwrap();
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert_eq!(
        rules[0].resources.as_deref(),
        Some(&["pods".to_string()][..])
    );
    let managers: Vec<String> = aggregated
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert!(
        managers.contains(&"clusterrole-aggregation-controller".to_string()),
        "{managers:?}"
    );
}
