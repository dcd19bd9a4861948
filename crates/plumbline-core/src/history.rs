//! History: every sync and rollback of an application, kept on disk (one JSON file per
//! application under `<data>/history/`), so that the app and the CLI see the same list.
//! An entry is written when the operation starts and completed when it ends: a sync that is
//! interrupted midway stays in the list as Running, with the revision it was going to.

use crate::shared_file::{SharedFile, SharedFileError};
use crate::sync::{OperationPhase, SyncOptions, SyncResult};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use ts_rs::TS;

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

/// One operation on one application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub id: u32,
    pub kind: OperationKind,
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
