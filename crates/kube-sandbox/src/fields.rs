//! Field sets for server-side apply: which leaf paths of an object a manager owns, and their
//! `fieldsV1` encoding in `metadata.managedFields`.
//!
//! A path steps through map fields (`f:`), list items matched by their map keys (`k:`) and set
//! members (`v:`), as kube-apiserver's structured merge does; which lists are maps, sets or
//! atomic comes from [`crate::schema`]. A path ending in a `k:` step stands for the item itself
//! (`.` in `fieldsV1`).

use crate::schema::{self, Child, List, ListMerge, Node};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// One step of a path into an object.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// A field of a map or struct.
    Field(String),
    /// The item of a map-list with this key (`{"name":"web"}`).
    Key(String),
    /// The member of a set-list with this JSON value.
    Value(String),
}

/// A path of steps from the object root to a leaf.
pub type FieldPath = Vec<Step>;

/// A set of leaf paths.
pub type FieldSet = BTreeSet<FieldPath>;

/// Paths the apiserver never lists in managed fields.
fn is_unmanaged(path: &[Step]) -> bool {
    fn field(step: &Step) -> Option<&str> {
        match step {
            Step::Field(name) => Some(name),
            _ => None,
        }
    }
    match path {
        [first, ..] if matches!(field(first), Some("apiVersion" | "kind" | "status")) => true,
        [meta, second, ..] if field(meta) == Some("metadata") => matches!(
            field(second),
            Some(
                "name"
                    | "namespace"
                    | "managedFields"
                    | "resourceVersion"
                    | "uid"
                    | "generation"
                    | "creationTimestamp"
                    | "deletionTimestamp"
                    | "selfLink"
            )
        ),
        _ => false,
    }
}

/// Every managed leaf path of `value`, shaped by the schema of its `apiVersion` and `kind`.
pub fn leaf_paths(value: &Value) -> FieldSet {
    let text = |key| value.get(key).and_then(Value::as_str).unwrap_or_default();
    let root = Node::root(text("apiVersion"), text("kind"));
    let mut out = FieldSet::new();
    collect_object(value, root, &mut Vec::new(), &mut out);
    out.retain(|p| !is_unmanaged(p));
    out
}

/// The leaf paths under `status`, which [`leaf_paths`] leaves out: what a write through the
/// status subresource owns.
pub fn status_paths(value: &Value) -> FieldSet {
    let text = |key| value.get(key).and_then(Value::as_str).unwrap_or_default();
    let root = Node::root(text("apiVersion"), text("kind"));
    let mut out = FieldSet::new();
    collect_object(value, root, &mut Vec::new(), &mut out);
    out.retain(|p| matches!(p.first(), Some(Step::Field(name)) if name == "status"));
    out
}

fn collect_object(value: &Value, node: Node, prefix: &mut FieldPath, out: &mut FieldSet) {
    let Some(map) = value.as_object().filter(|m| !m.is_empty()) else {
        if !prefix.is_empty() {
            out.insert(prefix.clone());
        }
        return;
    };
    for (key, child) in map {
        prefix.push(Step::Field(key.clone()));
        collect(child, node.child(key), prefix, out);
        prefix.pop();
    }
}

fn collect(value: &Value, shape: Child, prefix: &mut FieldPath, out: &mut FieldSet) {
    match (shape, value) {
        (Child::Object(node), Value::Object(_)) => collect_object(value, node, prefix, out),
        (Child::Unknown, Value::Object(_)) => collect_object(value, Node::Unknown, prefix, out),
        // An empty list that merges by key or value claims nothing: it leaves others' items.
        (Child::List(list), Value::Array(items)) if list.ssa.is_some() || !items.is_empty() => {
            collect_list(items, list, prefix, out)
        }
        _ => {
            out.insert(prefix.clone());
        }
    }
}

fn collect_list(items: &[Value], list: List, prefix: &mut FieldPath, out: &mut FieldSet) {
    match list.ssa {
        Some(ListMerge::Set) => {
            for item in items {
                prefix.push(Step::Value(item.to_string()));
                out.insert(prefix.clone());
                prefix.pop();
            }
        }
        Some(ListMerge::Map(keys)) => {
            for item in items {
                let Some(key) = schema::item_key(item, keys) else {
                    continue;
                };
                prefix.push(Step::Key(key));
                out.insert(prefix.clone());
                collect_object(item, list.items, prefix, out);
                prefix.pop();
            }
        }
        None => {
            out.insert(prefix.clone());
        }
    }
}

