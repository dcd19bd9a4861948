//! The sandbox's object store: the verbs of kube-apiserver over an in-memory map, with
//! server-side apply ownership kept in `metadata.managedFields`.

use crate::catalog::ResourceType;
use crate::defaults;
use crate::fields::{self, FieldPath, FieldSet, Step};
use crate::selector::LabelSelector;
use crate::strategic;
use chrono::{SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use tokio::sync::broadcast;

/// An error kube-apiserver would answer with, turned into a `Status` object by the HTTP layer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code} {reason}: {message}")]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Option<Value>,
}

impl ApiError {
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    fn with_details(mut self, rt: &ResourceType, name: &str) -> Self {
        let mut d = json!({"name": name, "kind": rt.plural});
        if !rt.group.is_empty() {
            d["group"] = json!(rt.group);
        }
        self.details = Some(d);
        self
    }

    pub fn not_found(rt: &ResourceType, name: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", qualified(rt)),
        )
        .with_details(rt, name)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// The `Status` object kube-apiserver sends for this error.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": self.message, "reason": self.reason, "code": self.code,
        });
        if let Some(d) = &self.details {
            status["details"] = d.clone();
        }
        status
    }
}

/// `deployments.apps`, or `configmaps` for the core group, as error messages name resources.
fn qualified(rt: &ResourceType) -> String {
    if rt.group.is_empty() {
        rt.plural.to_string()
    } else {
        format!("{}.{}", rt.plural, rt.group)
    }
}

/// How a write was asked for.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    pub field_manager: Option<String>,
    pub dry_run: bool,
    pub force: bool,
    /// The write goes to the `status` subresource.
    pub status: bool,
    /// What happens to dependents when deleting.
    pub propagation: Propagation,
    /// What happens to fields the kind does not declare.
    pub field_validation: FieldValidation,
}

/// `fieldValidation` of a write: what the server does with fields a kind does not declare.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FieldValidation {
    /// Refuse the request (kubectl sends this).
    Strict,
    /// Drop the fields and say so in a `Warning` header (the server's default).
    #[default]
    Warn,
    /// Drop the fields silently.
    Ignore,
}

impl FieldValidation {
    pub fn parse(value: Option<&String>) -> Result<Self, ApiError> {
        match value.map(String::as_str) {
            None | Some("" | "Warn") => Ok(Self::Warn),
            Some("Strict") => Ok(Self::Strict),
            Some("Ignore") => Ok(Self::Ignore),
            Some(other) => Err(ApiError::bad_request(format!(
                "fieldValidation: Unsupported value: {other:?}: supported values: \"Ignore\", \"Strict\", \"Warn\""
            ))),
        }
    }
}

/// `propagationPolicy` of a delete.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Propagation {
    /// Delete the object now; the garbage collector deletes its dependents.
    #[default]
    Background,
    /// Delete the dependents first; the object waits with the `foregroundDeletion` finalizer.
    Foreground,
    /// Delete the object and leave its dependents, without their reference to it.
    Orphan,
}

impl Propagation {
    /// Parses `Background`, `Foreground` or `Orphan`.
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        match text {
            "Background" => Ok(Self::Background),
            "Foreground" => Ok(Self::Foreground),
            "Orphan" => Ok(Self::Orphan),
            other => Err(ApiError::bad_request(format!(
                "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"{other}\": supported values: \"Foreground\", \"Background\", \"Orphan\""
            ))),
        }
    }
}

const FOREGROUND: &str = "foregroundDeletion";

