//! The app store file read and written without Tauri, for the `plumbline` CLI: the same
//! `applications.json` the desktop app keeps through tauri-plugin-store (one JSON object with
//! the keys `applications`, `repositories` and `settings`). Each save rewrites the file through
//! a temporary file and a rename, so a failed save leaves the previous content in place.
//!
//! The desktop app reads the file when it starts: changes made with the CLI while it runs show
//! after a restart.

use crate::apps::{AppStore, Application, StoreError};
use crate::repos::manager::RepoStore;
use crate::repos::remote::RepoConfig;
use crate::settings::{Settings, SettingsStore};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The store file at a path.
pub struct FileStore {
    path: PathBuf,
    /// One writer at a time within this process.
    lock: Mutex<()>,
}

impl FileStore {
    /// The store at `path` (created on first save).
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            lock: Mutex::new(()),
        }
    }

    fn read_error(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError::Read {
            location: self.path.display().to_string(),
            message: e.to_string(),
        }
    }

    fn write_error(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError::Write {
            location: self.path.display().to_string(),
            message: e.to_string(),
        }
    }

    fn object(&self) -> Result<Map<String, Value>, StoreError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(Value::Object(map)) => Ok(map),
                Ok(_) => Err(self.read_error("it is not a JSON object")),
                Err(e) => Err(self.read_error(e)),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Map::new()),
            Err(e) => Err(self.read_error(e)),
        }
    }

    fn get<T: DeserializeOwned + Default>(&self, key: &str) -> Result<T, StoreError> {
        match self.object()?.remove(key) {
            Some(value) => serde_json::from_value(value).map_err(|e| self.read_error(e)),
            None => Ok(T::default()),
        }
    }

    fn set<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<(), StoreError> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut object = self.object()?;
        object.insert(
            key.to_string(),
            serde_json::to_value(value).map_err(|e| self.write_error(e))?,
        );
        let bytes = serde_json::to_vec_pretty(&object).map_err(|e| self.write_error(e))?;
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| self.write_error(e))?;
        }
        let temp = self.path.with_extension("json.tmp");
        std::fs::write(&temp, bytes).map_err(|e| self.write_error(e))?;
        std::fs::rename(&temp, &self.path).map_err(|e| self.write_error(e))
    }
}

impl AppStore for FileStore {
    fn load(&self) -> Result<Vec<Application>, StoreError> {
        self.get("applications")
    }

    fn save(&self, apps: &[Application]) -> Result<(), StoreError> {
        self.set("applications", apps)
    }
}

impl RepoStore for FileStore {
    fn load(&self) -> Result<Vec<RepoConfig>, StoreError> {
        self.get("repositories")
    }

    fn save(&self, repos: &[RepoConfig]) -> Result<(), StoreError> {
        self.set("repositories", repos)
    }
}

impl SettingsStore for FileStore {
    fn load(&self) -> Result<Settings, StoreError> {
        self.get("settings")
    }

    fn save(&self, settings: &Settings) -> Result<(), StoreError> {
        self.set("settings", settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_is_kept_apart_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("applications.json");
        let store = FileStore::new(&path);
        assert!(AppStore::load(&store).unwrap().is_empty());
        AppStore::save(&store, &[crate::apps::sample("web")]).unwrap();
        let settings = Settings {
            protected_contexts: vec!["prod".into()],
            ..Default::default()
        };
        SettingsStore::save(&store, &settings).unwrap();
        let again = FileStore::new(&path);
        assert_eq!(AppStore::load(&again).unwrap()[0].name, "web");
        assert_eq!(SettingsStore::load(&again).unwrap(), settings);
        let keys: Vec<String> =
            serde_json::from_slice::<Map<String, Value>>(&std::fs::read(&path).unwrap())
                .unwrap()
                .keys()
                .cloned()
                .collect();
        assert_eq!(keys, ["applications", "settings"]);
    }

    #[test]
    fn a_broken_file_is_an_error_and_is_left_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("applications.json");
        std::fs::write(&path, "[1, 2").unwrap();
        let store = FileStore::new(&path);
        assert!(matches!(
            AppStore::load(&store),
            Err(StoreError::Read { .. })
        ));
        assert!(AppStore::save(&store, &[]).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "[1, 2");
    }
}
