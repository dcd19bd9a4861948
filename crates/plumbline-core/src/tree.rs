//! The resource tree: an application's resources and what the cluster made from them —
//! ReplicaSets and Pods by owner references, a Service's Endpoints by name, a StatefulSet's
//! volume claims by their `<template>-<statefulset>-<n>` names. Beside the tree, the network:
//! which Services an Ingress sends to and which Pods a Service selects.

use crate::comparison::{Comparison, ResourceSync};
use crate::health::{self, Health};
use crate::resources::{Resolved, ResourceKey};
use kube::discovery::ApiResource;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use ts_rs::TS;

/// One node of the tree.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TreeNode {
    pub key: ResourceKey,
    pub api_version: String,
    /// What this object belongs to; none for the application's own resources.
    pub parent: Option<ResourceKey>,
    /// For the application's own resources: their sync status.
    pub sync: Option<ResourceSync>,
    pub health: Option<Health>,
    /// Where traffic goes next: an Ingress's Services, a Service's Pods (nodes of this tree).
    pub routes_to: Vec<ResourceKey>,
}

/// The kinds the cluster creates on an application's behalf, looked for in its namespaces.
const CHILD_KINDS: &[(&str, &str, &str, &str)] = &[
    ("apps", "v1", "ReplicaSet", "replicasets"),
    ("", "v1", "Pod", "pods"),
    ("batch", "v1", "Job", "jobs"),
    ("", "v1", "Endpoints", "endpoints"),
    ("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims"),
];

/// The API resources of [`CHILD_KINDS`].
pub fn child_kinds() -> impl Iterator<Item = ApiResource> {
    CHILD_KINDS
        .iter()
        .map(|(group, version, kind, plural)| ApiResource {
            group: group.to_string(),
            version: version.to_string(),
            api_version: if group.is_empty() {
                version.to_string()
            } else {
                format!("{group}/{version}")
            },
            kind: kind.to_string(),
            plural: plural.to_string(),
        })
}

fn text<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The tree of `comparison`'s resources and their descendants in `cluster`.
pub async fn build(
    cluster: &crate::comparison::Cluster<'_>,
    comparison: &Comparison,
) -> Result<Vec<TreeNode>, kube::Error> {
    let mut nodes: Vec<TreeNode> = comparison
        .resources
        .iter()
        .map(|r| TreeNode {
            key: r.key.clone(),
            api_version: r.resolved.api.api_version.clone(),
            parent: None,
            sync: Some(r.status),
            health: r.health(),
            routes_to: Vec::new(),
        })
        .collect();
    let mut owners: HashMap<String, ResourceKey> = comparison
        .resources
        .iter()
        .filter_map(|r| {
            let uid = text(r.live.as_ref()?, "/metadata/uid");
            (!uid.is_empty()).then(|| (uid.to_string(), r.key.clone()))
        })
        .collect();
    let namespaces: BTreeSet<&str> = comparison
        .resources
        .iter()
        .filter(|r| r.live.is_some() && !r.key.namespace.is_empty())
        .map(|r| r.key.namespace.as_str())
        .collect();

    let mut candidates: Vec<(ResourceKey, String, Value)> = Vec::new();
    for namespace in namespaces {
        let lists = futures::future::join_all(child_kinds().map(|api| async move {
            let resolved = Resolved {
                api,
                namespaced: true,
            };
            let objects = cluster.objects(&resolved, namespace).await;
            (resolved.api, objects)
        }))
        .await;
        for (resource, objects) in lists {
            for value in objects? {
                let key = ResourceKey {
                    group: resource.group.clone(),
                    kind: resource.kind.clone(),
                    namespace: namespace.to_string(),
                    name: text(&value, "/metadata/name").to_string(),
                };
                candidates.push((key, resource.api_version.clone(), value));
            }
        }
    }

    let known: BTreeSet<ResourceKey> = nodes.iter().map(|n| n.key.clone()).collect();
    candidates.retain(|(key, _, _)| !known.contains(key));
    let pods: Vec<(ResourceKey, Value)> = candidates
        .iter()
        .filter(|(key, _, _)| key.kind == "Pod")
        .map(|(key, _, value)| (key.clone(), value.clone()))
        .collect();
    // Owner references first, level by level (a Deployment's ReplicaSets, then their Pods).
    loop {
        let mut found = false;
        let mut rest = Vec::new();
        for (key, api_version, value) in candidates {
            let owner = value
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find_map(|o| owners.get(text(o, "/uid")).cloned());
            match owner {
                Some(parent) => {
                    owners.insert(text(&value, "/metadata/uid").to_string(), key.clone());
                    nodes.push(node(key, api_version, parent, &value));
                    found = true;
                }
                None => rest.push((key, api_version, value)),
            }
        }
        candidates = rest;
        if !found {
            break;
        }
    }
    // Then the links Kubernetes makes by name: a Service's Endpoints, a StatefulSet's claims.
    let roots: HashMap<(&str, &str, &str), &crate::comparison::Compared> = comparison
        .resources
        .iter()
        .map(|r| {
            let key = &r.key;
            (
                (key.kind.as_str(), key.namespace.as_str(), key.name.as_str()),
                &**r,
            )
        })
        .collect();
    let sets: Vec<&crate::comparison::Compared> = comparison
        .resources
        .iter()
        .filter(|r| r.key.kind == "StatefulSet")
        .map(|r| &**r)
        .collect();
    for (key, api_version, value) in candidates {
        let parent = match key.kind.as_str() {
            "Endpoints" => roots
                .get(&("Service", key.namespace.as_str(), key.name.as_str()))
                .map(|r| r.key.clone()),
            "PersistentVolumeClaim" => sets
                .iter()
                .find(|set| set.key.namespace == key.namespace && claims_of(set, &key.name))
                .map(|set| set.key.clone()),
            _ => None,
        };
        if let Some(parent) = parent {
            nodes.push(node(key, api_version, parent, &value));
        }
    }
    link_network(&mut nodes, comparison, &pods);
    Ok(nodes)
}

