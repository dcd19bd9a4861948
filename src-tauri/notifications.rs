//! Desktop notifications of the engine's activity: an app out of sync, degraded or missing, a
//! sync that failed, automation that synced, a cluster lost or back. A burst (a cluster lost
//! with twenty apps on it, a commit that changes ten) is one notification; what the settings mute
//! is not shown (the activity list in the window keeps everything). Clicking a notification
//! brings the window forward on the app it is about.
//!
//! The notifications go through notify-rust (the freedesktop notification service on Linux,
//! Notification Center on macOS), as tauri-plugin-notification does, but with the handle kept:
//! the plugin drops it, and with it any click.

use plumbline_core::Engine;
use plumbline_core::events::{Activity, Event};
use std::sync::Arc;
use std::time::Duration;
use tauri::{Emitter, Manager};

/// Activities closer together than this make one notification.
const BURST: Duration = Duration::from_millis(1500);

/// How many lines a notification of a burst lists before "and N more".
const LINES: usize = 5;

/// Shows the engine's activity as desktop notifications until the app ends.
pub fn start(app: tauri::AppHandle, engine: Arc<Engine>) {
    let mut events = engine.subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            let first = match next_activity(&mut events, &engine).await {
                Some(a) => a,
                None => return,
            };
            let mut burst = vec![first];
            let until = tokio::time::Instant::now() + BURST;
            while let Ok(Some(more)) =
                tokio::time::timeout_at(until, next_activity(&mut events, &engine)).await
            {
                burst.push(more);
            }
            let app = app.clone();
            // Showing one and waiting for its click block: a thread of its own.
            std::thread::spawn(move || show(&app, &burst));
        }
    });
}

/// The next activity the user wants to hear of (none once the engine is gone).
async fn next_activity(
    events: &mut tokio::sync::broadcast::Receiver<Event>,
    engine: &Engine,
) -> Option<Activity> {
    loop {
        match events.recv().await {
            Ok(Event::Activity { activity }) => {
                let wanted = activity.kind.notifies()
                    && engine
                        .settings()
                        .map(|s| s.notifies(activity.app.as_deref()))
                        .unwrap_or(true);
                if wanted {
                    return Some(activity);
                }
            }
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
        }
    }
}

/// The summary and body of one notification for `burst`, and the app a click opens.
pub fn compose(burst: &[Activity]) -> (String, String, Option<String>) {
    match burst {
        [one] => (
            format!("Plumbline: {}", one.app.as_deref().unwrap_or(&one.context)),
            one.message.clone(),
            one.app.clone(),
        ),
        many => {
            let mut apps: Vec<&str> = many.iter().filter_map(|a| a.app.as_deref()).collect();
            apps.dedup();
            let mut body: Vec<String> =
                many.iter().take(LINES).map(|a| a.message.clone()).collect();
            if many.len() > LINES {
                body.push(format!("and {} more", many.len() - LINES));
            }
            // A click opens the app when the burst is about one.
            let target = (apps.len() == 1 && many.iter().all(|a| a.app.is_some()))
                .then(|| apps[0].to_string());
            (
                format!("Plumbline: {} changes", many.len()),
                body.join("\n"),
                target,
            )
        }
    }
}

fn show(app: &tauri::AppHandle, burst: &[Activity]) {
    let (summary, body, target) = compose(burst);
    let mut notification = notify_rust::Notification::new();
    notification
        .appname("Plumbline")
        .summary(&summary)
        .body(&body)
        .action("default", "Open");
    let handle = match notification.show() {
        Ok(handle) => handle,
        Err(e) => {
            tracing::warn!("no desktop notification: {e}");
            return;
        }
    };
    #[cfg(all(unix, not(target_os = "macos")))]
    handle.wait_for_action(|action| {
        if action == "default" {
            open(app, target.as_deref());
        }
    });
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    let _ = (handle, target, app);
}

/// Brings the window forward, on `target` when the notification was about one app.
fn open(app: &tauri::AppHandle, target: Option<&str>) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
    if let Some(name) = target {
        let _ = app.emit("open-app", name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plumbline_core::events::ActivityKind;

    fn activity(app: Option<&str>, message: &str) -> Activity {
        Activity {
            id: 1,
            at: "2026-11-30T14:02:00Z".into(),
            kind: ActivityKind::OutOfSync,
            app: app.map(str::to_string),
            context: "prod".into(),
            message: message.into(),
        }
    }

    #[test]
    fn one_activity_is_one_notification_and_a_burst_is_one_too() {
        assert_eq!(
            compose(&[activity(Some("web"), "web is out of sync")]),
            (
                "Plumbline: web".into(),
                "web is out of sync".into(),
                Some("web".into())
            )
        );
        let burst: Vec<Activity> = (0..7)
            .map(|i| activity(Some(&format!("app{i}")), &format!("app{i} is degraded")))
            .collect();
        let (summary, body, target) = compose(&burst);
        assert_eq!(summary, "Plumbline: 7 changes");
        assert_eq!(body.lines().count(), 6);
        assert!(body.ends_with("and 2 more"), "{body}");
        assert_eq!(target, None, "a burst about several apps opens none");
        let same = [
            activity(Some("web"), "web is out of sync"),
            activity(Some("web"), "web is degraded"),
        ];
        assert_eq!(compose(&same).2.as_deref(), Some("web"));
    }
}