fn finalizers_of(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|f| {
            f.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn owner_uids(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|refs| {
            refs.iter()
                .filter_map(|r| r.get("uid")?.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    group: String,
    plural: String,
    namespace: String,
    name: String,
}

impl Key {
    fn new(rt: &ResourceType, namespace: Option<&str>, name: &str) -> Self {
        Self {
            group: rt.group.into(),
            plural: rt.plural.into(),
            namespace: namespace
                .filter(|_| rt.namespaced)
                .unwrap_or_default()
                .into(),
            name: name.into(),
        }
    }
}

/// One manager's entry in `metadata.managedFields`.
#[derive(Debug, Clone)]
struct Ownership {
    manager: String,
    operation: String,
    api_version: String,
    time: String,
    fields: FieldSet,
    /// `status` for what was written through the status subresource.
    subresource: String,
}

/// Types whose registry strategy tracks `metadata.generation` (custom resources always do).
fn has_generation(rt: &ResourceType) -> bool {
    rt.custom
        || matches!(
            rt.kind,
            "Deployment"
                | "ReplicaSet"
                | "StatefulSet"
                | "DaemonSet"
                | "Job"
                | "CronJob"
                | "CustomResourceDefinition"
        )
}

const CRD_GROUP: &str = "apiextensions.k8s.io";
const CRD_PLURAL: &str = "customresourcedefinitions";

fn is_crd(key: &Key) -> bool {
    key.group == CRD_GROUP && key.plural == CRD_PLURAL
}

fn is_namespace(key: &Key) -> bool {
    key.group.is_empty() && key.plural == "namespaces"
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// What happened to an object, as a watch reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

/// One change of one object, kept in the change log and broadcast to watches.
#[derive(Debug, Clone)]
pub struct Change {
    pub revision: u64,
    pub kind: ChangeKind,
    pub group: String,
    pub plural: String,
    pub namespace: String,
    /// The object after the change (for Deleted: as it was when deleted).
    pub object: Arc<Value>,
    /// The object before the change, for watches that filter by selector.
    pub previous: Option<Arc<Value>>,
}

/// How many changes the log keeps; a watch from an older resourceVersion gets 410 Gone.
pub const DEFAULT_CHANGE_LOG: usize = 10_000;

/// All objects of the sandbox cluster.
pub struct Store {
    /// Shared with the change log: an object version is held once, however many refer to it.
    objects: BTreeMap<Key, Arc<Value>>,
    revision: u64,
    next_ip: u32,
    next_node_port: u32,
    changes: VecDeque<Arc<Change>>,
    change_log_capacity: usize,
    /// The newest revision whose change has been dropped from the log.
    compacted: u64,
    notify: broadcast::Sender<Arc<Change>>,
    /// The types the stored CustomResourceDefinitions serve.
    custom: Vec<&'static ResourceType>,
    /// Warnings for the request being served, taken by the HTTP layer.
    warnings: Vec<String>,
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

/// The simulated Nodes, named as the control plane of `scripts/control-plane.sh` names kwok's.
pub const NODES: [&str; 3] = ["node-1", "node-2", "node-3"];

/// A Ready Node with room for 110 Pods, as kwok reports one.
fn node(name: &str, index: usize) -> Value {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let condition = |kind: &str, status: &str, reason: &str, message: &str| {
        json!({"type": kind, "status": status, "reason": reason, "message": message,
               "lastHeartbeatTime": now, "lastTransitionTime": now})
    };
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64", "type": "kwok",
            },
        },
        "status": {
            "addresses": [{"type": "InternalIP", "address": format!("10.0.0.{}", index + 1)}],
            "allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110"},
            "capacity": {"cpu": "4", "memory": "16Gi", "pods": "110"},
            "conditions": [
                condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ],
            "nodeInfo": {
                "architecture": "amd64", "operatingSystem": "linux",
                "kubeletVersion": "kube-sandbox", "kubeProxyVersion": "kube-sandbox",
                "containerRuntimeVersion": "kube-sandbox", "kernelVersion": "kube-sandbox",
                "osImage": "", "machineID": "", "systemUUID": "", "bootID": "",
            },
            "phase": "Running",
        },
    })
}

impl Store {
    /// The warnings of the last request, for its response's `Warning` headers.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    /// `obj` without the fields its kind does not declare, as `opts.field_validation` asks:
    /// refused, dropped with a warning, or dropped. `apply` words the refusal as server-side
    /// apply does.
    fn declared_only(
        &mut self,
        rt: &ResourceType,
        mut obj: Value,
        opts: &WriteOptions,
        apply: bool,
    ) -> Result<Value, ApiError> {
        let undeclared = match self.custom_schema(rt) {
            Some(schema) => crate::structural::prune(&mut obj, &schema),
            None => crate::schema::drop_undeclared(&mut obj),
        };
        if undeclared.is_empty() {
            return Ok(obj);
        }
        let text = |key| obj.get(key).and_then(Value::as_str).unwrap_or_default();
        let kind = text("kind").to_string();
        let version = text("apiVersion")
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        match opts.field_validation {
            FieldValidation::Strict if apply => Err(ApiError::bad_request(
                undeclared
                    .iter()
                    .map(|path| format!(".{path}: field not declared in schema"))
                    .collect::<Vec<_>>()
                    .join(", "),
            )),
            FieldValidation::Strict => Err(ApiError::bad_request(format!(
                "{kind} in version {version:?} cannot be handled as a {kind}: strict decoding error: {}",
                undeclared
                    .iter()
                    .map(|path| format!("unknown field \"{path}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
            FieldValidation::Warn => {
                self.warnings.extend(
                    undeclared
                        .iter()
                        .map(|path| format!("unknown field \"{path}\"")),
                );
                Ok(obj)
            }
            FieldValidation::Ignore => Ok(obj),
        }
    }

    /// A store holding the namespaces and Nodes every cluster starts with.
    pub fn new() -> Self {
        Self::with_change_log(DEFAULT_CHANGE_LOG)
    }

    /// A store whose change log keeps the last `capacity` changes.
    pub fn with_change_log(capacity: usize) -> Self {
        let (notify, _) = broadcast::channel(1024);
        let mut store = Self {
            objects: BTreeMap::new(),
            revision: 1,
            next_ip: 10,
            next_node_port: 30_000,
            changes: VecDeque::new(),
            change_log_capacity: capacity.max(1),
            compacted: 0,
            notify,
            custom: Vec::new(),
            warnings: Vec::new(),
        };
        let ns_type =
            crate::catalog::by_plural("", "v1", "namespaces").expect("namespaces are built in");
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            let obj = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
            store
                .create(ns_type, None, obj, &WriteOptions::default())
                .expect("fresh store accepts its own namespaces");
        }
        let node_type = crate::catalog::by_plural("", "v1", "nodes").expect("nodes are built in");
        for (i, name) in NODES.iter().enumerate() {
            store
                .create(node_type, None, node(name, i), &WriteOptions::default())
                .expect("fresh store accepts its own nodes");
        }
        store
    }

    /// Every stored object, CRDs first, as `--state` saves them.
    pub fn export(&self) -> Vec<Value> {
        let (crds, rest): (Vec<_>, Vec<_>) = self.objects.iter().partition(|(k, _)| is_crd(k));
        crds.into_iter()
            .chain(rest)
            .map(|(_, v)| Value::clone(v))
            .collect()
    }

    /// Puts back objects saved by [`Store::export`], identities and resourceVersions as they
    /// were, so that clients resuming a watch after a restart find the versions they knew.
    /// Objects whose type is not served are reported and skipped.
    pub fn restore(&mut self, objects: Vec<Value>) -> Vec<String> {
        let mut problems = Vec::new();
        for obj in objects {
            let api_version = obj
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default();
            let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
            let Some(rt) = self
                .types()
                .into_iter()
                .find(|t| t.group == group && t.version == version && t.kind == kind)
            else {
                problems.push(format!(
                    "{api_version} {kind} {}: not served; skipped",
                    name_of(&obj).unwrap_or_default()
                ));
                continue;
            };
            let key = Key::new(
                rt,
                obj.pointer("/metadata/namespace").and_then(Value::as_str),
                name_of(&obj).unwrap_or_default(),
            );
            let rv = obj
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            self.revision = self.revision.max(rv);
            let crd = is_crd(&key);
            self.objects.insert(key, Arc::new(obj));
            if crd {
                self.refresh_custom_types();
            }
        }
        problems
    }

    /// The current resourceVersion of the whole store.
    pub fn resource_version(&self) -> String {
        self.revision.to_string()
    }

    pub fn get(&self, rt: &ResourceType, ns: Option<&str>, name: &str) -> Result<Value, ApiError> {
        self.objects
            .get(&Key::new(rt, ns, name))
            .map(|o| Value::clone(o))
            .ok_or_else(|| ApiError::not_found(rt, name))
    }

    /// Objects of one type, in one namespace or all, that match the selectors.
    /// The objects of one type, in key order: a range of the map, not a walk over all of it.
    fn of_type<'a>(
        &'a self,
        rt: &'a ResourceType,
    ) -> impl Iterator<Item = (&'a Key, &'a Arc<Value>)> + 'a {
        let first = Key {
            group: rt.group.into(),
            plural: rt.plural.into(),
            namespace: String::new(),
            name: String::new(),
        };
        self.objects
            .range(first..)
            .take_while(|(k, _)| k.group == rt.group && k.plural == rt.plural)
    }

    /// Every object of one type, shared rather than copied (the controllers read them all,
    /// each pass).
    pub fn all_of(&self, rt: &ResourceType) -> Vec<Arc<Value>> {
        self.of_type(rt).map(|(_, v)| v.clone()).collect()
    }

    pub fn list(
        &self,
        rt: &ResourceType,
        ns: Option<&str>,
        labels: &LabelSelector,
        field: &FieldSelector,
    ) -> Vec<Value> {
        self.of_type(rt)
            .filter(|(k, _)| ns.is_none() || !rt.namespaced || Some(k.namespace.as_str()) == ns)
            .map(|(_, v)| v)
            .filter(|v| labels.matches_object(v))
            .filter(|v| field.matches(v))
            .map(|v| Value::clone(v))
            .collect()
    }

    pub fn create(
        &mut self,
        rt: &ResourceType,
        ns: Option<&str>,
        obj: Value,
        opts: &WriteOptions,
    ) -> Result<Value, ApiError> {
        let obj = typed(rt, obj);
        check_type(rt, &obj)?;
        check_field_types(rt, &obj)?;
        let mut obj = self.declared_only(rt, obj, opts, false)?;
        let ns = self.resolve_namespace(rt, ns, &obj)?;
        let name = match name_of(&obj) {
            Some(n) => n.to_string(),
            None => match obj
                .pointer("/metadata/generateName")
                .and_then(Value::as_str)
            {
                Some(prefix) => format!("{prefix}{}", random_suffix()),
                None => {
                    return Err(invalid(
                        rt,
                        "",
                        "metadata.name",
                        "name or generateName is required",
                    ));
                }
            },
        };
        if self
            .objects
            .contains_key(&Key::new(rt, ns.as_deref(), &name))
        {
            return Err(ApiError::new(
                409,
                "AlreadyExists",
                format!("{} \"{name}\" already exists", qualified(rt)),
            )
            .with_details(rt, &name));
        }
        set_identity(&mut obj, &name, ns.as_deref());
        let owner = Ownership {
            manager: opts
                .field_manager
                .clone()
                .unwrap_or_else(|| "unknown".into()),
            operation: "Update".into(),
            api_version: rt.api_version(),
            time: now(),
            fields: fields::leaf_paths(&obj),
            subresource: String::new(),
        };
        self.finish_create(rt, obj, vec![owner], opts)
    }

    /// PUT: replaces the object, with optimistic concurrency when the body names a resourceVersion.
    pub fn update(
        &mut self,
        rt: &ResourceType,
        ns: Option<&str>,
        name: &str,
        obj: Value,
        opts: &WriteOptions,
    ) -> Result<Value, ApiError> {
        let obj = typed(rt, obj);
        check_type(rt, &obj)?;
        check_field_types(rt, &obj)?;
        check_name(&obj, name)?;
        let mut obj = self.declared_only(rt, obj, opts, false)?;
        let live = self.get(rt, ns, name)?;
        if let Some(rv) = obj
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            && Some(rv)
                != live
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
        {
            return Err(ApiError::new(
                409,
                "Conflict",
                format!(
                    "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                    qualified(rt)
                ),
            )
            .with_details(rt, name));
        }
        set_identity(&mut obj, name, ns.filter(|_| rt.namespaced));
        if obj.get("status").is_none()
            && let Some(status) = live.get("status")
        {
            obj["status"] = status.clone();
        }
        let owners = take_ownership_of_changes(&live, &obj, opts);
        self.finish_update(rt, &live, obj, owners, opts)
    }

    /// JSON merge patch (RFC 7386).
    pub fn merge_patch(
        &mut self,
        rt: &ResourceType,
        ns: Option<&str>,
        name: &str,
        patch: &Value,
        opts: &WriteOptions,
    ) -> Result<Value, ApiError> {
        self.patch(rt, ns, name, opts, |obj| {
            merge(obj, patch);
            Ok(())
        })
    }

    /// Strategic merge patch: lists merge by their patch merge keys (see [`crate::strategic`]).
    pub fn strategic_merge_patch(
        &mut self,
        rt: &ResourceType,
        ns: Option<&str>,
        name: &str,
        patch: &Value,
        opts: &WriteOptions,
    ) -> Result<Value, ApiError> {
        self.patch(rt, ns, name, opts, |obj| {
            strategic::apply(obj, patch).map_err(ApiError::bad_request)
        })
    }

    /// JSON patch (RFC 6902): a list of add, remove, replace, move, copy and test operations.
    pub fn json_patch(
        &mut self,
        rt: &ResourceType,
        ns: Option<&str>,
        name: &str,
        operations: &Value,
        opts: &WriteOptions,
    ) -> Result<Value, ApiError> {
        let patch: json_patch::Patch = serde_json::from_value(operations.clone())
            .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
        self.patch(rt, ns, name, opts, |obj| {
            json_patch::patch(obj, &patch).map_err(|e| {
                ApiError::new(
                    422,
                    "Invalid",
                    format!("the server rejected our request due to an error in our request: {e}"),
                )
            })
        })
    }

    /// A patch of any type: `edit` changes a copy of the live object, which then replaces it.
    fn patch(
        &mut self,
        rt: &ResourceType,
        ns: Option<&str>,
        name: &str,
        opts: &WriteOptions,
        edit: impl FnOnce(&mut Value) -> Result<(), ApiError>,
    ) -> Result<Value, ApiError> {
        let live = self.get(rt, ns, name)?;
        let mut obj = live.clone();
        edit(&mut obj)?;
        check_type(rt, &obj)?;
        let obj = self.declared_only(rt, obj, opts, false)?;
        check_name(&obj, name)?;
        let owners = take_ownership_of_changes(&live, &obj, opts);
        self.finish_update(rt, &live, obj, owners, opts)
    }

    /// Server-side apply of `config` by `opts.field_manager`.
    pub fn apply(
        &mut self,
        rt: &ResourceType,
        ns: Option<&str>,
        name: &str,
        config: &Value,
        opts: &WriteOptions,
    ) -> Result<Value, ApiError> {
        let manager = opts.field_manager.clone().ok_or_else(|| {
            ApiError::bad_request(
                "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
            )
        })?;
        check_type(rt, config)?;
        check_name(config, name)?;
        let config = &self.declared_only(rt, config.clone(), opts, true)?;
        let applied = fields::leaf_paths(config);
        let live = match self.get(rt, ns, name) {
            Ok(live) => live,
            Err(e) if e.code == 404 => {
                let ns = self.resolve_namespace(rt, ns, config)?;
                let mut obj = config.clone();
                set_identity(&mut obj, name, ns.as_deref());
                let owner = Ownership {
                    manager,
                    operation: "Apply".into(),
                    api_version: rt.api_version(),
                    time: now(),
                    fields: applied,
                    subresource: String::new(),
                };
                return self.finish_create(rt, obj, vec![owner], opts);
            }
            Err(e) => return Err(e),
        };

        let mut owners = read_owners(&live);
        // Per other manager, the fields this apply changes that it owns.
        let contested: Vec<(usize, Vec<FieldPath>)> = owners
            .iter()
            .enumerate()
            .filter(|(_, o)| o.manager != manager)
            .map(|(i, other)| {
                let paths = other
                    .fields
                    .iter()
                    .filter(|owned| applied.iter().any(|p| contests(p, owned)))
                    // Same value: the managers share the field.
                    .filter(|path| fields::get(&live, path) != fields::get(config, path))
                    .cloned()
                    .collect();
                (i, paths)
            })
            .collect();
        // kube-apiserver lets `kubectl apply --server-side` take over what an earlier
        // client-side `kubectl apply` set (its last-applied annotation names it): the way from
        // client-side to server-side apply.
        let from_client_side = manager == "kubectl" && {
            let last_applied = live
                .pointer("/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration")
                .and_then(Value::as_str)
                .and_then(|text| serde_json::from_str::<Value>(text).ok())
                .map(|config| fields::leaf_paths(&config))
                .unwrap_or_default();
            contested
                .iter()
                .flat_map(|(_, paths)| paths)
                .all(|path| last_applied.contains(path))
        };
        let mut conflicts = Vec::new();
        for (i, paths) in contested {
            for path in paths {
                if opts.force || from_client_side {
                    owners[i].fields.remove(&path);
                } else {
                    conflicts.push(format!(
                        "conflict with \"{}\": {}",
                        owners[i].manager,
                        fields::display(&path)
                    ));
                }
            }
        }
        if !conflicts.is_empty() {
            let message = format!(
                "Apply failed with {} conflict{}: {}",
                conflicts.len(),
                if conflicts.len() == 1 { "" } else { "s" },
                conflicts.join("\n")
            );
            return Err(ApiError::new(409, "Conflict", message).with_details(rt, name));
        }

        let previously = owners
            .iter()
            .find(|o| o.manager == manager && o.operation == "Apply")
            .map(|o| o.fields.clone())
            .unwrap_or_default();
        let mut obj = live.clone();
        for dropped in previously.difference(&applied) {
            let shared = owners
                .iter()
                .any(|o| o.manager != manager && o.fields.iter().any(|f| overlaps(f, dropped)));
            if !shared {
                fields::remove(&mut obj, dropped);
            }
        }
        for path in &applied {
            if let Some(v) = fields::get(config, path) {
                fields::set(&mut obj, path, v.clone());
            }
        }
        owners.retain(|o| !(o.manager == manager && o.operation == "Apply"));
        owners.push(Ownership {
            manager,
            operation: "Apply".into(),
            api_version: rt.api_version(),
            time: now(),
            fields: applied,
            subresource: String::new(),
        });
        self.finish_update(rt, &live, obj, owners, opts)
    }

    /// Deletes an object as kube-apiserver does: at once when it has no finalizers, otherwise
    /// by setting `deletionTimestamp` and waiting for them to go. Dependents (by ownerReferences)
    /// follow `opts.propagation`; a Namespace takes its contents with it. Returns the object as
    /// deleted or as now marked for deletion.
    pub fn delete(
        &mut self,
        rt: &ResourceType,
        ns: Option<&str>,
        name: &str,
        opts: &WriteOptions,
    ) -> Result<Value, ApiError> {
        let key = Key::new(rt, ns, name);
        let obj = self
            .objects
            .get(&key)
            .map(|o| Value::clone(o))
            .ok_or_else(|| ApiError::not_found(rt, name))?;
        if opts.dry_run {
            return Ok(obj);
        }
        let result = self.begin_delete(&key, opts.propagation);
        self.collect_garbage();
        Ok(result)
    }

    /// Deletes every object of one type (in one namespace or all) that the selectors match.
    pub fn delete_collection(
        &mut self,
        rt: &ResourceType,
        ns: Option<&str>,
        labels: &LabelSelector,
        field: &FieldSelector,
        opts: &WriteOptions,
    ) -> Vec<Value> {
        let matching = self.list(rt, ns, labels, field);
        if opts.dry_run {
            return matching;
        }
        let deleted = matching
            .iter()
            .map(|obj| {
                let key = Key::new(
                    rt,
                    obj.pointer("/metadata/namespace").and_then(Value::as_str),
                    name_of(obj).unwrap_or_default(),
                );
                self.begin_delete(&key, opts.propagation)
            })
            .collect();
        self.collect_garbage();
        deleted
    }

    fn begin_delete(&mut self, key: &Key, propagation: Propagation) -> Value {
        let Some(obj) = self.objects.get(key).map(|o| Value::clone(o)) else {
            return Value::Null;
        };
        let uid = obj
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        match propagation {
            Propagation::Orphan => {
                self.orphan_dependents(&uid);
                self.delete_or_mark(key, None)
            }
            Propagation::Foreground => {
                let marked = self.delete_or_mark(key, Some(FOREGROUND));
                for dependent in self.dependents_of(&uid) {
                    self.begin_delete(&dependent, Propagation::Background);
                }
                marked
            }
            Propagation::Background => self.delete_or_mark(key, None),
        }
    }

    /// Removes the object now, or marks it for deletion while finalizers (plus `extra`) remain.
    fn delete_or_mark(&mut self, key: &Key, extra: Option<&str>) -> Value {
        if is_namespace(key) {
            return self.terminate_namespace(key);
        }
        let Some(mut obj) = self.objects.get(key).map(|o| Value::clone(o)) else {
            return Value::Null;
        };
        let mut finalizers = finalizers_of(&obj);
        if let Some(extra) = extra.filter(|e| !finalizers.iter().any(|f| f == e)) {
            finalizers.push(extra.to_string());
        }
        if finalizers.is_empty() {
            return self.remove_now(key);
        }
        if obj.pointer("/metadata/deletionTimestamp").is_some() && finalizers == finalizers_of(&obj)
        {
            return obj; // Already waiting for its finalizers.
        }
        self.revision += 1;
        let meta = meta_mut(&mut obj);
        meta.entry("deletionTimestamp")
            .or_insert_with(|| json!(now()));
        meta.insert("deletionGracePeriodSeconds".into(), json!(0));
        meta.insert("finalizers".into(), json!(finalizers));
        meta.insert("resourceVersion".into(), json!(self.revision.to_string()));
        self.put(ChangeKind::Modified, key, obj.clone());
        obj
    }

    /// A Namespace goes `Terminating`, its contents are deleted as the namespace controller
    /// deletes them, and it goes once they and its own finalizers have gone.
    fn terminate_namespace(&mut self, key: &Key) -> Value {
        let Some(mut obj) = self.objects.get(key).map(|o| Value::clone(o)) else {
            return Value::Null;
        };
        if obj.pointer("/metadata/deletionTimestamp").is_none() {
            self.revision += 1;
            let meta = meta_mut(&mut obj);
            meta.insert("deletionTimestamp".into(), json!(now()));
            meta.insert("deletionGracePeriodSeconds".into(), json!(0));
            meta.insert("resourceVersion".into(), json!(self.revision.to_string()));
            obj["status"] = json!({
                "phase": "Terminating",
                "conditions": [{
                    "type": "NamespaceDeletionContentFailure", "status": "False",
                    "reason": "ContentDeleted", "message": "All content successfully deleted, may be waiting on finalization",
                    "lastTransitionTime": now(),
                }],
            });
            self.put(ChangeKind::Modified, key, obj.clone());
        }
        for k in self.keys_in_namespace(&key.name) {
            self.begin_delete(&k, Propagation::Background);
        }
        obj
    }

    fn keys_in_namespace(&self, namespace: &str) -> Vec<Key> {
        self.objects
            .keys()
            .filter(|k| k.namespace == namespace)
            .cloned()
            .collect()
    }

    /// Takes the object out of the store (a Namespace with everything in it).
    fn remove_now(&mut self, key: &Key) -> Value {
        let Some(removed) = self.objects.remove(key) else {
            return Value::Null;
        };
        let mut obj = Arc::unwrap_or_clone(removed);
        if is_crd(key) {
            // A CRD takes its custom resources with it.
            let served = crate::catalog::from_crd(&obj);
            let instances: Vec<Key> = self
                .objects
                .keys()
                .filter(|k| {
                    served
                        .iter()
                        .any(|t| t.group == k.group && t.plural == k.plural)
                })
                .cloned()
                .collect();
            for k in instances {
                self.remove_now(&k);
            }
        }
        self.revision += 1;
        meta_mut(&mut obj).insert("resourceVersion".into(), json!(self.revision.to_string()));
        self.record(ChangeKind::Deleted, key, Arc::new(obj.clone()), None);
        if is_crd(key) {
            self.refresh_custom_types();
        }
        if key.plural == "namespaces" && key.group.is_empty() {
            for k in self.keys_in_namespace(&key.name) {
                self.remove_now(&k);
            }
        }
        obj
    }

    fn dependents_of(&self, uid: &str) -> Vec<Key> {
        self.objects
            .iter()
            .filter(|(_, o)| owner_uids(o).iter().any(|u| u == uid))
            .map(|(k, _)| k.clone())
            .collect()
    }

    fn orphan_dependents(&mut self, uid: &str) {
        for key in self.dependents_of(uid) {
            let Some(mut obj) = self.objects.get(&key).map(|o| Value::clone(o)) else {
                continue;
            };
            if let Some(refs) = obj
                .pointer_mut("/metadata/ownerReferences")
                .and_then(Value::as_array_mut)
            {
                refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(uid));
                if refs.is_empty()
                    && let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut)
                {
                    meta.remove("ownerReferences");
                }
            }
            self.revision += 1;
            meta_mut(&mut obj).insert("resourceVersion".into(), json!(self.revision.to_string()));
            self.put(ChangeKind::Modified, &key, obj);
        }
    }

    /// The garbage collector, run to a fixed point after every deletion: objects whose owners
    /// are all gone are deleted, and owners waiting in foreground deletion go once their
    /// dependents have.
    fn collect_garbage(&mut self) {
        loop {
            let uids: BTreeSet<String> = self
                .objects
                .values()
                .filter_map(|o| {
                    o.pointer("/metadata/uid")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .collect();
            let orphaned: Vec<Key> = self
                .objects
                .iter()
                .filter(|(_, o)| o.pointer("/metadata/deletionTimestamp").is_none())
                .filter(|(_, o)| {
                    let owners = owner_uids(o);
                    !owners.is_empty() && owners.iter().all(|u| !uids.contains(u))
                })
                .map(|(k, _)| k.clone())
                .collect();
            let finished: Vec<Key> = self
                .objects
                .iter()
                .filter(|(_, o)| {
                    o.pointer("/metadata/deletionTimestamp").is_some()
                        && finalizers_of(o) == [FOREGROUND]
                })
                .filter(|(_, o)| {
                    let uid = o
                        .pointer("/metadata/uid")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    self.objects
                        .values()
                        .all(|d| !owner_uids(d).iter().any(|u| u == uid))
                })
                .map(|(k, _)| k.clone())
                .collect();
            let emptied: Vec<Key> = self
                .objects
                .iter()
                .filter(|(k, o)| {
                    is_namespace(k)
                        && o.pointer("/metadata/deletionTimestamp").is_some()
                        && finalizers_of(o).is_empty()
                        && !self.objects.keys().any(|inner| inner.namespace == k.name)
                })
                .map(|(k, _)| k.clone())
                .collect();
            if orphaned.is_empty() && finished.is_empty() && emptied.is_empty() {
                return;
            }
            for key in emptied {
                self.remove_now(&key);
            }
            for key in orphaned {
                self.begin_delete(&key, Propagation::Background);
            }
            for key in finished {
                self.remove_now(&key);
            }
        }
    }

    fn resolve_namespace(
        &self,
        rt: &ResourceType,
        url_ns: Option<&str>,
        obj: &Value,
    ) -> Result<Option<String>, ApiError> {
        if !rt.namespaced {
            return Ok(None);
        }
        let body_ns = obj.pointer("/metadata/namespace").and_then(Value::as_str);
        let ns = match (url_ns, body_ns) {
            (Some(u), Some(b)) if u != b => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            (Some(u), _) => u,
            (None, Some(b)) => b,
            (None, None) => "default",
        };
        let ns_type =
            crate::catalog::by_plural("", "v1", "namespaces").expect("namespaces are built in");
        let Some(namespace) = self.objects.get(&Key::new(ns_type, None, ns)) else {
            return Err(ApiError::not_found(ns_type, ns));
        };
        if namespace.pointer("/metadata/deletionTimestamp").is_some() {
            let name = name_of(obj).unwrap_or_default();
            return Err(ApiError::new(
                403,
                "Forbidden",
                format!(
                    "{} \"{name}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated",
                    qualified(rt)
                ),
            )
            .with_details(rt, name));
        }
        Ok(Some(ns.to_string()))
    }

    fn finish_create(
        &mut self,
        rt: &ResourceType,
        mut obj: Value,
        mut owners: Vec<Ownership>,
        opts: &WriteOptions,
    ) -> Result<Value, ApiError> {
        if crate::catalog::has_status_subresource(rt)
            && let Some(o) = obj.as_object_mut()
        {
            o.remove("status"); // Status is the controllers' to write, never the creator's.
        }
        let sent = fields::leaf_paths(&obj);
        self.default(rt, &mut obj);
        self.structural(rt, &mut obj)?;
        if crate::catalog::has_status_subresource(rt)
            && let Some(o) = obj.as_object_mut()
        {
            // Go's empty status struct, until the controllers write one.
            o.entry("status").or_insert_with(|| json!({}));
        }
        // A create's Update entry owns the defaults the scheme filled in too (not what the
        // server itself allocates or keeps: status, a Namespace's finalizers, cluster IPs).
        let defaulted: Vec<FieldPath> = fields::leaf_paths(&obj)
            .into_iter()
            .filter(|p| !sent.contains(p) && scheme_default(p))
            .collect();
        for owner in owners.iter_mut().filter(|o| o.operation == "Update") {
            owner.fields.extend(defaulted.iter().cloned());
        }
        crate::validation::validate(rt, &obj)?;
        let meta = meta_mut(&mut obj);
        meta.insert("uid".into(), json!(new_uid()));
        meta.insert("creationTimestamp".into(), json!(now()));
        if has_generation(rt) {
            meta.insert("generation".into(), json!(1));
        }
        write_owners(&mut obj, &owners);
        let rv = self.revision + 1;
        if !opts.dry_run {
            // A dry run never reaches storage, so a created object has no resourceVersion yet.
            meta_mut(&mut obj).insert("resourceVersion".into(), json!(rv.to_string()));
            self.revision = rv;
            let key = Key::new(
                rt,
                obj.pointer("/metadata/namespace").and_then(Value::as_str),
                name_of(&obj).unwrap_or_default(),
            );
            self.put(ChangeKind::Added, &key, obj.clone());
        }
        Ok(obj)
    }

    fn finish_update(
        &mut self,
        rt: &ResourceType,
        live: &Value,
        mut obj: Value,
        mut owners: Vec<Ownership>,
        opts: &WriteOptions,
    ) -> Result<Value, ApiError> {
        if opts.status {
            // The status subresource changes status and nothing else; who wrote it is kept
            // as kube-apiserver keeps it, an entry of the writer's for the status subresource.
            let status = obj.get("status").cloned();
            obj = live.clone();
            set_or_remove(&mut obj, "status", status);
            owners = read_owners(live);
            let before = fields::status_paths(live);
            let changed: FieldSet = fields::status_paths(&obj)
                .into_iter()
                .filter(|p| !before.contains(p) || fields::get(live, p) != fields::get(&obj, p))
                .collect();
            if !changed.is_empty() {
                let manager = opts
                    .field_manager
                    .clone()
                    .unwrap_or_else(|| "unknown".into());
                for o in owners.iter_mut() {
                    o.fields.retain(|f| !changed.contains(f));
                }
                record_update(&mut owners, manager, "status", rt.api_version(), changed);
            }
        } else if crate::catalog::has_status_subresource(rt) {
            // The main resource keeps the status it had, whatever the request carried.
            set_or_remove(&mut obj, "status", live.get("status").cloned());
        }
        self.default(rt, &mut obj);
        self.structural(rt, &mut obj)?;
        crate::validation::validate(rt, &obj)?;
        for field in [
            "uid",
            "creationTimestamp",
            "resourceVersion",
            "generation",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ] {
            match live.pointer(&format!("/metadata/{field}")) {
                Some(v) => meta_mut(&mut obj).insert(field.into(), v.clone()),
                None => meta_mut(&mut obj).remove(field),
            };
        }
        write_owners(&mut obj, &owners);
        if without_bookkeeping(&obj) == without_bookkeeping(live) {
            return Ok(live.clone()); // A no-op write changes nothing, not even resourceVersion.
        }
        if has_generation(rt) && spec_of(&obj) != spec_of(live) {
            let generation = live
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0)
                + 1;
            meta_mut(&mut obj).insert("generation".into(), json!(generation));
        }
        let rv = self.revision + 1;
        if !opts.dry_run {
            // A dry run keeps the live resourceVersion, as kube-apiserver's does.
            meta_mut(&mut obj).insert("resourceVersion".into(), json!(rv.to_string()));
            self.revision = rv;
            let key = Key::new(
                rt,
                obj.pointer("/metadata/namespace").and_then(Value::as_str),
                name_of(&obj).unwrap_or_default(),
            );
            self.put(ChangeKind::Modified, &key, obj.clone());
            // The last finalizer of an object being deleted is gone: the deletion completes.
            if obj.pointer("/metadata/deletionTimestamp").is_some()
                && finalizers_of(&obj).is_empty()
            {
                self.remove_now(&key);
                self.collect_garbage();
            }
        }
        Ok(obj)
    }

    /// Every type the cluster serves now: the built-ins, then the custom ones.
    pub fn types(&self) -> Vec<&'static ResourceType> {
        crate::catalog::BUILT_IN
            .iter()
            .chain(self.custom.iter().copied())
            .collect()
    }

    /// The structural schema a custom type's CRD declares for its version.
    fn custom_schema(&self, rt: &ResourceType) -> Option<Value> {
        if !rt.custom {
            return None;
        }
        self.objects
            .iter()
            .filter(|(k, _)| is_crd(k))
            .map(|(_, crd)| crd)
            .find(|crd| {
                crd["spec"]["group"] == rt.group && crd["spec"]["names"]["plural"] == rt.plural
            })?["spec"]["versions"]
            .as_array()?
            .iter()
            .find(|v| v["name"] == rt.version)?
            .pointer("/schema/openAPIV3Schema")
            .cloned()
    }

    /// Defaults and validation by a custom type's schema.
    fn structural(&self, rt: &ResourceType, obj: &mut Value) -> Result<(), ApiError> {
        let Some(schema) = self.custom_schema(rt) else {
            return Ok(());
        };
        crate::structural::default(obj, &schema);
        let faults = crate::structural::validate(obj, &schema);
        if faults.is_empty() {
            return Ok(());
        }
        Err(crate::validation::refused(rt, obj, faults))
    }

    /// The type served at `group/version` under `plural`, built-in or custom.
    pub fn type_by_plural(
        &self,
        group: &str,
        version: &str,
        plural: &str,
    ) -> Option<&'static ResourceType> {
        crate::catalog::by_plural(group, version, plural).or_else(|| {
            self.custom
                .iter()
                .copied()
                .find(|t| t.group == group && t.version == version && t.plural == plural)
        })
    }

    fn refresh_custom_types(&mut self) {
        self.custom = self
            .objects
            .iter()
            .filter(|(k, o)| is_crd(k) && o.pointer("/metadata/deletionTimestamp").is_none())
            .flat_map(|(_, o)| crate::catalog::from_crd(o))
            .collect();
    }

    /// Stores a new version of an object and records the change, sharing both versions with
    /// the change log rather than copying them.
    fn put(&mut self, kind: ChangeKind, key: &Key, obj: Value) {
        let object = Arc::new(obj);
        let previous = self.objects.insert(key.clone(), object.clone());
        self.record(kind, key, object, previous);
    }

    /// Appends a change to the log (dropping the oldest past capacity) and tells every watch.
    fn record(
        &mut self,
        kind: ChangeKind,
        key: &Key,
        object: Arc<Value>,
        previous: Option<Arc<Value>>,
    ) {
        let change = Arc::new(Change {
            revision: self.revision,
            kind,
            group: key.group.clone(),
            plural: key.plural.clone(),
            namespace: key.namespace.clone(),
            object,
            previous,
        });
        self.changes.push_back(change.clone());
        while self.changes.len() > self.change_log_capacity {
            if let Some(dropped) = self.changes.pop_front() {
                self.compacted = dropped.revision;
            }
        }
        // No receivers is fine: nobody is watching.
        let _ = self.notify.send(change);
        if is_crd(key) && kind != ChangeKind::Deleted {
            self.refresh_custom_types();
        }
    }

    /// A receiver for every change from now on (the controllers wake on these).
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.notify.subscribe()
    }

    /// Starts a watch of one type (in one namespace or all) from `resource_version`: the
    /// changes to replay, then a receiver for the ones to come. No version (or "0") replays the
    /// current objects as Added, as kube-apiserver does.
    #[allow(clippy::type_complexity)]
    pub fn watch(
        &self,
        rt: &ResourceType,
        ns: Option<&str>,
        resource_version: Option<&str>,
    ) -> Result<(Vec<Arc<Change>>, broadcast::Receiver<Arc<Change>>), ApiError> {
        let receiver = self.notify.subscribe();
        let in_scope = |group: &str, plural: &str, namespace: &str| {
            group == rt.group
                && plural == rt.plural
                && (ns.is_none() || !rt.namespaced || Some(namespace) == ns)
        };
        let from =
            match resource_version.filter(|v| !v.is_empty() && *v != "0") {
                None => None,
                Some(v) => Some(v.parse::<u64>().map_err(|_| {
                    ApiError::bad_request(format!("invalid resource version: {v:?}"))
                })?),
            };
        let replay = match from {
            None => self
                .objects
                .iter()
                .filter(|(k, _)| in_scope(&k.group, &k.plural, &k.namespace))
                .map(|(k, v)| {
                    Arc::new(Change {
                        revision: self.revision,
                        kind: ChangeKind::Added,
                        group: k.group.clone(),
                        plural: k.plural.clone(),
                        namespace: k.namespace.clone(),
                        object: v.clone(),
                        previous: None,
                    })
                })
                .collect(),
            Some(version) if version < self.compacted => {
                return Err(ApiError::new(
                    410,
                    "Expired",
                    format!(
                        "too old resource version: {version} ({})",
                        self.compacted + 1
                    ),
                ));
            }
            Some(version) => self
                .changes
                .iter()
                .filter(|c| c.revision > version && in_scope(&c.group, &c.plural, &c.namespace))
                .cloned()
                .collect(),
        };
        Ok((replay, receiver))
    }

    fn default(&mut self, rt: &ResourceType, obj: &mut Value) {
        let (next_ip, next_node_port) = (&mut self.next_ip, &mut self.next_node_port);
        defaults::apply(rt.kind, obj, &mut |what| match what {
            defaults::Allocation::ClusterIp => {
                *next_ip += 1;
                json!(format!("10.96.{}.{}", *next_ip / 250, *next_ip % 250))
            }
            defaults::Allocation::NodePort => {
                *next_node_port += 1;
                json!(*next_node_port)
            }
        });
    }
}

