//! The rest of the controller manager: Jobs, DaemonSets (one node), StatefulSets with their
//! claims, PersistentVolumeClaim binding, and LoadBalancer addresses.

use super::*;

const NODE_COUNT: i64 = 1;

impl Controllers {
    /// The job controller: Pods until enough succeed, or too many fail.
    pub(super) fn job(&mut self, store: &mut Store, job: &Value, pods: &Listed) {
        if is_deleting(job) || at(job, "/spec/suspend") == Some(&json!(true)) {
            return;
        }
        let finished = |kind: &str| {
            at(job, "/status/conditions")
                .and_then(Value::as_array)
                .is_some_and(|c| c.iter().any(|c| c["type"] == kind && c["status"] == "True"))
        };
        if finished("Complete") || finished("Failed") {
            return;
        }
        let completions = number_or(job, "/spec/completions", 1);
        let parallelism = number_or(job, "/spec/parallelism", 1);
        let backoff_limit = number_or(job, "/spec/backoffLimit", 6);
        let owned: Vec<&Value> = pods.owned_by(job);
        let phase = |p: &Value| text(p, "/status/phase").to_string();
        let succeeded = owned.iter().filter(|p| phase(p) == "Succeeded").count() as i64;
        let failed = owned.iter().filter(|p| phase(p) == "Failed").count() as i64;
        let active = owned.len() as i64 - succeeded - failed;

        let mut conditions = Vec::new();
        let mut status = json!({"startTime": at(job, "/status/startTime").cloned().unwrap_or_else(|| json!(now_text()))});
        if succeeded >= completions {
            conditions.push(condition(
                "SuccessCriteriaMet",
                true,
                "CompletionsReached",
                "Reached expected number of succeeded pods",
            ));
            conditions.push(condition(
                "Complete",
                true,
                "CompletionsReached",
                "Reached expected number of succeeded pods",
            ));
            status["completionTime"] = json!(now_text());
            self.event(
                store,
                job,
                false,
                "Completed",
                "Job completed".into(),
                "job-controller",
            );
        } else if failed > backoff_limit {
            let message = "Job has reached the specified backoff limit";
            conditions.push(condition(
                "FailureTarget",
                true,
                "BackoffLimitExceeded",
                message,
            ));
            conditions.push(condition("Failed", true, "BackoffLimitExceeded", message));
            self.event(
                store,
                job,
                true,
                "BackoffLimitExceeded",
                message.into(),
                "job-controller",
            );
        } else {
            let wanted = parallelism.min(completions - succeeded);
            let template = template_of(job);
            let job_name = text(job, "/metadata/name").to_string();
            let labels = json!({
                "batch.kubernetes.io/job-name": job_name, "job-name": job_name,
                "batch.kubernetes.io/controller-uid": text(job, "/metadata/uid"),
                "controller-uid": text(job, "/metadata/uid"),
            });
            for _ in active..wanted {
                let name = PodName::Generated(format!("{job_name}-"));
                if self
                    .create_pod(
                        store,
                        job,
                        &template,
                        name,
                        labels.clone(),
                        "job-controller",
                    )
                    .is_none()
                {
                    break;
                }
            }
        }
        settle_conditions(at(job, "/status/conditions"), &mut conditions);
        for (field, count) in [
            ("active", active),
            ("succeeded", succeeded),
            ("failed", failed),
        ] {
            if count > 0 {
                status[field] = json!(count);
            }
        }
        let ready = owned.iter().filter(|p| super::pod_ready(p)).count();
        status["ready"] = json!(ready);
        status["terminating"] = json!(0);
        status["uncountedTerminatedPods"] = json!({});
        if !conditions.is_empty() {
            status["conditions"] = json!(conditions);
        }
        if let Some(completed) = at(job, "/status/completionTime") {
            status["completionTime"] = completed.clone();
        }
        self.write_status(store, type_of("jobs"), job, status, CONTROLLER_MANAGER);
    }

