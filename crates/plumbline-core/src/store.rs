//! The store file: `applications.json` in the data folder, one JSON object with the keys
//! `applications`, `repositories` and `settings` (never a secret). The window, the `plumbline`
//! command line and automation all read and write it here, and only here.
//!
//! Each change is a locked read-modify-write of the whole file (see [`SharedFile`]): twenty
//! processes adding applications at once all land, a removal is never undone by a writer that
//! read the file before it, and a kill or a full disk leaves the last complete file. Reads
//! parse the file only when it changed (a rename gives it a new identity).
//!
//! A file that no longer parses is moved aside when the store opens, never overwritten, and
//! the last good copy (`.bak`) takes its place; the caller is told in a sentence.

use crate::apps::{AppError, AppStore, Application, StoreError};
use crate::repos::RepoError;
use crate::repos::manager::RepoStore;
use crate::repos::remote::RepoConfig;
use crate::settings::{Settings, SettingsStore};
use crate::shared_file::{SharedFile, SharedFileError, backup_path};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The store file at a path.
pub struct FileStore {
    file: SharedFile,
    /// The file as last parsed, with what identified it then.
    parsed: Mutex<Option<(Stamp, Parsed)>>,
}

/// The store file's object, shared by the reads that find it unchanged.
type Parsed = Arc<Map<String, Value>>;

/// What tells one version of the file from another without reading it.
type Stamp = (std::time::SystemTime, u64, u64);

fn stamp(path: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let identity = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let identity = 0;
    Some((meta.modified().ok()?, meta.len(), identity))
}

impl From<SharedFileError> for StoreError {
    fn from(e: SharedFileError) -> Self {
        match e {
            SharedFileError::Read { path, message } => StoreError::Read {
                location: path,
                message,
            },
            SharedFileError::Write { path, message } => StoreError::Write {
                location: path,
                message,
            },
        }
    }
}

impl FileStore {
    /// The store at `path` (created on the first change).
    pub fn new(path: &Path) -> Self {
        Self {
            file: SharedFile::new(path),
            parsed: Mutex::new(None),
        }
    }

    /// The store at `path`, moving a file that does not parse aside first (and restoring the
    /// last good copy when there is one). Also returns what was done, in words, if anything.
    pub fn open(path: &Path) -> Result<(Self, Option<String>), StoreError> {
        let notice = recover(path)?;
        Ok((Self::new(path), notice))
    }

    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// The file's object, parsed again only when the file changed.
    fn object(&self) -> Result<Parsed, StoreError> {
        let now = stamp(self.file.path());
        let mut parsed = self.parsed.lock().unwrap_or_else(|p| p.into_inner());
        if let (Some(now), Some((seen, object))) = (now, parsed.as_ref())
            && *seen == now
        {
            return Ok(object.clone());
        }
        let object = Arc::new(self.file.read::<Map<String, Value>>()?.unwrap_or_default());
        if let Some(now) = now {
            *parsed = Some((now, object.clone()));
        }
        Ok(object)
    }

    fn get<T: DeserializeOwned + Default>(&self, key: &str) -> Result<T, StoreError> {
        match self.object()?.get(key) {
            Some(value) => T::deserialize(value).map_err(|e| StoreError::Read {
                location: self.file.path().display().to_string(),
                message: format!("{key}: {e}"),
            }),
            None => Ok(T::default()),
        }
    }

    /// Changes the value under `key` as one locked step of the whole file.
    fn update_key<T, E>(
        &self,
        key: &str,
        change: &mut dyn FnMut(&mut T) -> Result<(), E>,
    ) -> Result<(), E>
    where
        T: Serialize + DeserializeOwned + Default,
        E: From<StoreError> + From<SharedFileError>,
    {
        let location = self.file.path().display().to_string();
        self.file
            .update(|object: &mut Map<String, Value>| -> Result<(), E> {
                let mut value: T = match object.get(key) {
                    Some(v) => T::deserialize(v).map_err(|e| {
                        E::from(StoreError::Read {
                            location: location.clone(),
                            message: format!("{key}: {e}"),
                        })
                    })?,
                    None => T::default(),
                };
                change(&mut value)?;
                let value = serde_json::to_value(&value).map_err(|e| {
                    E::from(StoreError::Write {
                        location: location.clone(),
                        message: e.to_string(),
                    })
                })?;
                object.insert(key.to_string(), value);
                Ok(())
            })
    }
}

