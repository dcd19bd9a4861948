//! Tauri commands: each is one call into the engine plus an error mapping.

use crate::Shell;
use plumbline_core::Environment;
use plumbline_core::apps::Application;
use plumbline_core::argocd::ImportedApp;
use plumbline_core::clusters::{ContextList, ContextState};
use plumbline_core::comparison::ResourceDiff;
use plumbline_core::events::{Activity, AppSummary};
use plumbline_core::history::HistoryEntry;
use plumbline_core::ipc::ErrorInfo;
use plumbline_core::kube_events::EventInfo;
use plumbline_core::logs::LogOptions;
use plumbline_core::repos::RepoError;
use plumbline_core::repos::manager::{CommitInfo, Refs, RepoInfo};
use plumbline_core::repos::remote::{FetchOutcome, RepoAuth, RepoConfig, TransferProgress};
use plumbline_core::resources::ResourceKey;
use plumbline_core::secrets::{SecretKind, Sensitive};
use plumbline_core::settings::{Notifications, Settings};
use plumbline_core::sync::{SyncEvent, SyncOptions, SyncPlan, SyncResult};
use plumbline_core::{AppStatus, AppView, EngineError};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
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

#[tauri::command(async)]
pub fn list_contexts(shell: State<'_, Shell>) -> ContextList {
    shell.engine.contexts()
}

#[tauri::command(async)]
pub fn list_apps(shell: State<'_, Shell>) -> Reply<Vec<Application>> {
    shell.engine.apps().list().map_err(|e| report(e.into()))
}

#[tauri::command(async)]
pub fn add_app(shell: State<'_, Shell>, app: Application) -> Reply<()> {
    shell.engine.apps().add(app).map_err(|e| report(e.into()))
}

#[tauri::command(async)]
pub fn update_app(shell: State<'_, Shell>, app: Application) -> Reply<()> {
    shell
        .engine
        .apps()
        .update(app)
        .map_err(|e| report(e.into()))
}

/// Reads an Argo CD `Application` manifest into an application for the form; adds nothing.
#[tauri::command(async)]
pub fn import_argocd_app(shell: State<'_, Shell>, manifest: String) -> Reply<ImportedApp> {
    shell.engine.import_argocd(&manifest).map_err(report)
}

#[tauri::command(async)]
pub fn export_argocd_app(shell: State<'_, Shell>, name: String) -> Reply<String> {
    shell.engine.export_argocd(&name).map_err(report)
}

