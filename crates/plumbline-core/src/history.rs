//! History: every sync and rollback of an application, kept on disk (one JSON file per
//! application under `<data>/history/`), so that the app and the CLI see the same list.
//! An entry is written when the operation starts and completed when it ends: a sync that is
//! interrupted midway stays in the list as Running, with the revision it was going to.

use crate::repos::Commit;
use crate::shared_file::{SharedFile, SharedFileError};
use crate::sync::{OperationPhase, SyncOptions, SyncResult};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use ts_rs::TS;

/// What the overview says of an app's last operation.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LastOperation {
    pub kind: OperationKind,
    pub phase: OperationPhase,
    /// RFC 3339; the start while it runs.
    pub at: String,
    pub commit: Commit,
}

/// How many entries are kept per application (the oldest go first).
pub const KEPT: usize = 50;

/// What kind of operation an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub enum OperationKind {
    Sync,
    /// A sync started by the app's automated sync policy.
    AutoSync,
    /// A sync to the commit of an earlier entry.
    Rollback,
}

impl OperationKind {
    /// The operation as a sentence starts with it.
    pub fn noun(self) -> &'static str {
        match self {
            OperationKind::Sync => "Sync",
            OperationKind::AutoSync => "Automated sync",
            OperationKind::Rollback => "Rollback",
        }
    }
}

/// One operation on one application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub id: u32,
    pub kind: OperationKind,
    /// Who ran it: "the window", "the command line", "automation"…; none in older entries.
    #[serde(default)]
    pub by: Option<String>,
    /// The revision as the application named it (branch, tag or commit).
    pub revision: String,
    /// For a rollback, the entry it went back to.
    pub rollback_of: Option<u32>,
    /// RFC 3339.
    pub started_at: String,
    pub finished_at: Option<String>,
    pub options: SyncOptions,
    pub result: SyncResult,
}

/// Why the history could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("the history of {app:?} could not be {action} ({path}): {message}")]
    Io {
        app: String,
        action: &'static str,
        path: String,
        message: String,
    },
    #[error("application {app:?} has no history entry {id}")]
    NoSuchEntry { app: String, id: u32 },
    #[error("application {app:?} is already {holder}; wait for it to finish")]
    Busy { app: String, holder: String },
}

/// Who holds an application's operation, written into its lock file for the next one to read.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Holder {
    pid: u32,
    by: String,
    kind: OperationKind,
    since: String,
}

impl Holder {
    fn describe(&self) -> String {
        let what = match self.kind {
            OperationKind::Sync => "syncing",
            OperationKind::AutoSync => "syncing (automated)",
            OperationKind::Rollback => "rolling back",
        };
        format!(
            "{what}, started by {} (process {}) at {}",
            self.by, self.pid, self.since
        )
    }
}

/// An application's operation, held until dropped: no other operation on the application, in
/// this process or another, starts meanwhile. The OS lets go of it when the process dies.
pub struct Running {
    _lock: std::fs::File,
}

/// The histories of all applications, in one folder.
#[derive(Debug, Clone)]
pub struct History {
    dir: PathBuf,
}

