//! Where one object goes in a sync, from the object alone: its hook role (Argo CD's
//! `argocd.argoproj.io/hook` and its delete policy, and Helm's `helm.sh/hook` mapped as Argo CD
//! maps it; a value that is neither is refused with the file named, rather than left silently
//! unapplied), its sync wave, and its kind's rank in Argo CD's apply order. The comparison and
//! the sync plan both read it.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

pub const ARGO_HOOK: &str = "argocd.argoproj.io/hook";
const ARGO_DELETE_POLICY: &str = "argocd.argoproj.io/hook-delete-policy";
const HELM_HOOK: &str = "helm.sh/hook";
const HELM_DELETE_POLICY: &str = "helm.sh/hook-delete-policy";
const HELM_WEIGHT: &str = "helm.sh/hook-weight";

/// Helm's hook events, as Helm 3 documents them (and Helm 2's `crd-install`); Argo CD runs the
/// install and upgrade ones and none of the others.
const HELM_EVENTS: &[&str] = &[
    "pre-install",
    "post-install",
    "pre-upgrade",
    "post-upgrade",
    "pre-delete",
    "post-delete",
    "pre-rollback",
    "post-rollback",
    "test",
    "test-success",
    "test-failure",
    "crd-install",
];

/// The phases of a sync, in the order they run. SyncFail runs only when the sync failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
pub enum SyncPhase {
    PreSync,
    Sync,
    PostSync,
    SyncFail,
}

/// When a hook object is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub enum HookDeletePolicy {
    /// Before the hook is created again (the default): the previous run is removed first.
    BeforeHookCreation,
    HookSucceeded,
    HookFailed,
}

/// What an object's hook annotations make of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookRole {
    /// An ordinary resource: applied in the Sync phase and compared for drift.
    Resource,
    /// Never applied: Argo CD's `Skip`, a `PostDelete` hook (Plumbline never deletes an
    /// application's resources), or only Helm hooks that Argo CD does not run (tests, deletes,
    /// rollbacks).
    Skip,
    /// Run in each of `phases`, then deleted as `delete_policies` say.
    Hook {
        phases: Vec<SyncPhase>,
        delete_policies: Vec<HookDeletePolicy>,
    },
}

impl HookRole {
    pub fn is_hook(&self) -> bool {
        matches!(self, HookRole::Hook { .. })
    }
}

fn annotation<'a>(obj: &'a Value, name: &str) -> Option<&'a str> {
    obj.pointer("/metadata/annotations")?.get(name)?.as_str()
}

/// The comma-separated values of an annotation, trimmed.
fn values<'a>(obj: &'a Value, name: &str) -> Vec<&'a str> {
    annotation(obj, name)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Reads `argocd.argoproj.io/hook` (and its delete policy), or, when that is absent, Helm's
/// `helm.sh/hook` mapped as Argo CD maps it: pre-install and pre-upgrade → PreSync,
/// post-install and post-upgrade → PostSync, the other Helm events never run. A phase or
/// delete policy that is not one of these is an error, said in words.
pub fn hook_role(obj: &Value) -> Result<HookRole, String> {
    if annotation(obj, ARGO_HOOK).is_some() {
        return argo_hook(obj);
    }
    if let Some(value) = annotation(obj, HELM_HOOK) {
        // Helm 2 marked CRDs this way; they are resources, not hooks (as in Argo CD).
        if value.trim() == "crd-install" {
            return Ok(HookRole::Resource);
        }
        return helm_hook(obj);
    }
    Ok(HookRole::Resource)
}

fn argo_hook(obj: &Value) -> Result<HookRole, String> {
    let mut phases = Vec::new();
    let mut never_run = false;
    for value in values(obj, ARGO_HOOK) {
        let phase = match value {
            "PreSync" => SyncPhase::PreSync,
            "Sync" => SyncPhase::Sync,
            "PostSync" => SyncPhase::PostSync,
            "SyncFail" => SyncPhase::SyncFail,
            "Skip" | "PostDelete" => {
                never_run = true;
                continue;
            }
            other => {
                return Err(format!(
                    "{ARGO_HOOK}: {other:?} is not a hook phase (PreSync, Sync, PostSync, SyncFail, PostDelete or Skip)"
                ));
            }
        };
        if !phases.contains(&phase) {
            phases.push(phase);
        }
    }
    let policies = delete_policies(obj, ARGO_DELETE_POLICY, |v| match v {
        "BeforeHookCreation" => Some(HookDeletePolicy::BeforeHookCreation),
        "HookSucceeded" => Some(HookDeletePolicy::HookSucceeded),
        "HookFailed" => Some(HookDeletePolicy::HookFailed),
        _ => None,
    })?;
    Ok(role(phases, never_run, policies))
}

fn helm_hook(obj: &Value) -> Result<HookRole, String> {
    let mut phases = Vec::new();
    for value in values(obj, HELM_HOOK) {
        let phase = match value {
            "pre-install" | "pre-upgrade" => SyncPhase::PreSync,
            "post-install" | "post-upgrade" => SyncPhase::PostSync,
            known if HELM_EVENTS.contains(&known) => continue,
            other => {
                return Err(format!(
                    "{HELM_HOOK}: {other:?} is not a Helm hook event ({})",
                    HELM_EVENTS.join(", ")
                ));
            }
        };
        if !phases.contains(&phase) {
            phases.push(phase);
        }
    }
    let policies = delete_policies(obj, HELM_DELETE_POLICY, |v| match v {
        "before-hook-creation" => Some(HookDeletePolicy::BeforeHookCreation),
        "hook-succeeded" => Some(HookDeletePolicy::HookSucceeded),
        "hook-failed" => Some(HookDeletePolicy::HookFailed),
        _ => None,
    })?;
    // A Helm hook none of whose events Argo CD runs is not applied at all.
    let never_run = phases.is_empty();
    Ok(role(phases, never_run, policies))
}