/// Whether `claim` is one of the claims StatefulSet `set` made from its claim templates
/// (`<template>-<set>-<ordinal>`).
fn claims_of(set: &crate::comparison::Compared, claim: &str) -> bool {
    set.live
        .as_ref()
        .and_then(|l| l.pointer("/spec/volumeClaimTemplates"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|t| {
            let prefix = format!("{}-{}-", text(t, "/metadata/name"), set.key.name);
            claim
                .strip_prefix(&prefix)
                .is_some_and(|n| n.parse::<u32>().is_ok())
        })
}

/// Fills `routes_to`: an Ingress to the Services its rules and default backend name, a Service
/// to the Pods its selector matches — only among the tree's own nodes.
fn link_network(nodes: &mut [TreeNode], comparison: &Comparison, pods: &[(ResourceKey, Value)]) {
    let in_tree: BTreeSet<ResourceKey> = nodes.iter().map(|n| n.key.clone()).collect();
    // Each Service looks at every Pod: their labels are looked up once.
    let pods: Vec<Labelled> = labelled(pods.iter().filter(|(k, _)| in_tree.contains(k)));
    let mut routes: HashMap<ResourceKey, Vec<ResourceKey>> = HashMap::new();
    for r in &comparison.resources {
        let Some(live) = r.live.as_ref() else {
            continue;
        };
        let to = match (r.key.group.as_str(), r.key.kind.as_str()) {
            ("", "Service") => selected_pods(live, &r.key.namespace, &pods),
            ("networking.k8s.io", "Ingress") => ingress_services(live)
                .into_iter()
                .map(|name| ResourceKey {
                    group: String::new(),
                    kind: "Service".into(),
                    namespace: r.key.namespace.clone(),
                    name,
                })
                .filter(|k| in_tree.contains(k))
                .collect(),
            _ => continue,
        };
        routes.insert(r.key.clone(), to);
    }
    for node in nodes {
        if let Some(to) = routes.remove(&node.key) {
            node.routes_to = to;
        }
    }
}

/// A Pod's key and its labels.
type Labelled<'a> = (&'a ResourceKey, Option<&'a serde_json::Map<String, Value>>);

fn labelled<'a>(pods: impl Iterator<Item = &'a (ResourceKey, Value)>) -> Vec<Labelled<'a>> {
    pods.map(|(k, pod)| {
        (
            k,
            pod.pointer("/metadata/labels").and_then(Value::as_object),
        )
    })
    .collect()
}

