//! Tauri commands: each is one call into the engine plus an error mapping.

use crate::Shell;
use plumbline_core::Environment;
use plumbline_core::apps::Application;
use plumbline_core::clusters::ContextList;
use plumbline_core::ipc::ErrorInfo;
use plumbline_core::reconcile::ResourceDiff;
use plumbline_core::resources::ResourceKey;
use plumbline_core::sync::{SyncEvent, SyncResult};
use plumbline_core::{AppStatus, EngineError};
use tauri::State;
use tauri::ipc::Channel;

type Reply<T> = Result<T, ErrorInfo>;

fn report(e: EngineError) -> ErrorInfo {
    ErrorInfo::from(&e)
}

#[tauri::command]
pub fn environment(shell: State<'_, Shell>) -> Environment {
    shell.environment.clone()
}

#[tauri::command]
pub fn list_contexts(shell: State<'_, Shell>) -> ContextList {
    shell.engine.contexts()
}

#[tauri::command]
pub fn list_apps(shell: State<'_, Shell>) -> Reply<Vec<Application>> {
    shell.engine.apps().list().map_err(|e| report(e.into()))
}

#[tauri::command]
pub fn add_app(shell: State<'_, Shell>, app: Application) -> Reply<()> {
    shell.engine.apps().add(app).map_err(|e| report(e.into()))
}

#[tauri::command]
pub async fn app_status(shell: State<'_, Shell>, name: String) -> Reply<AppStatus> {
    shell.engine.status(&name).await.map_err(report)
}

#[tauri::command]
pub async fn resource_diff(
    shell: State<'_, Shell>,
    name: String,
    key: ResourceKey,
) -> Reply<ResourceDiff> {
    shell.engine.diff(&name, &key).await.map_err(report)
}

#[tauri::command]
pub async fn sync_app(
    shell: State<'_, Shell>,
    name: String,
    on_event: Channel<SyncEvent>,
) -> Reply<SyncResult> {
    let progress = move |event: SyncEvent| {
        // A closed channel means the window went away; the sync still finishes.
        let _ = on_event.send(event);
    };
    shell.engine.sync(&name, &progress).await.map_err(report)
}