/// The names of the fields in a `k:` step's key.
fn key_fields(key: &str) -> Vec<String> {
    serde_json::from_str::<Map<String, Value>>(key)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// Where in `items` the item with `key` is.
fn position_of_key(items: &[Value], key: &str) -> Option<usize> {
    let fields = key_fields(key);
    items
        .iter()
        .position(|item| schema::item_key(item, &fields).as_deref() == Some(key))
}

fn position_of_value(items: &[Value], member: &str) -> Option<usize> {
    let wanted: Value = serde_json::from_str(member).ok()?;
    items.iter().position(|item| *item == wanted)
}

fn step_into<'a>(value: &'a Value, step: &Step) -> Option<&'a Value> {
    match step {
        Step::Field(name) => value.as_object()?.get(name),
        Step::Key(key) => {
            let items = value.as_array()?;
            items.get(position_of_key(items, key)?)
        }
        Step::Value(member) => {
            let items = value.as_array()?;
            items.get(position_of_value(items, member)?)
        }
    }
}

/// The value at `path`, if present.
pub fn get<'a>(value: &'a Value, path: &[Step]) -> Option<&'a Value> {
    path.iter().try_fold(value, step_into)
}

/// The value at `step` in `value`, created empty when missing: a map field, a list item holding
/// just its key, or a set member.
fn step_into_or_create<'a>(value: &'a mut Value, step: &Step) -> &'a mut Value {
    match step {
        Step::Field(name) => {
            if !value.is_object() {
                *value = Value::Object(Map::new());
            }
            let Value::Object(map) = value else {
                unreachable!("made an object above")
            };
            map.entry(name.clone()).or_insert(Value::Null)
        }
        Step::Key(key) | Step::Value(key) => {
            if !value.is_array() {
                *value = Value::Array(Vec::new());
            }
            let Value::Array(items) = value else {
                unreachable!("made an array above")
            };
            let found = match step {
                Step::Key(_) => position_of_key(items, key),
                _ => position_of_value(items, key),
            };
            let index = found.unwrap_or_else(|| {
                items.push(serde_json::from_str(key).unwrap_or(Value::Null));
                items.len() - 1
            });
            &mut items[index]
        }
    }
}

/// Sets the value at `path`, creating maps, list items and set members on the way. A path
/// ending at an item or set member only makes sure it exists.
pub fn set(value: &mut Value, path: &[Step], leaf: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let parent = parents.iter().fold(value, step_into_or_create);
    let slot = step_into_or_create(parent, last);
    if let Step::Field(_) = last {
        *slot = leaf;
    }
}

/// Removes the value at `path` (a field, a list item or a set member), then any maps and lists
/// the removal left empty.
pub fn remove(value: &mut Value, path: &[Step]) {
    fn go(value: &mut Value, path: &[Step]) -> bool {
        let Some((first, rest)) = path.split_first() else {
            return false;
        };
        let index = match (first, &*value) {
            (Step::Key(key), Value::Array(items)) => position_of_key(items, key),
            (Step::Value(member), Value::Array(items)) => position_of_value(items, member),
            _ => None,
        };
        let emptied_child = rest.is_empty()
            || match first {
                Step::Field(name) => value
                    .as_object_mut()
                    .and_then(|m| m.get_mut(name))
                    .is_some_and(|child| go(child, rest)),
                _ => index
                    .and_then(|i| value.as_array_mut()?.get_mut(i))
                    .is_some_and(|child| go(child, rest)),
            };
        if emptied_child {
            match (first, &mut *value) {
                (Step::Field(name), Value::Object(map)) => {
                    map.remove(name);
                }
                (_, Value::Array(items)) => {
                    if let Some(i) = index {
                        items.remove(i);
                    }
                }
                _ => {}
            }
        }
        match value {
            Value::Object(map) => map.is_empty(),
            Value::Array(items) => items.is_empty(),
            _ => false,
        }
    }
    go(value, path);
}

fn encode(step: &Step) -> String {
    match step {
        Step::Field(name) => format!("f:{name}"),
        Step::Key(key) => format!("k:{key}"),
        Step::Value(member) => format!("v:{member}"),
    }
}

/// Encodes a field set as `fieldsV1` (`{"f:spec":{"f:replicas":{}}}`); an owned list item gets
/// a `.` entry, as kube-apiserver writes it.
pub fn to_fields_v1(set: &FieldSet) -> Value {
    let mut root = Value::Object(Map::new());
    for path in set {
        let mut keyed: Vec<String> = path.iter().map(encode).collect();
        if let Some(Step::Key(_)) = path.last() {
            keyed.push(".".into());
        }
        let mut cursor = &mut root;
        for key in keyed {
            let Value::Object(map) = cursor else {
                unreachable!("markers are always objects")
            };
            cursor = map.entry(key).or_insert_with(|| Value::Object(Map::new()));
        }
    }
    root
}

