//! The sync plan: which resources a sync touches, how (create, update, prune, nothing), and in
//! what order — phase, wave, kind, name, as Argo CD orders them — with hooks placed in their
//! phases. Built from a comparison before anything changes, so the user can read it first.

use crate::comparison::{Compared, Comparison, ResourceSync};
use crate::order::{HookDeletePolicy, HookRole, SyncPhase, hook_role, kind_rank, wave};
use crate::repos::Commit;
use crate::resources::ResourceKey;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

const ARGO_SYNC_OPTIONS: &str = "argocd.argoproj.io/sync-options";
const HELM_RESOURCE_POLICY: &str = "helm.sh/resource-policy";

fn annotation<'a>(obj: &'a Value, name: &str) -> Option<&'a str> {
    obj.pointer("/metadata/annotations")?.get(name)?.as_str()
}

/// True when the object opts out of pruning: `argocd.argoproj.io/sync-options: Prune=false`,
/// or Helm's `helm.sh/resource-policy: keep` (which Argo CD honours the same way).
fn prune_disabled(obj: &Value) -> bool {
    annotation(obj, ARGO_SYNC_OPTIONS).is_some_and(|options| {
        options
            .split(',')
            .any(|o| o.trim().eq_ignore_ascii_case("Prune=false"))
    }) || annotation(obj, HELM_RESOURCE_POLICY).is_some_and(|p| p.trim() == "keep")
}

/// How a sync is run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct SyncOptions {
    /// Delete resources the app tracks that are no longer in Git.
    pub prune: bool,
    /// Dry-run every step on the server and stop: nothing changes.
    pub dry_run: bool,
    /// Sync only these resources (all when empty). Hooks do not run in a selective sync.
    pub resources: Vec<ResourceKey>,
    /// Create the destination namespace when it does not exist.
    pub create_namespace: bool,
    /// Take fields that another field manager owns (server-side apply `force`).
    pub force_conflicts: bool,
    /// Seconds each group may take to become healthy, and each hook to finish; 300 when unset.
    pub timeout: Option<u32>,
}

/// What a sync does to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub enum SyncAction {
    Create,
    Update,
    /// In sync already: not applied, but its health still gates the next group.
    NoOp,
    Prune,
    /// Needs pruning, but prune was not asked for (or the object opts out).
    PruneSkipped,
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PlanStep {
    pub key: ResourceKey,
    pub api_version: String,
    pub action: SyncAction,
    pub phase: SyncPhase,
    /// Small integers in practice; a number in TypeScript.
    #[ts(type = "number")]
    pub wave: i64,
    /// Set for hooks, with their delete policies.
    pub hook: Option<Vec<HookDeletePolicy>>,
    /// A hook the server names (`generateName`): `key.name` is the prefix, and each run
    /// creates a new object named from it.
    #[serde(default)]
    pub generate_name: bool,
    /// Why the step is as it is, when that is not obvious (a skipped prune, a moved namespace).
    pub note: Option<String>,
}

impl PlanStep {
    /// Steps in one group are applied together; the next group waits for their health.
    pub fn group(&self) -> (SyncPhase, bool, i64) {
        (self.phase, self.is_prune(), self.wave)
    }

    pub fn is_prune(&self) -> bool {
        matches!(self.action, SyncAction::Prune | SyncAction::PruneSkipped)
    }
}

/// Everything a sync will do, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SyncPlan {
    pub commit: Commit,
    pub options: SyncOptions,
    pub steps: Vec<PlanStep>,
    /// The destination namespace, when it does not exist, resources go into it and nothing
    /// creates it: the sync would fail. Create namespace (in the sync or the app's sync
    /// policy) makes it.
    #[serde(default)]
    pub missing_namespace: Option<String>,
}

impl SyncPlan {
    /// How many steps change something (create, update, prune).
    pub fn changes(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| {
                matches!(
                    s.action,
                    SyncAction::Create | SyncAction::Update | SyncAction::Prune
                )
            })
            .count()
    }
}

/// A CRD's group and the kind it defines.
type Defines = Option<(String, String)>;

fn defines(obj: Option<&Value>) -> Defines {
    let obj = obj?;
    if obj.get("kind")?.as_str()? != "CustomResourceDefinition" {
        return None;
    }
    Some((
        obj.pointer("/spec/group")?.as_str()?.to_string(),
        obj.pointer("/spec/names/kind")?.as_str()?.to_string(),
    ))
}

/// Why a plan could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("application {app:?} has no resource {key}; nothing was synced")]
    NoSuchResource { app: String, key: ResourceKey },
}

