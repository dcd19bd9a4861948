//! The cluster role aggregation controller: a ClusterRole with an `aggregationRule` gets the
//! rules of every ClusterRole its selectors match, written by the controller's own field
//! manager, as kube-controller-manager does.

use super::*;
use crate::selector::LabelSelector;

const AGGREGATION_MANAGER: &str = "clusterrole-aggregation-controller";

impl Controllers {
    pub(super) fn aggregate(&mut self, store: &mut Store, role: &Value, roles: &[Arc<Value>]) {
        let Some(selectors) =
            at(role, "/aggregationRule/clusterRoleSelectors").and_then(Value::as_array)
        else {
            return;
        };
        let selectors: Vec<LabelSelector> = selectors
            .iter()
            .filter_map(LabelSelector::from_object)
            .collect();
        let name = text(role, "/metadata/name");
        let mut sources: Vec<&Arc<Value>> = roles
            .iter()
            .filter(|other| {
                text(other, "/metadata/name") != name
                    && selectors.iter().any(|s| s.matches_object(other))
            })
            .collect();
        sources.sort_by_key(|r| text(r, "/metadata/name").to_string());
        let mut rules: Vec<Value> = Vec::new();
        for rule in sources.iter().flat_map(|r| {
            at(r, "/rules")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        }) {
            if !rules.contains(rule) {
                rules.push(rule.clone());
            }
        }
        let current = at(role, "/rules").cloned().unwrap_or_else(|| json!([]));
        if current == json!(rules) {
            return;
        }
        let mut updated = role.clone();
        updated["rules"] = json!(rules);
        let manager = WriteOptions {
            field_manager: Some(AGGREGATION_MANAGER.into()),
            ..Default::default()
        };
        if let Err(e) = store.update(type_of("clusterroles"), None, name, updated, &manager) {
            tracing::debug!(error = %e, "aggregation lost a race; the next pass retries");
        }
    }
}