#[tauri::command(async)]
pub fn remove_app(shell: State<'_, Shell>, name: String) -> Reply<()> {
    shell.engine.remove_app(&name).map_err(report)
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

/// What a sync with these options would do; changes nothing.
#[tauri::command]
pub async fn plan_sync(
    shell: State<'_, Shell>,
    name: String,
    options: SyncOptions,
) -> Reply<SyncPlan> {
    shell.engine.plan(&name, &options).await.map_err(report)
}

/// Forwards sync progress to the window; a closed channel means the window went away, and the
/// sync still finishes.
fn forward(on_event: Channel<SyncEvent>) -> impl Fn(SyncEvent) + Send + Sync {
    move |event: SyncEvent| {
        let _ = on_event.send(event);
    }
}

#[tauri::command]
pub async fn sync_app(
    shell: State<'_, Shell>,
    name: String,
    options: Option<SyncOptions>,
    confirmation: Option<String>,
    on_event: Channel<SyncEvent>,
) -> Reply<SyncResult> {
    let options = options.unwrap_or_default();
    shell
        .engine
        .sync(&name, &options, confirmation.as_deref(), &forward(on_event))
        .await
        .map_err(report)
}

#[tauri::command]
pub async fn rollback_app(
    shell: State<'_, Shell>,
    name: String,
    id: u32,
    options: Option<SyncOptions>,
    confirmation: Option<String>,
    on_event: Channel<SyncEvent>,
) -> Reply<SyncResult> {
    let options = options.unwrap_or_default();
    shell
        .engine
        .rollback(
            &name,
            id,
            &options,
            confirmation.as_deref(),
            &forward(on_event),
        )
        .await
        .map_err(report)
}

#[tauri::command(async)]
pub fn app_history(shell: State<'_, Shell>, name: String) -> Reply<Vec<HistoryEntry>> {
    shell.engine.history(&name).map_err(report)
}

#[tauri::command]
pub async fn history_diff(
    shell: State<'_, Shell>,
    name: String,
    from: u32,
    to: u32,
) -> Reply<Vec<ResourceDiff>> {
    shell
        .engine
        .history_diff(&name, from, to)
        .await
        .map_err(report)
}

#[tauri::command]
pub async fn resource_events(
    shell: State<'_, Shell>,
    name: String,
    key: ResourceKey,
) -> Reply<Vec<EventInfo>> {
    shell.engine.events(&name, &key).await.map_err(report)
}

/// The app's status and resource tree from one comparison, for the graph views.
#[tauri::command]
pub async fn app_view(shell: State<'_, Shell>, name: String) -> Reply<AppView> {
    shell.engine.view(&name).await.map_err(report)
}

/// The containers of one of the app's Pods.
#[tauri::command]
pub async fn pod_containers(
    shell: State<'_, Shell>,
    name: String,
    pod: ResourceKey,
) -> Reply<Vec<String>> {
    shell
        .engine
        .pod_containers(&name, &pod)
        .await
        .map_err(report)
}

/// Streams a Pod's log down `on_line` until it ends or `stop_logs` is called for the app (a new
/// `stream_logs` for the same app stops the one before).
#[tauri::command]
pub async fn stream_logs(
    shell: State<'_, Shell>,
    name: String,
    pod: ResourceKey,
    options: LogOptions,
    on_line: Channel<String>,
) -> Reply<()> {
    let engine = shell.engine.clone();
    let app = name.clone();
    let task = tokio::spawn(async move {
        let send = move |line: String| {
            let _ = on_line.send(line);
        };
        engine.pod_logs(&app, &pod, &options, &send).await
    });
    let previous = shell
        .logs
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(name, task.abort_handle());
    if let Some(previous) = previous {
        previous.abort();
    }
    match task.await {
        Ok(result) => result.map_err(report),
        // Stopped: not an error.
        Err(_) => Ok(()),
    }
}

#[tauri::command]
pub fn stop_logs(shell: State<'_, Shell>, name: String) {
    if let Some(task) = shell
        .logs
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&name)
    {
        task.abort();
    }
}

/// Pushes a notice down `on_change` whenever the app's status or objects (its own, or what the
/// cluster made from them) change, until `unwatch_app` or another `watch_app` for the same app.
/// (Async, so that it runs on the runtime the subscription's task needs.)
#[tauri::command]
pub async fn watch_app(shell: State<'_, Shell>, name: String, on_change: Channel<()>) -> Reply<()> {
    let subscription = shell.engine.watch(&name, move || {
        let _ = on_change.send(());
    });
    shell
        .watches
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(name, subscription);
    Ok(())
}

/// Every application's last known status, for the first paint; changes come as events.
#[tauri::command]
pub fn app_summaries(shell: State<'_, Shell>) -> Vec<AppSummary> {
    shell.engine.summaries()
}

/// The recent transitions, newest first, for the activity list.
#[tauri::command]
pub fn recent_activity(shell: State<'_, Shell>) -> Vec<Activity> {
    shell.engine.activity()
}

/// Fetches the app's repository now and compares it again (the Refresh button).
#[tauri::command]
pub async fn refresh_app(shell: State<'_, Shell>, name: String) -> Reply<AppStatus> {
    shell.engine.refresh(&name).await.map_err(report)
}

#[tauri::command]
pub fn set_notifications(shell: State<'_, Shell>, notifications: Notifications) -> Reply<()> {
    shell
        .engine
        .set_notifications(notifications)
        .map_err(report)
}

#[tauri::command]
pub fn set_fetch_interval(shell: State<'_, Shell>, seconds: Option<u32>) -> Reply<()> {
    shell.engine.set_fetch_interval(seconds).map_err(report)
}

#[tauri::command]
pub fn unwatch_app(shell: State<'_, Shell>, name: String) {
    shell
        .watches
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&name);
}

/// Connects to a context (if needed) and reports its state.
#[tauri::command]
pub async fn probe_context(shell: State<'_, Shell>, name: String) -> Reply<ContextState> {
    Ok(shell.engine.probe_context(&name).await)
}

#[tauri::command]
pub async fn list_namespaces(shell: State<'_, Shell>, context: String) -> Reply<Vec<String>> {
    shell.engine.namespaces(&context).await.map_err(report)
}

#[tauri::command(async)]
pub fn protect_context(shell: State<'_, Shell>, name: String, protected: bool) -> Reply<()> {
    shell
        .engine
        .protect_context(&name, protected)
        .map_err(report)
}