fn delete_policies(
    obj: &Value,
    annotation: &str,
    parse: impl Fn(&str) -> Option<HookDeletePolicy>,
) -> Result<Vec<HookDeletePolicy>, String> {
    values(obj, annotation)
        .into_iter()
        .map(|v| parse(v).ok_or_else(|| format!("{annotation}: {v:?} is not a delete policy")))
        .collect()
}

fn role(phases: Vec<SyncPhase>, never_run: bool, policies: Vec<HookDeletePolicy>) -> HookRole {
    if phases.is_empty() {
        return if never_run {
            HookRole::Skip
        } else {
            HookRole::Resource
        };
    }
    HookRole::Hook {
        phases,
        delete_policies: if policies.is_empty() {
            vec![HookDeletePolicy::BeforeHookCreation]
        } else {
            policies
        },
    }
}

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

/// Position of `kind` in Argo CD's kind order.
pub fn kind_rank(kind: &str) -> usize {
    KIND_ORDER
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(KIND_ORDER.len())
}

/// The sync wave of an object: `argocd.argoproj.io/sync-wave`, else `plumbline.dev/sync-wave`,
/// else a Helm hook's `helm.sh/hook-weight`; 0 when none is set.
pub fn wave(obj: Option<&Value>) -> i64 {
    let Some(obj) = obj else { return 0 };
    [
        "argocd.argoproj.io/sync-wave",
        "plumbline.dev/sync-wave",
        HELM_WEIGHT,
    ]
    .iter()
    .find_map(|a| annotation(obj, a)?.trim().parse().ok())
    .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn with(annotations: Value) -> Value {
        json!({"metadata": {"annotations": annotations}})
    }

    fn hook(phases: &[SyncPhase], policies: &[HookDeletePolicy]) -> HookRole {
        HookRole::Hook {
            phases: phases.to_vec(),
            delete_policies: policies.to_vec(),
        }
    }

    #[test]
    fn argo_cd_hook_annotations() {
        use HookDeletePolicy::*;
        use SyncPhase::*;
        let cases = [
            (json!({}), HookRole::Resource),
            (
                json!({"argocd.argoproj.io/hook": "PreSync"}),
                hook(&[PreSync], &[BeforeHookCreation]),
            ),
            (
                json!({"argocd.argoproj.io/hook": "PreSync, PostSync", "argocd.argoproj.io/hook-delete-policy": "HookSucceeded,HookFailed"}),
                hook(&[PreSync, PostSync], &[HookSucceeded, HookFailed]),
            ),
            (json!({"argocd.argoproj.io/hook": "Skip"}), HookRole::Skip),
            (
                json!({"argocd.argoproj.io/hook": "PostDelete"}),
                HookRole::Skip,
            ),
            (
                json!({"argocd.argoproj.io/hook": "SyncFail", "helm.sh/hook": "post-install"}),
                hook(&[SyncFail], &[BeforeHookCreation]),
            ),
        ];
        for (annotations, expected) in cases {
            assert_eq!(
                hook_role(&with(annotations.clone())),
                Ok(expected),
                "{annotations}"
            );
        }
    }

    #[test]
    fn helm_hooks_map_onto_phases_as_argo_cd_maps_them() {
        use HookDeletePolicy::*;
        use SyncPhase::*;
        let cases = [
            (
                json!({"helm.sh/hook": "pre-install,pre-upgrade", "helm.sh/hook-delete-policy": "hook-succeeded"}),
                hook(&[PreSync], &[HookSucceeded]),
            ),
            (
                json!({"helm.sh/hook": "post-upgrade", "helm.sh/hook-delete-policy": "before-hook-creation,hook-failed"}),
                hook(&[PostSync], &[BeforeHookCreation, HookFailed]),
            ),
            (
                json!({"helm.sh/hook": "pre-install,post-install"}),
                hook(&[PreSync, PostSync], &[BeforeHookCreation]),
            ),
            (json!({"helm.sh/hook": "test"}), HookRole::Skip),
            (json!({"helm.sh/hook": "test-success"}), HookRole::Skip),
            (json!({"helm.sh/hook": "pre-delete"}), HookRole::Skip),
            (json!({"helm.sh/hook": "crd-install"}), HookRole::Resource),
        ];
        for (annotations, expected) in cases {
            assert_eq!(
                hook_role(&with(annotations.clone())),
                Ok(expected),
                "{annotations}"
            );
        }
    }

    #[test]
    fn an_unknown_phase_or_policy_is_refused_in_words() {
        let cases = [
            (
                json!({"argocd.argoproj.io/hook": "PreSnyc"}),
                "argocd.argoproj.io/hook: \"PreSnyc\" is not a hook phase",
            ),
            (
                json!({"helm.sh/hook": "pre-instal"}),
                "helm.sh/hook: \"pre-instal\" is not a Helm hook event (pre-install,",
            ),
            (
                json!({"helm.sh/hook": "pre-install", "helm.sh/hook-delete-policy": "hook-succeded"}),
                "helm.sh/hook-delete-policy: \"hook-succeded\" is not a delete policy",
            ),
            (
                json!({"argocd.argoproj.io/hook": "Sync", "argocd.argoproj.io/hook-delete-policy": "Always"}),
                "argocd.argoproj.io/hook-delete-policy: \"Always\" is not a delete policy",
            ),
        ];
        for (annotations, expected) in cases {
            let error = hook_role(&with(annotations.clone())).unwrap_err();
            assert!(error.starts_with(expected), "{annotations}: {error}");
        }
    }
}
