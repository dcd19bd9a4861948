//! A small controller manager and kubelet, so that live state moves the way a cluster's does:
//! Deployments make ReplicaSets (with a pod-template-hash), ReplicaSets make Pods, Pods are
//! scheduled and start after a delay (or fail, when their image says so), Services get
//! Endpoints, status and conditions follow as the real controllers write them, and Events say
//! what happened. Everything goes through the store's verbs, as a real controller would go
//! through the API.

use crate::catalog::{ResourceType, by_plural};
use crate::store::{Store, WriteOptions};
use chrono::{SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

mod rbac;
mod workloads;

const CONTROLLER_MANAGER: &str = "kube-controller-manager";
const KUBELET: &str = "kubelet";
const REVISION: &str = "deployment.kubernetes.io/revision";

/// How the simulated cluster behaves over time.
#[derive(Debug, Clone)]
pub struct ControllerOptions {
    /// How long a Pod stays Pending (ContainerCreating) before its containers start.
    pub pod_start_delay: Duration,
    /// The CA certificate (PEM) published in each namespace's `kube-root-ca.crt`; the sandbox
    /// fills in its own when it starts.
    pub root_ca: String,
}

impl Default for ControllerOptions {
    fn default() -> Self {
        Self {
            pod_start_delay: Duration::from_secs(1),
            root_ca: String::new(),
        }
    }
}

/// What the controllers remember between passes (a real controller keeps this in memory too).
pub(crate) struct Controllers {
    options: ControllerOptions,
    /// When each Pod (by uid) was first seen: its containers start `pod_start_delay` later.
    pods_seen: HashMap<String, Instant>,
    /// Per Deployment (by uid): what its rollout looked like, and since when.
    progress: HashMap<String, (String, Instant)>,
    next_ip: u32,
    next_event: u64,
}

fn type_of(plural: &str) -> &'static ResourceType {
    let group = match plural {
        "deployments" | "replicasets" | "statefulsets" | "daemonsets" => "apps",
        "jobs" => "batch",
        "customresourcedefinitions" => "apiextensions.k8s.io",
        "clusterroles" => "rbac.authorization.k8s.io",
        _ => "",
    };
    by_plural(group, "v1", plural).expect("controllers only touch built-in kinds")
}

fn all(store: &Store, plural: &str) -> Vec<Arc<Value>> {
    store.all_of(type_of(plural))
}

/// `Value::pointer` without its allocations: a pass reads a few fields of every object, and
/// unescaping each token (`~1`, `~0`) into a new string was most of a pass's time.
fn at<'a>(obj: &'a Value, pointer: &str) -> Option<&'a Value> {
    if pointer.contains('~') {
        return obj.pointer(pointer);
    }
    pointer
        .split('/')
        .skip(1)
        .try_fold(obj, |value, token| match value {
            Value::Object(map) => map.get(token),
            Value::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        })
}

fn text<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    at(obj, pointer).and_then(Value::as_str).unwrap_or_default()
}

fn number(obj: &Value, pointer: &str) -> i64 {
    at(obj, pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// An integer field, or `default` when it is absent (as the API defaults it).
fn number_or(obj: &Value, pointer: &str, default: i64) -> i64 {
    at(obj, pointer).and_then(Value::as_i64).unwrap_or(default)
}

/// A controller's pod template (empty when there is none).
fn template_of(obj: &Value) -> Value {
    at(obj, "/spec/template")
        .cloned()
        .unwrap_or_else(|| json!({}))
}

fn now_text() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn is_deleting(obj: &Value) -> bool {
    at(obj, "/metadata/deletionTimestamp").is_some()
}

/// The objects of one kind as a pass found them, by controlling owner and by namespace: listed
/// once per pass rather than once per owner, which made a pass quadratic in the number of
/// workloads (250 Deployments took a pass of seconds, holding the store the whole time).
pub(crate) struct Listed {
    by_owner: HashMap<String, Vec<Arc<Value>>>,
    by_namespace: HashMap<String, Vec<Arc<Value>>>,
}

impl Listed {
    fn of(store: &Store, plural: &str) -> Self {
        let mut listed = Self {
            by_owner: HashMap::new(),
            by_namespace: HashMap::new(),
        };
        for object in all(store, plural) {
            let controller = object
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .and_then(|refs| refs.iter().find(|r| r["controller"] == true))
                .map(|r| text(r, "/uid").to_string());
            if let Some(uid) = controller {
                listed.by_owner.entry(uid).or_default().push(object.clone());
            }
            let namespace = text(&object, "/metadata/namespace").to_string();
            listed
                .by_namespace
                .entry(namespace)
                .or_default()
                .push(object);
        }
        listed
    }

    /// The objects `owner` controls, in its namespace.
    fn owned_by(&self, owner: &Value) -> Vec<&Value> {
        let namespace = text(owner, "/metadata/namespace");
        self.by_owner
            .get(text(owner, "/metadata/uid"))
            .into_iter()
            .flatten()
            .filter(|o| text(o, "/metadata/namespace") == namespace)
            .map(|o| &**o)
            .collect()
    }

    fn in_namespace(&self, namespace: &str) -> &[Arc<Value>] {
        self.by_namespace.get(namespace).map_or(&[], Vec::as_slice)
    }
}

fn owner_reference(owner: &Value) -> Value {
    json!({
        "apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true,
    })
}

/// The Node a Pod is scheduled to: spread over the simulated Nodes by the Pod's uid.
fn node_for(uid: &str) -> &'static str {
    let spread = uid
        .bytes()
        .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b.into()));
    crate::store::NODES[spread % crate::store::NODES.len()]
}

