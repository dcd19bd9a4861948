//! Kubernetes Events about one resource, for the resource panel.

use crate::resources::ResourceKey;
use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, ListParams};
use serde::Serialize;
use ts_rs::TS;

/// One Event, as the panel lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EventInfo {
    /// Normal or Warning.
    #[serde(rename = "type")]
    pub kind: String,
    pub reason: String,
    pub message: String,
    pub count: u32,
    /// RFC 3339; the last time it happened.
    pub last_seen: Option<String>,
    /// Who reported it (a controller, the kubelet).
    pub source: String,
}

/// The Events whose involved object is `key`, newest first.
pub async fn about(
    client: &kube::Client,
    key: &ResourceKey,
) -> Result<Vec<EventInfo>, kube::Error> {
    let api: Api<Event> = if key.namespace.is_empty() {
        Api::all(client.clone())
    } else {
        Api::namespaced(client.clone(), &key.namespace)
    };
    let mut selector = format!(
        "involvedObject.kind={},involvedObject.name={}",
        key.kind, key.name
    );
    if !key.namespace.is_empty() {
        selector.push_str(&format!(",involvedObject.namespace={}", key.namespace));
    }
    let list = api.list(&ListParams::default().fields(&selector)).await?;
    let mut events: Vec<EventInfo> = list
        .items
        .into_iter()
        .map(|e| {
            let last_seen = e
                .last_timestamp
                .map(|t| t.0.to_string())
                .or_else(|| e.event_time.map(|t| t.0.to_string()))
                .or_else(|| e.metadata.creation_timestamp.map(|t| t.0.to_string()));
            EventInfo {
                kind: e.type_.unwrap_or_else(|| "Normal".into()),
                reason: e.reason.unwrap_or_default(),
                message: e.message.unwrap_or_default(),
                count: e.count.unwrap_or(1).max(1) as u32,
                last_seen,
                source: e
                    .reporting_component
                    .filter(|c| !c.is_empty())
                    .or_else(|| e.source.and_then(|s| s.component))
                    .unwrap_or_default(),
            }
        })
        .collect();
    events.sort_by(|a, b| b.last_seen.cmp(&a.last_seen));
    Ok(events)
}