/// `metadata.name=x` and `metadata.namespace=y` field selectors, as clients send them most.
#[derive(Debug, Clone, Default)]
pub struct FieldSelector(Vec<(String, bool, String)>);

impl FieldSelector {
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        let mut terms = Vec::new();
        for term in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let (field, equal, value) = if let Some((f, v)) = term.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                (f, true, v)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid selector: '{term}'; can't understand '{term}'"
                )));
            };
            terms.push((field.trim().to_string(), equal, value.trim().to_string()));
        }
        Ok(Self(terms))
    }

    pub(crate) fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|(field, equal, value)| {
            let pointer = format!("/{}", field.replace('.', "/"));
            let actual = obj.pointer(&pointer).map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            (actual.as_deref() == Some(value.as_str())) == *equal
        })
    }
}

pub(crate) fn labels_of(obj: &Value) -> BTreeMap<String, String> {
    obj.pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn name_of(obj: &Value) -> Option<&str> {
    obj.pointer("/metadata/name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
}

fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    obj["metadata"]
        .as_object_mut()
        .unwrap_or_else(|| unreachable!("metadata was made an object above"))
}

fn set_identity(obj: &mut Value, name: &str, ns: Option<&str>) {
    let meta = meta_mut(obj);
    meta.insert("name".into(), json!(name));
    meta.remove("generateName");
    match ns {
        Some(ns) => meta.insert("namespace".into(), json!(ns)),
        None => meta.remove("namespace"),
    };
}

/// A create or update body without apiVersion and kind (a typed client's, as the Python
/// client sends) is of the kind its URL names, as kube-apiserver's decoder reads it.
fn typed(rt: &ResourceType, mut obj: Value) -> Value {
    if let Some(fields) = obj.as_object_mut() {
        for (field, value) in [
            ("apiVersion", rt.api_version()),
            ("kind", rt.kind.to_string()),
        ] {
            let missing = fields
                .get(field)
                .and_then(Value::as_str)
                .is_none_or(str::is_empty);
            if missing {
                fields.insert(field.to_string(), Value::String(value));
            }
        }
    }
    obj
}

/// kube-apiserver's decoder refusing a field of the wrong JSON type.
fn check_field_types(rt: &ResourceType, obj: &Value) -> Result<(), ApiError> {
    crate::protobuf::type_check(obj).map_err(|e| {
        ApiError::bad_request(format!(
            "{kind} in version \"{version}\" cannot be handled as a {kind}: {e}",
            kind = rt.kind,
            version = rt.version
        ))
    })
}

fn check_type(rt: &ResourceType, obj: &Value) -> Result<(), ApiError> {
    let api_version = obj
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default();
    if kind.is_empty() || api_version.is_empty() {
        return Err(ApiError::bad_request(
            "Object 'Kind' is missing in the request body",
        ));
    }
    if api_version != rt.api_version() {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({api_version}) does not match the expected API version ({})",
            rt.api_version()
        )));
    }
    if kind != rt.kind {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({kind}) does not match the expected kind ({})",
            rt.kind
        )));
    }
    Ok(())
}