/// A short, stable hash of a pod template, spelled as Kubernetes spells them.
fn template_hash(template: &Value) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in template.to_string().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (0..10)
        .map(|i| ALPHABET[((hash >> (i * 6)) % ALPHABET.len() as u64) as usize] as char)
        .collect()
}

/// Keeps the timestamps of conditions whose status and reason did not change, so that a pass
/// that changes nothing writes nothing.
fn settle_conditions(old: Option<&Value>, new: &mut [Value]) {
    let old = old.and_then(Value::as_array);
    for condition in new.iter_mut() {
        let same = old.and_then(|o| {
            o.iter().find(|c| {
                c["type"] == condition["type"]
                    && c["status"] == condition["status"]
                    && c["reason"] == condition["reason"]
            })
        });
        if let (Some(same), Some(c)) = (same, condition.as_object_mut()) {
            for field in ["lastTransitionTime", "lastUpdateTime", "lastProbeTime"] {
                if let Some(v) = same.get(field) {
                    c.insert(field.into(), v.clone());
                }
            }
        }
    }
}

fn condition(kind: &str, status: bool, reason: &str, message: &str) -> Value {
    let now = now_text();
    let mut c = json!({"type": kind, "status": if status { "True" } else { "False" }, "lastTransitionTime": now});
    if !reason.is_empty() {
        c["reason"] = json!(reason);
        c["message"] = json!(message);
    }
    c
}

impl Controllers {
    pub(crate) fn new(options: ControllerOptions) -> Self {
        Self {
            options,
            pods_seen: HashMap::new(),
            progress: HashMap::new(),
            next_ip: 10,
            next_event: 1,
        }
    }

    /// One pass over the cluster. Returns how long until a timed step (a Pod starting, a
    /// progress deadline) is due, if any.
    pub(crate) fn reconcile(&mut self, store: &mut Store, now: Instant) -> Option<Duration> {
        let mut next: Option<Duration> = None;
        let mut due = |d: Option<Duration>| {
            if let Some(d) = d {
                next = Some(next.map_or(d, |n: Duration| n.min(d)));
            }
        };
        let replicasets = Listed::of(store, "replicasets");
        for deployment in all(store, "deployments") {
            due(self.deployment(store, &deployment, now, &replicasets));
        }
        let owned_pods = Listed::of(store, "pods");
        for replicaset in all(store, "replicasets") {
            self.replicaset(store, &replicaset, &owned_pods);
        }
        let pods = all(store, "pods");
        let live: std::collections::HashSet<&str> =
            pods.iter().map(|p| text(p, "/metadata/uid")).collect();
        self.pods_seen.retain(|uid, _| live.contains(uid.as_str()));
        for pod in &pods {
            due(self.pod(store, pod, now));
        }
        // Listed again: the Pods' statuses (and IPs) are this pass's.
        let pods = Listed::of(store, "pods");
        for service in all(store, "services") {
            self.endpoints(store, &service, &pods);
            self.load_balancer(store, &service);
        }
        for crd in all(store, "customresourcedefinitions") {
            self.establish(store, &crd);
        }
        for job in all(store, "jobs") {
            self.job(store, &job, &pods);
        }
        for set in all(store, "daemonsets") {
            self.daemonset(store, &set, &pods);
        }
        for set in all(store, "statefulsets") {
            self.statefulset(store, &set);
        }
        for claim in all(store, "persistentvolumeclaims") {
            self.bind(store, &claim);
        }
        let roles = all(store, "clusterroles");
        for role in &roles {
            self.aggregate(store, role, &roles);
        }
        for namespace in all(store, "namespaces") {
            self.namespace(store, &namespace);
        }
        next
    }

