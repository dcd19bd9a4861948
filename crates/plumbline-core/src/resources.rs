//! Resources: how one object is named, tracked, and resolved to an API endpoint.

use kube::core::GroupVersionKind;
use kube::discovery::{ApiCapabilities, ApiResource, Scope};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use ts_rs::TS;

/// The annotation that marks an object as belonging to an application.
pub const TRACKING_ANNOTATION: &str = "plumbline.dev/tracking-id";

/// The field manager of every server-side apply Plumbline makes.
pub const FIELD_MANAGER: &str = "plumbline";

/// What identifies a resource: group, kind, namespace, name (group and namespace may be empty).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
pub struct ResourceKey {
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl ResourceKey {
    /// `<app>:<group>/<kind>:<namespace>/<name>`, the value of [`TRACKING_ANNOTATION`].
    pub fn tracking_id(&self, app: &str) -> String {
        format!(
            "{app}:{}/{}:{}/{}",
            self.group, self.kind, self.namespace, self.name
        )
    }
}

impl fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        };
        if self.namespace.is_empty() {
            write!(f, "{kind} {}", self.name)
        } else {
            write!(f, "{kind} {}/{}", self.namespace, self.name)
        }
    }
}

/// The group and version of an `apiVersion` string (`apps/v1` → (`apps`, `v1`), `v1` → (``, `v1`)).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.split_once('/').unwrap_or(("", api_version))
}

/// Is the object at `key` tracked by `app`? Its tracking id must name the app *and* the object
/// itself: controllers copy annotations to what they create (a Deployment's to its
/// ReplicaSets), and those copies do not make the children part of the app.
pub fn is_tracked_by(obj: &Value, key: &ResourceKey, app: &str) -> bool {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(TRACKING_ANNOTATION))
        .and_then(Value::as_str)
        .is_some_and(|id| id == key.tracking_id(app))
}

/// Why a manifest's kind could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("{file}: object has no {field}")]
    MissingField { file: String, field: &'static str },
    #[error(
        "{file}: the cluster does not serve kind {kind} in {api_version}; if it is a custom resource, is its CRD installed?"
    )]
    UnknownKind {
        file: String,
        api_version: String,
        kind: String,
    },
    #[error("discovery of {api_version} failed: {message}")]
    Discovery {
        api_version: String,
        message: String,
    },
}

/// A kind resolved through discovery.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub api: ApiResource,
    pub namespaced: bool,
}

/// Resolves kinds through the cluster's discovery, asking once per kind.
pub struct Resolver {
    client: kube::Client,
    cache: HashMap<(String, String), Resolved>,
}

impl Resolver {
    /// A resolver asking the cluster behind `client`.
    pub fn new(client: kube::Client) -> Self {
        Self {
            client,
            cache: HashMap::new(),
        }
    }

    /// The API endpoint of `kind` in `api_version`; `file` names the manifest in errors.
    pub async fn resolve(
        &mut self,
        file: &str,
        api_version: &str,
        kind: &str,
    ) -> Result<Resolved, ResolveError> {
        let cache_key = (api_version.to_string(), kind.to_string());
        if let Some(hit) = self.cache.get(&cache_key) {
            return Ok(hit.clone());
        }
        let (group, version) = split_api_version(api_version);
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let resolved = match kube::discovery::pinned_kind(&self.client, &gvk).await {
            Ok((api, caps)) => Resolved {
                namespaced: is_namespaced(&caps),
                api,
            },
            Err(kube::Error::Api(status)) if status.code == 404 => {
                return Err(unknown(file, api_version, kind));
            }
            Err(kube::Error::Discovery(_)) => return Err(unknown(file, api_version, kind)),
            Err(e) => {
                return Err(ResolveError::Discovery {
                    api_version: api_version.to_string(),
                    message: kube_message(&e),
                });
            }
        };
        self.cache.insert(cache_key, resolved.clone());
        Ok(resolved)
    }
}

/// The words of a Kubernetes client error, down to its root cause.
pub fn kube_message(e: &kube::Error) -> String {
    if let kube::Error::Api(status) = e {
        return status.message.clone();
    }
    error_chain(e)
}

/// An error and its causes in one sentence, each cause once (`a: b: c`).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = s.source();
    }
    message
}

fn unknown(file: &str, api_version: &str, kind: &str) -> ResolveError {
    ResolveError::UnknownKind {
        file: file.to_string(),
        api_version: api_version.to_string(),
        kind: kind.to_string(),
    }
}

fn is_namespaced(caps: &ApiCapabilities) -> bool {
    matches!(caps.scope, Scope::Namespaced)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(group: &str, kind: &str, ns: &str, name: &str) -> ResourceKey {
        ResourceKey {
            group: group.into(),
            kind: kind.into(),
            namespace: ns.into(),
            name: name.into(),
        }
    }

    #[test]
    fn tracking_id_format() {
        assert_eq!(
            key("apps", "Deployment", "web", "api").tracking_id("shop"),
            "shop:apps/Deployment:web/api"
        );
        assert_eq!(
            key("", "Namespace", "", "web").tracking_id("shop"),
            "shop:/Namespace:/web"
        );
    }

    #[test]
    fn tracked_by_matches_the_app_and_the_object_itself() {
        let obj = json!({"metadata": {"annotations": {TRACKING_ANNOTATION: "shop:apps/Deployment:web/api"}}});
        let deployment = key("apps", "Deployment", "web", "api");
        assert!(is_tracked_by(&obj, &deployment, "shop"));
        assert!(!is_tracked_by(&obj, &deployment, "sho"));
        let copied_to_replicaset = key("apps", "ReplicaSet", "web", "api-5d59d67564");
        assert!(
            !is_tracked_by(&obj, &copied_to_replicaset, "shop"),
            "an annotation copied by a controller"
        );
        assert!(!is_tracked_by(
            &json!({"metadata": {}}),
            &deployment,
            "shop"
        ));
    }

    #[test]
    fn display_reads_like_kubectl() {
        assert_eq!(
            key("apps", "Deployment", "web", "api").to_string(),
            "Deployment.apps web/api"
        );
        assert_eq!(key("", "Namespace", "", "web").to_string(), "Namespace web");
    }
}
