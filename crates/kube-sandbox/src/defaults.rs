//! Defaulting as kube-apiserver does it, so that live objects carry the same extra fields a
//! real cluster adds and diffs look the way users see them on real clusters.

use serde_json::{Value, json};

/// Fills in server defaults for the kinds that have them.
/// What the server hands out while defaulting.
pub enum Allocation {
    /// A Service's cluster IP (a string).
    ClusterIp,
    /// A NodePort (a number from 30000).
    NodePort,
}

/// Fills in server defaults for the kinds that have them; `allocate` hands out cluster IPs
/// and node ports.
pub fn apply(kind: &str, obj: &mut Value, allocate: &mut impl FnMut(Allocation) -> Value) {
    match kind {
        "Deployment" => deployment(obj),
        "ReplicaSet" => workload(obj, &[("replicas", json!(1))]),
        "StatefulSet" => workload(
            obj,
            &[
                ("replicas", json!(1)),
                ("podManagementPolicy", json!("OrderedReady")),
                (
                    "updateStrategy",
                    json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}),
                ),
                ("revisionHistoryLimit", json!(10)),
                (
                    "persistentVolumeClaimRetentionPolicy",
                    json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
                ),
            ],
        ),
        "DaemonSet" => workload(
            obj,
            &[
                (
                    "updateStrategy",
                    json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}),
                ),
                ("revisionHistoryLimit", json!(10)),
            ],
        ),
        "Job" => {
            if let Some(spec) = obj.get_mut("spec") {
                job_spec(spec);
            }
        }
        "CronJob" => {
            let Some(spec) = obj.get_mut("spec") else {
                return;
            };
            default(spec, "concurrencyPolicy", json!("Allow"));
            default(spec, "suspend", json!(false));
            default(spec, "successfulJobsHistoryLimit", json!(3));
            default(spec, "failedJobsHistoryLimit", json!(1));
            template_created(spec, "jobTemplate");
            if let Some(job) = spec.get_mut("jobTemplate").and_then(|t| t.get_mut("spec")) {
                job_spec(job);
            }
        }
        "Service" => service(obj, allocate),
        "Namespace" => {
            // The label kube-apiserver sets on every write, naming the namespace.
            let name = obj["metadata"]["name"].clone();
            if let Some(metadata) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
                let labels = metadata.entry("labels").or_insert_with(|| json!({}));
                if let Some(labels) = labels.as_object_mut() {
                    labels.insert("kubernetes.io/metadata.name".into(), name);
                }
            }
            if !obj.get("spec").is_some_and(Value::is_object) {
                obj["spec"] = json!({});
            }
            default(&mut obj["spec"], "finalizers", json!(["kubernetes"]));
            default(obj, "status", json!({"phase": "Active"}));
        }
        "Pod" => {
            if let Some(spec) = obj.get_mut("spec") {
                pod_spec(spec);
            }
        }
        "Secret" => string_data_into_data(obj),
        _ => {}
    }
}

/// A Secret's `stringData` is write-only: every write folds it into base64 `data` (its values
/// win) and nothing keeps it, as kube-apiserver's conversion does.
fn string_data_into_data(obj: &mut Value) {
    use base64::Engine;
    // Values that are not strings are not folded: the real server refuses such a Secret
    // before this point (type checking is not the sandbox's yet).
    let foldable = obj
        .get("stringData")
        .and_then(Value::as_object)
        .is_some_and(|m| m.values().all(|v| v.is_string() || v.is_null()));
    if !foldable {
        return;
    }
    let Some(Value::Object(string_data)) = obj.as_object_mut().and_then(|o| o.remove("stringData"))
    else {
        return;
    };
    if !obj.get("data").is_some_and(Value::is_object) {
        obj["data"] = json!({});
    }
    for (key, value) in string_data {
        let text = value.as_str().unwrap_or_default();
        obj["data"][key] = json!(base64::engine::general_purpose::STANDARD.encode(text));
    }
}

