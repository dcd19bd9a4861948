//! The diff when the server cannot predict the result — a read-only user whose dry run is
//! refused, a cluster that refuses dry runs, two files compared offline: Argo CD's default
//! diff. The live object is predicted as a client-side apply would leave it: Git's fields laid
//! over the live object, merged list by list as a strategic merge patch merges them (containers
//! by name, ports by port), and fields removed only where the last applied configuration (the
//! live object's `kubectl.kubernetes.io/last-applied-configuration`) had them and Git no longer
//! does. Without one, only the fields Git sets count: what the API server defaulted or a
//! controller added is not drift. Then the normalisations Argo CD makes on both sides: null and
//! empty alike, Endpoints in order with their port protocols, an aggregated role's rules left to
//! its controller.

use kube_schema::{Child, ListMerge, Node};
use serde_json::{Map, Value};

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The two sides of a comparison without the server: the live object and what it would be
/// after the sync, both normalised. Equal means in sync.
#[derive(Debug, Clone, PartialEq)]
pub struct Predicted {
    pub live: Value,
    pub predicted: Value,
}

/// Predicts what applying `desired` would make of `live` (both as read: nothing dropped yet).
pub fn predict(desired: &Value, live: &Value) -> Predicted {
    let text = |key| desired.get(key).and_then(Value::as_str).unwrap_or_default();
    let root = Node::root(text("apiVersion"), text("kind"));
    let last_applied = last_applied(live);
    let mut live = super::normalize(live);
    tidy(&mut live, root);
    let mut config = super::normalize(desired);
    tidy(&mut config, root);
    without_namespace(&mut config);
    let orig = match last_applied {
        Some(mut orig) => {
            orig = super::normalize(&orig);
            tidy(&mut orig, root);
            without_namespace(&mut orig);
            orig
        }
        None => config.clone(),
    };
    let mut predicted = merge(Some(&orig), &config, Some(&live), Child::Object(root));
    for side in [&mut live, &mut predicted] {
        normalize_kind(side);
        tidy(side, root);
    }
    Predicted { live, predicted }
}

/// The configuration `kubectl apply` recorded on the live object, when there is one that parses.
fn last_applied(live: &Value) -> Option<Value> {
    let text = live
        .pointer("/metadata/annotations")?
        .get(LAST_APPLIED)?
        .as_str()?;
    serde_json::from_str(text).ok().filter(Value::is_object)
}

/// Git need not say the namespace (the destination gives it), and an empty annotation map says
/// nothing: neither is a change to make.
fn without_namespace(obj: &mut Value) {
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("namespace");
    }
}

/// What a round trip through the kind's Go types does, as Argo CD's comparison makes one: a
/// null is no value (in a map of strings, an empty string), and an empty list or an empty map
/// of strings is no field. An empty struct (`emptyDir: {}`) stays: it means something. Kinds
/// without a known type lose their nulls only.
fn tidy(value: &mut Value, node: Node) {
    let Value::Object(map) = value else { return };
    let known = !matches!(node, Node::Unknown | Node::UnknownRoot);
    let strings = matches!(node, Node::MapOf(None));
    map.retain(|key, v| {
        let child = node.child(key);
        match v {
            Value::Null if strings => {
                *v = Value::String(String::new());
                true
            }
            Value::Null => false,
            Value::Array(items) if known && items.is_empty() => false,
            Value::Object(fields)
                if fields.is_empty() && matches!(child, Child::Object(Node::MapOf(_))) =>
            {
                false
            }
            _ => true,
        }
    });
    for (key, v) in map.iter_mut() {
        match (node.child(key), v) {
            (Child::Object(inner), v @ Value::Object(_)) => tidy(v, inner),
            (Child::List(list), Value::Array(items)) => {
                for item in items {
                    tidy(item, list.items);
                }
            }
            (_, v @ Value::Object(_)) => tidy(v, Node::Unknown),
            (_, Value::Array(items)) => {
                for item in items {
                    tidy(item, Node::Unknown);
                }
            }
            _ => {}
        }
    }
    // An emptied map of strings is no field either.
    map.retain(|key, v| {
        !(v.as_object().is_some_and(Map::is_empty)
            && matches!(node.child(key), Child::Object(Node::MapOf(_))))
    });
}

