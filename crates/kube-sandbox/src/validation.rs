//! The required fields kube-apiserver insists on, refused with 422 Invalid and one cause per
//! field, worded as the real server words them.

use crate::catalog::ResourceType;
use crate::store::ApiError;
use serde_json::{Value, json};

struct Cause {
    reason: &'static str,
    field: String,
    message: String,
}

fn required(field: impl Into<String>) -> Cause {
    Cause {
        reason: "FieldValueRequired",
        field: field.into(),
        message: "Required value".into(),
    }
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> Cause {
    Cause {
        reason: "FieldValueInvalid",
        field: field.into(),
        message: message.into(),
    }
}

/// Checks `obj` as the server would before storing it.
pub fn validate(rt: &ResourceType, obj: &Value) -> Result<(), ApiError> {
    let mut causes = Vec::new();
    let at = |path: &str| obj.pointer(path);
    match rt.kind {
        "Pod" => pod_spec(at("/spec"), "spec", &mut causes),
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" => {
            if at("/spec/selector").is_none() {
                causes.push(required("spec.selector"));
            }
            template(at("/spec/template"), "spec.template", &mut causes);
            let selector = at("/spec/selector/matchLabels").and_then(Value::as_object);
            let labels = at("/spec/template/metadata/labels").and_then(Value::as_object);
            if let Some(selector) = selector
                && !selector
                    .iter()
                    .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
            {
                causes.push(invalid(
                    "spec.template.metadata.labels",
                    format!(
                        "Invalid value: {}: `selector` does not match template `labels`",
                        Value::Object(labels.cloned().unwrap_or_default())
                    ),
                ));
            }
        }
        "Job" => job(at("/spec"), "spec", &mut causes),
        "CronJob" => {
            if at("/spec/schedule").is_none() {
                causes.push(required("spec.schedule"));
            }
            job(
                at("/spec/jobTemplate/spec"),
                "spec.jobTemplate.spec",
                &mut causes,
            );
        }
        "CustomResourceDefinition" => {
            for (pointer, field) in [
                ("/spec/group", "spec.group"),
                ("/spec/names/kind", "spec.names.kind"),
                ("/spec/names/plural", "spec.names.plural"),
                ("/spec/scope", "spec.scope"),
            ] {
                if at(pointer)
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    causes.push(required(field));
                }
            }
            if at("/spec/versions")
                .and_then(Value::as_array)
                .is_none_or(|v| v.is_empty())
            {
                causes.push(required("spec.versions"));
            }
            let expected = format!(
                "{}.{}",
                at("/spec/names/plural")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
                at("/spec/group")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            );
            if obj.pointer("/metadata/name").and_then(Value::as_str) != Some(expected.as_str()) {
                causes.push(invalid(
                    "metadata.name",
                    format!(
                        "Invalid value: must be spec.names.plural+\".\"+spec.group ({expected})"
                    ),
                ));
            }
        }
        "Service" => {
            let headless = at("/spec/clusterIP").and_then(Value::as_str) == Some("None");
            let external = at("/spec/type").and_then(Value::as_str) == Some("ExternalName");
            let ports = at("/spec/ports").and_then(Value::as_array);
            if !headless && !external && ports.is_none_or(|p| p.is_empty()) {
                causes.push(required("spec.ports"));
            }
            for (i, port) in ports.into_iter().flatten().enumerate() {
                if port.get("port").is_none() {
                    causes.push(required(format!("spec.ports[{i}].port")));
                }
            }
        }
        _ => {}
    }
    if causes.is_empty() {
        return Ok(());
    }
    Err(invalid_with(rt, obj, causes))
}

/// The 422 Invalid of `obj` for `(field, message)` faults (a custom resource's schema says
/// them), each cause's reason read from its message as kube-apiserver words them.
pub fn refused(rt: &ResourceType, obj: &Value, faults: Vec<(String, String)>) -> ApiError {
    let causes = faults
        .into_iter()
        .map(|(field, message)| Cause {
            reason: if message.starts_with("Required value") {
                "FieldValueRequired"
            } else if message.starts_with("Unsupported value") {
                "FieldValueNotSupported"
            } else {
                "FieldValueTypeInvalid"
            },
            field,
            message,
        })
        .collect();
    invalid_with(rt, obj, causes)
}

