//! The user's settings that are not applications or repositories: kubeconfig files added in
//! the app, contexts marked protected, how often repositories are fetched, and which
//! notifications are muted.

use crate::apps::StoreError;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use ts_rs::TS;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// Kubeconfig files read besides `KUBECONFIG` and `~/.kube/config`.
    pub kubeconfig_files: Vec<String>,
    /// Contexts where sync, prune and rollback ask the user to type the context's name.
    pub protected_contexts: Vec<String>,
    /// How often each repository is fetched while Plumbline runs; none: every
    /// [`DEFAULT_FETCH_INTERVAL`] seconds, as Argo CD.
    pub fetch_interval_seconds: Option<u32>,
    pub notifications: Notifications,
}

/// Argo CD's default reconciliation period, in seconds.
pub const DEFAULT_FETCH_INTERVAL: u32 = 180;

/// The shortest fetch interval the settings accept, in seconds.
pub const MIN_FETCH_INTERVAL: u32 = 10;

impl Settings {
    /// How often repositories are fetched.
    pub fn fetch_interval(&self) -> std::time::Duration {
        let seconds = self
            .fetch_interval_seconds
            .unwrap_or(DEFAULT_FETCH_INTERVAL)
            .max(MIN_FETCH_INTERVAL);
        std::time::Duration::from_secs(seconds.into())
    }

    /// Whether a desktop notification about `app` (none: about a context) is wanted.
    pub fn notifies(&self, app: Option<&str>) -> bool {
        !self.notifications.muted
            && app.is_none_or(|a| !self.notifications.muted_apps.iter().any(|m| m == a))
    }
}

/// Which desktop notifications are muted (the activity list keeps everything).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct Notifications {
    /// No desktop notification at all.
    pub muted: bool,
    /// Applications whose transitions are not notified.
    pub muted_apps: Vec<String>,
}

/// Persistence for [`Settings`]. A failed change leaves the previous settings in place.
pub trait SettingsStore: Send + Sync {
    fn load(&self) -> Result<Settings, StoreError>;
    /// Changes the stored settings as one step no other writer comes between.
    fn update(&self, change: &mut dyn FnMut(&mut Settings)) -> Result<(), StoreError>;
}

/// Settings in memory, for tests and the demo.
#[derive(Default)]
pub struct MemorySettings(Mutex<Settings>);

impl SettingsStore for MemorySettings {
    fn load(&self) -> Result<Settings, StoreError> {
        Ok(self.0.lock().unwrap_or_else(|p| p.into_inner()).clone())
    }

    fn update(&self, change: &mut dyn FnMut(&mut Settings)) -> Result<(), StoreError> {
        change(&mut self.0.lock().unwrap_or_else(|p| p.into_inner()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutes_are_global_or_per_app_and_the_interval_has_a_floor() {
        let mut settings = Settings::default();
        assert!(settings.notifies(Some("web")) && settings.notifies(None));
        settings.notifications.muted_apps = vec!["web".into()];
        assert!(!settings.notifies(Some("web")));
        assert!(settings.notifies(Some("api")) && settings.notifies(None));
        settings.notifications.muted = true;
        assert!(!settings.notifies(Some("api")) && !settings.notifies(None));

        assert_eq!(settings.fetch_interval().as_secs(), 180);
        settings.fetch_interval_seconds = Some(1);
        assert_eq!(settings.fetch_interval().as_secs(), 10);
        settings.fetch_interval_seconds = Some(600);
        assert_eq!(settings.fetch_interval().as_secs(), 600);
    }
}
