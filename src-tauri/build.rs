fn main() {
    // Declaring the app's commands makes Tauri generate one permission per command, so the
    // capability in tauri.conf.json can grant the window exactly these and nothing else.
    let commands = &[
        "environment",
        "list_contexts",
        "list_apps",
        "add_app",
        "update_app",
        "remove_app",
        "import_argocd_app",
        "export_argocd_app",
        "app_status",
        "resource_diff",
        "sync_app",
        "list_repos",
        "add_repo",
        "update_repo",
        "remove_repo",
        "set_repo_secret",
        "delete_repo_secret",
        "fetch_repo",
        "cancel_fetch",
        "accept_host_key",
        "probe_context",
        "list_namespaces",
        "protect_context",
        "add_kubeconfig",
        "remove_kubeconfig",
        "get_settings",
        "repo_refs",
        "repo_history",
        "plan_sync",
        "rollback_app",
        "app_history",
        "history_diff",
        "resource_events",
        "app_view",
        "pod_containers",
        "stream_logs",
        "stop_logs",
        "watch_app",
        "unwatch_app",
    ];
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(commands)),
    )
    .expect("tauri build script failed");
}
