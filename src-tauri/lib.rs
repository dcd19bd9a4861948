//! Plumbline's desktop shell: the Tauri builder, demo mode, logging, the engine's events
//! forwarded to the window and to desktop notifications, and the commands the UI calls. The
//! engine lives in `plumbline-core`.

mod commands;
mod demo;
mod notifications;

use plumbline_core::Engine;
use plumbline_core::Environment;
use plumbline_core::clusters::{Clusters, default_kubeconfig_paths};
use plumbline_core::repos::manager::Repositories;
use plumbline_core::secrets::Keyring;
use plumbline_core::store::FileStore;
use std::path::PathBuf;
use std::sync::Arc;
use tauri::Manager;

/// What every command can reach.
pub struct Shell {
    pub engine: Arc<Engine>,
    pub environment: Environment,
    /// The window's subscription to each application it shows; dropped when it looks away.
    pub watches:
        std::sync::Mutex<std::collections::HashMap<String, plumbline_core::statuses::Subscription>>,
    /// The log each application's page streams, to stop when it looks away.
    pub logs: std::sync::Mutex<std::collections::HashMap<String, tokio::task::AbortHandle>>,
    /// Keeps every application's status current for as long as the app runs.
    _watching: plumbline_core::watching::Watching,
    /// Keeps the demo cluster running for as long as the app runs.
    _demo: Option<demo::Demo>,
    _log_guard: Option<tracing_appender::non_blocking::WorkerGuard>,
}

/// Folders for data and logs: `PLUMBLINE_DATA_DIR` when set (tests and scripts), else the
/// platform's app data and log folders.
fn folders(app: &tauri::AppHandle) -> Result<(PathBuf, PathBuf), String> {
    if let Some(dir) = std::env::var_os("PLUMBLINE_DATA_DIR") {
        let dir = PathBuf::from(dir);
        return Ok((dir.clone(), dir.join("logs")));
    }
    let data = app
        .path()
        .app_data_dir()
        .map_err(|e| format!("no app data folder: {e}"))?;
    let logs = app
        .path()
        .app_log_dir()
        .unwrap_or_else(|_| data.join("logs"));
    Ok((data, logs))
}

fn init_logging(log_dir: &std::path::Path) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    use tracing_subscriber::prelude::*;
    let wanted = std::env::var("PLUMBLINE_LOG").unwrap_or_else(|_| "info".into());
    // kube's client logs every failed connection at ERROR: with a dead context probed every
    // few seconds that would fill the log all day, and the context's state says it once.
    let quiet = if wanted.contains("kube_client") {
        wanted
    } else {
        format!("{wanted},kube_client::client::builder=off")
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&quiet)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let (file_layer, guard) = match std::fs::create_dir_all(log_dir) {
        Ok(()) => {
            let (writer, guard) = tracing_appender::non_blocking(tracing_appender::rolling::daily(
                log_dir,
                "plumbline.log",
            ));
            (
                Some(
                    tracing_subscriber::fmt::layer()
                        .with_ansi(false)
                        .with_writer(writer),
                ),
                Some(guard),
            )
        }
        Err(_) => (None, None),
    };
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(file_layer)
        .try_init();
    guard
}

fn wants_demo(clusters: &Clusters) -> bool {
    std::env::var("PLUMBLINE_DEMO").is_ok_and(|v| v == "1" || v == "true")
        || clusters.kubeconfigs().is_empty()
}

fn setup(app: &mut tauri::App) -> Result<(), Box<dyn std::error::Error>> {
    let (data_dir, log_dir) = folders(app.handle())?;
    // Data and logs are the user's alone (the logs may live outside the data folder: macOS).
    plumbline_core::shared_file::make_private(&data_dir)?;
    plumbline_core::shared_file::make_private(&log_dir)?;
    let log_guard = init_logging(&log_dir);

    // Exec credential plugins are looked for on the login shell's PATH, as in a terminal.
    let clusters = Clusters::from_paths(default_kubeconfig_paths()).with_login_shell_path();
    let demo_mode = wants_demo(&clusters);
    let (engine, demo) = if demo_mode {
        tracing::info!("starting in demo mode");
        let demo = tauri::async_runtime::block_on(demo::start(&data_dir.join("demo")))?;
        (demo.engine.clone(), Some(demo))
    } else {
        // The same store file, and the same way of writing it, as `plumbline` in a terminal.
        let path = plumbline_core::store::store_path(&data_dir);
        let (store, notice) = FileStore::open(&path)?;
        if let Some(notice) = notice {
            tracing::warn!("{notice}");
        }
        watch_store(app.handle().clone(), path);
        let store = Arc::new(store);
        let repositories = Repositories::new(
            store.clone(),
            Arc::new(Keyring::for_this_build()),
            &data_dir,
            std::env::var_os("HOME")
                .as_deref()
                .map(std::path::Path::new),
        );
        let engine = Engine::new(clusters, store.clone(), Arc::new(repositories), store)
            .with_operator("the window");
        (Arc::new(engine), None)
    };
    watch_kubeconfigs(app.handle().clone(), engine.clone());
    // Contexts with applications connect in the background from now on; the window paints
    // without waiting for any of them.
    let watching = tauri::async_runtime::block_on(async { engine.keep_watching() });
    forward_events(app.handle().clone(), engine.clone());
    notifications::start(app.handle().clone(), engine.clone());
    tracing::info!(data = %data_dir.display(), logs = %log_dir.display(), demo = demo_mode, "Plumbline started");
    app.manage(Shell {
        engine,
        watches: Default::default(),
        logs: Default::default(),
        _watching: watching,
        environment: Environment {
            demo: demo_mode,
            data_dir: data_dir.display().to_string(),
            log_dir: log_dir.display().to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        },
        _demo: demo,
        _log_guard: log_guard,
    });
    Ok(())
}