    /// What kube-controller-manager puts in every namespace: the `default` ServiceAccount
    /// (Pods run as it) and the `kube-root-ca.crt` ConfigMap (the cluster's CA, for clients
    /// inside it).
    fn namespace(&self, store: &mut Store, namespace: &Value) {
        if is_deleting(namespace) {
            return;
        }
        let ns = text(namespace, "/metadata/name");
        let made = [
            (
                "serviceaccounts",
                "default",
                "kube-controller-manager",
                json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}}),
            ),
            (
                "configmaps",
                "kube-root-ca.crt",
                "kube-controller-manager",
                json!({
                    "apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {
                        "name": "kube-root-ca.crt",
                        "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."},
                    },
                    "data": {"ca.crt": self.options.root_ca},
                }),
            ),
        ];
        for (plural, name, manager, object) in made {
            let rt = type_of(plural);
            if store.get(rt, Some(ns), name).is_err() {
                let opts = WriteOptions {
                    field_manager: Some(manager.into()),
                    ..Default::default()
                };
                let _ = store.create(rt, Some(ns), object, &opts);
            }
        }
    }

    fn write_status(
        &self,
        store: &mut Store,
        rt: &ResourceType,
        obj: &Value,
        status: Value,
        manager: &str,
    ) {
        if obj.get("status") == Some(&status) {
            return;
        }
        let mut updated = obj.clone();
        updated["status"] = status;
        let opts = WriteOptions {
            field_manager: Some(manager.into()),
            status: true,
            ..Default::default()
        };
        let ns = at(obj, "/metadata/namespace").and_then(Value::as_str);
        if let Err(e) = store.update(rt, ns, text(obj, "/metadata/name"), updated, &opts) {
            tracing::debug!(error = %e, "status write lost a race; the next pass retries");
        }
    }

    fn event(
        &mut self,
        store: &mut Store,
        involved: &Value,
        warning: bool,
        reason: &str,
        message: String,
        component: &str,
    ) {
        let namespace = match text(involved, "/metadata/namespace") {
            "" => "default",
            ns => ns,
        };
        let now = now_text();
        self.next_event += 1;
        let event = json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": format!("{}.{:016x}", text(involved, "/metadata/name"), self.next_event), "namespace": namespace},
            "involvedObject": {
                "apiVersion": involved["apiVersion"], "kind": involved["kind"], "name": involved["metadata"]["name"],
                "namespace": involved["metadata"]["namespace"], "uid": involved["metadata"]["uid"],
            },
            "reason": reason, "message": message, "type": if warning { "Warning" } else { "Normal" },
            "count": 1, "firstTimestamp": now, "lastTimestamp": now,
            "source": {"component": component}, "reportingComponent": component, "reportingInstance": KUBELET,
        });
        let opts = WriteOptions {
            field_manager: Some(component.into()),
            ..Default::default()
        };
        let _ = store.create(type_of("events"), Some(namespace), event, &opts);
    }

    fn deployment(
        &mut self,
        store: &mut Store,
        d: &Value,
        now: Instant,
        replicasets: &Listed,
    ) -> Option<Duration> {
        if is_deleting(d) {
            return None;
        }
        let (ns, name, uid) = (
            text(d, "/metadata/namespace"),
            text(d, "/metadata/name"),
            text(d, "/metadata/uid"),
        );
        let replicas = number_or(d, "/spec/replicas", 1);
        let template = template_of(d);
        let hash = template_hash(&template);
        let manager = WriteOptions {
            field_manager: Some(CONTROLLER_MANAGER.into()),
            ..Default::default()
        };
        let rs_type = type_of("replicasets");

        let owned: Vec<Value> = replicasets.owned_by(d).into_iter().cloned().collect();
        let revision = |rs: &Value| {
            text(
                rs,
                &format!("/metadata/annotations/{}", REVISION.replace('/', "~1")),
            )
            .parse::<i64>()
            .unwrap_or(0)
        };
        let newest_revision = owned.iter().map(revision).max().unwrap_or(0);

        // The ReplicaSet of this template, as the real controller finds it: by the template,
        // its pod-template-hash label aside. A rollback finds the old one again and makes it
        // the newest revision instead of making another.
        let same_template = |rs: &Value| {
            let mut theirs = template_of(rs);
            if let Some(labels) = theirs
                .pointer_mut("/metadata/labels")
                .and_then(Value::as_object_mut)
            {
                labels.remove("pod-template-hash");
            }
            theirs == template
        };
        let found = owned
            .iter()
            .find(|rs| text(rs, "/metadata/name") == format!("{name}-{hash}"))
            .or_else(|| owned.iter().find(|rs| same_template(rs)));
        let new_name = found.map_or_else(
            || format!("{name}-{hash}"),
            |rs| text(rs, "/metadata/name").to_string(),
        );
        if let Some(rs) = found
            && revision(rs) < newest_revision
        {
            let next = json!((newest_revision + 1).to_string());
            let mut again = rs.clone();
            again["metadata"]["annotations"][REVISION] = next.clone();
            if store
                .update(rs_type, Some(ns), &new_name, again, &manager)
                .is_ok()
            {
                let mut annotated = d.clone();
                annotated["metadata"]["annotations"][REVISION] = next;
                let _ = store.update(type_of("deployments"), Some(ns), name, annotated, &manager);
            }
            return Some(Duration::ZERO);
        }

        match found {
            None => {
                let mut labels = template
                    .pointer("/metadata/labels")
                    .cloned()
                    .unwrap_or_else(|| json!({}));
                labels["pod-template-hash"] = json!(hash);
                let mut selector = d
                    .pointer("/spec/selector")
                    .cloned()
                    .unwrap_or_else(|| json!({}));
                selector["matchLabels"]["pod-template-hash"] = json!(hash);
                let mut rs_template = template.clone();
                rs_template["metadata"]["labels"] = labels.clone();
                // Like the real controller: the Deployment's annotations travel to its ReplicaSets.
                let mut annotations: Map<String, Value> = d
                    .pointer("/metadata/annotations")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
                annotations.insert(REVISION.into(), json!((newest_revision + 1).to_string()));
                let rs = json!({
                    "apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "metadata": {"name": new_name, "namespace": ns, "labels": labels, "annotations": annotations,
                                 "ownerReferences": [owner_reference(d)]},
                    "spec": {"replicas": replicas, "selector": selector, "template": rs_template},
                });
                if store.create(rs_type, Some(ns), rs, &manager).is_ok() {
                    let message = format!("Scaled up replica set {new_name} from 0 to {replicas}");
                    self.event(
                        store,
                        d,
                        false,
                        "ScalingReplicaSet",
                        message,
                        "deployment-controller",
                    );
                    let mut annotated = d.clone();
                    annotated["metadata"]["annotations"][REVISION] =
                        json!((newest_revision + 1).to_string());
                    let _ =
                        store.update(type_of("deployments"), Some(ns), name, annotated, &manager);
                }
            }
            Some(rs) if number(rs, "/spec/replicas") != replicas => {
                let from = number(rs, "/spec/replicas");
                let mut scaled = rs.clone();
                scaled["spec"]["replicas"] = json!(replicas);
                if store
                    .update(rs_type, Some(ns), &new_name, scaled, &manager)
                    .is_ok()
                {
                    let way = if replicas > from { "up" } else { "down" };
                    let message =
                        format!("Scaled {way} replica set {new_name} from {from} to {replicas}");
                    self.event(
                        store,
                        d,
                        false,
                        "ScalingReplicaSet",
                        message,
                        "deployment-controller",
                    );
                }
            }
            Some(_) => {}
        }

        let new_rs = owned
            .iter()
            .find(|rs| text(rs, "/metadata/name") == new_name);
        let new_available = new_rs.map_or(0, |rs| number(rs, "/status/availableReplicas"));
        if new_available >= replicas {
            for old in owned.iter().filter(|rs| {
                text(rs, "/metadata/name") != new_name && number(rs, "/spec/replicas") > 0
            }) {
                let from = number(old, "/spec/replicas");
                let mut scaled = old.clone();
                scaled["spec"]["replicas"] = json!(0);
                if store
                    .update(
                        rs_type,
                        Some(ns),
                        text(old, "/metadata/name"),
                        scaled,
                        &manager,
                    )
                    .is_ok()
                {
                    let message = format!(
                        "Scaled down replica set {} from {from} to 0",
                        text(old, "/metadata/name")
                    );
                    self.event(
                        store,
                        d,
                        false,
                        "ScalingReplicaSet",
                        message,
                        "deployment-controller",
                    );
                }
            }
        }

        let sum = |pointer: &str| owned.iter().map(|rs| number(rs, pointer)).sum::<i64>();
        let (total, ready, available) = (
            sum("/status/replicas"),
            sum("/status/readyReplicas"),
            sum("/status/availableReplicas"),
        );
        let updated = new_rs.map_or(0, |rs| number(rs, "/status/replicas"));
        let complete = updated == replicas && available == replicas && total == replicas;

        // Progress: any change in the rollout's shape resets the deadline clock.
        let shape = format!("{hash}/{updated}/{available}/{total}");
        let since = match self.progress.get(uid) {
            Some((seen, since)) if *seen == shape => *since,
            _ => {
                self.progress.insert(uid.to_string(), (shape, now));
                now
            }
        };
        let deadline =
            Duration::from_secs(number(d, "/spec/progressDeadlineSeconds").max(0) as u64);
        let stalled = !complete && now.duration_since(since) >= deadline;
        let progressing = if complete {
            condition(
                "Progressing",
                true,
                "NewReplicaSetAvailable",
                &format!("ReplicaSet \"{new_name}\" has successfully progressed."),
            )
        } else if stalled {
            condition(
                "Progressing",
                false,
                "ProgressDeadlineExceeded",
                &format!("ReplicaSet \"{new_name}\" has timed out progressing."),
            )
        } else {
            condition(
                "Progressing",
                true,
                "ReplicaSetUpdated",
                &format!("ReplicaSet \"{new_name}\" is progressing."),
            )
        };
        let max_unavailable = replicas / 4; // the default 25%, rounded down
        let available_condition = if available >= replicas - max_unavailable {
            condition(
                "Available",
                true,
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
            )
        } else {
            condition(
                "Available",
                false,
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
            )
        };
        let mut conditions = vec![available_condition, progressing];
        for c in conditions.iter_mut() {
            c["lastUpdateTime"] = c["lastTransitionTime"].clone();
        }
        settle_conditions(at(d, "/status/conditions"), &mut conditions);
        let mut status = json!({
            "observedGeneration": number(d, "/metadata/generation"),
            "replicas": total, "updatedReplicas": updated, "readyReplicas": ready, "availableReplicas": available,
            "conditions": conditions,
        });
        if total > available {
            status["unavailableReplicas"] = json!(total - available);
        }
        // Zero counts are left out, as the real controller's status omits them.
        if let Some(s) = status.as_object_mut() {
            s.retain(|k, v| k == "observedGeneration" || v != &json!(0));
        }
        self.write_status(store, type_of("deployments"), d, status, CONTROLLER_MANAGER);
        (!complete && !stalled).then(|| deadline.saturating_sub(now.duration_since(since)))
    }

    fn replicaset(&mut self, store: &mut Store, rs: &Value, pods: &Listed) {
        if is_deleting(rs) {
            return;
        }
        let (ns, name) = (text(rs, "/metadata/namespace"), text(rs, "/metadata/name"));
        let want = number_or(rs, "/spec/replicas", 1);
        let mut owned: Vec<Value> = pods
            .owned_by(rs)
            .into_iter()
            .filter(|p| !is_deleting(p))
            .cloned()
            .collect();
        let manager = WriteOptions {
            field_manager: Some(CONTROLLER_MANAGER.into()),
            ..Default::default()
        };
        let pod_type = type_of("pods");
        while (owned.len() as i64) < want {
            let template = template_of(rs);
            let name = PodName::Generated(format!("{name}-"));
            match self.create_pod(
                store,
                rs,
                &template,
                name,
                json!({}),
                "replicaset-controller",
            ) {
                Some(created) => owned.push(created),
                None => break,
            }
        }
        if (owned.len() as i64) > want {
            // Remove the pods that are not ready first, then the newest.
            owned.sort_by_key(|p| {
                (
                    pod_ready(p),
                    std::cmp::Reverse(text(p, "/metadata/creationTimestamp").to_string()),
                )
            });
            let extra = owned.len() - want.max(0) as usize;
            for pod in owned.drain(..extra) {
                let pod_name = text(&pod, "/metadata/name").to_string();
                if store
                    .delete(pod_type, Some(ns), &pod_name, &manager)
                    .is_ok()
                {
                    self.event(
                        store,
                        rs,
                        false,
                        "SuccessfulDelete",
                        format!("Deleted pod: {pod_name}"),
                        "replicaset-controller",
                    );
                }
            }
        }
        let ready = owned.iter().filter(|p| pod_ready(p)).count() as i64;
        let mut status = json!({
            "replicas": owned.len(), "fullyLabeledReplicas": owned.len(),
            "readyReplicas": ready, "availableReplicas": ready,
            "observedGeneration": number(rs, "/metadata/generation"),
        });
        if let Some(s) = status.as_object_mut() {
            s.retain(|k, v| k == "replicas" || k == "observedGeneration" || v != &json!(0));
        }
        self.write_status(
            store,
            type_of("replicasets"),
            rs,
            status,
            CONTROLLER_MANAGER,
        );
    }

    fn pod(&mut self, store: &mut Store, pod: &Value, now: Instant) -> Option<Duration> {
        if is_deleting(pod) {
            return None;
        }
        let (ns, name, uid) = (
            text(pod, "/metadata/namespace"),
            text(pod, "/metadata/name"),
            text(pod, "/metadata/uid"),
        );
        let first_seen = *self.pods_seen.entry(uid.to_string()).or_insert(now);
        let pod_type = type_of("pods");

        if at(pod, "/spec/nodeName").is_none() {
            let node = node_for(uid);
            let mut bound = pod.clone();
            bound["spec"]["nodeName"] = json!(node);
            let opts = WriteOptions {
                field_manager: Some("kube-scheduler".into()),
                ..Default::default()
            };
            if store.update(pod_type, Some(ns), name, bound, &opts).is_ok() {
                self.event(
                    store,
                    pod,
                    false,
                    "Scheduled",
                    format!("Successfully assigned {ns}/{name} to {node}"),
                    "default-scheduler",
                );
            }
            return Some(Duration::ZERO);
        }

        let delay = self.options.pod_start_delay;
        let elapsed = now.duration_since(first_seen);
        let started = elapsed >= delay;
        let restart_policy = text(pod, "/spec/restartPolicy");
        let runs_once = restart_policy == "Never" || restart_policy == "OnFailure";
        let old_statuses = pod
            .pointer("/status/containerStatuses")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut next = (!started).then(|| delay - elapsed);

        let mut statuses = Vec::new();
        let (mut all_ready, mut waiting_to_pull, mut failed, mut succeeded) =
            (true, false, false, true);
        for container in pod
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let cname = text(container, "/name");
            let image = text(container, "/image");
            let tag = image
                .rsplit('/')
                .next()
                .unwrap_or(image)
                .split_once(':')
                .map_or("", |(_, t)| t);
            let old = old_statuses.iter().find(|s| s["name"] == cname);
            let kept = |field: &str| old.and_then(|o| o.pointer(field)).cloned();
            let mut status = json!({"name": cname, "image": image, "imageID": "", "restartCount": 0, "ready": false, "started": false});
            if !started {
                status["state"] = json!({"waiting": {"reason": "ContainerCreating"}});
                all_ready = false;
                succeeded = false;
            } else if image.contains("missing")
                || image.contains("doesnotexist")
                || tag == "notfound"
            {
                let backing_off = elapsed >= delay * 2;
                let reason = if backing_off {
                    "ImagePullBackOff"
                } else {
                    "ErrImagePull"
                };
                let message = if backing_off {
                    format!("Back-off pulling image \"{image}\"")
                } else {
                    format!("failed to pull and unpack image \"{image}\": not found")
                };
                status["state"] = json!({"waiting": {"reason": reason, "message": message}});
                if !backing_off {
                    next = Some(next.map_or(delay * 2 - elapsed, |n| n.min(delay * 2 - elapsed)));
                }
                if old.and_then(|o| at(o, "/state/waiting/reason")) != Some(&json!(reason)) {
                    let warning_reason = if backing_off { "BackOff" } else { "Failed" };
                    self.event(store, pod, true, warning_reason, message.clone(), KUBELET);
                }
                all_ready = false;
                waiting_to_pull = true;
                succeeded = false;
            } else if tag.contains("crashloop") {
                // Restarts at a steady pace while the pod lives, as a crashing container does.
                let period = delay.max(Duration::from_millis(500)) * 2;
                let restarts = 1 + (elapsed - delay).as_millis() / period.as_millis().max(1);
                status["restartCount"] = json!(restarts as i64);
                status["state"] = json!({"waiting": {"reason": "CrashLoopBackOff",
                    "message": format!("back-off 10s restarting failed container={cname} pod={name}")}});
                status["lastState"] = json!({"terminated": {"exitCode": 1, "reason": "Error",
                    "startedAt": kept("/lastState/terminated/startedAt").unwrap_or_else(|| json!(now_text())),
                    "finishedAt": kept("/lastState/terminated/finishedAt").unwrap_or_else(|| json!(now_text()))}});
                if old.and_then(|o| at(o, "/state/waiting/reason"))
                    != Some(&json!("CrashLoopBackOff"))
                {
                    self.event(
                        store,
                        pod,
                        true,
                        "BackOff",
                        format!("Back-off restarting failed container {cname} in pod {name}"),
                        KUBELET,
                    );
                }
                let until_next = period
                    - Duration::from_millis(
                        ((elapsed - delay).as_millis() % period.as_millis().max(1)) as u64,
                    );
                next = Some(next.map_or(until_next, |n| n.min(until_next)));
                all_ready = false;
                succeeded = false;
            } else if runs_once {
                let code = if tag.contains("fail") { 1 } else { 0 };
                status["state"] = json!({"terminated": {"exitCode": code, "reason": if code == 0 { "Completed" } else { "Error" },
                    "startedAt": kept("/state/terminated/startedAt").unwrap_or_else(|| json!(now_text())),
                    "finishedAt": kept("/state/terminated/finishedAt").unwrap_or_else(|| json!(now_text()))}});
                failed |= code != 0;
                all_ready = false;
            } else {
                let started_at =
                    kept("/state/running/startedAt").unwrap_or_else(|| json!(now_text()));
                status["state"] = json!({"running": {"startedAt": started_at}});
                status["ready"] = json!(true);
                status["started"] = json!(true);
                if old.and_then(|o| at(o, "/state/running")).is_none() {
                    self.event(
                        store,
                        pod,
                        false,
                        "Started",
                        format!("Started container {cname}"),
                        KUBELET,
                    );
                }
                succeeded = false;
            }
            statuses.push(status);
        }

        let phase = if !started || waiting_to_pull {
            "Pending"
        } else if runs_once && failed {
            "Failed"
        } else if runs_once && succeeded {
            "Succeeded"
        } else {
            "Running"
        };
        let mut conditions = vec![
            condition("PodScheduled", true, "", ""),
            condition("Initialized", true, "", ""),
            condition(
                "ContainersReady",
                all_ready,
                if all_ready { "" } else { "ContainersNotReady" },
                "containers with unready status",
            ),
            condition(
                "Ready",
                all_ready,
                if all_ready { "" } else { "ContainersNotReady" },
                "containers with unready status",
            ),
        ];
        settle_conditions(at(pod, "/status/conditions"), &mut conditions);
        let pod_ip = match at(pod, "/status/podIP").and_then(Value::as_str) {
            Some(ip) => ip.to_string(),
            None => {
                self.next_ip += 1;
                format!("10.244.{}.{}", self.next_ip / 250, self.next_ip % 250)
            }
        };
        let start_time = pod
            .pointer("/status/startTime")
            .cloned()
            .unwrap_or_else(|| json!(now_text()));
        let status = json!({
            "phase": phase, "conditions": conditions, "hostIP": "172.18.0.2", "podIP": pod_ip,
            "podIPs": [{"ip": pod_ip}], "startTime": start_time, "containerStatuses": statuses, "qosClass": "BestEffort",
        });
        self.write_status(store, pod_type, pod, status, KUBELET);
        next
    }

    fn endpoints(&mut self, store: &mut Store, service: &Value, pods: &Listed) {
        let Some(selector) = service
            .pointer("/spec/selector")
            .and_then(Value::as_object)
            .filter(|s| !s.is_empty())
        else {
            return; // Services without a selector have hand-made Endpoints.
        };
        let (ns, name) = (
            text(service, "/metadata/namespace"),
            text(service, "/metadata/name"),
        );
        // Read in place: every Service looks at every Pod of its namespace, each pass.
        let matching: Vec<&Value> = pods
            .in_namespace(ns)
            .iter()
            .filter(|p| !is_deleting(p) && at(p, "/status/podIP").is_some())
            .filter(|p| {
                let labels = at(p, "/metadata/labels");
                selector
                    .iter()
                    .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
            })
            .map(|p| &**p)
            .collect();
        let address = |p: &Value| {
            json!({"ip": p["status"]["podIP"], "nodeName": p["spec"]["nodeName"],
                   "targetRef": {"kind": "Pod", "name": p["metadata"]["name"], "namespace": ns, "uid": p["metadata"]["uid"]}})
        };
        let ready: Vec<Value> = matching
            .iter()
            .filter(|p| pod_ready(p))
            .map(|p| address(p))
            .collect();
        let not_ready: Vec<Value> = matching
            .iter()
            .filter(|p| !pod_ready(p))
            .map(|p| address(p))
            .collect();
        let ports: Vec<Value> = service
            .pointer("/spec/ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|port| {
                let target = port.get("targetPort").or_else(|| port.get("port")).cloned().unwrap_or(Value::Null);
                let number = match &target {
                    Value::String(named) => matching
                        .iter()
                        .flat_map(|p| at(p, "/spec/containers").and_then(Value::as_array).cloned().unwrap_or_default())
                        .flat_map(|c| c.get("ports").and_then(Value::as_array).cloned().unwrap_or_default())
                        .find(|cp| cp["name"] == named.as_str())
                        .map_or(Value::Null, |cp| cp["containerPort"].clone()),
                    other => other.clone(),
                };
                let mut p = json!({"port": number, "protocol": port.get("protocol").cloned().unwrap_or(json!("TCP"))});
                if let Some(n) = port.get("name") {
                    p["name"] = n.clone();
                }
                p
            })
            .collect();
        let mut subset = Map::new();
        if !ready.is_empty() {
            subset.insert("addresses".into(), json!(ready));
        }
        if !not_ready.is_empty() {
            subset.insert("notReadyAddresses".into(), json!(not_ready));
        }
        let subsets = if subset.is_empty() {
            json!([])
        } else {
            subset.insert("ports".into(), json!(ports));
            json!([subset])
        };
        let ep_type = type_of("endpoints");
        let manager = WriteOptions {
            field_manager: Some(CONTROLLER_MANAGER.into()),
            ..Default::default()
        };
        match store.get(ep_type, Some(ns), name) {
            Ok(existing) if existing.get("subsets").unwrap_or(&json!([])) == &subsets => {}
            Ok(existing) => {
                let mut updated = existing.clone();
                updated["subsets"] = subsets;
                let _ = store.update(ep_type, Some(ns), name, updated, &manager);
            }
            Err(_) => {
                let mut ep = json!({"apiVersion": "v1", "kind": "Endpoints",
                                    "metadata": {"name": name, "namespace": ns}, "subsets": subsets});
                if let Some(labels) = at(service, "/metadata/labels") {
                    ep["metadata"]["labels"] = labels.clone();
                }
                let _ = store.create(ep_type, Some(ns), ep, &manager);
            }
        }
    }
}

