//! Strategic merge patch, as kube-apiserver applies `application/strategic-merge-patch+json`.
//!
//! Like a JSON merge patch, except that lists with a patch strategy of `merge` are merged: items
//! by their patch merge key (containers by `name`, container ports by `containerPort`), primitive
//! members as a union. The directives kubectl sends are honoured: `$patch` (`replace`, `delete`,
//! `merge`), `$retainKeys`, `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>`.

use crate::schema::{Child, ListMerge, Node};
use serde_json::{Map, Value};

const PATCH: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ELEMENT_ORDER: &str = "$setElementOrder/";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList/";

/// Applies `patch` to `target`, an object of `apiVersion`/`kind`.
pub fn apply(target: &mut Value, patch: &Value) -> Result<(), String> {
    let text = |key| target.get(key).and_then(Value::as_str).unwrap_or_default();
    let root = Node::root(text("apiVersion"), text("kind"));
    let Value::Object(patch) = patch else {
        return Err("a strategic merge patch must be a JSON object".into());
    };
    merge_object(target, patch, root)
}

fn merge_object(target: &mut Value, patch: &Map<String, Value>, node: Node) -> Result<(), String> {
    match patch.get(PATCH).and_then(Value::as_str) {
        Some("replace") => {
            *target = without_directives(&Value::Object(patch.clone()));
            return Ok(());
        }
        Some("delete") => {
            *target = Value::Object(Map::new());
            return Ok(());
        }
        Some("merge") | None => {}
        Some(other) => return Err(format!("unknown patch type: {other:?}")),
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(map) = target else {
        unreachable!("made an object above")
    };
    if let Some(Value::Array(retain)) = patch.get(RETAIN_KEYS) {
        let keep: Vec<&str> = retain.iter().filter_map(Value::as_str).collect();
        map.retain(|k, _| keep.contains(&k.as_str()));
    }
    for (key, value) in patch {
        if let Some(list) = key.strip_prefix(DELETE_FROM_PRIMITIVE_LIST) {
            if let (Some(Value::Array(items)), Value::Array(gone)) = (map.get_mut(list), value) {
                items.retain(|item| !gone.contains(item));
            }
            continue;
        }
        if key.starts_with('$') {
            continue;
        }
        if value.is_null() {
            map.remove(key);
            continue;
        }
        let slot = map.entry(key.clone()).or_insert(Value::Null);
        match (node.child(key), value) {
            (Child::Object(child), Value::Object(fields)) => merge_object(slot, fields, child)?,
            (Child::Unknown, Value::Object(fields)) => merge_object(slot, fields, Node::Unknown)?,
            (Child::List(list), Value::Array(items)) => match list.smp {
                Some(how) => merge_list(slot, items, how, list.items)?,
                None => *slot = without_directives(value),
            },
            _ => *slot = without_directives(value),
        }
    }
    for (key, order) in patch {
        if let (Some(list), Value::Array(order)) = (key.strip_prefix(SET_ELEMENT_ORDER), order)
            && let Some(Value::Array(items)) = map.get_mut(list)
        {
            reorder(items, order);
        }
    }
    Ok(())
}

fn merge_list(
    target: &mut Value,
    patch: &[Value],
    how: ListMerge,
    items: Node,
) -> Result<(), String> {
    let replace = patch
        .iter()
        .any(|item| item.get(PATCH).and_then(Value::as_str) == Some("replace"));
    if replace || !target.is_array() {
        let kept = patch
            .iter()
            .filter(|item| item.get(PATCH).is_none())
            .map(without_directives)
            .collect();
        *target = Value::Array(kept);
        return Ok(());
    }
    let Value::Array(list) = target else {
        unreachable!("checked above")
    };
    let ListMerge::Map(keys) = how else {
        for item in patch {
            if !list.contains(item) {
                list.push(item.clone());
            }
        }
        return Ok(());
    };
    let key = keys.first().map(String::as_str).unwrap_or("name");
    for item in patch {
        let Some(wanted) = item.get(key) else {
            return Err(format!(
                "map: {item} does not contain declared merge key: {key}"
            ));
        };
        let found = list.iter().position(|live| live.get(key) == Some(wanted));
        match (item.get(PATCH).and_then(Value::as_str), found) {
            (Some("delete"), Some(i)) => {
                list.remove(i);
            }
            (Some("delete"), None) => {}
            (_, Some(i)) => {
                if let Value::Object(fields) = item {
                    merge_object(&mut list[i], fields, items)?;
                }
            }
            (_, None) => list.push(without_directives(item)),
        }
    }
    Ok(())
}

/// Puts `items` in the order of `order` (items or their merge keys), keeping items the order
/// does not name after those it does.
fn reorder(items: &mut [Value], order: &[Value]) {
    let rank = |item: &Value| {
        order.iter().position(|wanted| match wanted {
            Value::Object(keys) => keys.iter().all(|(k, v)| item.get(k) == Some(v)),
            other => other == item,
        })
    };
    items.sort_by_key(|item| rank(item).unwrap_or(usize::MAX));
}

/// `value` with every `$` directive removed, as stored when a patch adds something new.
fn without_directives(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, v)| !k.starts_with('$') && !v.is_null())
                .map(|(k, v)| (k.clone(), without_directives(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_directives).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(containers: Value) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "finalizers": ["a"]},
            "spec": {"template": {"spec": {"containers": containers}}}
        })
    }

    fn patched(target: Value, patch: Value) -> Value {
        let mut target = target;
        apply(&mut target, &patch).unwrap_or_else(|e| panic!("{e}"));
        target
    }

    #[test]
    fn containers_merge_by_name_and_env_by_name() {
        let live = deployment(json!([
            {"name": "web", "image": "nginx:1.26", "env": [{"name": "A", "value": "1"}]},
            {"name": "sidecar", "image": "busybox"}
        ]));
        let out = patched(
            live,
            json!({"spec": {"template": {"spec": {"containers": [
                {"name": "web", "image": "nginx:1.27", "env": [{"name": "B", "value": "2"}]}
            ]}}}}),
        );
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([
                {"name": "web", "image": "nginx:1.27",
                 "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
                {"name": "sidecar", "image": "busybox"}
            ])
        );
    }

    #[test]
    fn directives_delete_replace_and_order() {
        let live = deployment(json!([{"name": "a"}, {"name": "b"}, {"name": "c"}]));
        let out = patched(
            live.clone(),
            json!({"spec": {"template": {"spec": {
                "containers": [{"name": "b", "$patch": "delete"}, {"name": "d"}],
                "$setElementOrder/containers": [{"name": "d"}, {"name": "a"}, {"name": "c"}]
            }}}}),
        );
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "d"}, {"name": "a"}, {"name": "c"}])
        );
        let out = patched(
            live,
            json!({"spec": {"template": {"spec": {
                "containers": [{"name": "z"}, {"$patch": "replace"}]
            }}}}),
        );
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "z"}])
        );
    }

    #[test]
    fn primitive_merge_lists_union_and_atomic_lists_replace() {
        let live = deployment(json!([{"name": "a", "args": ["-x", "-y"]}]));
        let out = patched(
            live,
            json!({
                "metadata": {"finalizers": ["b"], "$deleteFromPrimitiveList/finalizers": ["a"]},
                "spec": {"template": {"spec": {"containers": [{"name": "a", "args": ["-z"]}]}}}
            }),
        );
        assert_eq!(out["metadata"]["finalizers"], json!(["b"]));
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"][0]["args"],
            json!(["-z"])
        );
    }

    #[test]
    fn retain_keys_drops_the_other_strategy_fields_and_null_deletes() {
        let mut live = deployment(json!([{"name": "a", "image": "x"}]));
        live["spec"]["strategy"] =
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}});
        let out = patched(
            live,
            json!({"spec": {"strategy": {"type": "Recreate", "$retainKeys": ["type"]},
                            "template": {"spec": {"containers": [{"name": "a", "image": null}]}}}}),
        );
        assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "a"}])
        );
    }

    #[test]
    fn an_item_without_its_merge_key_is_an_error() {
        let mut live = deployment(json!([{"name": "a"}]));
        let err = apply(
            &mut live,
            &json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}),
        )
        .unwrap_err();
        assert!(err.contains("merge key: name"), "{err}");
    }
}
