//! Normalize objects, mask Secret values, and diff their YAML text with `similar`.

use base64::Engine;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use ts_rs::TS;

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Drops what never counts as drift: status, server bookkeeping in metadata, and the
/// last-applied annotation. Secrets get `stringData` folded into base64 `data`.
pub fn normalize(obj: &Value) -> Value {
    let mut o = obj.clone();
    let Some(map) = o.as_object_mut() else {
        return o;
    };
    map.remove("status");
    if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in [
            "managedFields",
            "resourceVersion",
            "uid",
            "generation",
            "creationTimestamp",
            "selfLink",
        ] {
            meta.remove(field);
        }
        if let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            annotations.remove(LAST_APPLIED);
            if annotations.is_empty() {
                meta.remove("annotations");
            }
        }
    }
    if map.get("kind").and_then(Value::as_str) == Some("Secret")
        && let Some(Value::Object(string_data)) = map.remove("stringData")
    {
        let data = map.entry("data").or_insert_with(|| json!({}));
        if let Some(data) = data.as_object_mut() {
            for (k, v) in string_data {
                let text = v.as_str().unwrap_or_default();
                data.insert(
                    k,
                    json!(base64::engine::general_purpose::STANDARD.encode(text)),
                );
            }
        }
    }
    o
}

/// Replaces Secret `data` values on both sides with runs of `+`: per key, each distinct value
/// gets its own mask (8 `+` for the first, 4 more for each further one), so a change shows
/// and the value does not. Objects that are not Secrets pass through.
pub fn mask_secrets(a: Option<&mut Value>, b: Option<&mut Value>) {
    let is_secret = |v: &Option<&mut Value>| {
        v.as_ref()
            .is_some_and(|v| v.get("kind").and_then(Value::as_str) == Some("Secret"))
    };
    if !is_secret(&a) && !is_secret(&b) {
        return;
    }
    let mut masks: HashMap<String, Vec<Value>> = HashMap::new();
    let mut mask_one = |obj: &mut Value| {
        if let Some(data) = obj.get_mut("data").and_then(Value::as_object_mut) {
            for (key, value) in data.iter_mut() {
                let seen = masks.entry(key.clone()).or_default();
                let index = seen.iter().position(|v| v == value).unwrap_or_else(|| {
                    seen.push(value.clone());
                    seen.len() - 1
                });
                *value = json!("+".repeat(8 + 4 * index));
            }
        }
    };
    for side in [a, b].into_iter().flatten() {
        mask_one(side);
    }
}

/// YAML text of an object, keys sorted, as the diff shows it.
pub fn to_yaml(obj: &Value) -> String {
    serde_norway::to_string(obj).unwrap_or_else(|e| format!("# could not show as YAML: {e}\n"))
}

/// How one diff line relates the two sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub enum LineChange {
    Equal,
    Delete,
    Insert,
}

/// One line of a unified diff, with its numbers on each side (1-based).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DiffLine {
    pub change: LineChange,
    pub old_line: Option<u32>,
    pub new_line: Option<u32>,
    pub text: String,
}

/// Line diff of `old` (live) to `new` (desired).
pub fn lines(old: &str, new: &str) -> Vec<DiffLine> {
    let diff = similar::TextDiff::from_lines(old, new);
    diff.iter_all_changes()
        .map(|c| DiffLine {
            change: match c.tag() {
                similar::ChangeTag::Equal => LineChange::Equal,
                similar::ChangeTag::Delete => LineChange::Delete,
                similar::ChangeTag::Insert => LineChange::Insert,
            },
            old_line: c.old_index().map(|i| i as u32 + 1),
            new_line: c.new_index().map(|i| i as u32 + 1),
            text: c.to_string_lossy().trim_end_matches('\n').to_string(),
        })
        .collect()
}

/// Keeps only the parts of `live` that `desired` also has, for the fallback diff when the
/// server will not dry-run: fields the server added (defaults, ids) are not drift.
pub fn project_onto(live: &Value, desired: &Value) -> Value {
    match (live, desired) {
        (Value::Object(l), Value::Object(d)) => Value::Object(
            d.keys()
                .filter_map(|k| l.get(k).map(|lv| (k.clone(), project_onto(lv, &d[k]))))
                .collect(),
        ),
        (Value::Array(l), Value::Array(d)) if l.len() == d.len() => Value::Array(
            l.iter()
                .zip(d)
                .map(|(lv, dv)| project_onto(lv, dv))
                .collect(),
        ),
        _ => live.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_drops_bookkeeping_and_keeps_content() {
        let live = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "uid": "x", "resourceVersion": "9", "generation": 2,
                         "creationTimestamp": "t", "managedFields": [], "selfLink": "s",
                         "annotations": {LAST_APPLIED: "{}"}},
            "data": {"k": "v"}, "status": {"x": 1}
        });
        assert_eq!(
            normalize(&live),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "v"}})
        );
    }

    #[test]
    fn secret_string_data_folds_into_data() {
        let s = json!({"kind": "Secret", "stringData": {"pw": "hunter2"}, "data": {"user": "YWRtaW4="}});
        let n = normalize(&s);
        assert_eq!(n["data"]["pw"], "aHVudGVyMg==");
        assert!(n.get("stringData").is_none());
    }

    #[test]
    fn masking_hides_values_but_shows_change() {
        let mut live = json!({"kind": "Secret", "data": {"pw": "b2xk", "user": "YQ=="}});
        let mut desired = json!({"kind": "Secret", "data": {"pw": "bmV3", "user": "YQ=="}});
        mask_secrets(Some(&mut live), Some(&mut desired));
        assert_eq!(live["data"]["pw"], "++++++++");
        assert_eq!(desired["data"]["pw"], "++++++++++++");
        assert_eq!(live["data"]["user"], desired["data"]["user"]);
        let text = to_yaml(&live) + &to_yaml(&desired);
        assert!(!text.contains("b2xk") && !text.contains("bmV3"));
    }

    #[test]
    fn masking_leaves_other_kinds_alone() {
        let mut cm = json!({"kind": "ConfigMap", "data": {"k": "v"}});
        mask_secrets(Some(&mut cm), None);
        assert_eq!(cm["data"]["k"], "v");
    }

    #[test]
    fn line_diff_numbers_both_sides() {
        let d = lines("a\nb\nc\n", "a\nB\nc\n");
        let changes: Vec<_> = d
            .iter()
            .map(|l| (l.change, l.old_line, l.new_line, l.text.as_str()))
            .collect();
        assert_eq!(
            changes,
            [
                (LineChange::Equal, Some(1), Some(1), "a"),
                (LineChange::Delete, Some(2), None, "b"),
                (LineChange::Insert, None, Some(2), "B"),
                (LineChange::Equal, Some(3), Some(3), "c"),
            ]
        );
    }

    #[test]
    fn projection_ignores_server_added_fields() {
        let live = json!({"spec": {"replicas": 1, "strategy": {"type": "RollingUpdate"}}, "metadata": {"uid": "u", "name": "a"}});
        let desired = json!({"spec": {"replicas": 2}, "metadata": {"name": "a"}});
        assert_eq!(
            project_onto(&live, &desired),
            json!({"spec": {"replicas": 1}, "metadata": {"name": "a"}})
        );
    }
}