fn default(map: &mut Value, key: &str, value: Value) {
    if let Some(m) = map.as_object_mut() {
        m.entry(key.to_string()).or_insert(value);
    }
}

fn deployment(obj: &mut Value) {
    let Some(spec) = obj.get_mut("spec") else {
        return;
    };
    default(spec, "replicas", json!(1));
    default(spec, "revisionHistoryLimit", json!(10));
    default(spec, "progressDeadlineSeconds", json!(600));
    default(
        spec,
        "strategy",
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}),
    );
    template_created(spec, "template");
    if let Some(pod) = spec.get_mut("template").and_then(|t| t.get_mut("spec")) {
        pod_spec(pod);
    }
}

/// A template's unset creation time, which clients send as `creationTimestamp: null`
/// (`kubectl rollout undo` among them), is no field at all to kube-apiserver 1.33 and later:
/// it neither stores nor returns it.
fn template_created(spec: &mut Value, template: &str) {
    if let Some(metadata) = spec
        .get_mut(template)
        .and_then(|t| t.get_mut("metadata"))
        .and_then(Value::as_object_mut)
        && metadata.get("creationTimestamp") == Some(&Value::Null)
    {
        metadata.remove("creationTimestamp");
    }
}

/// A controller with a pod template: its own defaults, then the pod defaults in the template.
fn workload(obj: &mut Value, fields: &[(&str, Value)]) {
    let Some(spec) = obj.get_mut("spec") else {
        return;
    };
    for (key, value) in fields {
        default(spec, key, value.clone());
    }
    template_created(spec, "template");
    if let Some(pod) = spec.get_mut("template").and_then(|t| t.get_mut("spec")) {
        pod_spec(pod);
    }
}

fn job_spec(spec: &mut Value) {
    default(spec, "backoffLimit", json!(6));
    default(spec, "completions", json!(1));
    default(spec, "parallelism", json!(1));
    default(spec, "completionMode", json!("NonIndexed"));
    default(spec, "suspend", json!(false));
    default(spec, "podReplacementPolicy", json!("TerminatingOrFailed"));
    template_created(spec, "template");
    if let Some(pod) = spec.get_mut("template").and_then(|t| t.get_mut("spec")) {
        // A Job's pods must say how they restart (Never or OnFailure); the server does not choose.
        let restart = pod.get("restartPolicy").cloned();
        pod_spec(pod);
        match restart {
            Some(r) => pod["restartPolicy"] = r,
            None => {
                if let Some(p) = pod.as_object_mut() {
                    p.remove("restartPolicy");
                }
            }
        }
    }
}

fn pod_spec(spec: &mut Value) {
    default(spec, "restartPolicy", json!("Always"));
    default(spec, "dnsPolicy", json!("ClusterFirst"));
    default(spec, "schedulerName", json!("default-scheduler"));
    default(spec, "terminationGracePeriodSeconds", json!(30));
    default(spec, "securityContext", json!({}));
    for list in ["containers", "initContainers"] {
        if let Some(containers) = spec.get_mut(list).and_then(Value::as_array_mut) {
            containers.iter_mut().for_each(container);
        }
    }
}

fn container(c: &mut Value) {
    default(c, "terminationMessagePath", json!("/dev/termination-log"));
    default(c, "terminationMessagePolicy", json!("File"));
    default(c, "resources", json!({}));
    let image = c.get("image").and_then(Value::as_str).unwrap_or_default();
    let pull = if image_tag(image).is_none_or(|t| t == "latest") {
        "Always"
    } else {
        "IfNotPresent"
    };
    default(c, "imagePullPolicy", json!(pull));
    if let Some(ports) = c.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports {
            default(p, "protocol", json!("TCP"));
        }
    }
}