/// The Pods in `namespace` whose labels hold every pair of the Service's selector. A Service
/// with no selector selects nothing (its Endpoints are managed by hand).
fn selected_pods(service: &Value, namespace: &str, pods: &[Labelled]) -> Vec<ResourceKey> {
    let Some(selector) = service.pointer("/spec/selector").and_then(Value::as_object) else {
        return Vec::new();
    };
    if selector.is_empty() {
        return Vec::new();
    }
    pods.iter()
        .filter(|(key, labels)| {
            key.namespace == namespace
                && selector
                    .iter()
                    .all(|(label, want)| labels.and_then(|l| l.get(label)) == Some(want))
        })
        .map(|(key, _)| (*key).clone())
        .collect()
}

/// The Service names an Ingress sends to, in order, each once.
fn ingress_services(ingress: &Value) -> Vec<String> {
    let default = ingress.pointer("/spec/defaultBackend/service/name");
    let paths = ingress
        .pointer("/spec/rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|rule| rule.pointer("/http/paths").and_then(Value::as_array))
        .flatten()
        .filter_map(|path| path.pointer("/backend/service/name"));
    let mut names: Vec<String> = Vec::new();
    for name in default.into_iter().chain(paths).filter_map(Value::as_str) {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    names
}

fn node(key: ResourceKey, api_version: String, parent: ResourceKey, live: &Value) -> TreeNode {
    TreeNode {
        key,
        api_version,
        parent: Some(parent),
        sync: None,
        health: health::assess(live),
        routes_to: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, labels: Value) -> (ResourceKey, Value) {
        let key = ResourceKey {
            group: String::new(),
            kind: "Pod".into(),
            namespace: "web".into(),
            name: name.into(),
        };
        (
            key,
            json!({"metadata": {"name": name, "namespace": "web", "labels": labels}}),
        )
    }

    #[test]
    fn a_service_selects_the_pods_that_carry_all_its_labels() {
        let pods = [
            pod("ui-1", json!({"app": "ui", "tier": "front"})),
            pod("ui-2", json!({"app": "ui"})),
            pod("db-1", json!({"app": "db", "tier": "front"})),
        ];
        let pods = labelled(pods.iter());
        let names = |service: Value| -> Vec<String> {
            selected_pods(&service, "web", &pods)
                .into_iter()
                .map(|k| k.name)
                .collect()
        };
        assert_eq!(
            names(json!({"spec": {"selector": {"app": "ui"}}})),
            ["ui-1", "ui-2"]
        );
        assert_eq!(
            names(json!({"spec": {"selector": {"app": "ui", "tier": "front"}}})),
            ["ui-1"]
        );
        assert!(names(json!({"spec": {"selector": {}}})).is_empty());
        assert!(names(json!({"spec": {"type": "ExternalName"}})).is_empty());
        assert!(
            selected_pods(
                &json!({"spec": {"selector": {"app": "ui"}}}),
                "other",
                &pods
            )
            .is_empty()
        );
    }

    #[test]
    fn an_ingress_sends_to_its_default_backend_and_every_path() {
        let ingress = json!({"spec": {
            "defaultBackend": {"service": {"name": "fallback", "port": {"number": 80}}},
            "rules": [
                {"host": "a.example", "http": {"paths": [
                    {"path": "/", "backend": {"service": {"name": "ui"}}},
                    {"path": "/api", "backend": {"service": {"name": "api"}}}
                ]}},
                {"host": "b.example", "http": {"paths": [{"path": "/", "backend": {"service": {"name": "ui"}}}]}},
                {"host": "c.example"}
            ]
        }});
        assert_eq!(ingress_services(&ingress), ["fallback", "ui", "api"]);
        assert!(ingress_services(&json!({"spec": {}})).is_empty());
    }
}