    /// The daemon set controller, on a cluster of one node: one Pod, replaced when the
    /// template changes.
    pub(super) fn daemonset(&mut self, store: &mut Store, set: &Value, pods: &Listed) {
        if is_deleting(set) {
            return;
        }
        let template = template_of(set);
        let hash = template_hash(&template);
        let owned: Vec<Value> = pods
            .owned_by(set)
            .into_iter()
            .filter(|p| !is_deleting(p))
            .cloned()
            .collect();
        let current = |p: &Value| text(p, "/metadata/labels/controller-revision-hash") == hash;
        let manager = WriteOptions {
            field_manager: Some(CONTROLLER_MANAGER.into()),
            ..Default::default()
        };
        for stale in owned.iter().filter(|p| !current(p)) {
            let _ = store.delete(
                type_of("pods"),
                Some(text(stale, "/metadata/namespace")),
                text(stale, "/metadata/name"),
                &manager,
            );
        }
        let up_to_date: Vec<&Value> = owned.iter().filter(|p| current(p)).collect();
        if up_to_date.is_empty() {
            let name = PodName::Generated(format!("{}-", text(set, "/metadata/name")));
            let labels = json!({"controller-revision-hash": hash, "pod-template-generation": number(set, "/metadata/generation").to_string()});
            self.create_pod(store, set, &template, name, labels, "daemonset-controller");
        }
        let ready = up_to_date.iter().filter(|p| super::pod_ready(p)).count() as i64;
        let status = json!({
            "currentNumberScheduled": up_to_date.len().min(1), "desiredNumberScheduled": NODE_COUNT,
            "numberMisscheduled": 0, "numberReady": ready, "numberAvailable": ready,
            "updatedNumberScheduled": up_to_date.len().min(1), "observedGeneration": number(set, "/metadata/generation"),
        });
        self.write_status(
            store,
            type_of("daemonsets"),
            set,
            status,
            CONTROLLER_MANAGER,
        );
    }