/// Lets the store's own errors pass through a change's error type.
impl From<SharedFileError> for AppError {
    fn from(e: SharedFileError) -> Self {
        AppError::Store(e.into())
    }
}

impl From<SharedFileError> for RepoError {
    fn from(e: SharedFileError) -> Self {
        RepoError::Store(e.into())
    }
}

impl AppStore for FileStore {
    fn load(&self) -> Result<Vec<Application>, StoreError> {
        self.get("applications")
    }

    fn update(
        &self,
        change: &mut dyn FnMut(&mut Vec<Application>) -> Result<(), AppError>,
    ) -> Result<(), AppError> {
        self.update_key("applications", change)
    }
}

impl RepoStore for FileStore {
    fn load(&self) -> Result<Vec<RepoConfig>, StoreError> {
        self.get("repositories")
    }

    fn update(
        &self,
        change: &mut dyn FnMut(&mut Vec<RepoConfig>) -> Result<(), RepoError>,
    ) -> Result<(), RepoError> {
        self.update_key("repositories", change)
    }
}

impl SettingsStore for FileStore {
    fn load(&self) -> Result<Settings, StoreError> {
        self.get("settings")
    }

    fn update(&self, change: &mut dyn FnMut(&mut Settings)) -> Result<(), StoreError> {
        self.update_key("settings", &mut |s: &mut Settings| {
            change(s);
            Ok::<(), StoreError>(())
        })
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
    std::fs::rename(path, &aside).map_err(|e| StoreError::Read {
        location: path.display().to_string(),
        message: e.to_string(),
    })?;
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

fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Where the store file of a data folder is.
pub fn store_path(data_dir: &Path) -> PathBuf {
    data_dir.join("applications.json")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apps::Apps;

    #[test]
    fn each_key_is_kept_apart_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("applications.json");
        let store = Arc::new(FileStore::new(&path));
        assert!(AppStore::load(&*store).unwrap().is_empty());
        Apps::new(store.clone())
            .add(crate::apps::sample("web"))
            .unwrap();
        let settings = Settings {
            protected_contexts: vec!["prod".into()],
            ..Default::default()
        };
        SettingsStore::update(&*store, &mut |s| *s = settings.clone()).unwrap();
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
    fn a_change_by_another_writer_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("applications.json");
        let window = Apps::new(Arc::new(FileStore::new(&path)));
        let script = Apps::new(Arc::new(FileStore::new(&path)));
        window.add(crate::apps::sample("web")).unwrap();
        assert_eq!(window.list().unwrap().len(), 1);
        script.add(crate::apps::sample("api")).unwrap();
        let names: Vec<String> = window.list().unwrap().into_iter().map(|a| a.name).collect();
        assert_eq!(names, ["api", "web"], "the window sees the script's change");
    }

    #[test]
    fn a_broken_file_is_an_error_and_is_left_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("applications.json");
        std::fs::write(&path, "[1, 2").unwrap();
        let store = Arc::new(FileStore::new(&path));
        assert!(matches!(
            AppStore::load(&*store),
            Err(StoreError::Read { .. })
        ));
        assert!(Apps::new(store).add(crate::apps::sample("web")).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "[1, 2");
    }

    #[test]
    fn a_corrupt_store_is_moved_aside_and_the_backup_restored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("applications.json");
        std::fs::write(backup_path(&path), r#"{"applications": []}"#).unwrap();
        std::fs::write(&path, "{ truncated").unwrap();
        let (_, notice) = FileStore::open(&path).unwrap();
        let notice = notice.expect("the user is told");
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
        assert!(FileStore::open(&path).unwrap().1.is_none());
        std::fs::write(&path, r#"{"applications": []}"#).unwrap();
        assert!(FileStore::open(&path).unwrap().1.is_none());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
