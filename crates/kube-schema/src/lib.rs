//! What Kubernetes publishes about its built-in kinds that a client needs offline: how each
//! list and map merges (for server-side apply and strategic merge patch), and which kinds are
//! cluster-scoped. The sandbox serves by it; the engine's offline diff predicts by it.
//!
//! The facts come from Kubernetes' own OpenAPI extensions (`x-kubernetes-list-type`,
//! `x-kubernetes-list-map-keys`, `x-kubernetes-map-type`, `x-kubernetes-patch-strategy`,
//! `x-kubernetes-patch-merge-key`), extracted by `schema/generate.py` into `schema/merge.json`.
//! Kinds the table does not know (custom resources) merge as kube-apiserver merges an
//! unstructured object: maps field by field, lists as one value.

use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Map keys that kube-apiserver defaults before it matches list items: `protocol` is
/// `+default="TCP"` on every port type, and the extracted schema does not carry defaults.
const KEY_DEFAULTS: &[(&str, &str)] = &[("protocol", "TCP")];

/// The built-in kinds that are cluster-scoped, by (group, kind), as kube-apiserver 1.34 serves
/// them: a namespace written on one of these means nothing.
pub const CLUSTER_SCOPED: &[(&str, &str)] = &[
    ("", "ComponentStatus"),
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
    (
        "admissionregistration.k8s.io",
        "MutatingAdmissionPolicyBinding",
    ),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
    ),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    (
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
    ),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
    ("certificates.k8s.io", "ClusterTrustBundle"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
    ("networking.k8s.io", "IPAddress"),
    ("networking.k8s.io", "IngressClass"),
    ("networking.k8s.io", "ServiceCIDR"),
    ("node.k8s.io", "RuntimeClass"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("resource.k8s.io", "DeviceClass"),
    ("resource.k8s.io", "ResourceSlice"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "CSINode"),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "VolumeAttachment"),
    ("storage.k8s.io", "VolumeAttributesClass"),
];

/// Whether the built-in kind `group`/`kind` is cluster-scoped (false for kinds not built in).
pub fn is_cluster_scoped(group: &str, kind: &str) -> bool {
    CLUSTER_SCOPED.contains(&(group, kind))
}

#[derive(Deserialize)]
struct Table {
    kinds: HashMap<String, String>,
    types: HashMap<String, TypeInfo>,
}

