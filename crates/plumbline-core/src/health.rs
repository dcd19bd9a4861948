//! Health of live objects, by the built-in rules of DESIGN.md (Argo CD's, plus a `Ready` or
//! `Available` condition for kinds it has no rule for), and the worst-of aggregation.

use serde::Serialize;
use serde_json::Value;
use ts_rs::TS;

/// Health, from best to worst: the derived order is the aggregation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, TS)]
pub enum HealthStatus {
    Healthy,
    Suspended,
    Progressing,
    Missing,
    Degraded,
    Unknown,
}

/// A health status and the sentence that explains it (empty when there is nothing to add).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Health {
    pub status: HealthStatus,
    pub message: String,
}

impl Health {
    fn new(status: HealthStatus, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

use HealthStatus::{Degraded, Healthy, Progressing, Suspended, Unknown};

/// The worst of `statuses`; `None` when there are none.
pub fn worst(statuses: impl IntoIterator<Item = HealthStatus>) -> Option<HealthStatus> {
    statuses.into_iter().max()
}

/// The health of a live object, or `None` when no rule applies to its kind.
pub fn assess(obj: &Value) -> Option<Health> {
    if obj
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
    {
        return Some(Health::new(Progressing, "Pending deletion"));
    }
    let api_version = text(obj, "/apiVersion");
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let kind = text(obj, "/kind");
    let health = match (group, kind) {
        ("apps", "Deployment") => deployment(obj),
        ("apps", "StatefulSet") => stateful_set(obj),
        ("apps", "DaemonSet") => daemon_set(obj),
        ("apps", "ReplicaSet") => replica_set(obj),
        ("", "Pod") => pod(obj),
        ("batch", "CronJob") => cron_job(obj),
        ("batch", "Job") => job(obj),
        ("policy", "PodDisruptionBudget") => pod_disruption_budget(obj),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => crd(obj),
        ("", "Service") => service(obj),
        ("networking.k8s.io" | "extensions", "Ingress") => ingress(obj),
        ("", "PersistentVolumeClaim") => pvc(obj),
        ("autoscaling", "HorizontalPodAutoscaler") => hpa(obj),
        ("apiregistration.k8s.io", "APIService") => api_service(obj),
        _ => return ready_condition(obj),
    };
    Some(health)
}

fn text<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn int(obj: &Value, pointer: &str) -> Option<i64> {
    obj.pointer(pointer).and_then(Value::as_i64)
}

fn count(obj: &Value, pointer: &str) -> i64 {
    int(obj, pointer).unwrap_or(0)
}

fn name(obj: &Value) -> &str {
    text(obj, "/metadata/name")
}

fn conditions(obj: &Value) -> Vec<&Value> {
    obj.pointer("/status/conditions")
        .and_then(Value::as_array)
        .map(|c| c.iter().collect())
        .unwrap_or_default()
}

fn condition<'a>(obj: &'a Value, kind: &str) -> Option<&'a Value> {
    conditions(obj)
        .into_iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

fn is(condition: Option<&Value>, status: &str) -> bool {
    condition.is_some_and(|c| c.get("status").and_then(Value::as_str) == Some(status))
}

fn field<'a>(condition: &'a Value, key: &str) -> &'a str {
    condition
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Whether the controller has seen the current spec.
fn generation_observed(obj: &Value) -> bool {
    match (
        int(obj, "/metadata/generation"),
        int(obj, "/status/observedGeneration"),
    ) {
        (Some(generation), Some(observed)) => observed >= generation,
        (None, _) => true,
        (Some(_), None) => false,
    }
}

fn deployment(obj: &Value) -> Health {
    if obj.pointer("/spec/paused").and_then(Value::as_bool) == Some(true) {
        return Health::new(Suspended, "Deployment is paused");
    }
    if !generation_observed(obj) {
        return Health::new(
            Progressing,
            "Waiting for rollout to finish: observed deployment generation less than desired generation",
        );
    }
    let progressing = condition(obj, "Progressing");
    if progressing.is_some_and(|c| field(c, "reason") == "ProgressDeadlineExceeded") {
        return Health::new(
            Degraded,
            format!("Deployment {:?} exceeded its progress deadline", name(obj)),
        );
    }
    let desired = int(obj, "/spec/replicas").unwrap_or(1);
    let updated = count(obj, "/status/updatedReplicas");
    let replicas = count(obj, "/status/replicas");
    let available = count(obj, "/status/availableReplicas");
    if updated < desired {
        return Health::new(
            Progressing,
            format!(
                "Waiting for rollout to finish: {updated} out of {desired} new replicas have been updated..."
            ),
        );
    }
    if replicas > updated {
        return Health::new(
            Progressing,
            format!(
                "Waiting for rollout to finish: {} old replicas are pending termination...",
                replicas - updated
            ),
        );
    }
    if available < updated {
        return Health::new(
            Progressing,
            format!(
                "Waiting for rollout to finish: {available} of {updated} updated replicas are available..."
            ),
        );
    }
    Health::new(Healthy, "")
}

