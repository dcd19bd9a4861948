//! Request bodies in Kubernetes' protobuf encoding, read into the JSON the rest of the sandbox
//! speaks. kubectl 1.32 and later sends them for what its generators make (`kubectl create
//! deployment|configmap|secret|namespace|job …`): the four bytes `k8s\0`, then a
//! `runtime.Unknown` holding the object's apiVersion and kind and the object's own message.
//!
//! The messages come from `schema.txt`, generated from Kubernetes' own `.proto` files by
//! `scripts/proto-schema.py`. The wire format carries no names and, as Go writes it, no
//! difference between a field left out and one set to its zero value: zero strings, numbers
//! and booleans are left out of the JSON (as `omitempty` leaves them out of Go's), except for
//! the few fields whose zero means something.

use base64::Engine as _;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::LazyLock;

const MAGIC: &[u8] = b"k8s\0";

/// Fields whose zero value is a value, not an absence (pointers in the Go types).
const ZERO_KEPT: &[&str] = &[
    "replicas",
    "automountServiceAccountToken",
    "immutable",
    "suspend",
    "backoffLimit",
    "parallelism",
    "completions",
    "minReadySeconds",
    "terminationGracePeriodSeconds",
];

#[derive(Debug)]
enum Shape {
    Scalar(&'static str),
    Message(&'static str),
    Map(&'static str, Box<Shape>),
}

#[derive(Debug)]
struct Field {
    name: &'static str,
    repeated: bool,
    shape: Shape,
}

type Messages = HashMap<&'static str, HashMap<u64, Field>>;

static SCHEMA: LazyLock<Messages> = LazyLock::new(|| parse_schema(include_str!("schema.txt")));

fn parse_schema(text: &'static str) -> Messages {
    let mut messages: Messages = HashMap::new();
    let mut current: Option<&'static str> = None;
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let words: Vec<&'static str> = line.split(' ').collect();
        if let ["message", name] = words.as_slice() {
            current = Some(name);
            messages.entry(name).or_default();
            continue;
        }
        let (Some(message), [number, name, rest @ ..]) = (current, words.as_slice()) else {
            continue;
        };
        let Ok(number) = number.parse::<u64>() else {
            continue;
        };
        let shape_of = |kind: &'static str, name: Option<&&'static str>| match (kind, name) {
            ("message", Some(name)) => Shape::Message(name),
            (scalar, _) => Shape::Scalar(scalar),
        };
        let field = match rest {
            ["map", key, value] => Field {
                name,
                repeated: false,
                shape: Shape::Map(
                    key,
                    Box::new(if value.contains('.') {
                        Shape::Message(value)
                    } else {
                        Shape::Scalar(value)
                    }),
                ),
            },
            [label, kind, more @ ..] => Field {
                name,
                repeated: *label == "repeated",
                shape: shape_of(kind, more.first()),
            },
            _ => continue,
        };
        if let Some(fields) = messages.get_mut(message) {
            fields.insert(number, field);
        }
    }
    messages
}

/// The object a protobuf request body holds, as JSON with its apiVersion and kind.
pub fn decode(body: &[u8]) -> Result<Value, String> {
    let envelope = body
        .strip_prefix(MAGIC)
        .ok_or("the body does not start with Kubernetes' protobuf magic (k8s\\0)")?;
    let unknown = message(envelope, "k8s.io.apimachinery.pkg.runtime.Unknown")?;
    let api_version = unknown["typeMeta"]["apiVersion"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let kind = unknown["typeMeta"]["kind"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let raw = unknown["raw"].as_str().unwrap_or_default();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(raw)
        .map_err(|e| e.to_string())?;
    let name = message_name(&api_version, &kind)
        .ok_or_else(|| format!("the sandbox has no protobuf message for {api_version} {kind}"))?;
    let mut object = message(&raw, &name)?;
    if let Some(fields) = object.as_object_mut() {
        fields.insert("apiVersion".into(), json!(api_version));
        fields.insert("kind".into(), json!(kind));
    }
    Ok(object)
}

/// Checks the JSON types of a built-in object's fields as kube-apiserver's decoder does:
/// `replicas: "two"` or a ConfigMap's data holding a number is refused with Go's own words.
/// Kinds without a message here (custom resources) pass.
pub fn type_check(object: &Value) -> Result<(), String> {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let kind = object["kind"].as_str().unwrap_or_default();
    let Some(name) = message_name(api_version, kind) else {
        return Ok(());
    };
    check_message(object, &name, "")
}

fn short_name(message: &str) -> &str {
    message.rsplit('.').next().unwrap_or(message)
}

fn check_message(value: &Value, message: &str, path: &str) -> Result<(), String> {
    let Some(object) = value.as_object() else {
        return Ok(());
    };
    let Some(fields) = SCHEMA.get(message) else {
        return Ok(());
    };
    for (key, child) in object {
        let Some(field) = fields.values().find(|f| f.name == key) else {
            continue;
        };
        let at = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        let wrong = |json: &str, go: String| {
            Err(format!(
                "json: cannot unmarshal {json} into Go struct field {}.{at} of type {go}",
                short_name(message)
            ))
        };
        if child.is_null() {
            continue;
        }
        match &field.shape {
            Shape::Map(_, value_shape) => {
                let Some(entries) = child.as_object() else {
                    return wrong(
                        json_type(child),
                        format!("map[string]{}", go_type(value_shape)),
                    );
                };
                for entry in entries.values() {
                    match &**value_shape {
                        Shape::Scalar(kind) if !scalar_fits(kind, entry) => {
                            return wrong(json_type(entry), go_type(value_shape));
                        }
                        Shape::Message(inner) => check_value(entry, inner, &at)?,
                        _ => {}
                    }
                }
            }
            shape if field.repeated => {
                let Some(items) = child.as_array() else {
                    return wrong(json_type(child), format!("[]{}", go_type(shape)));
                };
                for item in items {
                    match shape {
                        Shape::Scalar(kind) if !scalar_fits(kind, item) => {
                            return wrong(json_type(item), go_type(shape));
                        }
                        Shape::Message(inner) => check_value(item, inner, &at)?,
                        _ => {}
                    }
                }
            }
            Shape::Scalar(kind) if !scalar_fits(kind, child) => {
                return wrong(json_type(child), go_type(&field.shape));
            }
            Shape::Message(inner) => check_value(child, inner, &at)?,
            Shape::Scalar(_) => {}
        }
    }
    Ok(())
}

/// A message-typed value: the special messages take their own JSON forms.
fn check_value(value: &Value, message: &str, path: &str) -> Result<(), String> {
    match short_name(message) {
        "IntOrString" | "Quantity" | "Time" | "MicroTime" | "RawExtension" | "FieldsV1"
        | "Duration" => Ok(()),
        _ if !value.is_object() => Err(format!(
            "json: cannot unmarshal {} into Go struct field {} of type v1.{}",
            json_type(value),
            path,
            short_name(message)
        )),
        _ => check_message(value, message, path),
    }
}

fn scalar_fits(kind: &str, value: &Value) -> bool {
    match kind {
        "string" | "bytes" => value.is_string(),
        "bool" => value.is_boolean(),
        "double" | "float" => value.is_number(),
        _ => value.is_i64() || value.is_u64(),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::Null => "null",
    }
}

fn go_type(shape: &Shape) -> String {
    match shape {
        Shape::Scalar("bytes") => "[]uint8".into(),
        Shape::Scalar("double") => "float64".into(),
        Shape::Scalar("float") => "float32".into(),
        Shape::Scalar(kind) => kind.to_string(),
        Shape::Message(name) => format!("v1.{}", short_name(name)),
        Shape::Map(_, value) => format!("map[string]{}", go_type(value)),
    }
}

/// `k8s.io.api.apps.v1.Deployment` for `apps/v1` `Deployment`.
fn message_name(api_version: &str, kind: &str) -> Option<String> {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    // core, apps, batch, policy; rbac for rbac.authorization.k8s.io, networking, authorization.
    let package = match group.strip_suffix(".k8s.io") {
        _ if group.is_empty() => "core",
        Some(group) => group.split('.').next().unwrap_or(group),
        None if !group.contains('.') => group,
        None => return None,
    };
    let name = format!("k8s.io.api.{package}.{version}.{kind}");
    SCHEMA.contains_key(name.as_str()).then_some(name)
}

/// A message of type `name`, as JSON.
fn message(mut bytes: &[u8], name: &str) -> Result<Value, String> {
    let fields = SCHEMA
        .get(name)
        .ok_or_else(|| format!("no message {name} in the schema"))?;
    let mut out = Map::new();
    while !bytes.is_empty() {
        let key = varint(&mut bytes)?;
        let (number, wire) = (key >> 3, key & 7);
        let Some(field) = fields.get(&number) else {
            skip(&mut bytes, wire)?;
            continue;
        };
        match &field.shape {
            Shape::Map(key_kind, value_shape) => {
                let entry = length_delimited(&mut bytes)?;
                let (key, value) = map_entry(entry, key_kind, value_shape)?;
                let map = out
                    .entry(field.name)
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Some(map) = map.as_object_mut() {
                    map.insert(key, value);
                }
            }
            Shape::Scalar(kind) if field.repeated && wire == 2 && is_numeric(kind) => {
                // A packed repeated scalar.
                let mut packed = length_delimited(&mut bytes)?;
                while !packed.is_empty() {
                    let value = scalar(&mut packed, 0, kind)?;
                    push(&mut out, field.name, value);
                }
            }
            shape => {
                let value = match shape {
                    Shape::Scalar(kind) => scalar(&mut bytes, wire, kind)?,
                    Shape::Message(inner) => special(length_delimited(&mut bytes)?, inner)?,
                    Shape::Map(..) => unreachable!("maps are read above"),
                };
                if field.repeated {
                    push(&mut out, field.name, value);
                } else {
                    out.insert(field.name.into(), value);
                }
            }
        }
    }
    out.retain(|name, value| !is_zero(value) || ZERO_KEPT.contains(&name.as_str()));
    Ok(Value::Object(out))
}

fn push(out: &mut Map<String, Value>, name: &str, value: Value) {
    let list = out.entry(name).or_insert_with(|| Value::Array(Vec::new()));
    if let Some(list) = list.as_array_mut() {
        list.push(value);
    }
}

/// Zero strings, numbers and booleans: what Go writes for a field left unset.
fn is_zero(value: &Value) -> bool {
    match value {
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::Bool(b) => !b,
        _ => false,
    }
}

/// The messages whose JSON is not their fields: times, quantities, int-or-strings, raw JSON.
fn special(bytes: &[u8], name: &str) -> Result<Value, String> {
    let short = name.rsplit('.').next().unwrap_or(name);
    let fields = || message(bytes, name);
    Ok(match (name.contains(".apimachinery."), short) {
        (true, "Time" | "MicroTime") => {
            let value = fields()?;
            let seconds = value["seconds"].as_i64().unwrap_or(0);
            let nanos = value["nanos"].as_i64().unwrap_or(0);
            if seconds == 0 && nanos == 0 {
                Value::Null
            } else {
                let at = chrono::DateTime::from_timestamp(seconds, nanos as u32)
                    .ok_or("a time out of range")?;
                let format = if short == "Time" {
                    chrono::SecondsFormat::Secs
                } else {
                    chrono::SecondsFormat::Micros
                };
                json!(at.to_rfc3339_opts(format, true))
            }
        }
        (true, "Quantity") => fields()?["string"].clone(),
        (true, "IntOrString") => {
            let value = fields()?;
            if value["type"].as_i64() == Some(1) {
                json!(value["strVal"].as_str().unwrap_or_default())
            } else {
                json!(value["intVal"].as_i64().unwrap_or(0))
            }
        }
        (true, "RawExtension" | "FieldsV1") => {
            let value = fields()?;
            let raw = value
                .get("raw")
                .or_else(|| value.get("Raw"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            let raw = base64::engine::general_purpose::STANDARD
                .decode(raw)
                .map_err(|e| e.to_string())?;
            if raw.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&raw).map_err(|e| e.to_string())?
            }
        }
        _ => fields()?,
    })
}

fn map_entry(mut bytes: &[u8], key_kind: &str, value: &Shape) -> Result<(String, Value), String> {
    let (mut key, mut out) = (String::new(), Value::Null);
    while !bytes.is_empty() {
        let tag = varint(&mut bytes)?;
        match (tag >> 3, value) {
            (1, _) => {
                key = match scalar(&mut bytes, tag & 7, key_kind)? {
                    Value::String(s) => s,
                    other => other.to_string(),
                }
            }
            (2, Shape::Message(name)) => out = special(length_delimited(&mut bytes)?, name)?,
            (2, Shape::Scalar(kind)) => out = scalar(&mut bytes, tag & 7, kind)?,
            _ => skip(&mut bytes, tag & 7)?,
        }
    }
    if out.is_null()
        && let Shape::Scalar(kind) = value
    {
        // A map value of zero is written as no value at all.
        out = match *kind {
            "string" | "bytes" => json!(""),
            "bool" => json!(false),
            _ => json!(0),
        };
    }
    Ok((key, out))
}

fn is_numeric(kind: &str) -> bool {
    !matches!(kind, "string" | "bytes")
}

fn scalar(bytes: &mut &[u8], wire: u64, kind: &str) -> Result<Value, String> {
    Ok(match (kind, wire) {
        ("string", 2) => json!(
            String::from_utf8(length_delimited(bytes)?.to_vec())
                .map_err(|_| "a string that is not UTF-8")?
        ),
        ("bytes", 2) => {
            json!(base64::engine::general_purpose::STANDARD.encode(length_delimited(bytes)?))
        }
        ("bool", 0) => json!(varint(bytes)? != 0),
        ("int32" | "int64", 0) => json!(varint(bytes)? as i64),
        ("uint32" | "uint64", 0) => json!(varint(bytes)?),
        ("sint32" | "sint64", 0) => {
            let n = varint(bytes)?;
            json!((n >> 1) as i64 ^ -((n & 1) as i64))
        }
        ("double" | "fixed64", 1) => {
            let raw: [u8; 8] = take(bytes, 8)?.try_into().map_err(|_| "short")?;
            if kind == "double" {
                json!(f64::from_le_bytes(raw))
            } else {
                json!(u64::from_le_bytes(raw))
            }
        }
        ("float" | "fixed32", 5) => {
            let raw: [u8; 4] = take(bytes, 4)?.try_into().map_err(|_| "short")?;
            if kind == "float" {
                json!(f32::from_le_bytes(raw))
            } else {
                json!(u32::from_le_bytes(raw))
            }
        }
        (kind, wire) => return Err(format!("a {kind} sent as wire type {wire}")),
    })
}

fn varint(bytes: &mut &[u8]) -> Result<u64, String> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = bytes.split_first().ok_or("the body ends inside a number")?;
        *bytes = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("a number longer than ten bytes".into())
}

fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
    if bytes.len() < n {
        return Err("the body ends inside a field".into());
    }
    let (head, rest) = bytes.split_at(n);
    *bytes = rest;
    Ok(head)
}

fn length_delimited<'a>(bytes: &mut &'a [u8]) -> Result<&'a [u8], String> {
    let n = varint(bytes)? as usize;
    take(bytes, n)
}