/// The plan for syncing `comparison` with `options`.
pub fn plan(comparison: &Comparison, options: &SyncOptions) -> Result<SyncPlan, PlanError> {
    for key in &options.resources {
        if !comparison.resources.iter().any(|r| &r.key == key) {
            return Err(PlanError::NoSuchResource {
                app: comparison.app.name.clone(),
                key: key.clone(),
            });
        }
    }
    let selected =
        |key: &ResourceKey| options.resources.is_empty() || options.resources.contains(key);
    let mut steps: Vec<(PlanStep, Defines)> = Vec::new();
    for r in comparison.resources.iter().filter(|r| selected(&r.key)) {
        let (action, note) = match r.status {
            ResourceSync::Missing => (SyncAction::Create, None),
            ResourceSync::OutOfSync => (SyncAction::Update, None),
            ResourceSync::Synced => (SyncAction::NoOp, None),
            ResourceSync::Unknown => (
                SyncAction::Update,
                Some("applied unseen: these credentials may not read its kind".to_string()),
            ),
            ResourceSync::RequiresPruning => {
                let live = r.live.as_ref().unwrap_or(&Value::Null);
                if prune_disabled(live) {
                    (
                        SyncAction::PruneSkipped,
                        Some("not pruned: the object says Prune=false".to_string()),
                    )
                } else if options.prune {
                    (SyncAction::Prune, None)
                } else {
                    (
                        SyncAction::PruneSkipped,
                        Some("no longer in Git; prune was not asked for".to_string()),
                    )
                }
            }
        };
        steps.push((
            step(r, action, SyncPhase::Sync, None, note),
            defines(r.desired.as_ref()),
        ));
    }
    // Argo CD runs no hooks in a selective sync.
    if options.resources.is_empty() {
        for hook in &comparison.hooks {
            let Ok(HookRole::Hook {
                phases,
                delete_policies,
            }) = hook_role(hook.desired.as_ref().unwrap_or(&Value::Null))
            else {
                continue;
            };
            let action = if hook.live.is_none()
                || delete_policies.contains(&HookDeletePolicy::BeforeHookCreation)
            {
                SyncAction::Create
            } else {
                SyncAction::Update
            };
            for phase in phases {
                steps.push((
                    step(hook, action, phase, Some(delete_policies.clone()), None),
                    None,
                ));
            }
        }
    }
    let mut ordered = order(steps);
    let namespace = &comparison.app.destination.namespace;
    let declared = ordered
        .iter()
        .any(|s| s.key.kind == "Namespace" && s.key.group.is_empty() && &s.key.name == namespace);
    let needed = ordered
        .iter()
        .any(|s| !s.is_prune() && &s.key.namespace == namespace);
    let missing_namespace = (!comparison.namespace_exists
        && !declared
        && needed
        && !namespace.is_empty()
        && !options.create_namespace)
        .then(|| namespace.clone());
    if options.create_namespace
        && !comparison.namespace_exists
        && !declared
        && !namespace.is_empty()
    {
        let (phase, wave) = ordered
            .first()
            .map(|s| (s.phase, s.wave))
            .unwrap_or((SyncPhase::Sync, 0));
        ordered.insert(
            0,
            PlanStep {
                key: ResourceKey {
                    group: String::new(),
                    kind: "Namespace".into(),
                    namespace: String::new(),
                    name: namespace.clone(),
                },
                api_version: "v1".into(),
                action: SyncAction::Create,
                phase,
                wave,
                hook: None,
                generate_name: false,
                note: Some("the destination namespace, created because it was asked for".into()),
            },
        );
    }
    Ok(SyncPlan {
        commit: comparison.commit.clone(),
        options: options.clone(),
        steps: ordered,
        missing_namespace,
    })
}

fn step(
    r: &Compared,
    action: SyncAction,
    phase: SyncPhase,
    hook: Option<Vec<HookDeletePolicy>>,
    note: Option<String>,
) -> PlanStep {
    PlanStep {
        key: r.key.clone(),
        api_version: r.resolved.api.api_version.clone(),
        action,
        phase,
        wave: wave(r.desired.as_ref().or(r.live.as_ref())),
        generate_name: hook.is_some() && r.generated,
        hook,
        note,
    }
}

/// Puts steps in Argo CD's order: phase, wave, kind, name (then namespace). Prunes come after
/// the Sync phase's applies, in reverse. Then a Namespace moves before the first resource inside
/// it and a CRD before its first custom resource, joining that resource's group.
pub fn order(mut steps: Vec<(PlanStep, Defines)>) -> Vec<PlanStep> {
    steps.sort_by_key(|(s, _)| {
        let prune = s.is_prune();
        let rank = kind_rank(&s.key.kind) as i64;
        (
            s.phase,
            prune,
            if prune { -s.wave } else { s.wave },
            if prune { -rank } else { rank },
            s.key.kind.clone(),
            s.key.name.clone(),
            s.key.namespace.clone(),
        )
    });
    let mut i = 0;
    while i < steps.len() {
        let (candidate, crd) = &steps[i];
        let is_namespace = candidate.key.kind == "Namespace" && candidate.key.group.is_empty();
        let first_user = if candidate.is_prune() {
            None
        } else if is_namespace {
            let name = &candidate.key.name;
            steps[..i]
                .iter()
                .position(|(s, _)| !s.is_prune() && &s.key.namespace == name)
        } else if let Some((group, kind)) = crd {
            steps[..i]
                .iter()
                .position(|(s, _)| !s.is_prune() && &s.key.group == group && &s.key.kind == kind)
        } else {
            None
        };
        if let Some(j) = first_user {
            let (mut moved, defines) = steps.remove(i);
            moved.phase = steps[j].0.phase;
            moved.wave = steps[j].0.wave;
            moved.note = Some(format!("moved before {}, which needs it", steps[j].0.key));
            steps.insert(j, (moved, defines));
        }
        // After a move, position i holds a step that was already looked at.
        i += 1;
    }
    steps.into_iter().map(|(s, _)| s).collect()
}

#[cfg(test)]
mod tests;
