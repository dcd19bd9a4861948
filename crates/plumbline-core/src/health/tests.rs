//! One row per rule and branch of DESIGN.md's health rules.

use super::*;

/// (what, object as YAML, expected status or None for "no rule", a part of the message)
const CASES: &[(&str, &str, Option<HealthStatus>, &str)] = &[
    // Deployment
    (
        "deployment paused",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, generation: 2}\nspec: {paused: true}\nstatus: {observedGeneration: 1}",
        Some(Suspended),
        "paused",
    ),
    (
        "deployment generation not observed",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, generation: 2}\nspec: {replicas: 1}\nstatus: {observedGeneration: 1}",
        Some(Progressing),
        "observed deployment generation",
    ),
    (
        "deployment past its deadline",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, generation: 1}\nspec: {replicas: 2}\nstatus: {observedGeneration: 1, conditions: [{type: Progressing, status: 'False', reason: ProgressDeadlineExceeded}]}",
        Some(Degraded),
        "exceeded its progress deadline",
    ),
    (
        "deployment updating",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, generation: 1}\nspec: {replicas: 3}\nstatus: {observedGeneration: 1, replicas: 3, updatedReplicas: 1, availableReplicas: 3}",
        Some(Progressing),
        "1 out of 3 new replicas",
    ),
    (
        "deployment old replicas left",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, generation: 1}\nspec: {replicas: 2}\nstatus: {observedGeneration: 1, replicas: 3, updatedReplicas: 2, availableReplicas: 2}",
        Some(Progressing),
        "1 old replicas are pending termination",
    ),
    (
        "deployment not yet available",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, generation: 1}\nspec: {replicas: 2}\nstatus: {observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 1}",
        Some(Progressing),
        "1 of 2 updated replicas are available",
    ),
    (
        "deployment healthy",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, generation: 1}\nspec: {replicas: 2}\nstatus: {observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2}",
        Some(Healthy),
        "",
    ),
    // StatefulSet
    (
        "statefulset not observed",
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, generation: 1}\nspec: {replicas: 1}\nstatus: {}",
        Some(Progressing),
        "spec update to be observed",
    ),
    (
        "statefulset pods not ready",
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, generation: 1}\nspec: {replicas: 3}\nstatus: {observedGeneration: 1, readyReplicas: 1}",
        Some(Progressing),
        "Waiting for 2 pods to be ready",
    ),
    (
        "statefulset partitioned, not done",
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, generation: 1}\nspec: {replicas: 3, updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 1}}}\nstatus: {observedGeneration: 1, readyReplicas: 3, updatedReplicas: 1}",
        Some(Progressing),
        "1 out of 2 new pods",
    ),
    (
        "statefulset partitioned, done",
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, generation: 1}\nspec: {replicas: 3, updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 1}}}\nstatus: {observedGeneration: 1, readyReplicas: 3, updatedReplicas: 2}",
        Some(Healthy),
        "partitioned roll out complete",
    ),
    (
        "statefulset on delete",
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, generation: 1}\nspec: {replicas: 1, updateStrategy: {type: OnDelete}}\nstatus: {observedGeneration: 1, readyReplicas: 1, updateRevision: b, currentRevision: a}",
        Some(Healthy),
        "1 ready pods",
    ),
    (
        "statefulset rolling",
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, generation: 1}\nspec: {replicas: 1}\nstatus: {observedGeneration: 1, readyReplicas: 1, updatedReplicas: 0, updateRevision: db-2, currentRevision: db-1}",
        Some(Progressing),
        "revision db-2",
    ),
    (
        "statefulset healthy",
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, generation: 1}\nspec: {replicas: 1}\nstatus: {observedGeneration: 1, readyReplicas: 1, updateRevision: db-1, currentRevision: db-1}",
        Some(Healthy),
        "rolling update complete",
    ),
    // DaemonSet
    (
        "daemonset not observed",
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, generation: 2}\nstatus: {observedGeneration: 1}",
        Some(Progressing),
        "spec update to be observed",
    ),
    (
        "daemonset on delete",
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, generation: 1}\nspec: {updateStrategy: {type: OnDelete}}\nstatus: {observedGeneration: 1, desiredNumberScheduled: 2, updatedNumberScheduled: 1}",
        Some(Healthy),
        "1 out of 2",
    ),
    (
        "daemonset updating",
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, generation: 1}\nstatus: {observedGeneration: 1, desiredNumberScheduled: 2, updatedNumberScheduled: 1, numberAvailable: 2}",
        Some(Progressing),
        "1 out of 2 new pods",
    ),
    (
        "daemonset not available",
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, generation: 1}\nstatus: {observedGeneration: 1, desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 1}",
        Some(Progressing),
        "1 of 2 updated pods",
    ),
    (
        "daemonset healthy",
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, generation: 1}\nstatus: {observedGeneration: 1, desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 2}",
        Some(Healthy),
        "",
    ),
    // ReplicaSet
    (
        "replicaset failure",
        "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web-1, generation: 1}\nspec: {replicas: 1}\nstatus: {observedGeneration: 1, conditions: [{type: ReplicaFailure, status: 'True', message: quota exceeded}]}",
        Some(Degraded),
        "quota exceeded",
    ),
    (
        "replicaset not available",
        "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web-1, generation: 1}\nspec: {replicas: 2}\nstatus: {observedGeneration: 1, availableReplicas: 1}",
        Some(Progressing),
        "1 out of 2",
    ),
    (
        "replicaset not observed",
        "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web-1, generation: 2}\nspec: {replicas: 2}\nstatus: {observedGeneration: 1, availableReplicas: 2}",
        Some(Progressing),
        "observed replica set generation",
    ),
    (
        "replicaset healthy",
        "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web-1, generation: 1}\nspec: {replicas: 2}\nstatus: {observedGeneration: 1, availableReplicas: 2}",
        Some(Healthy),
        "",
    ),
    // Pod
    (
        "pod crash loop",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {restartPolicy: Always}\nstatus: {phase: Running, containerStatuses: [{name: c, ready: false, state: {waiting: {reason: CrashLoopBackOff, message: back-off 40s restarting}}}]}",
        Some(Degraded),
        "back-off 40s",
    ),
    (
        "pod image pull error",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {}\nstatus: {phase: Pending, containerStatuses: [{name: c, ready: false, state: {waiting: {reason: ErrImagePull}}}]}",
        Some(Degraded),
        "ErrImagePull",
    ),
    (
        "pod pending",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {}\nstatus: {phase: Pending, message: scheduling}",
        Some(Progressing),
        "scheduling",
    ),
    (
        "pod succeeded",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {restartPolicy: Never}\nstatus: {phase: Succeeded}",
        Some(Healthy),
        "",
    ),
    (
        "pod failed",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {restartPolicy: Never}\nstatus: {phase: Failed, reason: Evicted}",
        Some(Degraded),
        "Evicted",
    ),
    (
        "pod running ready",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {}\nstatus: {phase: Running, conditions: [{type: Ready, status: 'True'}], containerStatuses: [{name: c, ready: true}]}",
        Some(Healthy),
        "",
    ),
    (
        "pod running after a crash",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {}\nstatus: {phase: Running, conditions: [{type: Ready, status: 'False'}], containerStatuses: [{name: c, ready: false, lastState: {terminated: {reason: OOMKilled}}}]}",
        Some(Degraded),
        "OOMKilled",
    ),
    (
        "pod running not ready",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {}\nstatus: {phase: Running, conditions: [{type: Ready, status: 'False'}], containerStatuses: [{name: c, ready: false}]}",
        Some(Progressing),
        "",
    ),
    (
        "pod running, restart never",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {restartPolicy: Never}\nstatus: {phase: Running, containerStatuses: [{name: c, ready: false, state: {waiting: {reason: CrashLoopBackOff}}}]}",
        Some(Progressing),
        "",
    ),
    (
        "pod ignoring its restart policy",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, annotations: {argocd.argoproj.io/ignore-restart-policy: 'true'}}\nspec: {restartPolicy: OnFailure}\nstatus: {phase: Running, containerStatuses: [{name: c, ready: false, state: {waiting: {reason: CrashLoopBackOff}}}]}",
        Some(Degraded),
        "CrashLoopBackOff",
    ),
    (
        "hook pod keeps its restart policy",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, annotations: {argocd.argoproj.io/ignore-restart-policy: 'true', argocd.argoproj.io/hook: PreSync}}\nspec: {restartPolicy: OnFailure}\nstatus: {phase: Running, containerStatuses: [{name: c, ready: false, state: {waiting: {reason: CrashLoopBackOff}}}]}",
        Some(Progressing),
        "",
    ),
    (
        "pod unknown phase",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {}\nstatus: {phase: Unknown}",
        Some(Unknown),
        "",
    ),
    // CronJob
    (
        "cronjob suspended",
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec: {suspend: true}\nstatus: {lastScheduleTime: '2026-01-02T00:00:00Z', lastSuccessfulTime: '2026-01-01T00:00:00Z'}",
        Some(Healthy),
        "suspended",
    ),
    (
        "cronjob without status",
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec: {}",
        Some(Progressing),
        "",
    ),
    (
        "cronjob never scheduled",
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec: {}\nstatus: {}",
        Some(Healthy),
        "",
    ),
    (
        "cronjob never succeeded",
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec: {}\nstatus: {lastScheduleTime: '2026-01-02T00:00:00Z'}",
        Some(Healthy),
        "not succeeded yet",
    ),
    (
        "cronjob running",
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec: {}\nstatus: {lastScheduleTime: '2026-01-02T00:00:00Z', lastSuccessfulTime: '2026-01-01T00:00:00Z', active: [{name: c-1}]}",
        Some(Healthy),
        "running",
    ),
    (
        "cronjob last run failed",
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec: {}\nstatus: {lastScheduleTime: '2026-01-02T00:00:00Z', lastSuccessfulTime: '2026-01-01T00:00:00Z'}",
        Some(Degraded),
        "did not succeed",
    ),
    (
        "cronjob last run succeeded",
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec: {}\nstatus: {lastScheduleTime: '2026-01-02T00:00:00Z', lastSuccessfulTime: '2026-01-02T00:00:10Z'}",
        Some(Healthy),
        "",
    ),
    // PodDisruptionBudget
    (
        "pdb without conditions",
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: b}\nstatus: {}",
        Some(Progressing),
        "",
    ),
    (
        "pdb insufficient pods is fine",
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: b}\nstatus: {conditions: [{type: DisruptionAllowed, status: 'False', reason: InsufficientPods}]}",
        Some(Healthy),
        "",
    ),
    (
        "pdb broken",
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: b}\nstatus: {conditions: [{type: DisruptionAllowed, status: 'False', reason: SyncFailed, message: no selector}]}",
        Some(Degraded),
        "no selector",
    ),
    // CustomResourceDefinition
    (
        "crd terminating",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: a.b.c}\nstatus: {conditions: [{type: Terminating, status: 'True'}]}",
        Some(Progressing),
        "terminated",
    ),
    (
        "crd without conditions",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: a.b.c}\nstatus: {}",
        Some(Progressing),
        "not found",
    ),
    (
        "crd names refused",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: a.b.c}\nstatus: {conditions: [{type: NamesAccepted, status: 'False', message: plural taken}]}",
        Some(Degraded),
        "plural taken",
    ),
    (
        "crd non-structural",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: a.b.c}\nstatus: {conditions: [{type: NonStructuralSchema, status: 'True', message: bad schema}]}",
        Some(Degraded),
        "bad schema",
    ),
    (
        "crd installing",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: a.b.c}\nstatus: {conditions: [{type: Established, status: 'False', reason: Installing, message: installing}]}",
        Some(Progressing),
        "installing",
    ),
    (
        "crd not established",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: a.b.c}\nstatus: {conditions: [{type: NamesAccepted, status: 'True'}]}",
        Some(Degraded),
        "not established",
    ),
    (
        "crd established",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: a.b.c}\nstatus: {conditions: [{type: Established, status: 'True'}]}",
        Some(Healthy),
        "",
    ),
    // Service, Ingress, PVC
    (
        "load balancer waiting",
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: LoadBalancer}\nstatus: {loadBalancer: {}}",
        Some(Progressing),
        "",
    ),
    (
        "load balancer ready",
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: LoadBalancer}\nstatus: {loadBalancer: {ingress: [{ip: 10.0.0.1}]}}",
        Some(Healthy),
        "",
    ),
    (
        "cluster ip service",
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: ClusterIP}",
        Some(Healthy),
        "",
    ),
    (
        "ingress waiting",
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\nstatus: {}",
        Some(Progressing),
        "",
    ),
    (
        "ingress ready",
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\nstatus: {loadBalancer: {ingress: [{hostname: lb.example.com}]}}",
        Some(Healthy),
        "",
    ),
    (
        "pvc bound",
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: d}\nstatus: {phase: Bound}",
        Some(Healthy),
        "",
    ),
    (
        "pvc pending",
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: d}\nstatus: {phase: Pending}",
        Some(Progressing),
        "",
    ),
    (
        "pvc lost",
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: d}\nstatus: {phase: Lost}",
        Some(Degraded),
        "lost",
    ),
    // Job
    (
        "job running",
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nstatus: {active: 1}",
        Some(Progressing),
        "",
    ),
    (
        "job failed",
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nstatus: {conditions: [{type: Failed, status: 'True', message: BackoffLimitExceeded}]}",
        Some(Degraded),
        "BackoffLimitExceeded",
    ),
    (
        "job suspended",
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nstatus: {conditions: [{type: Suspended, status: 'True'}]}",
        Some(Suspended),
        "",
    ),
    (
        "job complete",
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nstatus: {conditions: [{type: Complete, status: 'True'}]}",
        Some(Healthy),
        "",
    ),
    // HorizontalPodAutoscaler
    (
        "hpa failing",
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nstatus: {conditions: [{type: ScalingActive, status: 'False', reason: FailedGetResourceMetric, message: no metrics}]}",
        Some(Degraded),
        "no metrics",
    ),
    (
        "hpa able to scale",
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nstatus: {conditions: [{type: AbleToScale, status: 'True', reason: ReadyForNewScale}]}",
        Some(Healthy),
        "",
    ),
    (
        "hpa waiting",
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nstatus: {}",
        Some(Progressing),
        "",
    ),
    (
        "hpa v1 conditions in an annotation",
        "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: h, annotations: {autoscaling.alpha.kubernetes.io/conditions: '[{\"type\":\"AbleToScale\",\"status\":\"False\",\"reason\":\"FailedGetScale\",\"message\":\"no scale\"}]'}}\nstatus: {}",
        Some(Degraded),
        "no scale",
    ),
    // APIService
    (
        "apiservice available",
        "apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata: {name: v1.metrics}\nstatus: {conditions: [{type: Available, status: 'True'}]}",
        Some(Healthy),
        "",
    ),
    (
        "apiservice not available",
        "apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata: {name: v1.metrics}\nstatus: {conditions: [{type: Available, status: 'False', message: no endpoints}]}",
        Some(Progressing),
        "no endpoints",
    ),
    // Anything being deleted, other kinds
    (
        "pending deletion",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, deletionTimestamp: '2026-01-01T00:00:00Z'}",
        Some(Progressing),
        "Pending deletion",
    ),
    (
        "configmap has no health",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}",
        None,
        "",
    ),
    (
        "custom resource ready",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nstatus: {conditions: [{type: Ready, status: 'True'}]}",
        Some(Healthy),
        "",
    ),
    (
        "custom resource reconciling",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nstatus: {conditions: [{type: Ready, status: 'False', reason: Reconciling}]}",
        Some(Progressing),
        "",
    ),
    (
        "custom resource failed",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nstatus: {conditions: [{type: Ready, status: 'False', reason: InvalidSpec, message: size too big}]}",
        Some(Degraded),
        "size too big",
    ),
    (
        "custom resource without conditions",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nstatus: {}",
        None,
        "",
    ),
];

#[test]
fn every_rule_and_branch() {
    let mut failures = Vec::new();
    for (what, yaml, expected, message) in CASES {
        let obj: Value = serde_norway::from_str(yaml).unwrap_or_else(|e| panic!("{what}: {e}"));
        let got = assess(&obj);
        let ok = match (&got, expected) {
            (None, None) => true,
            (Some(h), Some(status)) => h.status == *status && h.message.contains(message),
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{what}: expected {expected:?} with {message:?}, got {got:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_worst_status_wins() {
    assert_eq!(worst([Healthy, Progressing, Suspended]), Some(Progressing));
    assert_eq!(
        worst([Healthy, HealthStatus::Missing]),
        Some(HealthStatus::Missing)
    );
    assert_eq!(
        worst([Degraded, HealthStatus::Missing, Healthy]),
        Some(Degraded)
    );
    assert_eq!(worst([Unknown, Degraded]), Some(Unknown));
    assert_eq!(worst([]), None);
}
