//! The resource tree: an application's resources and what the cluster made from them —
//! ReplicaSets and Pods by owner references, a Service's Endpoints by name, a StatefulSet's
//! volume claims by their `<template>-<statefulset>-<n>` names.

use crate::health::{self, Health};
use crate::reconcile::{Comparison, ResourceSync};
use crate::resources::ResourceKey;
use kube::api::{Api, DynamicObject, ListParams};
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

/// The tree of `comparison`'s resources and their descendants in the cluster behind `client`.
pub async fn build(
    client: &kube::Client,
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
        let lists = futures::future::join_all(child_kinds().map(|resource| {
            let api: Api<DynamicObject> =
                Api::namespaced_with(client.clone(), namespace, &resource);
            async move { (resource, api.list(&ListParams::default()).await) }
        }))
        .await;
        for (resource, list) in lists {
            for item in list?.items {
                let mut value = serde_json::to_value(&item).unwrap_or(Value::Null);
                value["apiVersion"] = Value::String(resource.api_version.clone());
                value["kind"] = Value::String(resource.kind.clone());
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
    // Then the links Kubernetes makes by name.
    let roots: Vec<(ResourceKey, Option<Value>)> = comparison
        .resources
        .iter()
        .map(|r| (r.key.clone(), r.live.clone()))
        .collect();
    for (key, api_version, value) in candidates {
        let parent = roots.iter().find_map(|(root, live)| {
            let same_place = root.namespace == key.namespace;
            let by_name = match (key.kind.as_str(), root.kind.as_str()) {
                ("Endpoints", "Service") => root.name == key.name,
                ("PersistentVolumeClaim", "StatefulSet") => live
                    .as_ref()
                    .and_then(|l| l.pointer("/spec/volumeClaimTemplates"))
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .any(|t| {
                        let prefix = format!("{}-{}-", text(t, "/metadata/name"), root.name);
                        key.name
                            .strip_prefix(&prefix)
                            .is_some_and(|n| n.parse::<u32>().is_ok())
                    }),
                _ => false,
            };
            (same_place && by_name).then(|| root.clone())
        });
        if let Some(parent) = parent {
            nodes.push(node(key, api_version, parent, &value));
        }
    }
    Ok(nodes)
}

fn node(key: ResourceKey, api_version: String, parent: ResourceKey, live: &Value) -> TreeNode {
    TreeNode {
        key,
        api_version,
        parent: Some(parent),
        sync: None,
        health: health::assess(live),
    }
}