/// Tells the window when the contexts change, so that it lists them again: a kubeconfig file
/// changed on disk (a stat of each file every two seconds costs next to nothing), or a
/// context's state did.
fn watch_kubeconfigs(app: tauri::AppHandle, engine: Arc<Engine>) {
    use tauri::Emitter;
    let mut changes = engine.contexts_changes();
    tauri::async_runtime::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(2));
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if engine.reload_contexts_if_changed() {
                        tracing::info!("kubeconfig files changed; contexts re-read");
                    }
                }
                changed = changes.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let _ = app.emit("contexts-changed", ());
                }
            }
        }
    });
}

/// Tells the window when another process (`plumbline` in a script, a second window) changed the
/// store file, so that it lists applications and repositories again.
fn watch_store(app: tauri::AppHandle, path: std::path::PathBuf) {
    use tauri::Emitter;
    let stamp = move || {
        let meta = std::fs::metadata(&path).ok()?;
        Some((meta.modified().ok()?, meta.len()))
    };
    tauri::async_runtime::spawn(async move {
        let mut seen = stamp();
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            tick.tick().await;
            let now = stamp();
            if now != seen {
                seen = now;
                let _ = app.emit("store-changed", ());
            }
        }
    });
}

/// Tells the window everything the engine tells: statuses as they change, contexts lost and
/// back, activity. The window never polls.
fn forward_events(app: tauri::AppHandle, engine: Arc<Engine>) {
    use tauri::Emitter;
    let mut events = engine.subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => {
                    let _ = app.emit("engine-event", &event);
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                    // The window reads every status again rather than miss one.
                    tracing::warn!(missed, "the window fell behind the engine's events");
                    let _ = app.emit("engine-lagged", ());
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    });
}

/// Starts the desktop app.
pub fn run() {
    tauri::Builder::default()
        .setup(setup)
        .invoke_handler(tauri::generate_handler![
            commands::environment,
            commands::list_contexts,
            commands::list_apps,
            commands::add_app,
            commands::update_app,
            commands::remove_app,
            commands::import_argocd_app,
            commands::export_argocd_app,
            commands::app_status,
            commands::resource_diff,
            commands::sync_app,
            commands::list_repos,
            commands::add_repo,
            commands::update_repo,
            commands::remove_repo,
            commands::set_repo_secret,
            commands::delete_repo_secret,
            commands::fetch_repo,
            commands::cancel_fetch,
            commands::accept_host_key,
            commands::probe_context,
            commands::list_namespaces,
            commands::protect_context,
            commands::add_kubeconfig,
            commands::remove_kubeconfig,
            commands::get_settings,
            commands::repo_refs,
            commands::repo_history,
            commands::plan_sync,
            commands::rollback_app,
            commands::app_history,
            commands::history_diff,
            commands::resource_events,
            commands::app_view,
            commands::pod_containers,
            commands::stream_logs,
            commands::stop_logs,
            commands::watch_app,
            commands::unwatch_app,
            commands::app_summaries,
            commands::recent_activity,
            commands::refresh_app,
            commands::set_notifications,
            commands::set_fetch_interval,
        ])
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| {
            eprintln!("Plumbline could not start: {e}");
            std::process::exit(1);
        });
}

#[cfg(test)]
mod tests {
    /// The names between `[` and `]` after `marker` in `text`, each as written.
    fn listed<'a>(text: &'a str, marker: &str, prefix: &str) -> Vec<&'a str> {
        let start = text.find(marker).expect("the list is there") + marker.len();
        let end = start + text[start..].find(']').expect("the list ends");
        text[start..end]
            .split(',')
            .map(|item| item.trim().trim_matches('"').trim_start_matches(prefix))
            .filter(|item| !item.is_empty())
            .collect()
    }

    /// A command the window cannot call is a feature that silently does nothing: every command
    /// the shell registers is declared to Tauri's build (which makes its permission) and granted
    /// to the window, and nothing else is.
    #[test]
    fn every_command_is_declared_and_granted_to_the_window() {
        let registered = listed(include_str!("lib.rs"), "generate_handler![", "commands::");
        let declared = listed(include_str!("build.rs"), "let commands = &[", "");
        let config = include_str!("../tauri.conf.json");
        let granted: Vec<String> = listed(config, "\"permissions\": [", "")
            .into_iter()
            .filter_map(|p| p.strip_prefix("allow-"))
            .map(|p| p.replace('-', "_"))
            .collect();
        let mut registered: Vec<String> = registered.iter().map(|c| c.to_string()).collect();
        let mut declared: Vec<String> = declared.iter().map(|c| c.to_string()).collect();
        let mut granted = granted;
        registered.sort();
        declared.sort();
        granted.sort();
        assert_eq!(
            registered, declared,
            "build.rs declares the commands lib.rs registers"
        );
        assert_eq!(
            registered, granted,
            "tauri.conf.json grants the commands lib.rs registers"
        );
    }
}
