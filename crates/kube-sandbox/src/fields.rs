//! Field sets for server-side apply: which leaf paths of an object a manager owns, and their
//! `fieldsV1` encoding in `metadata.managedFields`.
//!
//! Lists are treated as atomic (a list is one leaf). Real kube-apiserver merges some lists by
//! key (containers by name, ports by port); that refinement comes with the sandbox's next step.

use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// A path of map keys from the object root to a leaf.
pub type FieldPath = Vec<String>;

/// A set of leaf paths.
pub type FieldSet = BTreeSet<FieldPath>;

/// Paths the apiserver never lists in managed fields.
fn is_unmanaged(path: &[String]) -> bool {
    match path {
        [first, ..] if first == "apiVersion" || first == "kind" || first == "status" => true,
        [meta, field, ..] if meta == "metadata" => matches!(
            field.as_str(),
            "name"
                | "namespace"
                | "managedFields"
                | "resourceVersion"
                | "uid"
                | "generation"
                | "creationTimestamp"
                | "deletionTimestamp"
                | "selfLink"
        ),
        _ => false,
    }
}

/// Every managed leaf path of `value`.
pub fn leaf_paths(value: &Value) -> FieldSet {
    let mut out = FieldSet::new();
    collect(value, &mut Vec::new(), &mut out);
    out.retain(|p| !is_unmanaged(p));
    out
}

fn collect(value: &Value, prefix: &mut FieldPath, out: &mut FieldSet) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                prefix.push(k.clone());
                collect(v, prefix, out);
                prefix.pop();
            }
        }
        _ if !prefix.is_empty() => {
            out.insert(prefix.clone());
        }
        _ => {}
    }
}

/// The value at `path`, if present.
pub fn get<'a>(value: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter()
        .try_fold(value, |v, key| v.as_object()?.get(key))
}

/// Sets the value at `path`, creating maps on the way.
pub fn set(value: &mut Value, path: &[String], leaf: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cursor = value;
    for key in parents {
        if !cursor.is_object() {
            *cursor = Value::Object(Map::new());
        }
        cursor = cursor
            .as_object_mut()
            .map(|m| {
                m.entry(key.clone())
                    .or_insert_with(|| Value::Object(Map::new()))
            })
            .unwrap_or_else(|| unreachable!("cursor was made an object above"));
    }
    if !cursor.is_object() {
        *cursor = Value::Object(Map::new());
    }
    if let Some(map) = cursor.as_object_mut() {
        map.insert(last.clone(), leaf);
    }
}

/// Removes the value at `path`, then any maps the removal left empty.
pub fn remove(value: &mut Value, path: &[String]) {
    fn go(value: &mut Value, path: &[String]) -> bool {
        let Some(map) = value.as_object_mut() else {
            return false;
        };
        match path {
            [] => false,
            [last] => {
                map.remove(last);
                map.is_empty()
            }
            [first, rest @ ..] => {
                let emptied = map.get_mut(first).is_some_and(|child| go(child, rest));
                if emptied {
                    map.remove(first);
                }
                map.is_empty()
            }
        }
    }
    go(value, path);
}

/// Encodes a field set as `fieldsV1` (`{"f:spec":{"f:replicas":{}}}`).
pub fn to_fields_v1(set: &FieldSet) -> Value {
    let mut root = Value::Object(Map::new());
    for path in set {
        let keyed: Vec<String> = path.iter().map(|k| format!("f:{k}")).collect();
        set_leaf_marker(&mut root, &keyed);
    }
    root
}

fn set_leaf_marker(root: &mut Value, path: &[String]) {
    let mut cursor = root;
    for key in path {
        cursor = cursor
            .as_object_mut()
            .map(|m| {
                m.entry(key.clone())
                    .or_insert_with(|| Value::Object(Map::new()))
            })
            .unwrap_or_else(|| unreachable!("markers are always objects"));
    }
}

/// Decodes `fieldsV1` back into leaf paths. Keys other than `f:` (such as `.` or `k:`) are
/// not produced by this sandbox and are ignored.
pub fn from_fields_v1(fields: &Value) -> FieldSet {
    let mut out = FieldSet::new();
    fn go(v: &Value, prefix: &mut FieldPath, out: &mut FieldSet) {
        let Some(map) = v.as_object() else { return };
        let children: Vec<_> = map
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("f:")?, v)))
            .collect();
        if children.is_empty() {
            if !prefix.is_empty() {
                out.insert(prefix.clone());
            }
            return;
        }
        for (k, v) in children {
            prefix.push(k.to_string());
            go(v, prefix, out);
            prefix.pop();
        }
    }
    go(fields, &mut Vec::new(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn leaf_paths_skip_identity_and_status() {
        let obj = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "b", "labels": {"app": "x"}},
            "data": {"k": "v"}, "status": {"x": 1}
        });
        let paths: Vec<String> = leaf_paths(&obj).into_iter().map(|p| p.join(".")).collect();
        assert_eq!(paths, vec!["data.k", "metadata.labels.app"]);
    }

    #[test]
    fn fields_v1_round_trips() {
        let obj =
            json!({"spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "a"}]}}}});
        let set = leaf_paths(&obj);
        let encoded = to_fields_v1(&set);
        assert_eq!(
            encoded,
            json!({"f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {}}}}})
        );
        assert_eq!(from_fields_v1(&encoded), set);
    }

    #[test]
    fn remove_prunes_empty_parents() {
        let mut obj = json!({"data": {"k": "v"}, "metadata": {"name": "a"}});
        remove(&mut obj, &["data".into(), "k".into()]);
        assert_eq!(obj, json!({"metadata": {"name": "a"}}));
    }
}