fn stateful_set(obj: &Value) -> Health {
    if int(obj, "/status/observedGeneration").unwrap_or(0) == 0 || !generation_observed(obj) {
        return Health::new(
            Progressing,
            "Waiting for statefulset spec update to be observed...",
        );
    }
    let desired = int(obj, "/spec/replicas");
    let ready = count(obj, "/status/readyReplicas");
    if let Some(desired) = desired
        && ready < desired
    {
        return Health::new(
            Progressing,
            format!("Waiting for {} pods to be ready...", desired - ready),
        );
    }
    let strategy = text(obj, "/spec/updateStrategy/type");
    let updated = count(obj, "/status/updatedReplicas");
    if (strategy == "RollingUpdate" || strategy.is_empty())
        && let Some(partition) = int(obj, "/spec/updateStrategy/rollingUpdate/partition")
    {
        let replicas = desired.unwrap_or(1);
        if updated < replicas - partition {
            return Health::new(
                Progressing,
                format!(
                    "Waiting for partitioned roll out to finish: {updated} out of {} new pods have been updated...",
                    replicas - partition
                ),
            );
        }
        return Health::new(
            Healthy,
            format!("partitioned roll out complete: {updated} new pods have been updated..."),
        );
    }
    if strategy == "OnDelete" {
        return Health::new(Healthy, format!("statefulset has {ready} ready pods"));
    }
    let update_revision = text(obj, "/status/updateRevision");
    let current_revision = text(obj, "/status/currentRevision");
    if update_revision != current_revision {
        return Health::new(
            Progressing,
            format!(
                "waiting for statefulset rolling update to complete {updated} pods at revision {update_revision}..."
            ),
        );
    }
    Health::new(
        Healthy,
        format!(
            "statefulset rolling update complete {ready} pods at revision {current_revision}..."
        ),
    )
}

fn daemon_set(obj: &Value) -> Health {
    if int(obj, "/status/observedGeneration").unwrap_or(0) == 0 || !generation_observed(obj) {
        return Health::new(
            Progressing,
            "Waiting for daemon set spec update to be observed...",
        );
    }
    let desired = count(obj, "/status/desiredNumberScheduled");
    let updated = count(obj, "/status/updatedNumberScheduled");
    let available = count(obj, "/status/numberAvailable");
    if text(obj, "/spec/updateStrategy/type") == "OnDelete" {
        return Health::new(
            Healthy,
            format!("daemon set {updated} out of {desired} new pods have been updated"),
        );
    }
    if updated < desired {
        return Health::new(
            Progressing,
            format!(
                "Waiting for daemon set {:?} rollout to finish: {updated} out of {desired} new pods have been updated...",
                name(obj)
            ),
        );
    }
    if available < desired {
        return Health::new(
            Progressing,
            format!(
                "Waiting for daemon set {:?} rollout to finish: {available} of {desired} updated pods are available...",
                name(obj)
            ),
        );
    }
    Health::new(Healthy, "")
}

fn replica_set(obj: &Value) -> Health {
    let failure = condition(obj, "ReplicaFailure");
    if is(failure, "True") {
        return Health::new(Degraded, failure.map_or("", |c| field(c, "message")));
    }
    if !generation_observed(obj) {
        return Health::new(
            Progressing,
            "Waiting for rollout to finish: observed replica set generation less than desired generation",
        );
    }
    let desired = int(obj, "/spec/replicas").unwrap_or(1);
    let available = count(obj, "/status/availableReplicas");
    if available < desired {
        return Health::new(
            Progressing,
            format!(
                "Waiting for rollout to finish: {available} out of {desired} new replicas are available..."
            ),
        );
    }
    Health::new(Healthy, "")
}

fn container_statuses(obj: &Value) -> Vec<&Value> {
    obj.pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .map(|c| c.iter().collect())
        .unwrap_or_default()
}