fn skip(bytes: &mut &[u8], wire: u64) -> Result<(), String> {
    match wire {
        0 => varint(bytes).map(drop),
        1 => take(bytes, 8).map(drop),
        2 => length_delimited(bytes).map(drop),
        5 => take(bytes, 4).map(drop),
        other => Err(format!("wire type {other} is not read")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(number: u64, wire: u64, out: &mut Vec<u8>) {
        put_varint(number << 3 | wire, out);
    }

    fn put_varint(mut n: u64, out: &mut Vec<u8>) {
        while n >= 0x80 {
            out.push((n as u8) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
    }

    fn bytes_field(number: u64, value: &[u8], out: &mut Vec<u8>) {
        key(number, 2, out);
        put_varint(value.len() as u64, out);
        out.extend_from_slice(value);
    }

    /// What kubectl 1.33's `create configmap plain --from-literal a=b` sends, built by hand.
    fn config_map_body() -> Vec<u8> {
        let mut metadata = Vec::new();
        bytes_field(1, b"plain", &mut metadata);
        bytes_field(2, b"", &mut metadata); // generateName, written empty as Go writes it
        key(7, 0, &mut metadata); // generation 0
        put_varint(0, &mut metadata);
        bytes_field(8, &[], &mut metadata); // creationTimestamp, the zero Time
        let mut entry = Vec::new();
        bytes_field(1, b"a", &mut entry);
        bytes_field(2, b"b", &mut entry);
        let mut config_map = Vec::new();
        bytes_field(1, &metadata, &mut config_map);
        bytes_field(2, &entry, &mut config_map);
        let mut type_meta = Vec::new();
        bytes_field(1, b"v1", &mut type_meta);
        bytes_field(2, b"ConfigMap", &mut type_meta);
        let mut unknown = Vec::new();
        bytes_field(1, &type_meta, &mut unknown);
        bytes_field(2, &config_map, &mut unknown);
        bytes_field(3, b"", &mut unknown);
        let mut body = MAGIC.to_vec();
        body.extend(unknown);
        body
    }

    #[test]
    fn a_config_map_reads_as_its_json() {
        assert_eq!(
            decode(&config_map_body()).unwrap(),
            json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "plain", "creationTimestamp": null},
                "data": {"a": "b"},
            })
        );
    }

    #[test]
    fn int_or_strings_and_quantities_read_as_kubernetes_writes_them() {
        let mut port = Vec::new();
        key(1, 0, &mut port);
        put_varint(0, &mut port);
        key(2, 0, &mut port);
        put_varint(8080, &mut port);
        assert_eq!(
            special(&port, "k8s.io.apimachinery.pkg.util.intstr.IntOrString").unwrap(),
            json!(8080)
        );
        let mut named = Vec::new();
        key(1, 0, &mut named);
        put_varint(1, &mut named);
        bytes_field(3, b"http", &mut named);
        assert_eq!(
            special(&named, "k8s.io.apimachinery.pkg.util.intstr.IntOrString").unwrap(),
            json!("http")
        );
        let mut quantity = Vec::new();
        bytes_field(1, b"500m", &mut quantity);
        assert_eq!(
            special(&quantity, "k8s.io.apimachinery.pkg.api.resource.Quantity").unwrap(),
            json!("500m")
        );
    }

    #[test]
    fn broken_bodies_are_refused_with_a_reason() {
        assert!(decode(b"{}").unwrap_err().contains("magic"));
        let mut body = config_map_body();
        body.truncate(body.len() - 3);
        assert!(decode(&body).is_err());
        let mut unknown_kind = MAGIC.to_vec();
        let mut type_meta = Vec::new();
        bytes_field(1, b"example.com/v1", &mut type_meta);
        bytes_field(2, b"Widget", &mut type_meta);
        bytes_field(1, &type_meta, &mut unknown_kind);
        assert!(
            decode(&unknown_kind)
                .unwrap_err()
                .contains("example.com/v1 Widget")
        );
    }

    #[test]
    fn wrong_json_types_are_refused_as_go_refuses_them() {
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "typed"}, "spec": {"replicas": "two"}});
        assert_eq!(
            type_check(&deployment).unwrap_err(),
            "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"
        );
        let config_map = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "numbers"}, "data": {"count": 1}});
        assert_eq!(
            type_check(&config_map).unwrap_err(),
            "json: cannot unmarshal number into Go struct field ConfigMap.data of type string"
        );
        let fine = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "ok", "labels": {"a": "b"}},
            "spec": {"replicas": 2, "template": {"spec": {"containers": [
                {"name": "web", "image": "nginx", "ports": [{"containerPort": 80, "targetPort": "http"}],
                 "resources": {"limits": {"cpu": "500m", "memory": 1}}}]}}}});
        assert_eq!(type_check(&fine), Ok(()));
        let custom =
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "spec": {"size": "big"}});
        assert_eq!(type_check(&custom), Ok(()));
    }

    #[test]
    fn the_schema_holds_the_kinds_kubectl_creates() {
        for (api_version, kind) in [
            ("v1", "Namespace"),
            ("v1", "Secret"),
            ("v1", "Service"),
            ("v1", "ServiceAccount"),
            ("apps/v1", "Deployment"),
            ("batch/v1", "Job"),
            ("batch/v1", "CronJob"),
            ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
            ("networking.k8s.io/v1", "Ingress"),
            ("policy/v1", "PodDisruptionBudget"),
        ] {
            assert!(
                message_name(api_version, kind).is_some(),
                "{api_version} {kind}"
            );
        }
    }
}