fn check_name(obj: &Value, url_name: &str) -> Result<(), ApiError> {
    match name_of(obj) {
        Some(n) if n != url_name => Err(ApiError::bad_request(format!(
            "the name of the object ({n}) does not match the name on the URL ({url_name})"
        ))),
        _ => Ok(()),
    }
}

fn invalid(rt: &ResourceType, name: &str, field: &str, why: &str) -> ApiError {
    let mut e = ApiError::new(
        422,
        "Invalid",
        format!(
            "{} {:?} is invalid: {field}: Required value: {why}",
            rt.kind, name
        ),
    )
    .with_details(rt, name);
    if let Some(d) = e.details.as_mut() {
        d["causes"] = json!([{"reason": "FieldValueRequired", "message": format!("Required value: {why}"), "field": field}]);
    }
    e
}

fn overlaps(a: &[Step], b: &[Step]) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

/// Whether applying `applied` contends with another manager's `owned` path: the same leaf, or
/// an atomic value owned whole that the apply reaches into. A list item's own marker is shared,
/// never contended: two managers may each own fields of the same container.
fn contests(applied: &[Step], owned: &[Step]) -> bool {
    !matches!(owned.last(), Some(Step::Key(_))) && applied.starts_with(owned)
}

/// Whether a field defaulting filled in is the scheme's default, which a creator owns, rather
/// than something the server allocates or keeps for itself.
fn scheme_default(path: &FieldPath) -> bool {
    let names: Vec<&str> = path
        .iter()
        .map(|step| match step {
            Step::Field(name) => name.as_str(),
            _ => "",
        })
        .collect();
    !matches!(
        names.as_slice(),
        ["status", ..]
            | ["spec", "finalizers", ..]
            | [
                "spec",
                "clusterIP" | "clusterIPs" | "ipFamilies" | "ipFamilyPolicy",
                ..
            ]
            | ["spec", "ports", _, "nodePort"]
    )
}