fn pod(obj: &Value) -> Health {
    let restart_policy = match text(obj, "/spec/restartPolicy") {
        "" => "Always",
        other => other,
    };
    let annotations = obj.pointer("/metadata/annotations");
    let annotation = |key: &str| annotations.and_then(|a| a.get(key)).and_then(Value::as_str);
    let is_hook =
        annotation("argocd.argoproj.io/hook").is_some() || annotation("helm.sh/hook").is_some();
    let always = restart_policy == "Always"
        || (!is_hook && annotation("argocd.argoproj.io/ignore-restart-policy") == Some("true"));
    let statuses = container_statuses(obj);
    if always {
        for status in &statuses {
            let Some(waiting) = status.pointer("/state/waiting") else {
                continue;
            };
            let reason = field(waiting, "reason");
            if reason.starts_with("Err") || reason.ends_with("Error") || reason.ends_with("BackOff")
            {
                let message = match field(waiting, "message") {
                    "" => reason,
                    message => message,
                };
                return Health::new(Degraded, message);
            }
        }
    }
    let status_message = text(obj, "/status/message");
    match text(obj, "/status/phase") {
        "Pending" => Health::new(Progressing, status_message),
        "Succeeded" => Health::new(Healthy, status_message),
        "Failed" => {
            let message = if status_message.is_empty() {
                text(obj, "/status/reason")
            } else {
                status_message
            };
            Health::new(Degraded, message)
        }
        "Running" if always => {
            let ready = match condition(obj, "Ready") {
                Some(c) => is(Some(c), "True"),
                None => {
                    !statuses.is_empty()
                        && statuses
                            .iter()
                            .all(|s| s.get("ready").and_then(Value::as_bool) == Some(true))
                }
            };
            if ready {
                return Health::new(Healthy, status_message);
            }
            if let Some(restarted) = statuses
                .iter()
                .find(|s| s.pointer("/lastState/terminated").is_some())
            {
                let terminated = restarted
                    .pointer("/lastState/terminated")
                    .unwrap_or(&Value::Null);
                let message = match field(terminated, "message") {
                    "" => field(terminated, "reason"),
                    message => message,
                };
                return Health::new(Degraded, message);
            }
            Health::new(Progressing, status_message)
        }
        "Running" => Health::new(Progressing, status_message),
        _ => Health::new(Unknown, status_message),
    }
}

/// Argo CD calls a suspended CronJob healthy, deliberately: nothing is wrong with it.
fn cron_job(obj: &Value) -> Health {
    if obj.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) {
        return Health::new(Healthy, "CronJob is suspended");
    }
    let Some(status) = obj.get("status") else {
        return Health::new(Progressing, "Waiting for the CronJob's first status");
    };
    let last_schedule = status.get("lastScheduleTime").and_then(Value::as_str);
    let last_success = status.get("lastSuccessfulTime").and_then(Value::as_str);
    let active = status
        .get("active")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    match (last_schedule, last_success) {
        (None, _) => Health::new(Healthy, ""),
        (Some(_), None) => Health::new(Healthy, "The CronJob has not succeeded yet"),
        _ if active => Health::new(Healthy, "A job is running"),
        // RFC 3339 times in UTC compare as text.
        (Some(scheduled), Some(succeeded)) if succeeded < scheduled => Health::new(
            Degraded,
            format!("The last job, scheduled at {scheduled}, did not succeed"),
        ),
        _ => Health::new(Healthy, ""),
    }
}

fn job(obj: &Value) -> Health {
    for c in conditions(obj) {
        if field(c, "status") != "True" {
            continue;
        }
        match field(c, "type") {
            "Failed" => return Health::new(Degraded, field(c, "message")),
            "Suspended" => return Health::new(Suspended, field(c, "message")),
            "Complete" => return Health::new(Healthy, field(c, "message")),
            _ => {}
        }
    }
    Health::new(Progressing, "Job is running")
}

fn pod_disruption_budget(obj: &Value) -> Health {
    let all = conditions(obj);
    if all.is_empty() {
        return Health::new(Progressing, "Waiting for the budget to be computed");
    }
    if let Some(c) = all
        .iter()
        .find(|c| field(c, "status") == "False" && field(c, "reason") != "InsufficientPods")
    {
        return Health::new(Degraded, field(c, "message"));
    }
    Health::new(Healthy, "")
}

