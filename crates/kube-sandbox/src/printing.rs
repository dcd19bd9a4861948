//! Server-side printing: the `Table` form `kubectl get` asks for, with the columns kubectl
//! users know for each kind.

use crate::catalog::ResourceType;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

type Cell = fn(&Value) -> Value;

/// A column: its name, type, priority (1 shows only with `-o wide`) and cell.
type Column = (&'static str, &'static str, u8, Cell);

/// AGE, where a kind's columns place it.
const AGE: Column = ("Age", "string", 0, |o| {
    json!(age(o
        .pointer("/metadata/creationTimestamp")
        .and_then(Value::as_str)))
});

/// `-o wide`'s CONTAINERS, IMAGES and SELECTOR of a workload.
const CONTAINERS: Column = ("Containers", "string", 1, |o| {
    json!(template_containers(o, "name"))
});
const IMAGES: Column = ("Images", "string", 1, |o| {
    json!(template_containers(o, "image"))
});
const SELECTOR: Column = ("Selector", "string", 1, |o| {
    json!(selector(
        o.pointer("/spec/selector").unwrap_or(&Value::Null)
    ))
});

fn template_containers(o: &Value, field: &str) -> String {
    o.pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| text(c, &format!("/{field}")).to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// A label selector as kubectl prints one: `app=web,tier in (front)`.
fn selector(selector: &Value) -> String {
    let mut parts: Vec<String> = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    for expression in selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let values: Vec<&str> = expression["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let key = text(expression, "/key");
        parts.push(match text(expression, "/operator") {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_string(),
            _ => format!("!{key}"),
        });
    }
    parts.sort();
    if parts.is_empty() {
        "<none>".into()
    } else {
        parts.join(",")
    }
}

/// A Job's DURATION: from its start to its completion, or to now while it runs.
fn duration(o: &Value) -> Value {
    let at = |pointer: &str| {
        o.pointer(pointer)
            .and_then(Value::as_str)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    let Some(start) = at("/status/startTime") else {
        return json!("");
    };
    let end = at("/status/completionTime").unwrap_or_else(Utc::now);
    json!(short((end - start).num_seconds().max(0)))
}

fn number(obj: &Value, pointer: &str) -> i64 {
    obj.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn text<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The columns after NAME, per kind, AGE among them.
fn columns(kind: &str) -> Vec<Column> {
    match kind {
        "Deployment" => vec![
            ("Ready", "string", 0, |o| {
                json!(format!(
                    "{}/{}",
                    number(o, "/status/readyReplicas"),
                    number(o, "/spec/replicas")
                ))
            }),
            ("Up-to-date", "integer", 0, |o| {
                json!(number(o, "/status/updatedReplicas"))
            }),
            ("Available", "integer", 0, |o| {
                json!(number(o, "/status/availableReplicas"))
            }),
            AGE,
            CONTAINERS,
            IMAGES,
            SELECTOR,
        ],
        "ReplicaSet" => vec![
            ("Desired", "integer", 0, |o| {
                json!(number(o, "/spec/replicas"))
            }),
            ("Current", "integer", 0, |o| {
                json!(number(o, "/status/replicas"))
            }),
            ("Ready", "integer", 0, |o| {
                json!(number(o, "/status/readyReplicas"))
            }),
            AGE,
            CONTAINERS,
            IMAGES,
            SELECTOR,
        ],
        "StatefulSet" => {
            vec![
                ("Ready", "string", 0, |o| {
                    json!(format!(
                        "{}/{}",
                        number(o, "/status/readyReplicas"),
                        number(o, "/spec/replicas")
                    ))
                }),
                AGE,
                CONTAINERS,
                IMAGES,
            ]
        }
        "Pod" => vec![
            ("Ready", "string", 0, |o| {
                let statuses = o
                    .pointer("/status/containerStatuses")
                    .and_then(Value::as_array);
                let ready = statuses.map_or(0, |s| s.iter().filter(|c| c["ready"] == true).count());
                let total = o
                    .pointer("/spec/containers")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                json!(format!("{ready}/{total}"))
            }),
            ("Status", "string", 0, |o| json!(pod_status(o))),
            ("Restarts", "string", 0, |o| {
                let statuses = o
                    .pointer("/status/containerStatuses")
                    .and_then(Value::as_array);
                json!(
                    statuses
                        .map_or(0, |s| s
                            .iter()
                            .map(|c| number(c, "/restartCount"))
                            .sum::<i64>())
                        .to_string()
                )
            }),
            AGE,
            ("IP", "string", 1, |o| json!(none(text(o, "/status/podIP")))),
            ("Node", "string", 1, |o| {
                json!(none(text(o, "/spec/nodeName")))
            }),
            ("Nominated Node", "string", 1, |o| {
                json!(none(text(o, "/status/nominatedNodeName")))
            }),
            ("Readiness Gates", "string", 1, |_| json!("<none>")),
        ],
        "CustomResourceDefinition" => vec![("Created At", "date", 0, |o| {
            json!(text(o, "/metadata/creationTimestamp"))
        })],
        "Namespace" => vec![
            ("Status", "string", 0, |o| json!(text(o, "/status/phase"))),
            AGE,
        ],
        "Node" => vec![
            ("Status", "string", 0, |o| {
                let ready = o
                    .pointer("/status/conditions")
                    .and_then(Value::as_array)
                    .is_some_and(|c| {
                        c.iter()
                            .any(|c| c["type"] == "Ready" && c["status"] == "True")
                    });
                json!(if ready { "Ready" } else { "NotReady" })
            }),
            ("Roles", "string", 0, |_| json!("<none>")),
            AGE,
            ("Version", "string", 0, |o| {
                json!(text(o, "/status/nodeInfo/kubeletVersion"))
            }),
        ],
        "Service" => vec![
            ("Type", "string", 0, |o| json!(text(o, "/spec/type"))),
            ("Cluster-IP", "string", 0, |o| {
                json!(text(o, "/spec/clusterIP"))
            }),
            ("External-IP", "string", 0, |o| {
                let ips: Vec<&str> = o
                    .pointer("/status/loadBalancer/ingress")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|i| i.get("ip").and_then(Value::as_str))
                    .collect();
                json!(if ips.is_empty() {
                    if text(o, "/spec/type") == "LoadBalancer" {
                        "<pending>".to_string()
                    } else {
                        "<none>".to_string()
                    }
                } else {
                    ips.join(",")
                })
            }),
            ("Port(s)", "string", 0, |o| {
                let ports: Vec<String> = o
                    .pointer("/spec/ports")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|p| match p.get("nodePort") {
                        Some(node) => format!("{}:{}/{}", p["port"], node, text(p, "/protocol")),
                        None => format!("{}/{}", p["port"], text(p, "/protocol")),
                    })
                    .collect();
                json!(ports.join(","))
            }),
            AGE,
            ("Selector", "string", 1, |o| {
                json!(
                    match o.pointer("/spec/selector").and_then(Value::as_object) {
                        Some(labels) if !labels.is_empty() => {
                            selector(&json!({"matchLabels": labels}))
                        }
                        _ => "<none>".to_string(),
                    }
                )
            }),
        ],
        "PersistentVolumeClaim" => vec![
            ("Status", "string", 0, |o| json!(text(o, "/status/phase"))),
            ("Volume", "string", 0, |o| {
                json!(text(o, "/spec/volumeName"))
            }),
            ("Capacity", "string", 0, |o| {
                json!(text(o, "/status/capacity/storage"))
            }),
            AGE,
        ],
        "Job" => vec![
            ("Status", "string", 0, |o| {
                let has = |kind: &str| {
                    o.pointer("/status/conditions")
                        .and_then(Value::as_array)
                        .is_some_and(|c| {
                            c.iter().any(|c| c["type"] == kind && c["status"] == "True")
                        })
                };
                json!(if has("Complete") {
                    "Complete"
                } else if has("Failed") {
                    "Failed"
                } else {
                    "Running"
                })
            }),
            ("Completions", "string", 0, |o| {
                json!(format!(
                    "{}/{}",
                    number(o, "/status/succeeded"),
                    o.pointer("/spec/completions")
                        .and_then(Value::as_i64)
                        .unwrap_or(1)
                ))
            }),
            ("Duration", "string", 0, duration),
            AGE,
            CONTAINERS,
            IMAGES,
            SELECTOR,
        ],
        _ => Vec::new(),
    }
}

/// What kubectl shows as a Pod's STATUS: a waiting or terminated reason when there is one,
/// otherwise the phase.
fn pod_status(pod: &Value) -> String {
    if pod.pointer("/metadata/deletionTimestamp").is_some() {
        return "Terminating".into();
    }
    let statuses = pod
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array);
    for status in statuses.into_iter().flatten() {
        if let Some(reason) = status
            .pointer("/state/waiting/reason")
            .and_then(Value::as_str)
        {
            return reason.into();
        }
        if let Some(reason) = status
            .pointer("/state/terminated/reason")
            .and_then(Value::as_str)
            && text(pod, "/status/phase") != "Running"
        {
            return reason.into();
        }
    }
    match text(pod, "/status/phase") {
        "" => "Pending".into(),
        phase => phase.into(),
    }
}