#[tauri::command(async)]
pub fn get_settings(shell: State<'_, Shell>) -> Reply<Settings> {
    shell.engine.settings().map_err(report)
}

#[tauri::command(async)]
pub fn add_kubeconfig(shell: State<'_, Shell>, path: String) -> Reply<ContextList> {
    shell.engine.add_kubeconfig_file(&path).map_err(report)
}

#[tauri::command(async)]
pub fn remove_kubeconfig(shell: State<'_, Shell>, path: String) -> Reply<ContextList> {
    shell.engine.remove_kubeconfig_file(&path).map_err(report)
}

fn repo_error(e: RepoError) -> ErrorInfo {
    ErrorInfo::from(&e)
}

#[tauri::command(async)]
pub fn list_repos(shell: State<'_, Shell>) -> Reply<Vec<RepoInfo>> {
    shell.engine.repositories().list().map_err(repo_error)
}

/// Adds a repository; a secret typed in the same form goes straight to the keyring.
#[tauri::command(async)]
pub fn add_repo(
    shell: State<'_, Shell>,
    config: RepoConfig,
    secret: Option<Sensitive<String>>,
) -> Reply<()> {
    let repos = shell.engine.repositories();
    let kind = secret_kind_of(&config);
    let url = config.url.clone();
    repos.add(config).map_err(repo_error)?;
    if let (Some(secret), Some(kind)) = (secret, kind) {
        repos.set_secret(&url, kind, &secret).map_err(repo_error)?;
    }
    Ok(())
}

#[tauri::command(async)]
pub fn update_repo(shell: State<'_, Shell>, config: RepoConfig) -> Reply<()> {
    shell
        .engine
        .repositories()
        .update(config)
        .map_err(repo_error)
}

#[tauri::command]
pub async fn remove_repo(shell: State<'_, Shell>, url: String) -> Reply<()> {
    shell
        .engine
        .repositories()
        .remove(&url)
        .await
        .map_err(repo_error)
}

#[tauri::command(async)]
pub fn set_repo_secret(
    shell: State<'_, Shell>,
    url: String,
    kind: SecretKind,
    value: Sensitive<String>,
) -> Reply<()> {
    let repos = shell.engine.repositories();
    repos.set_secret(&url, kind, &value).map_err(repo_error)
}

#[tauri::command(async)]
pub fn delete_repo_secret(shell: State<'_, Shell>, url: String, kind: SecretKind) -> Reply<()> {
    let repos = shell.engine.repositories();
    repos.delete_secret(&url, kind).map_err(repo_error)
}

#[tauri::command]
pub async fn fetch_repo(
    shell: State<'_, Shell>,
    url: String,
    on_progress: Channel<TransferProgress>,
) -> Reply<FetchOutcome> {
    let progress = move |p: TransferProgress| {
        let _ = on_progress.send(p);
    };
    let cancel = Arc::new(AtomicBool::new(false));
    let repos = shell.engine.repositories();
    repos
        .fetch(&url, progress, cancel)
        .await
        .map_err(repo_error)
}

#[tauri::command]
pub fn cancel_fetch(shell: State<'_, Shell>, url: String) -> bool {
    shell.engine.repositories().cancel(&url)
}

#[tauri::command(async)]
pub fn accept_host_key(shell: State<'_, Shell>, host: String, port: u16, key: String) -> Reply<()> {
    let repos = shell.engine.repositories();
    repos.accept_host_key(&host, port, &key).map_err(repo_error)
}

/// Branches and tags of a cloned repository, for the revision picker.
#[tauri::command(async)]
pub fn repo_refs(shell: State<'_, Shell>, url: String) -> Reply<Refs> {
    shell.engine.repositories().refs(&url).map_err(repo_error)
}

/// The last `limit` commits of `revision` that changed `path`.
#[tauri::command(async)]
pub fn repo_history(
    shell: State<'_, Shell>,
    url: String,
    revision: String,
    path: String,
    limit: usize,
) -> Reply<Vec<CommitInfo>> {
    let repos = shell.engine.repositories();
    repos
        .history(&url, &revision, &path, limit)
        .map_err(repo_error)
}

/// The secret an auth method uses, if any.
fn secret_kind_of(config: &RepoConfig) -> Option<SecretKind> {
    match config.auth {
        RepoAuth::Https { .. } => Some(SecretKind::Password),
        RepoAuth::SshKey { .. } => Some(SecretKind::KeyPassphrase),
        _ => None,
    }
}