impl Controllers {
    /// The apiextensions controller: a CRD's names are accepted and it is established.
    fn establish(&mut self, store: &mut Store, crd: &Value) {
        if is_deleting(crd) {
            return;
        }
        let mut conditions = vec![
            condition("NamesAccepted", true, "NoConflicts", "no conflicts found"),
            condition(
                "Established",
                true,
                "InitialNamesAccepted",
                "the initial names have been accepted",
            ),
        ];
        settle_conditions(at(crd, "/status/conditions"), &mut conditions);
        let stored: Vec<Value> = crd
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|v| v.get("storage") == Some(&json!(true)))
            .map(|v| v["name"].clone())
            .collect();
        let status = json!({
            "conditions": conditions,
            "acceptedNames": at(crd, "/spec/names").cloned().unwrap_or_else(|| json!({})),
            "storedVersions": stored,
        });
        self.write_status(
            store,
            type_of("customresourcedefinitions"),
            crd,
            status,
            "kube-apiserver",
        );
    }
}

/// How a controller names the Pods it makes.
enum PodName {
    /// `generateName`: the server adds a random suffix (ReplicaSets, Jobs, DaemonSets).
    Generated(String),
    /// A fixed name (StatefulSets: `<set>-<ordinal>`).
    Fixed(String),
}