/// The value a three-way merge gives one field: `config` (Git) laid over `live`, with what
/// `orig` (the last applied configuration) had and Git dropped removed.
fn merge(orig: Option<&Value>, config: &Value, live: Option<&Value>, shape: Child) -> Value {
    match (shape, config) {
        (Child::Object(node), Value::Object(fields)) => merge_fields(orig, fields, live, node),
        (Child::Unknown | Child::Undeclared, Value::Object(fields)) => {
            merge_fields(orig, fields, live, Node::Unknown)
        }
        (Child::List(list), Value::Array(items)) => match list.smp {
            Some(ListMerge::Map(keys)) if !keys.is_empty() => {
                merge_keyed(orig, items, live, &keys[0], list.items)
            }
            Some(ListMerge::Set) | Some(ListMerge::Map(_)) => merge_set(orig, items, live),
            None => whole(config, live),
        },
        _ => whole(config, live),
    }
}

/// A value Git gives whole (a scalar, an atomic list or struct). What the server filled in
/// inside it (a webhook rule's default scope, a claim template's volume mode) is no change:
/// when every field Git sets is there with Git's value, the live value stands.
fn whole(config: &Value, live: Option<&Value>) -> Value {
    match live {
        Some(live) if contains(live, config) => live.clone(),
        _ => config.clone(),
    }
}

/// True when `live` has every field of `wanted` with the same value (lists item by item, of
/// the same length).
fn contains(live: &Value, wanted: &Value) -> bool {
    match (live, wanted) {
        (Value::Object(l), Value::Object(w)) => w
            .iter()
            .all(|(k, wv)| l.get(k).is_some_and(|lv| contains(lv, wv))),
        (Value::Array(l), Value::Array(w)) => {
            l.len() == w.len() && l.iter().zip(w).all(|(lv, wv)| contains(lv, wv))
        }
        (l, w) => l == w,
    }
}

fn merge_fields(
    orig: Option<&Value>,
    config: &Map<String, Value>,
    live: Option<&Value>,
    node: Node,
) -> Value {
    let mut result = match live {
        Some(Value::Object(l)) => l.clone(),
        _ => Map::new(),
    };
    for (key, value) in config {
        let merged = merge(
            orig.and_then(|o| o.get(key)),
            value,
            result.get(key),
            node.child(key),
        );
        result.insert(key.clone(), merged);
    }
    if let Some(Value::Object(orig)) = orig {
        for key in orig.keys().filter(|k| !config.contains_key(*k)) {
            result.remove(key);
        }
    }
    Value::Object(result)
}

/// A list merged by its merge key: Git's items merged into the live items of the same key (in
/// Git's order where Git has them), live items Git never had kept in place, items the last
/// applied configuration had and Git dropped removed, new items after the one Git puts before
/// them.
fn merge_keyed(
    orig: Option<&Value>,
    config: &[Value],
    live: Option<&Value>,
    key: &str,
    items: Node,
) -> Value {
    let live: &[Value] = live.and_then(Value::as_array).map_or(&[], Vec::as_slice);
    let orig: &[Value] = orig.and_then(Value::as_array).map_or(&[], Vec::as_slice);
    let key_of = |item: &Value| item.get(key).cloned();
    let find = |list: &[Value], wanted: &Value| {
        list.iter()
            .find(|item| key_of(item).as_ref() == Some(wanted))
            .cloned()
    };
    let in_config = |k: &Option<Value>| {
        k.as_ref()
            .is_some_and(|k| config.iter().any(|c| key_of(c).as_ref() == Some(k)))
    };
    let in_orig = |k: &Option<Value>| {
        k.as_ref()
            .is_some_and(|k| orig.iter().any(|o| key_of(o).as_ref() == Some(k)))
    };
    // Git's items that are live, in Git's order, fill the places live items of theirs held.
    let mut git_order = config
        .iter()
        .filter(|c| key_of(c).is_some_and(|k| find(live, &k).is_some()));
    let mut result: Vec<Value> = Vec::new();
    for item in live {
        let k = key_of(item);
        if in_config(&k) {
            if let Some(next) = git_order.next() {
                let next_key = key_of(next).unwrap_or(Value::Null);
                let merged = merge(
                    find(orig, &next_key).as_ref(),
                    next,
                    find(live, &next_key).as_ref(),
                    Child::Object(items),
                );
                result.push(merged);
            }
        } else if !in_orig(&k) {
            result.push(item.clone());
        }
    }
    // Items new to the cluster go after the item Git puts before them.
    for (index, item) in config.iter().enumerate() {
        let k = key_of(item);
        if k.as_ref().is_some_and(|k| find(live, k).is_some()) {
            continue;
        }
        let new = merge(None, item, None, Child::Object(items));
        let after = config[..index]
            .iter()
            .rev()
            .filter_map(key_of)
            .find_map(|before| {
                result
                    .iter()
                    .position(|r| key_of(r).as_ref() == Some(&before))
            });
        match after {
            Some(position) => result.insert(position + 1, new),
            None if k.is_none() => result.push(new),
            None => result.insert(0, new),
        }
    }
    Value::Array(result)
}