    /// The stateful set controller: Pods `<set>-0..n` made in order, each once the one before
    /// is ready; claims from the volume claim templates; updates roll from the highest ordinal.
    pub(super) fn statefulset(&mut self, store: &mut Store, set: &Value) {
        if is_deleting(set) {
            return;
        }
        let (ns, name) = (
            text(set, "/metadata/namespace").to_string(),
            text(set, "/metadata/name").to_string(),
        );
        let replicas = number_or(set, "/spec/replicas", 1);
        let template = template_of(set);
        let revision = format!("{name}-{}", template_hash(&template));
        let manager = WriteOptions {
            field_manager: Some(CONTROLLER_MANAGER.into()),
            ..Default::default()
        };
        let pod_type = type_of("pods");
        let pod_at = |store: &Store, i: i64| {
            store
                .get(pod_type, Some(&ns), &format!("{name}-{i}"))
                .ok()
                .filter(|p| !is_deleting(p))
        };

        // Scale down from the top, then create in order, each after the previous is ready.
        let mut i = replicas;
        while let Some(extra) = pod_at(store, i) {
            let _ = store.delete(
                pod_type,
                Some(&ns),
                text(&extra, "/metadata/name"),
                &manager,
            );
            i += 1;
        }
        for ordinal in 0..replicas {
            match pod_at(store, ordinal) {
                Some(pod) if super::pod_ready(&pod) => continue,
                Some(_) => break,
                None => {
                    self.claims_for(store, set, ordinal);
                    let mut spec_template = template.clone();
                    for claim in set
                        .pointer("/spec/volumeClaimTemplates")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        let claim_name =
                            format!("{}-{name}-{ordinal}", text(claim, "/metadata/name"));
                        let volume = json!({"name": claim["metadata"]["name"], "persistentVolumeClaim": {"claimName": claim_name}});
                        match spec_template
                            .pointer_mut("/spec/volumes")
                            .and_then(Value::as_array_mut)
                        {
                            Some(volumes) => volumes.push(volume),
                            None => spec_template["spec"]["volumes"] = json!([volume]),
                        }
                    }
                    let labels = json!({"controller-revision-hash": revision, "statefulset.kubernetes.io/pod-name": format!("{name}-{ordinal}"),
                                        "apps.kubernetes.io/pod-index": ordinal.to_string()});
                    self.create_pod(
                        store,
                        set,
                        &spec_template,
                        PodName::Fixed(format!("{name}-{ordinal}")),
                        labels,
                        "statefulset-controller",
                    );
                    break;
                }
            }
        }
        // A rolling update replaces the highest outdated Pod once every Pod is ready.
        let pods: Vec<Value> = (0..replicas).filter_map(|o| pod_at(store, o)).collect();
        let outdated = |p: &Value| text(p, "/metadata/labels/controller-revision-hash") != revision;
        let all_ready = pods.len() as i64 == replicas && pods.iter().all(super::pod_ready);
        if all_ready && let Some(oldest) = pods.iter().rev().find(|p| outdated(p)) {
            let _ = store.delete(
                pod_type,
                Some(&ns),
                text(oldest, "/metadata/name"),
                &manager,
            );
        }
        let ready = pods.iter().filter(|p| super::pod_ready(p)).count() as i64;
        let updated = pods.iter().filter(|p| !outdated(p)).count() as i64;
        let current_revision = if updated == replicas {
            revision.clone()
        } else {
            at(set, "/status/currentRevision")
                .and_then(Value::as_str)
                .unwrap_or(&revision)
                .to_string()
        };
        let status = json!({
            "observedGeneration": number(set, "/metadata/generation"), "replicas": pods.len(),
            "readyReplicas": ready, "availableReplicas": ready, "currentReplicas": if updated == replicas { updated } else { pods.len() as i64 - updated },
            "updatedReplicas": updated, "currentRevision": current_revision, "updateRevision": revision, "collisionCount": 0,
        });
        self.write_status(
            store,
            type_of("statefulsets"),
            set,
            status,
            CONTROLLER_MANAGER,
        );
    }

    /// The claims `<template>-<set>-<ordinal>` a StatefulSet Pod mounts, made before the Pod.
    fn claims_for(&mut self, store: &mut Store, set: &Value, ordinal: i64) {
        let (ns, name) = (
            text(set, "/metadata/namespace"),
            text(set, "/metadata/name"),
        );
        let claim_type = type_of("persistentvolumeclaims");
        for template in set
            .pointer("/spec/volumeClaimTemplates")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            let claim_name = format!("{}-{name}-{ordinal}", text(&template, "/metadata/name"));
            if store.get(claim_type, Some(ns), &claim_name).is_ok() {
                continue;
            }
            let mut labels = set
                .pointer("/spec/selector/matchLabels")
                .cloned()
                .unwrap_or_else(|| json!({}));
            labels["app.kubernetes.io/instance"] = json!(name);
            let claim = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                               "metadata": {"name": claim_name, "namespace": ns, "labels": labels},
                               "spec": template["spec"]});
            let manager = WriteOptions {
                field_manager: Some(CONTROLLER_MANAGER.into()),
                ..Default::default()
            };
            if store.create(claim_type, Some(ns), claim, &manager).is_ok() {
                let message = format!(
                    "create Claim {claim_name} Pod {name}-{ordinal} in StatefulSet {name} success"
                );
                self.event(
                    store,
                    set,
                    false,
                    "SuccessfulCreate",
                    message,
                    "statefulset-controller",
                );
            }
        }
    }

    /// The volume binder: every claim binds at once to a volume of the size it asked for.
    pub(super) fn bind(&mut self, store: &mut Store, claim: &Value) {
        if is_deleting(claim) || text(claim, "/status/phase") == "Bound" {
            return;
        }
        let (ns, name) = (
            text(claim, "/metadata/namespace"),
            text(claim, "/metadata/name"),
        );
        let claim_type = type_of("persistentvolumeclaims");
        let volume = format!("pvc-{}", text(claim, "/metadata/uid"));
        if at(claim, "/spec/volumeName").is_none() {
            let mut bound = claim.clone();
            bound["spec"]["volumeName"] = json!(volume);
            let manager = WriteOptions {
                field_manager: Some("persistentvolume-controller".into()),
                ..Default::default()
            };
            let _ = store.update(claim_type, Some(ns), name, bound, &manager);
            return; // The status follows in the next pass, on the updated claim.
        }
        let status = json!({
            "phase": "Bound",
            "accessModes": at(claim, "/spec/accessModes").cloned().unwrap_or_else(|| json!(["ReadWriteOnce"])),
            "capacity": {"storage": at(claim, "/spec/resources/requests/storage").cloned().unwrap_or_else(|| json!("1Gi"))},
        });
        self.write_status(
            store,
            claim_type,
            claim,
            status,
            "persistentvolume-controller",
        );
    }

    /// The cloud controller: a LoadBalancer Service gets an ingress address.
    pub(super) fn load_balancer(&mut self, store: &mut Store, service: &Value) {
        if text(service, "/spec/type") != "LoadBalancer"
            || at(service, "/status/loadBalancer/ingress").is_some()
        {
            return;
        }
        self.next_ip += 1;
        let ip = format!("172.18.255.{}", 1 + self.next_ip % 250);
        let status = json!({"loadBalancer": {"ingress": [{"ip": ip, "ipMode": "VIP"}]}});
        self.write_status(
            store,
            type_of("services"),
            service,
            status,
            "service-controller",
        );
        self.event(
            store,
            service,
            false,
            "EnsuredLoadBalancer",
            "Ensured load balancer".into(),
            "service-controller",
        );
    }
}
