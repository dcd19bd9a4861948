//! A JSON file that several Plumbline processes change at once — the window, `plumbline` in a
//! script beside it, automation — and that must survive a kill at any moment and a full disk.
//!
//! Every change is a read-modify-write under an exclusive OS file lock (a `.lock` file beside
//! it, held by `flock`/`LockFileEx`, released by the OS when a process dies), written to a
//! temporary file of its own (never a name another writer uses), flushed, and renamed over the
//! file: a reader sees the old content or the new, never half of either. A write that fails
//! (a full disk) leaves the file as it was. Files are private to the user (0600), as is the
//! folder they are created in (0700).

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A JSON file changed under a lock.
#[derive(Debug, Clone)]
pub struct SharedFile {
    path: PathBuf,
}

/// Why a shared file could not be read or written, in words (the caller names what it holds).
#[derive(Debug, thiserror::Error)]
pub enum SharedFileError {
    #[error("{path} could not be read: {message}")]
    Read { path: String, message: String },
    #[error("{path} could not be written: {message}")]
    Write { path: String, message: String },
}

impl SharedFile {
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read_error(&self, e: impl std::fmt::Display) -> SharedFileError {
        SharedFileError::Read {
            path: self.path.display().to_string(),
            message: e.to_string(),
        }
    }

    fn write_error(&self, e: impl std::fmt::Display) -> SharedFileError {
        SharedFileError::Write {
            path: self.path.display().to_string(),
            message: e.to_string(),
        }
    }

    /// The file's content, or `None` when there is no file. Needs no lock: the file is only
    /// ever replaced whole.
    pub fn read<T: DeserializeOwned>(&self) -> Result<Option<T>, SharedFileError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| self.read_error(e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.read_error(e)),
        }
    }

    /// Reads the file (`T::default()` when there is none), lets `change` change it, and writes
    /// the result — all while holding the file's lock, so no other process's change in between
    /// is lost. When `change` fails, nothing is written and its error is returned.
    pub fn update<T, R, E>(&self, change: impl FnOnce(&mut T) -> Result<R, E>) -> Result<R, E>
    where
        T: Serialize + DeserializeOwned + Default,
        E: From<SharedFileError>,
    {
        let _lock = self.lock()?;
        let mut value = self.read::<T>()?.unwrap_or_default();
        let outcome = change(&mut value)?;
        self.write(&value)?;
        Ok(outcome)
    }

    /// Replaces the file with `value` (under the lock).
    pub fn replace<T: Serialize>(&self, value: &T) -> Result<(), SharedFileError> {
        let _lock = self.lock()?;
        self.write(value)
    }

    /// Removes the file (under the lock); no file is not an error.
    pub fn remove(&self) -> Result<(), SharedFileError> {
        let _lock = self.lock()?;
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(self.write_error(e)),
            _ => Ok(()),
        }
    }

    /// Holds the file's lock until the returned guard is dropped.
    fn lock(&self) -> Result<std::fs::File, SharedFileError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        private_dir(dir).map_err(|e| self.write_error(e))?;
        let lock = private_file(&lock_path(&self.path)).map_err(|e| self.write_error(e))?;
        lock.lock().map_err(|e| self.write_error(e))?;
        Ok(lock)
    }

    /// Writes `value` to a temporary file of this writer's own, flushes it, keeps the previous
    /// file as `.bak`, and renames the new one into place.
    fn write<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), SharedFileError> {
        let bytes = serde_json::to_vec_pretty(value).map_err(|e| self.write_error(e))?;
        let temp = unique_sibling(&self.path, "tmp");
        let written = (|| -> std::io::Result<()> {
            let mut file = private_file(&temp)?;
            file.set_len(0)?;
            file.write_all(&bytes)?;
            file.sync_all()
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temp);
            return Err(self.write_error(e));
        }
        // The last good copy, for a file that some other program damages later.
        if self.path.exists() {
            let backup = unique_sibling(&self.path, "bak.tmp");
            if std::fs::hard_link(&self.path, &backup).is_ok() {
                let _ = std::fs::rename(
                    &backup,
                    self.path.with_extension(backup_extension(&self.path)),
                );
            }
        }
        if let Err(e) = std::fs::rename(&temp, &self.path) {
            let _ = std::fs::remove_file(&temp);
            return Err(self.write_error(e));
        }
        // The rename itself survives a power cut once the folder is flushed.
        if let Some(dir) = self.path.parent()
            && let Ok(dir) = std::fs::File::open(dir)
        {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

/// `applications.json` → `applications.json.bak`.
fn backup_extension(path: &Path) -> String {
    match path.extension().and_then(|e| e.to_str()) {
        Some(ext) => format!("{ext}.bak"),
        None => "bak".into(),
    }
}

/// The path of the previous version of the shared file at `path`.
pub fn backup_path(path: &Path) -> PathBuf {
    path.with_extension(backup_extension(path))
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    path.with_file_name(name)
}

/// A name beside `path` that no other writer uses: `.<name>.<pid>.<n>.<suffix>`.
fn unique_sibling(path: &Path, suffix: &str) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    path.with_file_name(format!(".{name}.{}.{n}.{suffix}", std::process::id()))
}

/// Creates `dir` (and its parents) readable by the user only. A folder that is already there
/// is left as it is (it may be one the user chose to share); see [`make_private`].
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// Makes Plumbline's own data folder readable by the user only (creating it when missing):
/// clones, history and logs inside it are then nobody else's to read.
pub fn make_private(dir: &Path) -> std::io::Result<()> {
    private_dir(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir)?.permissions().mode() & 0o777;
        if mode != 0o700 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    Ok(())
}

/// Opens (creating) a file readable and writable by the user only.
pub fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn a_change_reads_the_latest_content_and_leaves_no_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = SharedFile::new(&dir.path().join("data/state.json"));
        file.update(|m: &mut BTreeMap<String, u32>| {
            m.insert("a".into(), 1);
            Ok::<_, SharedFileError>(())
        })
        .unwrap();
        file.update(|m: &mut BTreeMap<String, u32>| {
            *m.get_mut("a").unwrap() += 1;
            Ok::<_, SharedFileError>(())
        })
        .unwrap();
        let read: BTreeMap<String, u32> = file.read().unwrap().unwrap();
        assert_eq!(read["a"], 2);
        let mut names: Vec<String> = std::fs::read_dir(dir.path().join("data"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["state.json", "state.json.bak", "state.json.lock"]);
    }

    #[test]
    fn a_refused_change_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let file = SharedFile::new(&dir.path().join("state.json"));
        file.replace(&vec![1, 2]).unwrap();
        let refused: Result<(), String> = file.update(|v: &mut Vec<u32>| {
            v.push(3);
            Err("no".to_string())
        });
        assert!(refused.is_err());
        assert_eq!(file.read::<Vec<u32>>().unwrap().unwrap(), [1, 2]);
    }

    #[cfg(unix)]
    #[test]
    fn files_and_folders_are_the_users_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("plumbline");
        std::fs::create_dir(&folder).unwrap();
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).unwrap();
        make_private(&folder).unwrap();
        let file = SharedFile::new(&folder.join("history/state.json"));
        file.replace(&1).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&folder), 0o700, "the data folder is made private");
        assert_eq!(
            mode(&folder.join("history")),
            0o700,
            "a folder it makes is private"
        );
        assert_eq!(mode(file.path()), 0o600);
        assert_eq!(mode(&lock_path(file.path())), 0o600);
    }

    impl From<SharedFileError> for String {
        fn from(e: SharedFileError) -> Self {
            e.to_string()
        }
    }
}
