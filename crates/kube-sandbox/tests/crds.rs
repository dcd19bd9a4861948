//! CustomResourceDefinitions: creating one makes its kind appear in discovery and be served;
//! deleting it removes both, and its custom resources with it.

mod common;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, ListParams, PostParams};
use kube::core::GroupVersionKind;
use kube::discovery::{self, ApiResource, Scope};
use kube_sandbox::{Sandbox, SandboxOptions};
use serde_json::json;
use std::time::Duration;

async fn client() -> (Sandbox, kube::Client) {
    common::start(SandboxOptions::default()).await
}

fn widget_crd() -> CustomResourceDefinition {
    serde_json::from_value(json!({
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com", "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "shortNames": ["wd"]},
            "versions": [{"name": "v1", "served": true, "storage": true,
                          "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
                          "subresources": {"status": {}}}]
        }
    }))
    .unwrap()
}

#[tokio::test]
async fn a_crd_serves_its_kind_until_it_is_deleted() {
    let (_sandbox, client) = client().await;
    let gvk = GroupVersionKind::gvk("example.com", "v1", "Widget");
    assert!(
        discovery::pinned_kind(&client, &gvk).await.is_err(),
        "not served before the CRD exists"
    );

    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.create(&PostParams::default(), &widget_crd())
        .await
        .unwrap();
    let (resource, caps) = discovery::pinned_kind(&client, &gvk).await.unwrap();
    assert_eq!(resource.plural, "widgets");
    assert!(matches!(caps.scope, Scope::Namespaced));

    let widgets: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &resource);
    let widget: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"size": 3}
    }))
    .unwrap();
    let created = widgets
        .create(&PostParams::default(), &widget)
        .await
        .unwrap();
    assert_eq!(
        created.metadata.generation,
        Some(1),
        "custom resources track generation"
    );
    assert_eq!(widgets.get("w1").await.unwrap().data["spec"]["size"], 3);

    // The apiextensions controller establishes the CRD.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let crd = crds.get("widgets.example.com").await.unwrap();
        let established = crd.status.and_then(|s| s.conditions).is_some_and(|c| {
            c.iter()
                .any(|c| c.type_ == "Established" && c.status == "True")
        });
        if established {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the CRD was never Established"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    crds.delete("widgets.example.com", &Default::default())
        .await
        .unwrap();
    assert!(
        discovery::pinned_kind(&client, &gvk).await.is_err(),
        "no longer served"
    );
    let again = ApiResource::from_gvk_with_plural(&gvk, "widgets");
    let gone = Api::<DynamicObject>::namespaced_with(client, "default", &again)
        .list(&ListParams::default())
        .await;
    assert!(matches!(gone, Err(kube::Error::Api(s)) if s.code == 404));
}

#[tokio::test]
async fn a_crd_with_a_wrong_name_is_invalid() {
    let (_sandbox, client) = client().await;
    let crds: Api<CustomResourceDefinition> = Api::all(client);
    let mut crd = widget_crd();
    crd.metadata.name = Some("widgets".into());
    let err = crds.create(&PostParams::default(), &crd).await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 422 && s.message.contains("widgets.example.com")),
        "{err}"
    );
}