/// The `Table` of `items` for a type.
pub fn table(rt: &ResourceType, items: &[Value], rv: &str) -> Value {
    if !rt.printer_columns.is_empty() {
        return custom_table(rt, items, rv);
    }
    let mut columns = if rt.custom {
        Vec::new()
    } else {
        columns(rt.kind)
    };
    if !columns
        .iter()
        .any(|(name, ..)| matches!(*name, "Age" | "Created At"))
    {
        columns.push(AGE);
    }
    let column = |name: &str, kind: &str, priority: u8| json!({"name": name, "type": kind, "format": if name == "Name" { "name" } else { "" }, "description": "", "priority": priority});
    let mut definitions = vec![column("Name", "string", 0)];
    definitions.extend(
        columns
            .iter()
            .map(|(name, kind, priority, _)| column(name, kind, *priority)),
    );
    assemble(definitions, items, rv, |obj| {
        columns.iter().map(|(.., cell)| cell(obj)).collect()
    })
}

fn definition(name: &str, kind: &str, priority: u8) -> Value {
    json!({"name": name, "type": kind, "format": if name == "Name" { "name" } else { "" }, "description": "", "priority": priority})
}

/// A `Table` of `items`: NAME and `cells` per row, each row with the object's metadata.
fn assemble(
    definitions: Vec<Value>,
    items: &[Value],
    rv: &str,
    cells: impl Fn(&Value) -> Vec<Value>,
) -> Value {
    let rows: Vec<Value> = items
        .iter()
        .map(|obj| {
            let mut row = vec![obj.pointer("/metadata/name").cloned().unwrap_or(Value::Null)];
            row.extend(cells(obj));
            let mut metadata = obj.get("metadata").cloned().unwrap_or_else(|| json!({}));
            if let Some(m) = metadata.as_object_mut() {
                m.remove("managedFields");
            }
            json!({"cells": row, "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": metadata}})
        })
        .collect();
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": rv},
           "columnDefinitions": definitions, "rows": rows})
}

