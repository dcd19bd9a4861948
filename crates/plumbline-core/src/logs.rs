//! Pod logs for the resource panel: one container's log, streamed a line at a time, followed
//! or not, of the running container or of the one before it.

use crate::resources::ResourceKey;
use futures::{AsyncBufReadExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What part of a Pod's log to read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LogOptions {
    /// Needed when the Pod has more than one container.
    pub container: Option<String>,
    /// The container instance before the last restart.
    pub previous: bool,
    /// Keep reading as lines come, until stopped.
    pub follow: bool,
    /// Only the last lines; none: all.
    #[ts(type = "number | null")]
    pub tail_lines: Option<i64>,
}

/// The containers of a Pod, in order, for the panel's choice.
pub async fn containers(
    client: &kube::Client,
    pod: &ResourceKey,
) -> Result<Vec<String>, kube::Error> {
    let api: Api<Pod> = Api::namespaced(client.clone(), &pod.namespace);
    let pod = api.get(&pod.name).await?;
    Ok(pod
        .spec
        .map(|s| s.containers.into_iter().map(|c| c.name).collect())
        .unwrap_or_default())
}

/// Reads the log of `pod` as `options` say, calling `on_line` for each line, until the log ends
/// (with `follow`, until the future is dropped).
pub async fn stream(
    client: &kube::Client,
    pod: &ResourceKey,
    options: &LogOptions,
    on_line: &(dyn Fn(String) + Send + Sync),
) -> Result<(), kube::Error> {
    let api: Api<Pod> = Api::namespaced(client.clone(), &pod.namespace);
    let params = LogParams {
        container: options.container.clone(),
        follow: options.follow,
        previous: options.previous,
        tail_lines: options.tail_lines,
        ..LogParams::default()
    };
    let mut lines = api.log_stream(&pod.name, &params).await?.lines();
    while let Some(line) = lines.try_next().await.map_err(kube::Error::ReadEvents)? {
        on_line(line);
    }
    Ok(())
}