/// A list of values merged as a set: the live members, Git's added, those the last applied
/// configuration had and Git dropped removed.
fn merge_set(orig: Option<&Value>, config: &[Value], live: Option<&Value>) -> Value {
    let live: &[Value] = live.and_then(Value::as_array).map_or(&[], Vec::as_slice);
    let orig: &[Value] = orig.and_then(Value::as_array).map_or(&[], Vec::as_slice);
    let mut result: Vec<Value> = live
        .iter()
        .filter(|v| config.contains(v) || !orig.contains(v))
        .cloned()
        .collect();
    for value in config {
        if !result.contains(value) {
            result.push(value.clone());
        }
    }
    Value::Array(result)
}

/// Argo CD's normalisations by kind, on both sides: Endpoints ports default to TCP and subsets
/// are put in order (the API server reorders them); an aggregated ClusterRole's rules are its
/// controller's, and an empty rule list is none.
fn normalize_kind(obj: &mut Value) {
    let text = |key: &str| {
        obj.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let (api_version, kind) = (text("apiVersion"), text("kind"));
    let group = crate::resources::split_api_version(&api_version).0;
    match (group, kind.as_str()) {
        ("", "Endpoints") => {
            if let Some(Value::Array(subsets)) = obj.get_mut("subsets") {
                for subset in subsets.iter_mut() {
                    sort_subset(subset);
                }
                subsets.sort_by_key(|s| s.to_string());
            }
        }
        ("rbac.authorization.k8s.io", "ClusterRole" | "Role") => {
            if let Some(map) = obj.as_object_mut() {
                let aggregated = map.get("aggregationRule").is_some_and(Value::is_object);
                let empty = map
                    .get("rules")
                    .is_some_and(|r| r.as_array().is_some_and(Vec::is_empty) || r.is_null());
                if aggregated || empty {
                    map.remove("rules");
                }
            }
        }
        _ => {}
    }
}

fn sort_subset(subset: &mut Value) {
    for list in ["addresses", "notReadyAddresses"] {
        if let Some(Value::Array(addresses)) = subset.get_mut(list) {
            addresses.sort_by_key(|a| {
                a.get("ip")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            });
        }
    }
    if let Some(Value::Array(ports)) = subset.get_mut("ports") {
        for port in ports.iter_mut() {
            if let Some(p) = port.as_object_mut() {
                p.entry("protocol").or_insert_with(|| Value::from("TCP"));
            }
        }
        ports.sort_by_key(|p| p.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// In sync: the prediction equals the live object.
    fn agrees(desired: Value, live: Value) -> bool {
        let p = predict(&desired, &live);
        p.predicted == p.live
    }

    fn deployment_in_git() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{
                        "name": "web", "image": "nginx:1.27",
                        "ports": [{"containerPort": 80}],
                        "readinessProbe": {"httpGet": {"path": "/", "port": 80}},
                    }]},
                },
            },
        })
    }

    /// The Deployment as a cluster keeps it: defaults, a controller's annotation, status.
    fn deployment_live() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {
                "name": "web", "namespace": "shop", "uid": "u1", "resourceVersion": "42",
                "generation": 3, "creationTimestamp": "2026-11-29T10:00:00Z",
                "labels": {"app": "web"},
                "annotations": {"deployment.kubernetes.io/revision": "3"},
                "managedFields": [{"manager": "plumbline", "operation": "Apply"}],
            },
            "spec": {
                "replicas": 2, "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
                "selector": {"matchLabels": {"app": "web"}},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}, "creationTimestamp": null},
                    "spec": {
                        "containers": [{
                            "name": "web", "image": "nginx:1.27", "imagePullPolicy": "IfNotPresent",
                            "ports": [{"containerPort": 80, "protocol": "TCP"}],
                            "readinessProbe": {
                                "httpGet": {"path": "/", "port": 80, "scheme": "HTTP"},
                                "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3,
                            },
                            "resources": {},
                            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
                        }],
                        "restartPolicy": "Always", "dnsPolicy": "ClusterFirst", "schedulerName": "default-scheduler",
                        "securityContext": {}, "terminationGracePeriodSeconds": 30,
                    },
                },
            },
            "status": {"replicas": 2, "observedGeneration": 3},
        })
    }

    #[test]
    fn server_defaults_and_controller_fields_are_not_drift() {
        assert!(agrees(deployment_in_git(), deployment_live()));
    }

    #[test]
    fn a_change_to_a_field_git_sets_is_drift_and_shows_as_such() {
        let mut live = deployment_live();
        live["spec"]["replicas"] = json!(5);
        live["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:edited");
        let p = predict(&deployment_in_git(), &live);
        assert_eq!(p.predicted["spec"]["replicas"], 2);
        assert_eq!(p.live["spec"]["replicas"], 5);
        let container = &p.predicted["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["image"], "nginx:1.27");
        assert_eq!(
            container["imagePullPolicy"], "IfNotPresent",
            "the live defaults stay in the prediction"
        );
        let mut both = p.predicted.clone();
        both["spec"]["replicas"] = json!(5);
        both["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:edited");
        assert_eq!(both, p.live, "nothing else differs");
    }

    #[test]
    fn a_sidecar_someone_else_added_is_theirs_but_a_reordered_list_is_drift() {
        let mut live = deployment_live();
        let sidecar = json!({"name": "proxy", "image": "envoy:1"});
        live["spec"]["template"]["spec"]["containers"]
            .as_array_mut()
            .unwrap()
            .push(sidecar);
        assert!(agrees(deployment_in_git(), live.clone()));

        let mut git = deployment_in_git();
        git["spec"]["template"]["spec"]["containers"]
            .as_array_mut()
            .unwrap()
            .insert(0, json!({"name": "proxy", "image": "envoy:1"}));
        assert!(
            !agrees(git, live),
            "Git puts proxy first, the cluster second"
        );
    }

    #[test]
    fn the_last_applied_configuration_makes_a_field_git_dropped_drift() {
        let mut live = deployment_live();
        let mut applied = deployment_in_git();
        applied["metadata"]["labels"]["tier"] = json!("front");
        live["metadata"]["labels"]["tier"] = json!("front");
        live["metadata"]["annotations"][LAST_APPLIED] = json!(applied.to_string());
        let p = predict(&deployment_in_git(), &live);
        assert_eq!(p.live["metadata"]["labels"]["tier"], "front");
        assert!(
            p.predicted["metadata"]["labels"].get("tier").is_none(),
            "kubectl applied it, Git no longer has it: the sync removes it"
        );
        assert!(
            p.live["metadata"]["annotations"]
                .get(LAST_APPLIED)
                .is_none(),
            "the annotation itself is never compared"
        );
        // A label someone added by hand (not in the last applied configuration) stays theirs.
        live["metadata"]["labels"]["tier"] = json!(null);
        live["metadata"]["labels"]["owner"] = json!("ops");
        live["metadata"]["annotations"][LAST_APPLIED] = json!(deployment_in_git().to_string());
        assert!(agrees(deployment_in_git(), live));
    }

    #[test]
    fn webhooks_keep_their_defaults_and_injected_ca_bundle() {
        let git = json!({
            "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": "policy"},
            "webhooks": [{
                "name": "check.example.com", "admissionReviewVersions": ["v1"],
                "clientConfig": {"service": {"name": "policy", "namespace": "policy", "path": "/check"}},
                "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"]}],
                "sideEffects": "None",
            }],
        });
        let live = json!({
            "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": "policy", "uid": "u", "generation": 2},
            "webhooks": [{
                "name": "check.example.com", "admissionReviewVersions": ["v1"],
                "clientConfig": {"caBundle": "LS0tLS1CRUdJTi4uLg==",
                                 "service": {"name": "policy", "namespace": "policy", "path": "/check", "port": 443}},
                "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"], "scope": "*"}],
                "sideEffects": "None", "timeoutSeconds": 10, "failurePolicy": "Fail",
                "matchPolicy": "Equivalent", "namespaceSelector": {}, "objectSelector": {},
            }],
        });
        assert!(agrees(git.clone(), live.clone()));
        let mut changed = live;
        changed["webhooks"][0]["rules"][0]["operations"] = json!(["CREATE", "UPDATE"]);
        assert!(!agrees(git, changed));
    }

    #[test]
    fn a_service_accounts_token_secrets_are_the_clusters() {
        let git =
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "builder"}});
        let live = json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "builder", "namespace": "ci", "uid": "u"},
            "secrets": [{"name": "builder-token-x7k2p"}]});
        assert!(agrees(git, live));
    }

    #[test]
    fn null_and_empty_are_alike_where_kubernetes_treats_them_alike() {
        let cases = [
            (
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": null}}),
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": ""}}),
            ),
            (
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "r"}, "rules": null}),
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "r"}, "rules": []}),
            ),
            (
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "labels": {}, "annotations": null}}),
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}),
            ),
            (
                json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"},
                       "spec": {"template": {"spec": {"containers": [{"name": "w", "image": "x:1", "env": []}], "volumes": null}}}}),
                json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"},
                       "spec": {"template": {"spec": {"containers": [{"name": "w", "image": "x:1"}]}}}}),
            ),
        ];
        for (git, live) in cases {
            assert!(agrees(git.clone(), live.clone()), "{git} vs {live}");
        }
        // An empty struct means something: a volume's emptyDir.
        let with = |source: Value| {
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                   "spec": {"containers": [{"name": "c", "image": "x:1"}],
                            "volumes": [{"name": "scratch", "emptyDir": source}]}})
        };
        let p = predict(&with(json!({})), &with(json!({})));
        assert_eq!(p.predicted["spec"]["volumes"][0]["emptyDir"], json!({}));
    }

    #[test]
    fn endpoints_in_any_order_and_without_a_protocol_agree() {
        let git = json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "db"},
        "subsets": [
            {"addresses": [{"ip": "10.0.0.9"}, {"ip": "10.0.0.2"}], "ports": [{"port": 5432}]},
            {"addresses": [{"ip": "10.0.1.1"}], "ports": [{"port": 9187, "name": "metrics"}]},
        ]});
        let live = json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "db", "namespace": "data"},
        "subsets": [
            {"addresses": [{"ip": "10.0.1.1"}], "ports": [{"port": 9187, "name": "metrics", "protocol": "TCP"}]},
            {"addresses": [{"ip": "10.0.0.2"}, {"ip": "10.0.0.9"}], "ports": [{"port": 5432, "protocol": "TCP"}]},
        ]});
        assert!(agrees(git.clone(), live.clone()));
        let mut moved = live;
        moved["subsets"][1]["addresses"][0]["ip"] = json!("10.0.0.3");
        assert!(!agrees(git, moved));
    }

    #[test]
    fn an_aggregated_cluster_roles_rules_belong_to_its_controller() {
        let git = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "monitoring"},
            "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"rbac.example.com/aggregate-to-monitoring": "true"}}]}});
        let mut live = git.clone();
        live["rules"] =
            json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]);
        assert!(agrees(git.clone(), live.clone()));
        let mut selector_changed = live;
        selector_changed["aggregationRule"]["clusterRoleSelectors"][0]["matchLabels"] =
            json!({"other": "true"});
        assert!(!agrees(git, selector_changed));
    }

    #[test]
    fn an_invalid_secret_stays_invalid() {
        let git = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                         "stringData": {"port": 5432}});
        let live = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                          "data": {"port": ""}});
        let p = predict(&git, &live);
        assert_ne!(p.predicted, p.live, "a number is not an empty string");
        assert_eq!(p.predicted["stringData"]["port"], 5432, "left as written");
        // A valid one folds into data and agrees.
        let valid = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                           "stringData": {"port": "5432"}, "type": "Opaque"});
        let live = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                          "data": {"port": "NTQzMg=="}, "type": "Opaque"});
        assert!(agrees(valid, live));
    }

    #[test]
    fn git_need_not_say_the_namespace() {
        let git = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "v"}});
        let live = json!({"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": "a", "namespace": "shop"}, "data": {"k": "v"}});
        assert!(agrees(git, live));
    }

    #[test]
    fn claim_templates_keep_what_the_server_added() {
        let template = json!({"metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}});
        let git = json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
            "spec": {"serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                     "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db", "image": "postgres:16"}]}},
                     "volumeClaimTemplates": [template]}});
        let mut live = git.clone();
        live["spec"]["volumeClaimTemplates"][0]["apiVersion"] = json!("v1");
        live["spec"]["volumeClaimTemplates"][0]["kind"] = json!("PersistentVolumeClaim");
        live["spec"]["volumeClaimTemplates"][0]["spec"]["volumeMode"] = json!("Filesystem");
        live["spec"]["volumeClaimTemplates"][0]["status"] = json!({"phase": "Pending"});
        assert!(agrees(git.clone(), live.clone()));
        live["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] =
            json!("2Gi");
        assert!(!agrees(git, live));
    }

    #[test]
    fn custom_resources_compare_the_fields_git_sets() {
        let git = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
                         "spec": {"size": 3, "colors": ["red"]}});
        let live = json!({"apiVersion": "example.com/v1", "kind": "Widget",
                          "metadata": {"name": "w", "namespace": "shop", "finalizers": ["example.com/cleanup"]},
                          "spec": {"size": 3, "colors": ["red"], "defaultedByWebhook": true},
                          "status": {"ready": true}});
        assert!(agrees(git.clone(), live.clone()));
        let mut more = live;
        more["spec"]["colors"] = json!(["red", "blue"]);
        assert!(!agrees(git, more), "a list is compared whole");
    }
}