impl History {
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }

    fn file(&self, app: &str) -> PathBuf {
        self.dir.join(format!("{app}.json"))
    }

    fn shared(&self, app: &str) -> SharedFile {
        SharedFile::new(&self.file(app))
    }

    fn io(&self, app: &str, action: &'static str, e: impl std::fmt::Display) -> HistoryError {
        HistoryError::Io {
            app: app.to_string(),
            action,
            path: self.file(app).display().to_string(),
            message: e.to_string(),
        }
    }

    /// Every entry of `app`, newest first.
    pub fn list(&self, app: &str) -> Result<Vec<HistoryEntry>, HistoryError> {
        let mut entries = self.read(app)?;
        entries.reverse();
        Ok(entries)
    }

    /// The entry `id` of `app`.
    pub fn get(&self, app: &str, id: u32) -> Result<HistoryEntry, HistoryError> {
        self.read(app)?
            .into_iter()
            .find(|e| e.id == id)
            .ok_or_else(|| HistoryError::NoSuchEntry {
                app: app.to_string(),
                id,
            })
    }

    fn lock_file(&self, app: &str) -> PathBuf {
        self.dir.join(format!("{app}.operation"))
    }

    /// Takes the application's operation for `kind` by `by`, or says who holds it.
    pub fn begin(&self, app: &str, kind: OperationKind, by: &str) -> Result<Running, HistoryError> {
        use std::io::{Read, Seek, Write};
        let io = |e: std::io::Error| self.io(app, "locked", e);
        crate::shared_file::private_dir(&self.dir).map_err(io)?;
        let mut file = crate::shared_file::private_file(&self.lock_file(app)).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let holder = serde_json::from_str::<Holder>(&text)
                    .map(|h| h.describe())
                    .unwrap_or_else(|_| "running an operation".into());
                return Err(HistoryError::Busy {
                    app: app.to_string(),
                    holder,
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        let holder = Holder {
            pid: std::process::id(),
            by: by.to_string(),
            kind,
            since: now(),
        };
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        file.write_all(
            serde_json::to_string(&holder)
                .unwrap_or_default()
                .as_bytes(),
        )
        .map_err(io)?;
        Ok(Running { _lock: file })
    }

    /// True when an operation on `app` runs now, here or in another process.
    pub fn is_running(&self, app: &str) -> bool {
        let Ok(file) = std::fs::File::open(self.lock_file(app)) else {
            return false;
        };
        match file.try_lock() {
            Ok(()) => false,
            Err(std::fs::TryLockError::WouldBlock) => true,
            Err(std::fs::TryLockError::Error(_)) => false,
        }
    }

    /// Marks the entries of `app` left Running by a process that stopped as Interrupted, with
    /// what they had done by then.
    pub fn settle_interrupted(&self, app: &str) -> Result<(), HistoryError> {
        let entries = self.read(app)?;
        if !entries
            .iter()
            .any(|e| e.result.phase == OperationPhase::Running)
            || self.is_running(app)
        {
            return Ok(());
        }
        self.change(app, |entries| {
            for entry in entries
                .iter_mut()
                .filter(|e| e.result.phase == OperationPhase::Running)
            {
                let done = entry
                    .result
                    .results
                    .iter()
                    .filter(|r| {
                        matches!(
                            r.status,
                            crate::sync::ResultStatus::Synced | crate::sync::ResultStatus::Pruned
                        )
                    })
                    .count();
                entry.result.phase = OperationPhase::Interrupted;
                entry.result.message = format!(
                    "interrupted: the process running it stopped before it ended; {done} resources had been applied or pruned by then"
                );
            }
        })
    }

    /// Records the results an operation has so far (as it goes, so that a kill keeps them).
    pub fn record(
        &self,
        app: &str,
        id: u32,
        results: &[crate::sync::ResourceResult],
    ) -> Result<(), HistoryError> {
        self.change(app, |entries| {
            if let Some(entry) = entries.iter_mut().find(|e| e.id == id) {
                entry.result.results = results.to_vec();
            }
        })
    }

    /// Records an operation that is starting; returns its id.
    pub fn start(&self, app: &str, mut entry: HistoryEntry) -> Result<u32, HistoryError> {
        self.change(app, |entries| {
            entry.id = entries.iter().map(|e| e.id).max().unwrap_or(0) + 1;
            entry.started_at = now();
            entry.result.phase = OperationPhase::Running;
            let id = entry.id;
            entries.push(entry.clone());
            let excess = entries.len().saturating_sub(KEPT);
            entries.drain(..excess);
            id
        })
    }

    /// Completes entry `id` with the operation's result.
    pub fn finish(&self, app: &str, id: u32, result: &SyncResult) -> Result<(), HistoryError> {
        self.change(app, |entries| {
            if let Some(entry) = entries.iter_mut().find(|e| e.id == id) {
                entry.finished_at = Some(now());
                entry.result = result.clone();
            }
        })
    }

    /// Changes the entries of `app` as one step no other process's change comes between.
    fn change<R>(
        &self,
        app: &str,
        change: impl FnOnce(&mut Vec<HistoryEntry>) -> R,
    ) -> Result<R, HistoryError> {
        self.shared(app)
            .update(|entries: &mut Vec<HistoryEntry>| Ok::<R, SharedFileError>(change(entries)))
            .map_err(|e| match e {
                SharedFileError::Read { message, .. } => self.io(app, "read", message),
                SharedFileError::Write { message, .. } => self.io(app, "written", message),
            })
    }

    /// Forgets the history of an application that was removed.
    pub fn remove(&self, app: &str) -> Result<(), HistoryError> {
        self.shared(app)
            .remove()
            .map_err(|e| self.io(app, "removed", e))
    }

    fn read(&self, app: &str) -> Result<Vec<HistoryEntry>, HistoryError> {
        self.shared(app)
            .read()
            .map(Option::unwrap_or_default)
            .map_err(|e| match e {
                SharedFileError::Read { message, .. } | SharedFileError::Write { message, .. } => {
                    self.io(app, "read", message)
                }
            })
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repos::Commit;

    fn entry(revision: &str) -> HistoryEntry {
        HistoryEntry {
            id: 0,
            kind: OperationKind::Sync,
            by: None,
            revision: revision.into(),
            rollback_of: None,
            started_at: String::new(),
            finished_at: None,
            options: SyncOptions::default(),
            result: SyncResult {
                phase: OperationPhase::Running,
                commit: Commit {
                    sha: "abc".into(),
                    summary: "s".into(),
                },
                results: Vec::new(),
                message: String::new(),
                log: Vec::new(),
                missing_namespace: None,
            },
        }
    }

    #[test]
    fn entries_are_numbered_kept_and_completed() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::new(dir.path());
        assert!(history.list("web").unwrap().is_empty());
        let first = history.start("web", entry("main")).unwrap();
        let second = history.start("web", entry("v2")).unwrap();
        assert_eq!((first, second), (1, 2));
        assert_eq!(
            history.get("web", 2).unwrap().result.phase,
            OperationPhase::Running
        );

        let mut done = entry("v2").result;
        done.phase = OperationPhase::Succeeded;
        history.finish("web", second, &done).unwrap();
        let list = History::new(dir.path()).list("web").unwrap();
        assert_eq!(list.iter().map(|e| e.id).collect::<Vec<_>>(), [2, 1]);
        assert_eq!(list[0].result.phase, OperationPhase::Succeeded);
        assert!(list[0].finished_at.is_some() && list[1].finished_at.is_none());
        assert!(matches!(
            history.get("web", 9),
            Err(HistoryError::NoSuchEntry { id: 9, .. })
        ));
    }

    #[test]
    fn only_the_newest_entries_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::new(dir.path());
        for _ in 0..KEPT + 3 {
            history.start("web", entry("main")).unwrap();
        }
        let list = history.list("web").unwrap();
        assert_eq!(list.len(), KEPT);
        assert_eq!(list[0].id as usize, KEPT + 3);
        assert_eq!(list[KEPT - 1].id, 4);
    }

    #[test]
    fn a_broken_file_is_reported_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("web.json"), "{ not json").unwrap();
        let history = History::new(dir.path());
        let e = history.start("web", entry("main")).unwrap_err();
        assert!(e.to_string().contains("could not be read"), "{e}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("web.json")).unwrap(),
            "{ not json"
        );
    }
}