fn crd(obj: &Value) -> Health {
    if is(condition(obj, "Terminating"), "True") {
        return Health::new(Progressing, "CRD is being terminated");
    }
    if conditions(obj).is_empty() {
        return Health::new(Progressing, "Status conditions not found");
    }
    let names = condition(obj, "NamesAccepted");
    if is(names, "False") {
        return Health::new(Degraded, names.map_or("", |c| field(c, "message")));
    }
    let schema = condition(obj, "NonStructuralSchema");
    if is(schema, "True") {
        return Health::new(Degraded, schema.map_or("", |c| field(c, "message")));
    }
    let established = condition(obj, "Established");
    if is(established, "False") && established.is_some_and(|c| field(c, "reason") == "Installing") {
        return Health::new(Progressing, established.map_or("", |c| field(c, "message")));
    }
    if !is(established, "True") {
        return Health::new(Degraded, "CRD is not established");
    }
    Health::new(Healthy, "")
}

fn has_load_balancer_ingress(obj: &Value) -> bool {
    obj.pointer("/status/loadBalancer/ingress")
        .and_then(Value::as_array)
        .is_some_and(|i| !i.is_empty())
}

fn service(obj: &Value) -> Health {
    if text(obj, "/spec/type") == "LoadBalancer" && !has_load_balancer_ingress(obj) {
        return Health::new(Progressing, "Waiting for the load balancer's address");
    }
    Health::new(Healthy, "")
}

fn ingress(obj: &Value) -> Health {
    if has_load_balancer_ingress(obj) {
        Health::new(Healthy, "")
    } else {
        Health::new(Progressing, "Waiting for the ingress's address")
    }
}

fn pvc(obj: &Value) -> Health {
    match text(obj, "/status/phase") {
        "Bound" => Health::new(Healthy, ""),
        "Lost" => Health::new(Degraded, "The volume of this claim is lost"),
        _ => Health::new(Progressing, "Waiting for the claim to be bound"),
    }
}

const HPA_FAILURES: &[&str] = &[
    "FailedGetScale",
    "FailedUpdateScale",
    "FailedGetResourceMetric",
    "FailedGetContainerResourceMetric",
    "FailedGetPodsMetric",
    "FailedGetObjectMetric",
    "FailedGetExternalMetric",
    "FailedComputeMetricsReplicas",
    "InvalidSelector",
];

fn hpa(obj: &Value) -> Health {
    // autoscaling/v1 keeps its conditions in an annotation, as a JSON list.
    let from_annotation: Vec<Value> = obj
        .pointer("/metadata/annotations/autoscaling.alpha.kubernetes.io~1conditions")
        .and_then(Value::as_str)
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default();
    let all: Vec<&Value> = if from_annotation.is_empty() {
        conditions(obj)
    } else {
        from_annotation.iter().collect()
    };
    if let Some(c) = all
        .iter()
        .find(|c| HPA_FAILURES.contains(&field(c, "reason")))
    {
        return Health::new(Degraded, field(c, "message"));
    }
    if let Some(c) = all.iter().find(|c| {
        matches!(field(c, "type"), "AbleToScale" | "ScalingLimited") && field(c, "status") == "True"
    }) {
        return Health::new(Healthy, field(c, "message"));
    }
    Health::new(Progressing, "Waiting for the autoscaler to act")
}

fn api_service(obj: &Value) -> Health {
    let available = condition(obj, "Available");
    if is(available, "True") {
        Health::new(Healthy, "")
    } else {
        Health::new(
            Progressing,
            available.map_or("Waiting for the service to be available", |c| {
                field(c, "message")
            }),
        )
    }
}

/// Reasons of a False `Ready`/`Available` condition that mean "not yet" rather than "broken".
const STILL_GOING: &[&str] = &[
    "Progressing",
    "Reconciling",
    "InProgress",
    "Pending",
    "Creating",
    "Initializing",
    "Provisioning",
    "Updating",
];

/// Kinds without a rule of their own: a `Ready` or `Available` condition, when there is one.
fn ready_condition(obj: &Value) -> Option<Health> {
    let c = condition(obj, "Ready").or_else(|| condition(obj, "Available"))?;
    let message = field(c, "message");
    Some(match field(c, "status") {
        "True" => Health::new(Healthy, message),
        "False" if STILL_GOING.iter().any(|r| field(c, "reason").contains(r)) => {
            Health::new(Progressing, message)
        }
        "False" => Health::new(Degraded, message),
        _ => Health::new(Progressing, message),
    })
}

#[cfg(test)]
mod tests;
