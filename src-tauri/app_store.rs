//! The application store on tauri-plugin-store: one JSON file in the app data folder, holding
//! the applications and the repositories (settings only: their secrets are in the keyring).
//!
//! The plugin rewrites the file in place, so each save first keeps the previous file as
//! `.bak`; a file that no longer parses is moved aside (never overwritten) and the backup,
//! if good, takes its place. Either way the user is told.

use plumbline_core::apps::{AppStore, Application, StoreError};
use plumbline_core::repos::manager::RepoStore;
use plumbline_core::repos::remote::RepoConfig;
use plumbline_core::settings::{Settings, SettingsStore};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tauri::Wry;
use tauri_plugin_store::{Store, StoreExt};

const APPS: &str = "applications";
const REPOSITORIES: &str = "repositories";
const SETTINGS: &str = "settings";

pub struct PluginAppStore {
    store: Arc<Store<Wry>>,
    path: PathBuf,
}

impl PluginAppStore {
    /// Opens the store file at `path`. Returns the store and, when the file had to be moved
    /// aside, a sentence saying so.
    pub fn open(app: &tauri::AppHandle, path: &Path) -> Result<(Self, Option<String>), StoreError> {
        let notice = recover(path)?;
        let store = app.store(path).map_err(|e| read_error(path, e))?;
        Ok((
            Self {
                store,
                path: path.to_path_buf(),
            },
            notice,
        ))
    }
}

/// If the file at `path` exists but does not parse, moves it aside and puts the last good copy
/// (`.bak`) in its place when there is one. Returns what happened, in words, or `None` when the
/// file was fine (or absent).
fn recover(path: &Path) -> Result<Option<String>, StoreError> {
    if !path.exists() || parses(path) {
        return Ok(None);
    }
    let aside = path.with_extension(format!("corrupt-{}.json", unix_seconds()));
    std::fs::rename(path, &aside).map_err(|e| read_error(path, e))?;
    let backup = backup_path(path);
    let restored = parses(&backup) && std::fs::copy(&backup, path).is_ok();
    Ok(Some(format!(
        "The application store {} could not be read and was moved to {}. {}",
        path.display(),
        aside.display(),
        if restored {
            "The last good copy was restored."
        } else {
            "No good copy was found; starting empty."
        }
    )))
}

fn parses(path: &Path) -> bool {
    std::fs::read(path)
        .is_ok_and(|bytes| serde_json::from_slice::<Value>(&bytes).is_ok_and(|v| v.is_object()))
}

fn backup_path(path: &Path) -> PathBuf {
    path.with_extension("json.bak")
}

fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn read_error(path: &Path, e: impl std::fmt::Display) -> StoreError {
    StoreError::Read {
        location: path.display().to_string(),
        message: e.to_string(),
    }
}

impl PluginAppStore {
    fn load_list<T: DeserializeOwned>(&self, key: &str) -> Result<Vec<T>, StoreError> {
        match self.store.get(key) {
            None => Ok(Vec::new()),
            Some(value) => serde_json::from_value(value).map_err(|e| read_error(&self.path, e)),
        }
    }

    fn save_list<T: Serialize>(&self, key: &str, items: &[T]) -> Result<(), StoreError> {
        self.save_value(key, items)
    }

    fn save_value<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<(), StoreError> {
        let write_error = |e: &dyn std::fmt::Display| StoreError::Write {
            location: self.path.display().to_string(),
            message: e.to_string(),
        };
        if self.path.exists() {
            std::fs::copy(&self.path, backup_path(&self.path)).map_err(|e| write_error(&e))?;
        }
        let value = serde_json::to_value(value).map_err(|e| write_error(&e))?;
        self.store.set(key, value);
        self.store.save().map_err(|e| write_error(&e))
    }
}

impl AppStore for PluginAppStore {
    fn load(&self) -> Result<Vec<Application>, StoreError> {
        self.load_list(APPS)
    }

    fn save(&self, apps: &[Application]) -> Result<(), StoreError> {
        self.save_list(APPS, apps)
    }
}

impl SettingsStore for PluginAppStore {
    fn load(&self) -> Result<Settings, StoreError> {
        match self.store.get(SETTINGS) {
            None => Ok(Settings::default()),
            Some(value) => serde_json::from_value(value).map_err(|e| read_error(&self.path, e)),
        }
    }

    fn save(&self, settings: &Settings) -> Result<(), StoreError> {
        self.save_value(SETTINGS, settings)
    }
}

impl RepoStore for PluginAppStore {
    fn load(&self) -> Result<Vec<RepoConfig>, StoreError> {
        self.load_list(REPOSITORIES)
    }

    fn save(&self, repos: &[RepoConfig]) -> Result<(), StoreError> {
        self.save_list(REPOSITORIES, repos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_corrupt_store_is_moved_aside_and_the_backup_restored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("applications.json");
        std::fs::write(backup_path(&path), r#"{"applications": []}"#).unwrap();
        std::fs::write(&path, "{ truncated").unwrap();
        let notice = recover(&path).unwrap().expect("the user is told");
        assert!(notice.contains("last good copy was restored"), "{notice}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            r#"{"applications": []}"#
        );
        let aside: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.contains("corrupt"))
            .collect();
        assert_eq!(aside.len(), 1);
        assert_eq!(
            std::fs::read_to_string(dir.path().join(&aside[0])).unwrap(),
            "{ truncated"
        );
    }

    #[test]
    fn a_good_or_missing_store_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("applications.json");
        assert!(recover(&path).unwrap().is_none());
        std::fs::write(&path, r#"{"applications": []}"#).unwrap();
        assert!(recover(&path).unwrap().is_none());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
