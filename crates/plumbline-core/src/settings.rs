//! The user's settings that are not applications or repositories: kubeconfig files added in
//! the app, and contexts marked protected.

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