/// Decodes `fieldsV1` back into leaf paths.
pub fn from_fields_v1(fields: &Value) -> FieldSet {
    fn decode(key: &str) -> Option<Step> {
        let (kind, rest) = key.split_at_checked(2)?;
        let canonical = |text: &str| {
            // Re-encode so that spacing in a stored object does not change the key.
            serde_json::from_str::<Value>(text)
                .map(|v| match v {
                    Value::Object(_) => {
                        let names = key_fields(text);
                        schema::item_key(&v, &names).unwrap_or_else(|| v.to_string())
                    }
                    other => other.to_string(),
                })
                .unwrap_or_else(|_| text.to_string())
        };
        match kind {
            "f:" => Some(Step::Field(rest.to_string())),
            "k:" => Some(Step::Key(canonical(rest))),
            "v:" => Some(Step::Value(canonical(rest))),
            _ => None,
        }
    }
    fn go(v: &Value, prefix: &mut FieldPath, out: &mut FieldSet) {
        let Some(map) = v.as_object() else { return };
        if map.contains_key(".") || (map.is_empty() && !prefix.is_empty()) {
            out.insert(prefix.clone());
        }
        for (key, child) in map {
            if let Some(step) = decode(key) {
                prefix.push(step);
                go(child, prefix, out);
                prefix.pop();
            }
        }
    }
    let mut out = FieldSet::new();
    go(fields, &mut Vec::new(), &mut out);
    out
}

/// A path for messages: `.spec.template.spec.containers[name="web"].image`.
pub fn display(path: &[Step]) -> String {
    path.iter()
        .map(|step| match step {
            Step::Field(name) => format!(".{name}"),
            Step::Key(key) => {
                let fields: Map<String, Value> = serde_json::from_str(key).unwrap_or_default();
                let parts: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("[{}]", parts.join(","))
            }
            Step::Value(member) => format!("[{member}]"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shown(set: &FieldSet) -> Vec<String> {
        set.iter().map(|p| display(p)).collect()
    }

    #[test]
    fn leaf_paths_skip_identity_and_status() {
        let obj = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "b", "labels": {"app": "x"}},
            "data": {"k": "v"}, "status": {"x": 1}
        });
        assert_eq!(
            shown(&leaf_paths(&obj)),
            [".data.k", ".metadata.labels.app"]
        );
    }

    #[test]
    fn lists_follow_the_schema() {
        let obj = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"finalizers": ["a/b"]},
            "spec": {"selector": {"matchLabels": {"app": "x"}}, "template": {"spec": {"containers": [
                {"name": "web", "image": "nginx", "args": ["-v"], "ports": [{"containerPort": 80}]}
            ]}}}
        });
        assert_eq!(
            shown(&leaf_paths(&obj)),
            [
                r#".metadata.finalizers["a/b"]"#,
                ".spec.selector",
                r#".spec.template.spec.containers[name="web"]"#,
                r#".spec.template.spec.containers[name="web"].args"#,
                r#".spec.template.spec.containers[name="web"].image"#,
                r#".spec.template.spec.containers[name="web"].name"#,
                r#".spec.template.spec.containers[name="web"].ports[containerPort=80,protocol="TCP"]"#,
                r#".spec.template.spec.containers[name="web"].ports[containerPort=80,protocol="TCP"].containerPort"#,
            ]
        );
    }

    #[test]
    fn fields_v1_round_trips_with_keys_values_and_item_markers() {
        let obj = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"finalizers": ["a/b"]},
            "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "a"}]}}}
        });
        let set = leaf_paths(&obj);
        let encoded = to_fields_v1(&set);
        assert_eq!(
            encoded,
            json!({
                "f:metadata": {"f:finalizers": {"v:\"a/b\"": {}}},
                "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
                    "k:{\"name\":\"a\"}": {".": {}, "f:name": {}}
                }}}}
            })
        );
        assert_eq!(from_fields_v1(&encoded), set);
    }

    #[test]
    fn set_and_remove_find_items_by_key() {
        let mut obj = json!({"spec": {"ports": [{"port": 80, "name": "http"}]}});
        let port = |n: u16| {
            vec![
                Step::Field("spec".into()),
                Step::Field("ports".into()),
                Step::Key(format!(r#"{{"port":{n},"protocol":"TCP"}}"#)),
            ]
        };
        let mut name_of_443 = port(443);
        name_of_443.push(Step::Field("name".into()));
        set(&mut obj, &name_of_443, json!("https"));
        assert_eq!(
            obj,
            json!({"spec": {"ports": [
                {"port": 80, "name": "http"},
                {"port": 443, "protocol": "TCP", "name": "https"}
            ]}})
        );
        assert_eq!(
            get(&obj, &port(80)),
            Some(&json!({"port": 80, "name": "http"}))
        );
        remove(&mut obj, &port(80));
        remove(&mut obj, &port(443));
        assert_eq!(obj, json!({}));
    }

    #[test]
    fn remove_prunes_empty_parents() {
        let mut obj = json!({"data": {"k": "v"}, "metadata": {"name": "a"}});
        remove(
            &mut obj,
            &[Step::Field("data".into()), Step::Field("k".into())],
        );
        assert_eq!(obj, json!({"metadata": {"name": "a"}}));
    }
}