/// The tag of an image reference, ignoring a registry port and a digest.
fn image_tag(image: &str) -> Option<&str> {
    if image.contains('@') {
        return Some("digest");
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    last.split_once(':').map(|(_, tag)| tag)
}

fn service(obj: &mut Value, allocate: &mut impl FnMut(Allocation) -> Value) {
    let Some(spec) = obj.get_mut("spec") else {
        return;
    };
    default(spec, "type", json!("ClusterIP"));
    default(spec, "sessionAffinity", json!("None"));
    default(spec, "internalTrafficPolicy", json!("Cluster"));
    default(spec, "ipFamilies", json!(["IPv4"]));
    default(spec, "ipFamilyPolicy", json!("SingleStack"));
    if spec.get("clusterIP").is_none() {
        let ip = allocate(Allocation::ClusterIp);
        default(spec, "clusterIP", ip.clone());
        default(spec, "clusterIPs", json!([ip]));
    }
    let exposed = matches!(
        spec.get("type").and_then(Value::as_str),
        Some("NodePort" | "LoadBalancer")
    );
    if exposed {
        default(spec, "externalTrafficPolicy", json!("Cluster"));
    }
    if spec.get("type").and_then(Value::as_str) == Some("LoadBalancer") {
        default(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports {
            if exposed && p.get("nodePort").is_none() {
                p["nodePort"] = allocate(Allocation::NodePort);
            }
            default(p, "protocol", json!("TCP"));
            if let Some(port) = p.get("port").cloned() {
                default(p, "targetPort", port);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_gets_server_defaults() {
        let mut d = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]},
            {"name": "side", "image": "busybox"}
        ]}}}});
        apply("Deployment", &mut d, &mut |_| json!("10.96.0.10"));
        assert_eq!(d["spec"]["replicas"], 1);
        let c = &d["spec"]["template"]["spec"]["containers"];
        assert_eq!(c[0]["imagePullPolicy"], "IfNotPresent");
        assert_eq!(c[1]["imagePullPolicy"], "Always");
        assert_eq!(c[0]["ports"][0]["protocol"], "TCP");
        assert_eq!(d["spec"]["template"]["spec"]["restartPolicy"], "Always");
    }

    #[test]
    fn service_gets_cluster_ip_and_target_port() {
        let mut s = json!({"spec": {"ports": [{"port": 80}]}});
        apply("Service", &mut s, &mut |_| json!("10.96.0.10"));
        assert_eq!(s["spec"]["clusterIP"], "10.96.0.10");
        assert_eq!(s["spec"]["ports"][0]["targetPort"], 80);
        assert_eq!(s["spec"]["type"], "ClusterIP");
    }

    #[test]
    fn pod_templates_inside_other_controllers_get_pod_defaults() {
        let template = json!({"spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}});
        for kind in ["StatefulSet", "DaemonSet", "ReplicaSet"] {
            let mut obj = json!({"spec": {"template": template.clone()}});
            apply(kind, &mut obj, &mut |_| unreachable!());
            let pod = &obj["spec"]["template"]["spec"];
            assert_eq!(pod["dnsPolicy"], "ClusterFirst", "{kind}");
            assert_eq!(
                pod["containers"][0]["imagePullPolicy"], "IfNotPresent",
                "{kind}"
            );
        }
        let mut job = json!({"spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}});
        apply("Job", &mut job, &mut |_| unreachable!());
        assert_eq!(job["spec"]["backoffLimit"], 6);
        assert_eq!(job["spec"]["template"]["spec"]["restartPolicy"], "Never");
        assert_eq!(
            job["spec"]["template"]["spec"]["schedulerName"],
            "default-scheduler"
        );
    }

    #[test]
    fn a_secrets_string_data_is_folded_into_data_and_not_kept() {
        let mut s = json!({"stringData": {"password": "new"}, "data": {"password": "b2xk", "user": "YQ=="}});
        apply("Secret", &mut s, &mut |_| unreachable!());
        assert_eq!(s, json!({"data": {"password": "bmV3", "user": "YQ=="}}));
    }

    #[test]
    fn registry_port_is_not_a_tag() {
        assert_eq!(image_tag("registry:5000/app"), None);
        assert_eq!(image_tag("registry:5000/app:v2"), Some("v2"));
    }
}