/// A custom kind's table, by its CRD's `additionalPrinterColumns`: NAME, then those (AGE only
/// when the CRD names one).
fn custom_table(rt: &ResourceType, items: &[Value], rv: &str) -> Value {
    let mut definitions = vec![definition("Name", "string", 0)];
    definitions.extend(
        rt.printer_columns
            .iter()
            .map(|c| definition(c.name, c.kind, c.priority)),
    );
    assemble(definitions, items, rv, |obj| {
        rt.printer_columns
            .iter()
            .map(|c| match obj.pointer(&c.json_path.replace('.', "/")) {
                Some(Value::String(t)) if c.kind == "date" => json!(age(Some(t))),
                Some(value) => value.clone(),
                None => Value::Null,
            })
            .collect()
    })
}

/// `<none>` for an empty cell, as kubectl prints one.
fn none(text: &str) -> String {
    if text.is_empty() {
        "<none>".into()
    } else {
        text.into()
    }
}

/// kubectl's short age: 45s, 12m, 5h, 3d.
fn age(created: Option<&str>) -> String {
    let Some(created) = created.and_then(|c| DateTime::parse_from_rfc3339(c).ok()) else {
        return "<unknown>".into();
    };
    short(
        (Utc::now() - created.with_timezone(&Utc))
            .num_seconds()
            .max(0),
    )
}

/// A span of seconds as kubectl shortens it.
fn short(seconds: i64) -> String {
    match seconds {
        s if s < 120 => format!("{s}s"),
        s if s < 3600 * 2 => format!("{}m", s / 60),
        s if s < 86400 * 2 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pod_shows_the_reason_it_is_waiting() {
        let crashing = json!({"status": {"phase": "Running", "containerStatuses": [
            {"ready": false, "restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}});
        assert_eq!(pod_status(&crashing), "CrashLoopBackOff");
        let done = json!({"status": {"phase": "Succeeded", "containerStatuses": [
            {"state": {"terminated": {"reason": "Completed"}}}]}});
        assert_eq!(pod_status(&done), "Completed");
        assert_eq!(pod_status(&json!({})), "Pending");
    }
}