fn invalid_with(rt: &ResourceType, obj: &Value, causes: Vec<Cause>) -> ApiError {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kind = if rt.group.is_empty() {
        rt.kind.to_string()
    } else {
        format!("{}.{}", rt.kind, rt.group)
    };
    let listed: Vec<String> = causes
        .iter()
        .map(|c| format!("{}: {}", c.field, c.message))
        .collect();
    let summary = if listed.len() == 1 {
        listed[0].clone()
    } else {
        format!("[{}]", listed.join(", "))
    };
    let mut error = ApiError::new(
        422,
        "Invalid",
        format!("{kind} \"{name}\" is invalid: {summary}"),
    );
    let mut details = json!({"name": name, "kind": rt.kind});
    if !rt.group.is_empty() {
        details["group"] = json!(rt.group);
    }
    details["causes"] = causes
        .iter()
        .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
        .collect();
    error.details = Some(details);
    error
}

fn template(template: Option<&Value>, at: &str, causes: &mut Vec<Cause>) {
    match template {
        None => causes.push(required(at)),
        Some(t) => pod_spec(t.get("spec"), &format!("{at}.spec"), causes),
    }
}

fn job(spec: Option<&Value>, at: &str, causes: &mut Vec<Cause>) {
    let Some(spec) = spec else {
        causes.push(required(at));
        return;
    };
    template(spec.get("template"), &format!("{at}.template"), causes);
    let restart = spec
        .pointer("/template/spec/restartPolicy")
        .and_then(Value::as_str);
    match restart {
        Some("Never" | "OnFailure") => {}
        Some(other) => causes.push(Cause {
            reason: "FieldValueNotSupported",
            field: format!("{at}.template.spec.restartPolicy"),
            message: format!(
                "Unsupported value: \"{other}\": supported values: \"OnFailure\", \"Never\""
            ),
        }),
        None => causes.push(Cause {
            reason: "FieldValueRequired",
            field: format!("{at}.template.spec.restartPolicy"),
            message: "Required value: valid values: \"OnFailure\", \"Never\"".into(),
        }),
    }
}

fn pod_spec(spec: Option<&Value>, at: &str, causes: &mut Vec<Cause>) {
    let containers = spec
        .and_then(|s| s.get("containers"))
        .and_then(Value::as_array);
    let Some(containers) = containers.filter(|c| !c.is_empty()) else {
        causes.push(required(format!("{at}.containers")));
        return;
    };
    for (i, c) in containers.iter().enumerate() {
        for field in ["name", "image"] {
            if c.get(field)
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                causes.push(required(format!("{at}.containers[{i}].{field}")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::by_plural;

    #[test]
    fn a_deployment_without_containers_or_selector_names_each_field() {
        let rt = by_plural("apps", "v1", "deployments").unwrap();
        let obj = json!({"metadata": {"name": "web"}, "spec": {"template": {"spec": {"containers": []}}}});
        let err = validate(rt, &obj).unwrap_err();
        assert_eq!(err.code, 422);
        assert_eq!(
            err.message,
            "Deployment.apps \"web\" is invalid: [spec.selector: Required value, spec.template.spec.containers: Required value]"
        );
        let causes = &err.details.unwrap()["causes"];
        assert_eq!(causes[0]["field"], "spec.selector");
        assert_eq!(causes[1]["reason"], "FieldValueRequired");
    }

    #[test]
    fn a_selector_that_misses_the_template_labels_is_invalid() {
        let rt = by_plural("apps", "v1", "deployments").unwrap();
        let obj = json!({"metadata": {"name": "web"}, "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "api"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}});
        let err = validate(rt, &obj).unwrap_err();
        assert!(
            err.message
                .contains("`selector` does not match template `labels`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn jobs_must_choose_a_restart_policy() {
        let rt = by_plural("batch", "v1", "jobs").unwrap();
        let obj = json!({"metadata": {"name": "j"}, "spec": {"template": {"spec": {
            "restartPolicy": "Always", "containers": [{"name": "c", "image": "i"}]}}}});
        let err = validate(rt, &obj).unwrap_err();
        assert!(
            err.message
                .contains("spec.template.spec.restartPolicy: Unsupported value: \"Always\""),
            "{}",
            err.message
        );
    }

    #[test]
    fn valid_objects_pass() {
        let rt = by_plural("", "v1", "services").unwrap();
        assert!(
            validate(
                rt,
                &json!({"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}})
            )
            .is_ok()
        );
        assert!(
            validate(
                rt,
                &json!({"metadata": {"name": "s"}, "spec": {"clusterIP": "None"}})
            )
            .is_ok()
        );
        let cm = by_plural("", "v1", "configmaps").unwrap();
        assert!(validate(cm, &json!({"metadata": {"name": "c"}})).is_ok());
    }
}