fn read_owners(obj: &Value) -> Vec<Ownership> {
    obj.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .map(|e| Ownership {
                    manager: e["manager"].as_str().unwrap_or_default().to_string(),
                    operation: e["operation"].as_str().unwrap_or("Update").to_string(),
                    api_version: e["apiVersion"].as_str().unwrap_or_default().to_string(),
                    time: e["time"].as_str().unwrap_or_default().to_string(),
                    fields: fields::from_fields_v1(&e["fieldsV1"]),
                    subresource: e["subresource"].as_str().unwrap_or_default().to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn write_owners(obj: &mut Value, owners: &[Ownership]) {
    // In kube-apiserver's order: Apply before Update, then by time, then by manager.
    let mut owners: Vec<&Ownership> = owners.iter().collect();
    owners.sort_by(|a, b| {
        (
            a.operation.as_str(),
            a.time.as_str(),
            a.manager.as_str(),
            a.subresource.as_str(),
        )
            .cmp(&(
                b.operation.as_str(),
                b.time.as_str(),
                b.manager.as_str(),
                b.subresource.as_str(),
            ))
    });
    let entries: Vec<Value> = owners
        .into_iter()
        .filter(|o| !o.fields.is_empty())
        .map(|o| {
            let mut entry = json!({
                "manager": o.manager, "operation": o.operation, "apiVersion": o.api_version,
                "time": o.time, "fieldsType": "FieldsV1", "fieldsV1": fields::to_fields_v1(&o.fields),
            });
            if o.time.is_empty() {
                // Sent without one: kept without one.
                entry.as_object_mut().map(|e| e.remove("time"));
            }
            if !o.subresource.is_empty() {
                entry["subresource"] = json!(o.subresource);
            }
            entry
        })
        .collect();
    meta_mut(obj).insert("managedFields".into(), Value::Array(entries));
}

/// For an Update by `opts.field_manager`: the manager takes every field whose value changed,
/// and other managers lose those fields.
fn take_ownership_of_changes(live: &Value, obj: &Value, opts: &WriteOptions) -> Vec<Ownership> {
    let manager = opts
        .field_manager
        .clone()
        .unwrap_or_else(|| "unknown".into());
    let before = fields::leaf_paths(live);
    let after = fields::leaf_paths(obj);
    let changed: BTreeSet<FieldPath> = after
        .iter()
        .filter(|p| !before.contains(*p) || fields::get(live, p) != fields::get(obj, p))
        .cloned()
        .collect();
    // managedFields a client sent that differ from the live ones replace them, as
    // kube-apiserver takes them (kubectl moves client-side apply's fields to its server-side
    // apply manager this way; Argo CD too).
    let mut owners = match obj.pointer("/metadata/managedFields") {
        Some(sent) if Some(sent) != live.pointer("/metadata/managedFields") => read_owners(obj),
        _ => read_owners(live),
    };
    for o in owners.iter_mut() {
        o.fields
            .retain(|f| after.contains(f) && !changed.contains(f));
    }
    if !changed.is_empty() {
        let api_version = obj["apiVersion"].as_str().unwrap_or_default().to_string();
        record_update(&mut owners, manager, "", api_version, changed);
    }
    owners
}

/// `manager`'s Update entry (for `subresource`, empty for the main resource) takes `changed`.
fn record_update(
    owners: &mut Vec<Ownership>,
    manager: String,
    subresource: &str,
    api_version: String,
    changed: FieldSet,
) {
    match owners
        .iter_mut()
        .find(|o| o.manager == manager && o.operation == "Update" && o.subresource == subresource)
    {
        Some(o) => {
            o.fields.extend(changed);
            o.time = now();
        }
        None => owners.push(Ownership {
            manager,
            operation: "Update".into(),
            api_version,
            time: now(),
            fields: changed,
            subresource: subresource.into(),
        }),
    }
}

/// RFC 7386 merge patch.
pub(crate) fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    let Some(map) = target.as_object_mut() else {
        return;
    };
    for (k, v) in patch_map {
        if v.is_null() {
            map.remove(k);
        } else {
            merge(map.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

fn set_or_remove(obj: &mut Value, key: &str, value: Option<Value>) {
    if let Some(o) = obj.as_object_mut() {
        match value {
            Some(v) => o.insert(key.to_string(), v),
            None => o.remove(key),
        };
    }
}

fn spec_of(obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(m) = o.as_object_mut() {
        m.remove("metadata");
        m.remove("status");
    }
    o
}

/// The object without fields that change on every write (managed-field times, resourceVersion).
fn without_bookkeeping(obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("resourceVersion");
        if let Some(Value::Array(entries)) = meta.get_mut("managedFields") {
            for e in entries.iter_mut() {
                if let Some(e) = e.as_object_mut() {
                    e.remove("time");
                }
            }
        }
    }
    o
}

fn new_uid() -> String {
    let b: [u8; 16] = rand::random();
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..5)
        .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::by_plural;

    fn cm(data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "default"}, "data": data})
    }

    fn opts(manager: &str) -> WriteOptions {
        WriteOptions {
            field_manager: Some(manager.into()),
            ..Default::default()
        }
    }

    #[test]
    fn apply_creates_then_updates_and_drops_fields_it_stopped_applying() {
        let rt = by_plural("", "v1", "configmaps").unwrap();
        let mut s = Store::new();
        s.apply(
            rt,
            Some("default"),
            "cfg",
            &cm(json!({"a": "1", "b": "2"})),
            &opts("me"),
        )
        .unwrap();
        let updated = s
            .apply(
                rt,
                Some("default"),
                "cfg",
                &cm(json!({"a": "3"})),
                &opts("me"),
            )
            .unwrap();
        assert_eq!(updated["data"], json!({"a": "3"}));
        assert_eq!(updated["metadata"]["managedFields"][0]["manager"], "me");
        assert_eq!(
            updated["metadata"]["managedFields"][0]["operation"],
            "Apply"
        );
    }

    #[test]
    fn apply_conflicts_with_another_manager_unless_forced() {
        let rt = by_plural("", "v1", "configmaps").unwrap();
        let mut s = Store::new();
        s.create(
            rt,
            Some("default"),
            cm(json!({"a": "1"})),
            &opts("kubectl-create"),
        )
        .unwrap();
        let err = s
            .apply(
                rt,
                Some("default"),
                "cfg",
                &cm(json!({"a": "2"})),
                &opts("me"),
            )
            .unwrap_err();
        assert_eq!(err.code, 409);
        assert!(err.message.contains("kubectl-create"), "{}", err.message);
        let forced = WriteOptions {
            force: true,
            ..opts("me")
        };
        let obj = s
            .apply(rt, Some("default"), "cfg", &cm(json!({"a": "2"})), &forced)
            .unwrap();
        assert_eq!(obj["data"]["a"], "2");
    }

    #[test]
    fn apply_merges_containers_by_name_between_managers() {
        let rt = by_plural("apps", "v1", "deployments").unwrap();
        let mut s = Store::new();
        let deployment = |containers: Value| {
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "default"},
                "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": containers}}}
            })
        };
        let names = |obj: &Value| -> Vec<String> {
            obj["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| format!("{}={}", c["name"].as_str().unwrap(), c["image"]))
                .collect()
        };
        let web = json!([{"name": "web", "image": "nginx:1.27"}]);
        s.apply(
            rt,
            Some("default"),
            "web",
            &deployment(web.clone()),
            &opts("gitops"),
        )
        .unwrap();
        let mesh = deployment(json!([{"name": "proxy", "image": "envoy:1"}]));
        let obj = s
            .apply(rt, Some("default"), "web", &mesh, &opts("mesh"))
            .unwrap();
        assert_eq!(names(&obj), ["web=\"nginx:1.27\"", "proxy=\"envoy:1\""]);
        let mesh_fields = obj["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["manager"] == "mesh")
            .unwrap()["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
            .clone();
        assert_eq!(
            mesh_fields,
            json!({"k:{\"name\":\"proxy\"}": {".": {}, "f:image": {}, "f:name": {}}})
        );

        // Another image for gitops' container is a conflict named by the container's key.
        let other = deployment(json!([{"name": "web", "image": "nginx:1.28"}]));
        let err = s
            .apply(rt, Some("default"), "web", &other, &opts("mesh"))
            .unwrap_err();
        assert!(
            err.message.contains(
                r#"conflict with "gitops": .spec.template.spec.containers[name="web"].image"#
            ),
            "{}",
            err.message
        );

        // The mesh stops applying its container: it goes, gitops' container stays.
        let obj = s
            .apply(
                rt,
                Some("default"),
                "web",
                &deployment(json!([])),
                &opts("mesh"),
            )
            .unwrap();
        assert_eq!(names(&obj), ["web=\"nginx:1.27\""]);
    }

    #[test]
    fn dry_run_returns_the_result_without_storing_it() {
        let rt = by_plural("", "v1", "configmaps").unwrap();
        let mut s = Store::new();
        let dry = WriteOptions {
            dry_run: true,
            ..opts("me")
        };
        let obj = s
            .apply(rt, Some("default"), "cfg", &cm(json!({"a": "1"})), &dry)
            .unwrap();
        assert_eq!(obj["data"]["a"], "1");
        assert!(
            obj["metadata"].get("resourceVersion").is_none(),
            "nothing was stored"
        );
        assert_eq!(s.get(rt, Some("default"), "cfg").unwrap_err().code, 404);

        let live = s
            .apply(
                rt,
                Some("default"),
                "cfg",
                &cm(json!({"a": "1"})),
                &opts("me"),
            )
            .unwrap();
        let changed = s
            .apply(rt, Some("default"), "cfg", &cm(json!({"a": "2"})), &dry)
            .unwrap();
        assert_eq!(changed["data"]["a"], "2");
        assert_eq!(
            changed["metadata"]["resourceVersion"],
            live["metadata"]["resourceVersion"]
        );
        assert_eq!(s.get(rt, Some("default"), "cfg").unwrap()["data"]["a"], "1");
    }

    #[test]
    fn generation_moves_on_spec_changes_only() {
        let rt = by_plural("apps", "v1", "deployments").unwrap();
        let mut s = Store::new();
        let d = |replicas: i64, label: &str| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "web", "labels": {"l": label}},
                   "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                            "template": {"metadata": {"labels": {"app": "web"}},
                                         "spec": {"containers": [{"name": "web", "image": "nginx:1"}]}}}})
        };
        s.apply(rt, Some("default"), "web", &d(1, "a"), &opts("me"))
            .unwrap();
        let relabelled = s
            .apply(rt, Some("default"), "web", &d(1, "b"), &opts("me"))
            .unwrap();
        assert_eq!(relabelled["metadata"]["generation"], 1);
        let scaled = s
            .apply(rt, Some("default"), "web", &d(3, "b"), &opts("me"))
            .unwrap();
        assert_eq!(scaled["metadata"]["generation"], 2);
    }

    #[test]
    fn update_with_a_stale_resource_version_conflicts() {
        let rt = by_plural("", "v1", "configmaps").unwrap();
        let mut s = Store::new();
        let created = s
            .create(rt, Some("default"), cm(json!({"a": "1"})), &opts("c"))
            .unwrap();
        let mut first = created.clone();
        first["data"]["a"] = json!("2");
        s.update(rt, Some("default"), "cfg", first, &opts("c"))
            .unwrap();
        let mut stale = created;
        stale["data"]["a"] = json!("3");
        assert_eq!(
            s.update(rt, Some("default"), "cfg", stale, &opts("c"))
                .unwrap_err()
                .code,
            409
        );
    }

    #[test]
    fn a_watch_replays_what_came_after_its_version() {
        let rt = by_plural("", "v1", "configmaps").unwrap();
        let mut s = Store::new();
        s.create(rt, Some("default"), cm(json!({"a": "1"})), &opts("c"))
            .unwrap();
        let since = s.resource_version();
        let mut other = cm(json!({}));
        other["metadata"]["name"] = json!("other");
        s.create(rt, Some("default"), other, &opts("c")).unwrap();
        s.delete(rt, Some("default"), "cfg", &opts("c")).unwrap();
        let (replay, _) = s.watch(rt, Some("default"), Some(&since)).unwrap();
        let seen: Vec<_> = replay
            .iter()
            .map(|c| (c.kind, c.object["metadata"]["name"].as_str().unwrap()))
            .collect();
        assert_eq!(
            seen,
            [(ChangeKind::Added, "other"), (ChangeKind::Deleted, "cfg")]
        );
        let deleted_rv = replay[1].object["metadata"]["resourceVersion"]
            .as_str()
            .unwrap();
        assert_eq!(
            deleted_rv,
            s.resource_version(),
            "a deletion carries its own resourceVersion"
        );
    }

    #[test]
    fn a_watch_from_a_compacted_version_is_gone() {
        let rt = by_plural("", "v1", "configmaps").unwrap();
        let mut s = Store::with_change_log(2);
        for i in 0..5 {
            let mut obj = cm(json!({}));
            obj["metadata"]["name"] = json!(format!("cm-{i}"));
            s.create(rt, Some("default"), obj, &opts("c")).unwrap();
        }
        let err = s.watch(rt, None, Some("3")).unwrap_err();
        assert_eq!((err.code, err.reason), (410, "Expired"));
        let current = s.resource_version();
        assert!(s.watch(rt, None, Some(&current)).unwrap().0.is_empty());
    }

    /// A ConfigMap owned by the objects with the given uids.
    fn owned(name: &str, owners: &[&str]) -> Value {
        let refs: Vec<Value> = owners
            .iter()
            .map(|u| json!({"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": u}))
            .collect();
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": name, "namespace": "default", "ownerReferences": refs}})
    }

    fn uid_of(v: &Value) -> String {
        v["metadata"]["uid"].as_str().unwrap().to_string()
    }

    fn names(s: &Store) -> Vec<String> {
        let rt = by_plural("", "v1", "configmaps").unwrap();
        s.list(
            rt,
            Some("default"),
            &LabelSelector::default(),
            &FieldSelector::default(),
        )
        .iter()
        .map(|o| o["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
    }

    #[test]
    fn background_deletion_collects_dependents_whose_owners_are_all_gone() {
        let rt = by_plural("", "v1", "configmaps").unwrap();
        let mut s = Store::new();
        let a = s.create(rt, None, cm(json!({})), &opts("c")).unwrap();
        let mut b = cm(json!({}));
        b["metadata"]["name"] = json!("b");
        let b = s.create(rt, None, b, &opts("c")).unwrap();
        s.create(rt, None, owned("child", &[&uid_of(&a)]), &opts("c"))
            .unwrap();
        s.create(
            rt,
            None,
            owned(
                "grandchild",
                &[&uid_of(&s.get(rt, Some("default"), "child").unwrap())],
            ),
            &opts("c"),
        )
        .unwrap();
        s.create(
            rt,
            None,
            owned("shared", &[&uid_of(&a), &uid_of(&b)]),
            &opts("c"),
        )
        .unwrap();

        s.delete(rt, Some("default"), "cfg", &opts("c")).unwrap();
        assert_eq!(
            names(&s),
            ["b", "shared"],
            "child and grandchild collected; shared still has an owner"
        );
    }

    #[test]
    fn orphan_deletion_keeps_dependents_without_the_reference() {
        let rt = by_plural("", "v1", "configmaps").unwrap();
        let mut s = Store::new();
        let a = s.create(rt, None, cm(json!({})), &opts("c")).unwrap();
        s.create(rt, None, owned("child", &[&uid_of(&a)]), &opts("c"))
            .unwrap();
        let orphan = WriteOptions {
            propagation: Propagation::Orphan,
            ..opts("c")
        };
        s.delete(rt, Some("default"), "cfg", &orphan).unwrap();
        let child = s.get(rt, Some("default"), "child").unwrap();
        assert!(child["metadata"].get("ownerReferences").is_none());
    }

    #[test]
    fn finalizers_hold_an_object_until_they_are_removed() {
        let rt = by_plural("", "v1", "configmaps").unwrap();
        let mut s = Store::new();
        let mut obj = cm(json!({}));
        obj["metadata"]["finalizers"] = json!(["example.com/cleanup"]);
        let created = s.create(rt, None, obj, &opts("c")).unwrap();
        s.create(rt, None, owned("child", &[&uid_of(&created)]), &opts("c"))
            .unwrap();

        let marked = s.delete(rt, Some("default"), "cfg", &opts("c")).unwrap();
        assert!(marked["metadata"]["deletionTimestamp"].is_string());
        assert_eq!(
            names(&s),
            ["cfg", "child"],
            "held by its finalizer; the child's owner still exists"
        );

        let released = s
            .merge_patch(
                rt,
                Some("default"),
                "cfg",
                &json!({"metadata": {"finalizers": null}}),
                &opts("c"),
            )
            .unwrap();
        assert!(released["metadata"]["deletionTimestamp"].is_string());
        assert!(
            names(&s).is_empty(),
            "gone with its last finalizer, and its child after it"
        );
    }

    #[test]
    fn foreground_deletion_waits_for_dependents() {
        let rt = by_plural("", "v1", "configmaps").unwrap();
        let mut s = Store::new();
        let a = s.create(rt, None, cm(json!({})), &opts("c")).unwrap();
        let mut held = owned("held", &[&uid_of(&a)]);
        held["metadata"]["finalizers"] = json!(["example.com/slow"]);
        s.create(rt, None, held, &opts("c")).unwrap();

        let foreground = WriteOptions {
            propagation: Propagation::Foreground,
            ..opts("c")
        };
        let owner = s.delete(rt, Some("default"), "cfg", &foreground).unwrap();
        assert_eq!(
            owner["metadata"]["finalizers"],
            json!(["foregroundDeletion"])
        );
        assert_eq!(
            names(&s),
            ["cfg", "held"],
            "the owner waits while a dependent is held"
        );

        s.merge_patch(
            rt,
            Some("default"),
            "held",
            &json!({"metadata": {"finalizers": []}}),
            &opts("c"),
        )
        .unwrap();
        assert!(names(&s).is_empty(), "the dependent went, then the owner");
    }

    #[test]
    fn namespaced_objects_need_their_namespace() {
        let rt = by_plural("", "v1", "configmaps").unwrap();
        let mut s = Store::new();
        let mut obj = cm(json!({}));
        obj["metadata"]["namespace"] = json!("nowhere");
        let err = s.create(rt, None, obj, &opts("c")).unwrap_err();
        assert_eq!(
            (err.code, err.message.as_str()),
            (404, "namespaces \"nowhere\" not found")
        );
    }
}
