//! Server-side printing: the `Table` form `kubectl get` asks for, with the columns kubectl
//! users know for each kind.

use crate::catalog::ResourceType;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

type Cell = fn(&Value) -> Value;

fn number(obj: &Value, pointer: &str) -> i64 {
    obj.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn text<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The columns after NAME and before AGE, per kind.
fn columns(kind: &str) -> Vec<(&'static str, &'static str, Cell)> {
    match kind {
        "Deployment" => vec![
            ("Ready", "string", |o| {
                json!(format!(
                    "{}/{}",
                    number(o, "/status/readyReplicas"),
                    number(o, "/spec/replicas")
                ))
            }),
            ("Up-to-date", "integer", |o| {
                json!(number(o, "/status/updatedReplicas"))
            }),
            ("Available", "integer", |o| {
                json!(number(o, "/status/availableReplicas"))
            }),
        ],
        "ReplicaSet" => vec![
            ("Desired", "integer", |o| json!(number(o, "/spec/replicas"))),
            ("Current", "integer", |o| {
                json!(number(o, "/status/replicas"))
            }),
            ("Ready", "integer", |o| {
                json!(number(o, "/status/readyReplicas"))
            }),
        ],
        "StatefulSet" => {
            vec![("Ready", "string", |o| {
                json!(format!(
                    "{}/{}",
                    number(o, "/status/readyReplicas"),
                    number(o, "/spec/replicas")
                ))
            })]
        }
        "Pod" => vec![
            ("Ready", "string", |o| {
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
            ("Status", "string", |o| json!(pod_status(o))),
            ("Restarts", "string", |o| {
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
        ],
        "Namespace" => vec![("Status", "string", |o| json!(text(o, "/status/phase")))],
        "Service" => vec![
            ("Type", "string", |o| json!(text(o, "/spec/type"))),
            ("Cluster-IP", "string", |o| {
                json!(text(o, "/spec/clusterIP"))
            }),
            ("External-IP", "string", |o| {
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
            ("Port(s)", "string", |o| {
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
        ],
        "PersistentVolumeClaim" => vec![
            ("Status", "string", |o| json!(text(o, "/status/phase"))),
            ("Volume", "string", |o| json!(text(o, "/spec/volumeName"))),
            ("Capacity", "string", |o| {
                json!(text(o, "/status/capacity/storage"))
            }),
        ],
        "Job" => vec![("Status", "string", |o| {
            let has = |kind: &str| {
                o.pointer("/status/conditions")
                    .and_then(Value::as_array)
                    .is_some_and(|c| c.iter().any(|c| c["type"] == kind && c["status"] == "True"))
            };
            json!(if has("Complete") {
                "Complete"
            } else if has("Failed") {
                "Failed"
            } else {
                "Running"
            })
        })],
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
    let column = |name: &str, kind: &str| json!({"name": name, "type": kind, "format": if name == "Name" { "name" } else { "" }, "description": "", "priority": 0});
    let extra = columns(rt.kind);
    let mut definitions = vec![column("Name", "string")];
    definitions.extend(extra.iter().map(|(name, kind, _)| column(name, kind)));
    definitions.push(column("Age", "string"));
    let rows: Vec<Value> = items
        .iter()
        .map(|obj| {
            let mut cells = vec![obj.pointer("/metadata/name").cloned().unwrap_or(Value::Null)];
            cells.extend(extra.iter().map(|(_, _, cell)| cell(obj)));
            cells.push(json!(age(obj.pointer("/metadata/creationTimestamp").and_then(Value::as_str))));
            let mut metadata = obj.get("metadata").cloned().unwrap_or_else(|| json!({}));
            if let Some(m) = metadata.as_object_mut() {
                m.remove("managedFields");
            }
            json!({"cells": cells, "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": metadata}})
        })
        .collect();
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": rv},
           "columnDefinitions": definitions, "rows": rows})
}

/// kubectl's short age: 45s, 12m, 5h, 3d.
fn age(created: Option<&str>) -> String {
    let Some(created) = created.and_then(|c| DateTime::parse_from_rfc3339(c).ok()) else {
        return "<unknown>".into();
    };
    match (Utc::now() - created.with_timezone(&Utc))
        .num_seconds()
        .max(0)
    {
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
