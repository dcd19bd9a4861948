//! The OpenAPI v3 documents kubectl reads before it writes: the root index of group-versions
//! and, per group-version, the paths of each kind with the query parameters its operations take.
//!
//! kubectl checks there that the server validates fields itself (`fieldValidation` on PATCH)
//! and then leaves validation to the server, which [`crate::schema`] does. The documents carry
//! no schemas, so `kubectl explain` has nothing to show.

use crate::catalog::{self, ResourceType};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use std::hash::{DefaultHasher, Hash, Hasher};

/// `/openapi/v3`: every served group-version, each with its document's address.
pub fn root(types: &[&'static ResourceType]) -> Value {
    let group_versions: BTreeSet<(&str, &str)> =
        types.iter().map(|t| (t.group, t.version)).collect();
    let paths: Map<String, Value> = group_versions
        .into_iter()
        .map(|(group, version)| {
            let path = prefix(group, version);
            let hash = content_hash(&catalog::in_group_version(types, group, version));
            let url = format!("/openapi/v3/{path}?hash={hash}");
            (path, json!({"serverRelativeURL": url}))
        })
        .collect();
    json!({"paths": paths})
}

/// `/openapi/v3/api/v1` or `/openapi/v3/apis/<group>/<version>`, when it is served.
pub fn group_version(types: &[&'static ResourceType], group: &str, version: &str) -> Option<Value> {
    let kinds = catalog::in_group_version(types, group, version);
    if kinds.is_empty() {
        return None;
    }
    let mut paths = Map::new();
    for t in kinds {
        let gvk = json!({"group": t.group, "version": t.version, "kind": t.kind});
        let operation = |action: &str| {
            json!({
                "operationId": format!("{action}{}", t.kind),
                "x-kubernetes-action": action,
                "x-kubernetes-group-version-kind": gvk,
                "parameters": write_parameters(),
                "responses": {"200": {"description": "OK"}},
            })
        };
        let base = format!("/{}", prefix(group, version));
        let collection = if t.namespaced {
            format!("{base}/namespaces/{{namespace}}/{}", t.plural)
        } else {
            format!("{base}/{}", t.plural)
        };
        paths.insert(collection.clone(), json!({"post": operation("post")}));
        paths.insert(
            format!("{collection}/{{name}}"),
            json!({"put": operation("put"), "patch": operation("patch")}),
        );
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0-sandbox"},
        "paths": paths,
        "components": {"schemas": {}},
    }))
}

fn prefix(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

fn write_parameters() -> Value {
    let query = |name: &str| json!({"name": name, "in": "query", "schema": {"type": "string"}});
    json!([
        query("dryRun"),
        query("fieldManager"),
        query("fieldValidation"),
        query("force")
    ])
}

/// Changes when the kinds of a group-version change, so that clients refetch after a CRD.
fn content_hash(kinds: &[&'static ResourceType]) -> String {
    let mut hasher = DefaultHasher::new();
    for t in kinds {
        (t.kind, t.plural, t.namespaced).hash(&mut hasher);
    }
    format!("{:016X}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::BUILT_IN;

    #[test]
    fn each_kind_has_a_patch_operation_that_takes_field_validation() {
        let types: Vec<&'static ResourceType> = BUILT_IN.iter().collect();
        let root = root(&types);
        let url = root["paths"]["apis/apps/v1"]["serverRelativeURL"]
            .as_str()
            .unwrap();
        assert!(url.starts_with("/openapi/v3/apis/apps/v1?hash="), "{url}");
        assert!(root["paths"]["api/v1"].is_object());

        let apps = group_version(&types, "apps", "v1").unwrap();
        let patch =
            &apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(
            patch["x-kubernetes-group-version-kind"]["kind"],
            "Deployment"
        );
        let names: Vec<&str> = patch["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert!(names.contains(&"fieldValidation"), "{names:?}");
        let core = group_version(&types, "", "v1").unwrap();
        assert!(core["paths"]["/api/v1/namespaces/{name}"]["patch"].is_object());
        assert!(group_version(&types, "example.com", "v1").is_none());
    }
}
