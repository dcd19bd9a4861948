//! The resource types the sandbox serves, as discovery describes them.

/// One servable resource type (one row of an `APIResourceList`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceType {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    /// Defined by a CustomResourceDefinition.
    pub custom: bool,
    /// For custom types: the CRD declares a `status` subresource.
    pub custom_status: bool,
    /// For custom types: the CRD's `additionalPrinterColumns` (none: NAME and AGE).
    pub printer_columns: &'static [PrinterColumn],
}

/// One of a CRD's `additionalPrinterColumns`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterColumn {
    pub name: &'static str,
    pub kind: &'static str,
    pub json_path: &'static str,
    pub priority: u8,
}

impl ResourceType {
    /// `v1` for the core group, `group/version` otherwise.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

const fn rt(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    singular: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
) -> ResourceType {
    ResourceType {
        group,
        version,
        kind,
        plural,
        singular,
        namespaced,
        short_names,
        custom: false,
        custom_status: false,
        printer_columns: &[],
    }
}

/// Verbs every served type supports.
pub const VERBS: &[&str] = &["create", "delete", "get", "list", "patch", "update"];

/// Built-in kinds. Later issues extend this list; discovery and routing read only from here.
pub const BUILT_IN: &[ResourceType] = &[
    rt(
        "",
        "v1",
        "Namespace",
        "namespaces",
        "namespace",
        false,
        &["ns"],
    ),
    rt(
        "",
        "v1",
        "ConfigMap",
        "configmaps",
        "configmap",
        true,
        &["cm"],
    ),
    rt("", "v1", "Secret", "secrets", "secret", true, &[]),
    rt("", "v1", "Service", "services", "service", true, &["svc"]),
    rt(
        "",
        "v1",
        "ServiceAccount",
        "serviceaccounts",
        "serviceaccount",
        true,
        &["sa"],
    ),
    rt(
        "",
        "v1",
        "Endpoints",
        "endpoints",
        "endpoints",
        true,
        &["ep"],
    ),
    rt("", "v1", "Pod", "pods", "pod", true, &["po"]),
    rt(
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        true,
        &["pvc"],
    ),
    rt("", "v1", "Event", "events", "event", true, &["ev"]),
    rt("", "v1", "Node", "nodes", "node", false, &["no"]),
    rt(
        "",
        "v1",
        "PersistentVolume",
        "persistentvolumes",
        "persistentvolume",
        false,
        &["pv"],
    ),
    rt(
        "",
        "v1",
        "ReplicationController",
        "replicationcontrollers",
        "replicationcontroller",
        true,
        &["rc"],
    ),
    rt(
        "apps",
        "v1",
        "Deployment",
        "deployments",
        "deployment",
        true,
        &["deploy"],
    ),
    rt(
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        "replicaset",
        true,
        &["rs"],
    ),
    rt(
        "apps",
        "v1",
        "StatefulSet",
        "statefulsets",
        "statefulset",
        true,
        &["sts"],
    ),
    rt(
        "apps",
        "v1",
        "DaemonSet",
        "daemonsets",
        "daemonset",
        true,
        &["ds"],
    ),
    rt("batch", "v1", "Job", "jobs", "job", true, &[]),
    rt(
        "batch",
        "v1",
        "CronJob",
        "cronjobs",
        "cronjob",
        true,
        &["cj"],
    ),
    rt(
        "networking.k8s.io",
        "v1",
        "Ingress",
        "ingresses",
        "ingress",
        true,
        &["ing"],
    ),
    rt(
        "networking.k8s.io",
        "v1",
        "NetworkPolicy",
        "networkpolicies",
        "networkpolicy",
        true,
        &["netpol"],
    ),
    rt(
        "rbac.authorization.k8s.io",
        "v1",
        "Role",
        "roles",
        "role",
        true,
        &[],
    ),
    rt(
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        "rolebindings",
        "rolebinding",
        true,
        &[],
    ),
    rt(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "clusterroles",
        "clusterrole",
        false,
        &[],
    ),
    rt(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        "clusterrolebinding",
        false,
        &[],
    ),
    rt(
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        "poddisruptionbudget",
        true,
        &["pdb"],
    ),
    rt(
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        "horizontalpodautoscaler",
        true,
        &["hpa"],
    ),
    rt(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        "customresourcedefinition",
        false,
        &["crd", "crds"],
    ),
];

/// Discovery categories: `kubectl get all` lists the types in `all`.
pub fn categories(rt: &ResourceType) -> &'static [&'static str] {
    let in_all = !rt.custom
        && matches!(
            rt.kind,
            "Pod"
                | "Service"
                | "Deployment"
                | "ReplicaSet"
                | "StatefulSet"
                | "DaemonSet"
                | "Job"
                | "CronJob"
                | "HorizontalPodAutoscaler"
        );
    if in_all { &["all"] } else { &[] }
}

/// Types whose `status` is written through the `status` subresource only.
pub fn has_status_subresource(rt: &ResourceType) -> bool {
    if rt.custom {
        return rt.custom_status;
    }
    matches!(
        rt.kind,
        "Namespace"
            | "Service"
            | "Pod"
            | "PersistentVolumeClaim"
            | "Deployment"
            | "ReplicaSet"
            | "StatefulSet"
            | "DaemonSet"
            | "Job"
            | "CronJob"
            | "Ingress"
            | "PodDisruptionBudget"
            | "HorizontalPodAutoscaler"
            | "CustomResourceDefinition"
    )
}

