//! kube-apiserver's verb semantics as a kube-rs client sees them: the status subresource,
//! generation, 422 Invalid with field causes, and a Namespace's termination.

mod common;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube_sandbox::{Sandbox, SandboxOptions};
use serde_json::json;

/// A sandbox without controllers: these tests are about the API, and nothing else may write.
async fn client() -> (Sandbox, kube::Client) {
    common::start(SandboxOptions {
        controllers: None,
        ..Default::default()
    })
    .await
}

fn deployment(replicas: i32) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                         "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}
        }
    }))
    .unwrap()
}

#[tokio::test]
async fn status_is_written_through_its_subresource_only() {
    let (_sandbox, client) = client().await;
    let api: Api<Deployment> = Api::namespaced(client, "default");
    api.create(&PostParams::default(), &deployment(1))
        .await
        .unwrap();

    // A status in a write to the main resource is ignored...
    let with_status =
        json!({"status": {"replicas": 7}, "metadata": {"labels": {"touched": "yes"}}});
    let patched = api
        .patch("web", &PatchParams::default(), &Patch::Merge(&with_status))
        .await
        .unwrap();
    assert_eq!(
        patched.status.unwrap_or_default().replicas,
        None,
        "the empty status a create leaves"
    );
    assert_eq!(
        patched.metadata.generation,
        Some(1),
        "labels are not spec: generation stays"
    );

    // ...and a write to the status subresource changes status and nothing else.
    let status = json!({"status": {"replicas": 1, "readyReplicas": 1}, "spec": {"replicas": 9}});
    let after = api
        .patch_status("web", &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap();
    assert_eq!(after.status.unwrap().ready_replicas, Some(1));
    assert_eq!(after.spec.replicas, Some(1));
    assert_eq!(after.metadata.generation, Some(1));

    let scaled = api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(&json!({"spec": {"replicas": 3}})),
        )
        .await
        .unwrap();
    assert_eq!(
        scaled.metadata.generation,
        Some(2),
        "a spec change bumps generation"
    );
    assert_eq!(
        scaled.status.unwrap().ready_replicas,
        Some(1),
        "and keeps the status"
    );
}

#[tokio::test]
async fn missing_required_fields_are_422_with_causes() {
    let (_sandbox, client) = client().await;
    let api: Api<Deployment> = Api::namespaced(client, "default");
    let mut broken = deployment(1);
    broken.spec.template.spec.as_mut().unwrap().containers[0].image = None;
    let err = api
        .create(&PostParams::default(), &broken)
        .await
        .unwrap_err();
    let kube::Error::Api(status) = err else {
        panic!("expected an API error, got {err}")
    };
    assert_eq!((status.code, status.reason.as_str()), (422, "Invalid"));
    assert_eq!(
        status.message,
        "Deployment.apps \"web\" is invalid: spec.template.spec.containers[0].image: Required value"
    );
    let causes = status.details.unwrap().causes;
    assert_eq!(causes[0].field, "spec.template.spec.containers[0].image");

    let dry = api
        .create(
            &PostParams {
                dry_run: true,
                ..Default::default()
            },
            &broken,
        )
        .await;
    assert!(dry.is_err(), "a dry run validates too");
}

#[tokio::test]
async fn delete_options_in_the_body_choose_propagation() {
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::api::{DeleteParams, ListParams};
    let (_sandbox, client) = client().await;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let configmaps: Api<ConfigMap> = Api::namespaced(client, "default");
    let owner = deployments
        .create(&PostParams::default(), &deployment(1))
        .await
        .unwrap();
    let child: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "child", "ownerReferences": [
        {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": owner.metadata.uid.unwrap()}
    ]}}))
    .unwrap();
    configmaps
        .create(&PostParams::default(), &child)
        .await
        .unwrap();

    deployments
        .delete("web", &DeleteParams::orphan())
        .await
        .unwrap();
    let kept = configmaps.get("child").await.unwrap();
    assert!(
        kept.metadata.owner_references.is_none(),
        "orphaned, not deleted"
    );

    let all = configmaps
        .delete_collection(&DeleteParams::default(), &ListParams::default())
        .await
        .unwrap();
    assert!(all.left().is_some_and(|list| {
        list.items
            .iter()
            .any(|c| c.metadata.name.as_deref() == Some("child"))
    }));
    assert!(
        configmaps
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn a_namespace_terminates_until_its_contents_are_gone() {
    let (_sandbox, client) = client().await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let configmaps: Api<ConfigMap> = Api::namespaced(client, "doomed");
    let pp = PostParams::default();
    namespaces
        .create(
            &pp,
            &serde_json::from_value(json!({"metadata": {"name": "doomed"}})).unwrap(),
        )
        .await
        .unwrap();
    let configmap = |name: &str, finalizers: serde_json::Value| -> ConfigMap {
        serde_json::from_value(json!({"metadata": {"name": name, "finalizers": finalizers}}))
            .unwrap()
    };
    configmaps
        .create(&pp, &configmap("plain", json!([])))
        .await
        .unwrap();
    configmaps
        .create(&pp, &configmap("held", json!(["example.com/hold"])))
        .await
        .unwrap();

    namespaces
        .delete("doomed", &DeleteParams::default())
        .await
        .unwrap();
    let terminating = namespaces.get("doomed").await.unwrap();
    assert!(terminating.metadata.deletion_timestamp.is_some());
    assert_eq!(
        terminating.status.and_then(|s| s.phase).as_deref(),
        Some("Terminating")
    );
    assert!(configmaps.get_opt("plain").await.unwrap().is_none());
    let held = configmaps.get("held").await.unwrap();
    assert!(held.metadata.deletion_timestamp.is_some());

    let refused = configmaps
        .create(&pp, &configmap("late", json!([])))
        .await
        .unwrap_err();
    let kube::Error::Api(status) = refused else {
        panic!("{refused}")
    };
    assert_eq!(status.code, 403);
    assert!(
        status.message.contains(
            "unable to create new content in namespace doomed because it is being terminated"
        ),
        "{}",
        status.message
    );

    // The last finalizer inside goes: the ConfigMap goes, and the Namespace with it.
    configmaps
        .patch(
            "held",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": null}})),
        )
        .await
        .unwrap();
    assert!(namespaces.get_opt("doomed").await.unwrap().is_none());
}