impl Controllers {
    /// Creates a Pod from `template`, owned by `owner`, with `labels` added; records the
    /// SuccessfulCreate or FailedCreate Event a real controller records.
    fn create_pod(
        &mut self,
        store: &mut Store,
        owner: &Value,
        template: &Value,
        name: PodName,
        labels: Value,
        component: &str,
    ) -> Option<Value> {
        let ns = text(owner, "/metadata/namespace").to_string();
        let mut metadata = template
            .get("metadata")
            .cloned()
            .unwrap_or_else(|| json!({}));
        match name {
            PodName::Generated(prefix) => metadata["generateName"] = json!(prefix),
            PodName::Fixed(name) => metadata["name"] = json!(name),
        }
        metadata["namespace"] = json!(ns);
        metadata["ownerReferences"] = json!([owner_reference(owner)]);
        for (k, v) in labels.as_object().into_iter().flatten() {
            metadata["labels"][k] = v.clone();
        }
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template["spec"]});
        let manager = WriteOptions {
            field_manager: Some(CONTROLLER_MANAGER.into()),
            ..Default::default()
        };
        match store.create(type_of("pods"), Some(&ns), pod, &manager) {
            Ok(created) => {
                let message = format!("Created pod: {}", text(&created, "/metadata/name"));
                self.event(store, owner, false, "SuccessfulCreate", message, component);
                Some(created)
            }
            Err(e) => {
                self.event(
                    store,
                    owner,
                    true,
                    "FailedCreate",
                    format!("Error creating: {}", e.message),
                    component,
                );
                None
            }
        }
    }
}

fn pod_ready(pod: &Value) -> bool {
    at(pod, "/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_hashes_are_stable_and_differ_by_template() {
        let a = template_hash(&json!({"spec": {"containers": [{"image": "nginx:1.25"}]}}));
        let b = template_hash(&json!({"spec": {"containers": [{"image": "nginx:1.27"}]}}));
        assert_eq!(a.len(), 10);
        assert_eq!(
            a,
            template_hash(&json!({"spec": {"containers": [{"image": "nginx:1.25"}]}}))
        );
        assert_ne!(a, b);
    }

    #[test]
    fn unchanged_conditions_keep_their_times() {
        let old = json!([{"type": "Ready", "status": "True", "lastTransitionTime": "2020-01-01T00:00:00Z"}]);
        let mut new = vec![condition("Ready", true, "", "")];
        settle_conditions(Some(&old), &mut new);
        assert_eq!(new[0]["lastTransitionTime"], "2020-01-01T00:00:00Z");
        let mut flipped = vec![condition("Ready", false, "ContainersNotReady", "x")];
        settle_conditions(Some(&old), &mut flipped);
        assert_ne!(flipped[0]["lastTransitionTime"], "2020-01-01T00:00:00Z");
    }
}
