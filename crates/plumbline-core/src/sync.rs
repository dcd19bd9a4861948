//! Sync: server-side apply of every desired resource, in Argo CD's order, with a result per
//! resource. Dry-runs everything first; a failed dry run stops the sync before any change.

use crate::reconcile::{Compared, Comparison, api_for};
use crate::repos::Commit;
use crate::resources::kube_message;
use crate::resources::{FIELD_MANAGER, ResourceKey};
use kube::api::{Patch, PatchParams};
use serde::Serialize;
use serde_json::Value;
use ts_rs::TS;

/// Kinds in the order Argo CD applies them; unlisted kinds go after all of these.
const KIND_ORDER: &[&str] = &[
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
];

/// Position of `kind` in [`KIND_ORDER`].
pub fn kind_rank(kind: &str) -> usize {
    KIND_ORDER
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(KIND_ORDER.len())
}

/// The sync wave of an object (`argocd.argoproj.io/sync-wave` or `plumbline.dev/sync-wave`).
pub fn wave(obj: Option<&Value>) -> i64 {
    let annotations = obj.and_then(|o| o.pointer("/metadata/annotations"));
    ["argocd.argoproj.io/sync-wave", "plumbline.dev/sync-wave"]
        .iter()
        .find_map(|a| annotations?.get(*a)?.as_str()?.trim().parse().ok())
        .unwrap_or(0)
}

/// Sort key: wave, then kind order, then kind name (for unlisted kinds), namespace, name.
pub fn order_key(r: &Compared) -> (i64, usize, String, String, String) {
    (
        wave(r.desired.as_ref().or(r.live.as_ref())),
        kind_rank(&r.key.kind),
        r.key.kind.clone(),
        r.key.namespace.clone(),
        r.key.name.clone(),
    )
}

/// What happened to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub enum ResultStatus {
    Synced,
    SyncFailed,
    /// Not attempted, because an earlier step failed.
    Skipped,
}

/// What a sync did to one resource, in words.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ResourceResult {
    pub key: ResourceKey,
    pub status: ResultStatus,
    pub message: String,
}

/// How a sync ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub enum OperationPhase {
    Succeeded,
    Failed,
}

/// The outcome of one sync.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct SyncResult {
    pub phase: OperationPhase,
    pub commit: Commit,
    pub results: Vec<ResourceResult>,
    pub message: String,
}

/// Progress of a running sync, pushed to the UI as it happens.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum SyncEvent {
    /// The resources that will be applied, in order.
    Planned {
        resources: Vec<ResourceKey>,
    },
    DryRun {
        key: ResourceKey,
    },
    Applying {
        key: ResourceKey,
    },
    Done {
        result: ResourceResult,
    },
}

/// Applies every desired resource of `comparison`; resources only to be pruned are left alone.
pub async fn run(
    client: &kube::Client,
    comparison: &Comparison,
    progress: &(dyn Fn(SyncEvent) + Send + Sync),
) -> SyncResult {
    let mut tasks: Vec<&Compared> = comparison
        .resources
        .iter()
        .filter(|r| r.desired.is_some())
        .collect();
    tasks.sort_by_key(|r| order_key(r));
    progress(SyncEvent::Planned {
        resources: tasks.iter().map(|r| r.key.clone()).collect(),
    });

    // A resource whose namespace this sync creates cannot be dry-run on the server yet; Argo CD
    // skips those too, and the real apply runs after the Namespace exists.
    let created_namespaces: Vec<&str> = tasks
        .iter()
        .filter(|t| t.key.kind == "Namespace" && t.key.group.is_empty() && t.live.is_none())
        .map(|t| t.key.name.as_str())
        .collect();
    let mut failures = Vec::new();
    for task in &tasks {
        if created_namespaces.contains(&task.key.namespace.as_str()) {
            continue;
        }
        progress(SyncEvent::DryRun {
            key: task.key.clone(),
        });
        if let Err(e) = apply(client, task, true).await {
            failures.push((
                task.key.clone(),
                format!("dry run failed: {}", kube_message(&e)),
            ));
        }
    }
    if !failures.is_empty() {
        let results = tasks
            .iter()
            .map(|t| match failures.iter().find(|(k, _)| *k == t.key) {
                Some((_, message)) => result(&t.key, ResultStatus::SyncFailed, message.clone()),
                None => result(
                    &t.key,
                    ResultStatus::Skipped,
                    "not applied: the dry run of another resource failed".into(),
                ),
            })
            .collect::<Vec<_>>();
        results
            .iter()
            .for_each(|r| progress(SyncEvent::Done { result: r.clone() }));
        return SyncResult {
            phase: OperationPhase::Failed,
            commit: comparison.commit.clone(),
            message: format!(
                "{} of {} resources failed the dry run; nothing was changed",
                failures.len(),
                tasks.len()
            ),
            results,
        };
    }

    let mut results = Vec::new();
    let mut failed = false;
    for task in &tasks {
        let r = if failed {
            result(
                &task.key,
                ResultStatus::Skipped,
                "not applied: an earlier resource failed".into(),
            )
        } else {
            progress(SyncEvent::Applying {
                key: task.key.clone(),
            });
            match apply(client, task, false).await {
                Ok(()) => result(
                    &task.key,
                    ResultStatus::Synced,
                    "applied (server-side)".into(),
                ),
                Err(e) => {
                    failed = true;
                    result(&task.key, ResultStatus::SyncFailed, kube_message(&e))
                }
            }
        };
        progress(SyncEvent::Done { result: r.clone() });
        results.push(r);
    }
    let synced = results
        .iter()
        .filter(|r| r.status == ResultStatus::Synced)
        .count();
    SyncResult {
        phase: if failed {
            OperationPhase::Failed
        } else {
            OperationPhase::Succeeded
        },
        commit: comparison.commit.clone(),
        message: format!(
            "{synced} of {} resources synced to {}",
            tasks.len(),
            short(&comparison.commit.sha)
        ),
        results,
    }
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(7)]
}

fn result(key: &ResourceKey, status: ResultStatus, message: String) -> ResourceResult {
    ResourceResult {
        key: key.clone(),
        status,
        message,
    }
}

async fn apply(client: &kube::Client, task: &Compared, dry_run: bool) -> Result<(), kube::Error> {
    let desired = task
        .desired
        .as_ref()
        .unwrap_or_else(|| unreachable!("only desired resources are tasks"));
    let api = api_for(client, &task.resolved, &task.key.namespace);
    let mut params = PatchParams::apply(FIELD_MANAGER);
    if dry_run {
        params = params.dry_run();
    }
    api.patch(&task.key.name, &params, &Patch::Apply(desired))
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_follow_argo_cd_order() {
        let mut kinds = vec![
            "Deployment",
            "Service",
            "ConfigMap",
            "Namespace",
            "Widget",
            "Secret",
            "Ingress",
        ];
        kinds.sort_by_key(|k| kind_rank(k));
        assert_eq!(
            kinds,
            [
                "Namespace",
                "Secret",
                "ConfigMap",
                "Service",
                "Deployment",
                "Ingress",
                "Widget"
            ]
        );
    }

    #[test]
    fn waves_come_from_either_annotation() {
        let argo = json!({"metadata": {"annotations": {"argocd.argoproj.io/sync-wave": "-2"}}});
        let ours = json!({"metadata": {"annotations": {"plumbline.dev/sync-wave": "5"}}});
        assert_eq!(wave(Some(&argo)), -2);
        assert_eq!(wave(Some(&ours)), 5);
        assert_eq!(wave(Some(&json!({"metadata": {}}))), 0);
        assert_eq!(wave(None), 0);
    }
}