#[derive(Deserialize, Default)]
pub struct TypeInfo {
    #[serde(default)]
    fields: HashMap<String, FieldInfo>,
    #[serde(default)]
    atomic: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FieldInfo {
    list: Option<ListType>,
    #[serde(default)]
    keys: Vec<String>,
    #[serde(default)]
    merge: bool,
    merge_key: Option<String>,
    items: Option<String>,
    map: Option<MapType>,
    values: Option<String>,
    #[serde(rename = "type")]
    of_type: Option<String>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
enum ListType {
    Atomic,
    Set,
    Map,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum MapType {
    Atomic,
    Granular,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        serde_json::from_str(include_str!("../schema/merge.json"))
            .unwrap_or_else(|e| panic!("schema/merge.json does not parse: {e}"))
    })
}

/// The shape of a value at some point of an object: what its fields are and how they merge.
#[derive(Clone, Copy)]
pub enum Node {
    /// A known type from the table.
    Type(&'static TypeInfo),
    /// A granular map whose values all have the same shape.
    MapOf(Option<&'static TypeInfo>),
    /// The root of a kind the table does not know: only `metadata` is known.
    UnknownRoot,
    /// Anything else: maps merge field by field, lists are atomic.
    Unknown,
}

/// How a list merges.
#[derive(Clone, Copy)]
pub struct List {
    /// For server-side apply: `None` when the list is atomic.
    pub ssa: Option<ListMerge>,
    /// For strategic merge patch: `None` when the patch replaces the list.
    pub smp: Option<ListMerge>,
    /// The shape of each item.
    pub items: Node,
}

/// How a list that is not atomic matches items.
#[derive(Clone, Copy)]
pub enum ListMerge {
    /// Items are primitive values, matched by value.
    Set,
    /// Items are objects, matched by these fields.
    Map(&'static [String]),
}

/// The shape of a field's value.
#[derive(Clone, Copy)]
pub enum Child {
    /// A map or struct merged field by field.
    Object(Node),
    /// One value, replaced whole: an atomic struct or map.
    Atomic,
    /// A list.
    List(List),
    /// A scalar, or a field whose shape only its value tells.
    Unknown,
    /// A field the type does not declare.
    Undeclared,
}

impl Node {
    /// The shape of objects of `api_version`/`kind`.
    pub fn root(api_version: &str, kind: &str) -> Node {
        let table = table();
        table
            .kinds
            .get(&format!("{api_version}/{kind}"))
            .and_then(|name| table.types.get(name))
            .map_or(Node::UnknownRoot, Node::Type)
    }

    /// The shape of this object's field `name`.
    pub fn child(self, name: &str) -> Child {
        let table = table();
        let type_of = |name: &Option<String>| name.as_ref().and_then(|n| table.types.get(n));
        let info = match self {
            Node::Type(info) => info.fields.get(name),
            Node::MapOf(Some(values)) => return object_or_atomic(values),
            Node::MapOf(None) => return Child::Unknown,
            Node::UnknownRoot if name == "metadata" => {
                return Node::root("v1", "ConfigMap").child("metadata");
            }
            Node::UnknownRoot | Node::Unknown => return Child::Unknown,
        };
        let Some(info) = info else {
            return Child::Undeclared;
        };
        if let Some(list) = info.list {
            let items = type_of(&info.items).map_or(Node::Unknown, Node::Type);
            let by_items = || match &info.items {
                Some(_) => ListMerge::Map(info.keys.as_slice()),
                None => ListMerge::Set,
            };
            let ssa = match list {
                ListType::Atomic => None,
                ListType::Set => Some(ListMerge::Set),
                ListType::Map => Some(ListMerge::Map(info.keys.as_slice())),
            };
            let smp = info.merge.then(|| match &info.merge_key {
                Some(key) => ListMerge::Map(std::slice::from_ref(key)),
                None => by_items(),
            });
            return Child::List(List { ssa, smp, items });
        }
        match info.map {
            Some(MapType::Atomic) => return Child::Atomic,
            Some(MapType::Granular) => return Child::Object(Node::MapOf(type_of(&info.values))),
            None => {}
        }
        match type_of(&info.of_type) {
            Some(t) => object_or_atomic(t),
            None => Child::Unknown,
        }
    }
}

fn object_or_atomic(info: &'static TypeInfo) -> Child {
    if info.atomic || info.fields.is_empty() {
        // Types without fields of their own (Quantity, Time, IntOrString, RawExtension) are
        // values; an empty field list on an object type means "any fields".
        if info.atomic {
            return Child::Atomic;
        }
        return Child::Unknown;
    }
    Child::Object(Node::Type(info))
}

/// Removes the fields `obj` has that its kind does not declare, and returns their paths as
/// kube-apiserver names them (`spec.template.spec.containers[0].imagee`). Custom resources
/// declare anything.
pub fn drop_undeclared(obj: &mut Value) -> Vec<String> {
    fn walk(value: &mut Value, node: Node, path: &str, found: &mut Vec<String>) {
        let Value::Object(map) = value else { return };
        let at = |key: &str| {
            if path.is_empty() {
                key.to_string()
            } else {
                format!("{path}.{key}")
            }
        };
        map.retain(|key, _| {
            let declared = !matches!(node.child(key), Child::Undeclared);
            if !declared {
                found.push(at(key));
            }
            declared
        });
        for (key, child) in map.iter_mut() {
            match (node.child(key), child) {
                (Child::Object(inner), value) => walk(value, inner, &at(key), found),
                (Child::List(list), Value::Array(items)) => {
                    for (i, item) in items.iter_mut().enumerate() {
                        walk(item, list.items, &format!("{}[{i}]", at(key)), found);
                    }
                }
                _ => {}
            }
        }
    }
    let text = |key| {
        obj.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let root = Node::root(&text("apiVersion"), &text("kind"));
    let mut found = Vec::new();
    walk(obj, root, "", &mut found);
    found
}

/// The key of a list item under map keys `keys`, as kube-apiserver writes it in managed fields
/// (`{"containerPort":80,"protocol":"TCP"}`, fields in name order), or `None` when the item
/// lacks a key field.
pub fn item_key(item: &Value, keys: &[String]) -> Option<String> {
    let mut sorted: Vec<&String> = keys.iter().collect();
    sorted.sort();
    let mut parts = Vec::with_capacity(sorted.len());
    for key in sorted {
        let value = match item.get(key) {
            Some(v) if !v.is_null() => v.clone(),
            _ => Value::String(
                KEY_DEFAULTS
                    .iter()
                    .find(|(name, _)| name == key)
                    .map(|(_, default)| (*default).to_string())?,
            ),
        };
        parts.push(format!(
            "{}:{}",
            Value::String(key.clone()),
            serde_json::to_string(&value).unwrap_or_default()
        ));
    }
    Some(format!("{{{}}}", parts.join(",")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn list(node: Node, field: &str) -> List {
        match node.child(field) {
            Child::List(list) => list,
            _ => panic!("{field} is not a list"),
        }
    }

    fn object(node: Node, field: &str) -> Node {
        match node.child(field) {
            Child::Object(node) => node,
            _ => panic!("{field} is not an object"),
        }
    }

    #[test]
    fn containers_merge_by_name_and_ports_by_port_and_protocol() {
        let deployment = Node::root("apps/v1", "Deployment");
        let pod = object(object(object(deployment, "spec"), "template"), "spec");
        let containers = list(pod, "containers");
        assert!(matches!(containers.ssa, Some(ListMerge::Map(k)) if k == ["name"]));
        assert!(matches!(containers.smp, Some(ListMerge::Map(k)) if k == ["name"]));
        let ports = list(containers.items, "ports");
        assert!(matches!(ports.ssa, Some(ListMerge::Map(k)) if k == ["containerPort", "protocol"]));
        assert!(matches!(ports.smp, Some(ListMerge::Map(k)) if k == ["containerPort"]));
        assert!(list(containers.items, "args").ssa.is_none());
        assert!(list(pod, "tolerations").smp.is_none());
    }

    #[test]
    fn atomic_maps_and_structs_are_single_values() {
        let service = Node::root("v1", "Service");
        assert!(matches!(
            object(service, "spec").child("selector"),
            Child::Atomic
        ));
        let deployment = object(Node::root("apps/v1", "Deployment"), "spec");
        assert!(matches!(deployment.child("selector"), Child::Atomic));
        let meta = object(deployment, "template");
        assert!(matches!(
            object(meta, "metadata").child("labels"),
            Child::Object(Node::MapOf(None))
        ));
    }

    #[test]
    fn finalizers_are_a_set_and_custom_resources_know_only_metadata() {
        let meta = object(Node::root("example.com/v1", "Widget"), "metadata");
        let finalizers = list(meta, "finalizers");
        assert!(matches!(finalizers.ssa, Some(ListMerge::Set)));
        assert!(matches!(finalizers.smp, Some(ListMerge::Set)));
        assert!(matches!(
            Node::root("example.com/v1", "Widget").child("spec"),
            Child::Unknown
        ));
    }

    #[test]
    fn undeclared_fields_are_named_and_dropped() {
        let mut obj = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"any": "label"}, "nam": "typo"},
            "spec": {"replicaz": 2, "template": {"spec": {"containers": [
                {"name": "web", "imagee": "nginx", "env": [{"name": "A", "valu": "1"}]}
            ]}}}
        });
        let found = drop_undeclared(&mut obj);
        assert_eq!(
            found,
            [
                "metadata.nam",
                "spec.replicaz",
                "spec.template.spec.containers[0].imagee",
                "spec.template.spec.containers[0].env[0].valu"
            ]
        );
        assert_eq!(
            obj["spec"],
            json!({"template": {"spec": {"containers": [{"name": "web", "env": [{"name": "A"}]}]}}})
        );
        let mut widget =
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "spec": {"x": 1}});
        assert!(drop_undeclared(&mut widget).is_empty());
    }

    #[test]
    fn item_keys_are_sorted_and_default_the_protocol() {
        let keys = ["protocol".to_string(), "containerPort".to_string()];
        assert_eq!(
            item_key(&json!({"containerPort": 80, "name": "http"}), &keys).as_deref(),
            Some(r#"{"containerPort":80,"protocol":"TCP"}"#)
        );
        assert_eq!(item_key(&json!({"name": "x"}), &keys), None);
    }
}
