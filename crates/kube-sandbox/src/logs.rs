//! `GET /api/v1/namespaces/{ns}/pods/{name}/log`: no process runs in a sandbox Pod, so each
//! container tells a short, made-up story of its start (its image, then that it is serving),
//! the same every time it is asked; `previous=true` tells how the last instance ended, for a
//! container that restarted; `follow=true` then adds a line a second until the client goes.
//! The parameters, and the errors for a missing container or previous instance, are
//! kube-apiserver's.

use crate::store::ApiError;
use serde_json::Value;
use std::collections::HashMap;

/// What a log request gets: the lines so far, and whether more follow.
#[derive(Debug)]
pub(crate) struct Log {
    pub text: String,
    /// With `follow=true`: the container, whose next lines come one a second.
    pub follow: Option<String>,
    pub timestamps: bool,
}

fn text<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The log of `pod` as `query` asks for it.
pub(crate) fn read(pod: &Value, query: &HashMap<String, String>) -> Result<Log, ApiError> {
    let name = text(pod, "/metadata/name");
    let containers: Vec<&Value> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|c| c.iter().collect())
        .unwrap_or_default();
    let names: Vec<&str> = containers.iter().map(|c| text(c, "/name")).collect();
    let container = match query.get("container") {
        Some(wanted) => *names.iter().find(|n| *n == wanted).ok_or_else(|| {
            ApiError::bad_request(format!("container {wanted} is not valid for pod {name}"))
        })?,
        None if names.len() == 1 => names[0],
        None => {
            return Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                names.join(" ")
            )));
        }
    };
    let spec = containers
        .iter()
        .find(|c| text(c, "/name") == container)
        .copied()
        .unwrap_or(&Value::Null);
    let status = pod
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .and_then(|s| s.iter().find(|s| text(s, "/name") == container));
    let restarts = status
        .and_then(|s| s.pointer("/restartCount"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let started = status
        .and_then(|s| s.pointer("/state/running/startedAt"))
        .and_then(Value::as_str)
        .unwrap_or_else(|| text(pod, "/metadata/creationTimestamp"));
    let timestamps = query.get("timestamps").is_some_and(|v| v == "true");
    let previous = query.get("previous").is_some_and(|v| v == "true");
    let image = text(spec, "/image");
    let mut lines: Vec<(String, String)> = if previous {
        if restarts == 0 {
            return Err(ApiError::bad_request(format!(
                "previous terminated container \"{container}\" in pod \"{name}\" not found"
            )));
        }
        vec![
            (
                started.to_string(),
                format!("{container}: starting {image}"),
            ),
            (
                started.to_string(),
                format!("{container}: fatal: could not reach the database"),
            ),
            (
                started.to_string(),
                format!("{container}: exiting with code 1"),
            ),
        ]
    } else {
        let mut lines = vec![
            (
                started.to_string(),
                format!("{container}: starting {image}"),
            ),
            (
                started.to_string(),
                format!("{container}: configuration loaded"),
            ),
        ];
        if restarts > 0 {
            lines.push((
                started.to_string(),
                format!("{container}: restarted {restarts} times before this start"),
            ));
        }
        for port in spec
            .pointer("/ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let number = port
                .pointer("/containerPort")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            lines.push((
                started.to_string(),
                format!("{container}: listening on :{number}"),
            ));
        }
        lines.push((started.to_string(), format!("{container}: ready")));
        lines
    };
    if let Some(tail) = query.get("tailLines").and_then(|t| t.parse::<usize>().ok()) {
        let skip = lines.len().saturating_sub(tail);
        lines.drain(..skip);
    }
    let text = lines
        .iter()
        .map(|(at, line)| format_line(at, line, timestamps))
        .collect();
    let follow = query.get("follow").is_some_and(|v| v == "true") && !previous;
    Ok(Log {
        text,
        follow: follow.then(|| container.to_string()),
        timestamps,
    })
}

/// One line as the kubelet sends it: with `timestamps=true`, an RFC 3339 time and a space first.
pub(crate) fn format_line(at: &str, line: &str, timestamps: bool) -> String {
    if timestamps {
        format!("{at} {line}\n")
    } else {
        format!("{line}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(restarts: i64) -> Value {
        json!({
            "metadata": {"name": "web-1", "creationTimestamp": "2026-11-26T10:00:00Z"},
            "spec": {"containers": [
                {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]},
                {"name": "proxy", "image": "envoy:1.31"}
            ]},
            "status": {"containerStatuses": [
                {"name": "web", "restartCount": restarts, "state": {"running": {"startedAt": "2026-11-26T10:00:05Z"}}},
                {"name": "proxy", "restartCount": 0}
            ]}
        })
    }

    fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_container_tells_its_start_and_a_pod_of_two_needs_a_name() {
        let log = read(&pod(0), &query(&[("container", "web")])).unwrap();
        assert_eq!(
            log.text,
            "web: starting nginx:1.27\nweb: configuration loaded\nweb: listening on :80\nweb: ready\n"
        );
        assert!(log.follow.is_none());
        let err = read(&pod(0), &query(&[])).unwrap_err();
        assert!(
            err.message.contains("choose one of: [web proxy]"),
            "{}",
            err.message
        );
        let err = read(&pod(0), &query(&[("container", "nope")])).unwrap_err();
        assert!(
            err.message.contains("container nope is not valid"),
            "{}",
            err.message
        );
    }

    #[test]
    fn previous_is_there_only_after_a_restart_and_tail_and_timestamps_apply() {
        let err = read(
            &pod(0),
            &query(&[("container", "web"), ("previous", "true")]),
        )
        .unwrap_err();
        assert!(
            err.message
                .contains("previous terminated container \"web\""),
            "{}",
            err.message
        );
        let log = read(
            &pod(2),
            &query(&[
                ("container", "web"),
                ("previous", "true"),
                ("tailLines", "1"),
            ]),
        )
        .unwrap();
        assert_eq!(log.text, "web: exiting with code 1\n");
        let log = read(
            &pod(0),
            &query(&[
                ("container", "web"),
                ("timestamps", "true"),
                ("tailLines", "1"),
                ("follow", "true"),
            ]),
        )
        .unwrap();
        assert_eq!(log.text, "2026-11-26T10:00:05Z web: ready\n");
        assert_eq!(log.follow.as_deref(), Some("web"));
    }
}