/// The built-in type served at `group/version` under `plural`.
pub fn by_plural(group: &str, version: &str, plural: &str) -> Option<&'static ResourceType> {
    BUILT_IN
        .iter()
        .find(|t| t.group == group && t.version == version && t.plural == plural)
}

/// The API groups (other than core) of `types`, in the order discovery lists them.
pub fn groups(types: &[&'static ResourceType]) -> Vec<&'static str> {
    let mut groups: Vec<&str> = Vec::new();
    for t in types.iter().filter(|t| !t.group.is_empty()) {
        if !groups.contains(&t.group) {
            groups.push(t.group);
        }
    }
    groups
}

/// The types of `types` served at `group/version`.
pub fn in_group_version(
    types: &[&'static ResourceType],
    group: &str,
    version: &str,
) -> Vec<&'static ResourceType> {
    types
        .iter()
        .copied()
        .filter(|t| t.group == group && t.version == version)
        .collect()
}

/// The types a CustomResourceDefinition serves, one per served version.
pub fn from_crd(crd: &serde_json::Value) -> Vec<&'static ResourceType> {
    let text = |pointer: &str| {
        crd.pointer(pointer)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let (group, kind, plural) = (
        text("/spec/group"),
        text("/spec/names/kind"),
        text("/spec/names/plural"),
    );
    if group.is_empty() || kind.is_empty() || plural.is_empty() {
        return Vec::new();
    }
    let singular = match text("/spec/names/singular") {
        s if s.is_empty() => kind.to_lowercase(),
        s => s,
    };
    let short_names: Vec<String> = crd
        .pointer("/spec/names/shortNames")
        .and_then(serde_json::Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let namespaced = text("/spec/scope") != "Cluster";
    crd.pointer("/spec/versions")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter(|v| v.get("served").and_then(serde_json::Value::as_bool) != Some(false))
        .filter_map(|v| {
            let version = v.get("name")?.as_str()?.to_string();
            let custom_status = v.pointer("/subresources/status").is_some();
            let columns: Vec<(String, String, String, u8)> = v
                .get("additionalPrinterColumns")
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
                .map(|c| {
                    let field = |f: &str| c[f].as_str().unwrap_or_default().to_string();
                    let priority = c["priority"].as_u64().unwrap_or(0).min(9) as u8;
                    (field("name"), field("type"), field("jsonPath"), priority)
                })
                .collect();
            Some(intern(
                &group,
                &version,
                &kind,
                &plural,
                &singular,
                namespaced,
                &short_names,
                custom_status,
                &columns,
            ))
        })
        .collect()
}

/// Custom types live for the whole process, so routing can hold `&'static` references like it
/// does for built-ins. Each distinct definition is stored once (a few hundred bytes), however
/// often a CRD is created and deleted.
#[allow(clippy::too_many_arguments)]
fn intern(
    group: &str,
    version: &str,
    kind: &str,
    plural: &str,
    singular: &str,
    namespaced: bool,
    short_names: &[String],
    custom_status: bool,
    columns: &[(String, String, String, u8)],
) -> &'static ResourceType {
    static INTERNED: std::sync::Mutex<Vec<&'static ResourceType>> =
        std::sync::Mutex::new(Vec::new());
    let mut interned = INTERNED.lock().unwrap_or_else(|p| p.into_inner());
    let same = |t: &&&'static ResourceType| {
        t.group == group
            && t.version == version
            && t.kind == kind
            && t.plural == plural
            && t.singular == singular
            && t.namespaced == namespaced
            && t.custom_status == custom_status
            && t.printer_columns.len() == columns.len()
            && t.printer_columns.iter().zip(columns).all(|(a, b)| {
                (a.name, a.kind, a.json_path, a.priority)
                    == (b.0.as_str(), b.1.as_str(), b.2.as_str(), b.3)
            })
            && t.short_names
                .iter()
                .copied()
                .eq(short_names.iter().map(String::as_str))
    };
    if let Some(found) = interned.iter().find(same) {
        return found;
    }
    let leak = |s: &str| -> &'static str { Box::leak(s.to_string().into_boxed_str()) };
    let shorts: Vec<&'static str> = short_names.iter().map(|s| leak(s)).collect();
    let columns: Vec<PrinterColumn> = columns
        .iter()
        .map(|(name, kind, json_path, priority)| PrinterColumn {
            name: leak(name),
            kind: leak(kind),
            json_path: leak(json_path),
            priority: *priority,
        })
        .collect();
    let rt: &'static ResourceType = Box::leak(Box::new(ResourceType {
        group: leak(group),
        version: leak(version),
        kind: leak(kind),
        plural: leak(plural),
        singular: leak(singular),
        namespaced,
        short_names: Box::leak(shorts.into_boxed_slice()),
        custom: true,
        custom_status,
        printer_columns: Box::leak(columns.into_boxed_slice()),
    }));
    interned.push(rt);
    rt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offline_list_of_cluster_scoped_kinds_has_every_one_the_sandbox_serves() {
        for rt in BUILT_IN {
            assert_eq!(
                kube_schema::is_cluster_scoped(rt.group, rt.kind),
                !rt.namespaced,
                "{}/{}",
                rt.group,
                rt.kind
            );
        }
    }
}
