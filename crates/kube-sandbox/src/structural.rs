//! Custom resources held to their CRD's structural schema, as kube-apiserver holds them: fields
//! the schema does not declare are pruned (or refused, under strict field validation), defaults
//! fill what is missing, and values of the wrong type, outside an enum or missing where
//! required are refused with 422 Invalid in the server's words.

use serde_json::{Map, Value};

/// The paths (`spec.colour`) of fields `schema` does not declare, removed from `value`.
pub fn prune(value: &mut Value, schema: &Value) -> Vec<String> {
    let mut dropped = Vec::new();
    if let Some(object) = value.as_object_mut() {
        for (key, child) in object.iter_mut() {
            if matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
                continue;
            }
            if let Some(child_schema) = schema["properties"].get(key) {
                prune_at(child, child_schema, key, &mut dropped);
            }
        }
        if schema["x-kubernetes-preserve-unknown-fields"] != true {
            prune_fields(
                object,
                schema,
                "",
                &mut dropped,
                &["apiVersion", "kind", "metadata"],
            );
        }
    }
    dropped
}

fn prune_at(value: &mut Value, schema: &Value, path: &str, dropped: &mut Vec<String>) {
    if schema["x-kubernetes-preserve-unknown-fields"] == true && schema.get("properties").is_none()
    {
        return;
    }
    match value {
        Value::Object(object) => {
            if let Some(items) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                for (key, child) in object.iter_mut() {
                    prune_at(child, items, &format!("{path}.{key}"), dropped);
                }
                return;
            }
            for (key, child) in object.iter_mut() {
                if let Some(child_schema) = schema["properties"].get(key) {
                    prune_at(child, child_schema, &format!("{path}.{key}"), dropped);
                }
            }
            if schema["x-kubernetes-preserve-unknown-fields"] != true {
                prune_fields(object, schema, path, dropped, &[]);
            }
        }
        Value::Array(items) => {
            for item in items {
                prune_at(item, &schema["items"], path, dropped);
            }
        }
        _ => {}
    }
}

fn prune_fields(
    object: &mut Map<String, Value>,
    schema: &Value,
    path: &str,
    dropped: &mut Vec<String>,
    kept: &[&str],
) {
    let declared = schema["properties"].as_object();
    object.retain(|key, _| {
        let keep = kept.contains(&key.as_str()) || declared.is_some_and(|d| d.contains_key(key));
        if !keep {
            dropped.push(if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            });
        }
        keep
    });
}

/// Fills in the schema's defaults where `value` has nothing.
pub fn default(value: &mut Value, schema: &Value) {
    match value {
        Value::Object(object) => {
            if let Some(properties) = schema["properties"].as_object() {
                for (key, child_schema) in properties {
                    if !object.contains_key(key)
                        && let Some(default) = child_schema.get("default")
                    {
                        object.insert(key.clone(), default.clone());
                    }
                    if let Some(child) = object.get_mut(key) {
                        default(child, child_schema);
                    }
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                default(item, &schema["items"]);
            }
        }
        _ => {}
    }
}

/// What is wrong with `value` by `schema`, one `(field, message)` per fault, in
/// kube-apiserver's words.
pub fn validate(value: &Value, schema: &Value) -> Vec<(String, String)> {
    let mut faults = Vec::new();
    if let Some(object) = value.as_object() {
        for (key, child_schema) in schema["properties"].as_object().into_iter().flatten() {
            if matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
                continue;
            }
            if let Some(child) = object.get(key) {
                check(child, child_schema, key, &mut faults);
            }
        }
        required(object, schema, "", &mut faults);
    }
    faults
}

fn required(
    object: &Map<String, Value>,
    schema: &Value,
    path: &str,
    faults: &mut Vec<(String, String)>,
) {
    for name in schema["required"].as_array().into_iter().flatten() {
        let Some(name) = name.as_str() else { continue };
        if !object.contains_key(name) {
            let field = if path.is_empty() {
                name.to_string()
            } else {
                format!("{path}.{name}")
            };
            faults.push((field, "Required value".into()));
        }
    }
}

fn check(value: &Value, schema: &Value, path: &str, faults: &mut Vec<(String, String)>) {
    if value.is_null() && schema["nullable"] == true {
        return;
    }
    let int_or_string = schema["x-kubernetes-int-or-string"] == true;
    if let Some(kind) = schema["type"].as_str()
        && !int_or_string
    {
        let fits = match kind {
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "string" => value.is_string(),
            "boolean" => value.is_boolean(),
            "object" => value.is_object(),
            "array" => value.is_array(),
            _ => true,
        };
        if !fits {
            let given = json_type(value);
            faults.push((
                path.to_string(),
                format!(
                    "Invalid value: \"{given}\": {path} in body must be of type {kind}: \"{given}\""
                ),
            ));
            return;
        }
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        let choices: Vec<String> = allowed.iter().map(Value::to_string).collect();
        faults.push((
            path.to_string(),
            format!(
                "Unsupported value: {value}: supported values: {}",
                choices.join(", ")
            ),
        ));
    }
    match value {
        Value::Object(object) => {
            if let Some(items) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                for (key, child) in object {
                    check(child, items, &format!("{path}.{key}"), faults);
                }
            }
            for (key, child_schema) in schema["properties"].as_object().into_iter().flatten() {
                if let Some(child) = object.get(key) {
                    check(child, child_schema, &format!("{path}.{key}"), faults);
                }
            }
            required(object, schema, path, faults);
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check(item, &schema["items"], &format!("{path}[{i}]"), faults);
            }
        }
        _ => {}
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "string",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::Bool(_) => "boolean",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::Null => "null",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type": "object", "properties": {
            "spec": {"type": "object", "required": ["size"], "properties": {
                "size": {"type": "integer"},
                "colour": {"type": "string", "enum": ["red", "blue"], "default": "red"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            }},
        }})
    }

    #[test]
    fn undeclared_fields_are_pruned_and_named() {
        let mut widget = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
            "spec": {"size": 3, "weight": 9, "labels": {"a": "b"}, "free": {"anything": 1}}, "extra": true});
        let mut dropped = prune(&mut widget, &schema());
        dropped.sort();
        assert_eq!(dropped, ["extra", "spec.weight"]);
        assert_eq!(widget["spec"]["free"]["anything"], 1);
        assert_eq!(widget["spec"]["labels"]["a"], "b");
    }

    #[test]
    fn defaults_fill_what_is_missing() {
        let mut widget = json!({"spec": {"size": 3}});
        default(&mut widget, &schema());
        assert_eq!(widget["spec"]["colour"], "red");
    }

    #[test]
    fn wrong_types_enums_and_missing_fields_are_named() {
        let widget = json!({"spec": {"size": "big", "colour": "green"}});
        assert_eq!(
            validate(&widget, &schema()),
            [
                (
                    "spec.colour".to_string(),
                    "Unsupported value: \"green\": supported values: \"red\", \"blue\"".to_string()
                ),
                (
                    "spec.size".to_string(),
                    "Invalid value: \"string\": spec.size in body must be of type integer: \"string\"".to_string()
                ),
            ]
        );
        assert_eq!(
            validate(&json!({"spec": {}}), &schema()),
            [("spec.size".to_string(), "Required value".to_string())]
        );
    }
}
