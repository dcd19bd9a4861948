//! Git repositories: read an application's files at a revision straight from the object
//! database, so apps on one repository never disturb each other's working tree.

pub mod known_hosts;
pub mod manager;
pub mod remote;

use crate::render::SourceFile;
use git2::{ObjectType, Repository, Signature};
use serde::Serialize;
use std::path::Path;
use ts_rs::TS;

/// The commit a revision resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, TS)]
pub struct Commit {
    pub sha: String,
    /// First line of the commit message.
    pub summary: String,
}

/// An application's files at one commit.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub commit: Commit,
    pub files: Vec<SourceFile>,
}

/// An SSH host key for the user to check against what the server's owner publishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HostKeyPrompt {
    pub host: String,
    pub port: u16,
    pub key_type: String,
    pub fingerprint: String,
    /// The public key, base64; sent back as is to accept it.
    pub key: String,
}

/// Why files could not be read from a repository.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("repository {path} does not exist")]
    Missing { path: String },
    #[error("{path} is not a Git repository: {message}")]
    NotARepository { path: String, message: String },
    #[error("revision {revision:?} is not a branch, tag or commit of {repo}")]
    UnknownRevision { repo: String, revision: String },
    #[error("folder {path:?} does not exist at {revision} in {repo}")]
    PathNotFound {
        repo: String,
        revision: String,
        path: String,
    },
    #[error("git failed on {repo}: {message}")]
    Git { repo: String, message: String },
    #[error("{url} needs credentials: {reason}")]
    NeedsCredentials { url: String, reason: String },
    #[error(
        "the SSH host key of {} is not known yet ({} {}); check it and accept it to connect to {url}",
        .prompt.host, .prompt.key_type, .prompt.fingerprint
    )]
    UnknownHostKey {
        url: String,
        prompt: Box<HostKeyPrompt>,
    },
    #[error(
        "the SSH host key of {host} has CHANGED ({fingerprint}): someone may be intercepting the connection to {url}. If the server's key really changed, remove its old line from known_hosts"
    )]
    HostKeyChanged {
        url: String,
        host: String,
        fingerprint: String,
    },
    #[error("fetching {url} was cancelled")]
    Cancelled { url: String },
    #[error("could not fetch {url}: {message}")]
    Fetch { url: String, message: String },
    #[error("no repository {url} has been added")]
    NotRegistered { url: String },
    #[error("the repository {url} has already been added")]
    AlreadyRegistered { url: String },
    #[error("{url:?} is not a repository address: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("{url} has not been cloned yet: fetch it first")]
    NotCloned { url: String },
    #[error(transparent)]
    Secret(#[from] crate::secrets::SecretError),
    #[error(transparent)]
    Store(#[from] crate::apps::StoreError),
}

fn open_repository(repo_path: &Path) -> Result<Repository, RepoError> {
    let repo_name = repo_path.display().to_string();
    if !repo_path.exists() {
        return Err(RepoError::Missing { path: repo_name });
    }
    Repository::open(repo_path).map_err(|e| RepoError::NotARepository {
        path: repo_name,
        message: e.message().to_string(),
    })
}

fn resolve_in<'r>(
    repo: &'r Repository,
    repo_path: &Path,
    revision: &str,
) -> Result<git2::Commit<'r>, RepoError> {
    resolve(repo, revision).ok_or_else(|| RepoError::UnknownRevision {
        repo: repo_path.display().to_string(),
        revision: revision.to_string(),
    })
}

fn commit_info(commit: &git2::Commit) -> Commit {
    Commit {
        sha: commit.id().to_string(),
        summary: String::from_utf8_lossy(commit.summary_bytes().unwrap_or_default()).into_owned(),
    }
}

/// The commit `revision` (branch, tag, commit or any rev-parse spec) names now, without
/// reading its files.
pub fn resolve_revision(repo_path: &Path, revision: &str) -> Result<Commit, RepoError> {
    let repo = open_repository(repo_path)?;
    Ok(commit_info(&resolve_in(&repo, repo_path, revision)?))
}

/// Reads every file under `path` at `revision` (branch, tag, commit or any rev-parse spec).
pub fn read_revision(repo_path: &Path, revision: &str, path: &str) -> Result<Snapshot, RepoError> {
    let repo_name = repo_path.display().to_string();
    let repo = open_repository(repo_path)?;
    let git = |e: git2::Error| RepoError::Git {
        repo: repo_name.clone(),
        message: e.message().to_string(),
    };
    let commit = resolve_in(&repo, repo_path, revision)?;
    let tree = commit.tree().map_err(git)?;
    let folder = path.trim_matches('/');
    let subtree = if folder.is_empty() || folder == "." {
        tree
    } else {
        let not_found = || RepoError::PathNotFound {
            repo: repo_name.clone(),
            revision: revision.to_string(),
            path: folder.to_string(),
        };
        let entry = tree.get_path(Path::new(folder)).map_err(|_| not_found())?;
        entry
            .to_object(&repo)
            .map_err(git)?
            .into_tree()
            .map_err(|_| not_found())?
    };

    let mut files = Vec::new();
    let mut failure = None;
    subtree
        .walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            if entry.kind() != Some(ObjectType::Blob) {
                return git2::TreeWalkResult::Ok;
            }
            let name = entry.name().unwrap_or_default();
            let relative = format!("{dir}{name}");
            match repo.find_blob(entry.id()) {
                Ok(blob) => files.push(SourceFile {
                    path: if folder.is_empty() || folder == "." {
                        relative
                    } else {
                        format!("{folder}/{relative}")
                    },
                    content: blob.content().to_vec(),
                }),
                Err(e) => {
                    failure = Some(e);
                    return git2::TreeWalkResult::Abort;
                }
            }
            git2::TreeWalkResult::Ok
        })
        .map_err(git)?;
    if let Some(e) = failure {
        return Err(git(e));
    }
    Ok(Snapshot {
        commit: commit_info(&commit),
        files,
    })
}

/// Reads files of one commit by repository-relative path, on demand (Jsonnet imports reach
/// wherever in the repository their library paths say, and only what they import is read).
pub struct CommitFiles {
    repo: git2::Repository,
    tree: git2::Oid,
}

impl CommitFiles {
    /// The files of `commit` (a full id) in the repository at `repo_path`.
    pub fn open(repo_path: &Path, commit: &str) -> Result<Self, RepoError> {
        let repo = open_repository(repo_path)?;
        let git = |e: git2::Error| RepoError::Git {
            repo: repo_path.display().to_string(),
            message: e.message().to_string(),
        };
        let oid = git2::Oid::from_str(commit).map_err(git)?;
        let tree = repo
            .find_commit(oid)
            .and_then(|c| c.tree())
            .map_err(git)?
            .id();
        Ok(Self { repo, tree })
    }

    /// The content of the file at `path`, or `None` when the commit has none there.
    pub fn read(&self, path: &str) -> Option<Vec<u8>> {
        let tree = self.repo.find_tree(self.tree).ok()?;
        let entry = tree.get_path(Path::new(path)).ok()?;
        let blob = entry.to_object(&self.repo).ok()?.into_blob().ok()?;
        Some(blob.content().to_vec())
    }

    /// Whether `path` is a folder in the commit (the root is).
    pub fn is_dir(&self, path: &str) -> bool {
        if path.is_empty() {
            return true;
        }
        self.repo
            .find_tree(self.tree)
            .ok()
            .and_then(|tree| tree.get_path(Path::new(path)).ok())
            .is_some_and(|entry| entry.kind() == Some(ObjectType::Tree))
    }
}

impl crate::render::inputs::Tree for CommitFiles {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        CommitFiles::read(self, path)
    }
    fn is_dir(&self, path: &str) -> bool {
        CommitFiles::is_dir(self, path)
    }
}

/// Writes the files of `commit` at `paths` (folders whole; the repository-relative path of
/// each) under `dest`, for a tool that reads folders, private to the user.
pub fn export_paths(
    repo_path: &Path,
    commit: &str,
    dest: &Path,
    paths: &[String],
) -> Result<(), RepoError> {
    let name = repo_path.display().to_string();
    let git = |e: git2::Error| RepoError::Git {
        repo: name.clone(),
        message: e.message().to_string(),
    };
    let io = |e: std::io::Error| RepoError::Git {
        repo: name.clone(),
        message: format!("{}: {e}", dest.display()),
    };
    let wanted = |path: &str| {
        paths
            .iter()
            .any(|p| p.is_empty() || path == p || path.starts_with(&format!("{p}/")))
    };
    let repo = Repository::open(repo_path).map_err(git)?;
    let commit = repo
        .find_commit(git2::Oid::from_str(commit).map_err(git)?)
        .map_err(git)?;
    let tree = commit.tree().map_err(git)?;
    crate::shared_file::private_dir(dest).map_err(io)?;
    let mut failure = None;
    let walked = tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        if entry.kind() != Some(ObjectType::Blob) {
            return git2::TreeWalkResult::Ok;
        }
        let relative = format!("{dir}{}", entry.name().unwrap_or_default());
        if !wanted(&relative) {
            return git2::TreeWalkResult::Ok;
        }
        // Git refuses such names, but a hostile server may send a tree that holds them.
        let safe = std::path::Path::new(&relative)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !safe {
            failure = Some(RepoError::Git {
                repo: name.clone(),
                message: format!(
                    "commit {} holds a file named `{relative}`, which would be written outside the folder; not rendered",
                    commit.id()
                ),
            });
            return git2::TreeWalkResult::Abort;
        }
        let path = dest.join(&relative);
        let written = repo.find_blob(entry.id()).map_err(git).and_then(|blob| {
            if let Some(parent) = path.parent() {
                crate::shared_file::private_dir(parent).map_err(io)?;
            }
            std::fs::write(&path, blob.content()).map_err(io)
        });
        match written {
            Ok(()) => git2::TreeWalkResult::Ok,
            Err(e) => {
                failure = Some(e);
                git2::TreeWalkResult::Abort
            }
        }
    });
    // An abort is reported by the walk as an error of its own: the reason is the failure kept.
    match (failure, walked) {
        (Some(e), _) => Err(e),
        (None, walked) => walked.map_err(git),
    }
}

fn resolve<'r>(repo: &'r Repository, revision: &str) -> Option<git2::Commit<'r>> {
    // Branches first (local, then remote-tracking), then tags and anything rev-parse knows.
    let candidates = [
        format!("refs/heads/{revision}"),
        format!("refs/remotes/origin/{revision}"),
        format!("refs/tags/{revision}"),
        revision.to_string(),
    ];
    candidates
        .iter()
        .find_map(|spec| repo.revparse_single(spec).ok())
        .and_then(|obj| obj.peel_to_commit().ok())
}

/// A file to commit: repository-relative path and content.
pub type FileContent = (String, Vec<u8>);

/// Creates a repository at `dir` with one commit per entry of `commits` on branch `main`,
/// each commit holding exactly the files listed. Returns the commit ids in order. Used by the
/// demo and by tests that need a real repository.
pub fn create_with_history(
    dir: &Path,
    commits: &[(&str, Vec<FileContent>)],
) -> Result<Vec<String>, RepoError> {
    let name = dir.display().to_string();
    let git = |e: git2::Error| RepoError::Git {
        repo: name.clone(),
        message: e.message().to_string(),
    };
    let mut init = git2::RepositoryInitOptions::new();
    init.initial_head("main");
    let repo = Repository::init_opts(dir, &init).map_err(git)?;
    let signature = Signature::now("Plumbline", "plumbline@localhost").map_err(git)?;
    let mut ids = Vec::new();
    let mut parent: Option<git2::Oid> = None;
    for (message, files) in commits {
        let mut index = git2::Index::new().map_err(git)?;
        stage(&repo, &mut index, files).map_err(git)?;
        let tree_id = index.write_tree_to(&repo).map_err(git)?;
        let tree = repo.find_tree(tree_id).map_err(git)?;
        let parents: Vec<git2::Commit> = parent
            .map(|p| repo.find_commit(p))
            .transpose()
            .map_err(git)?
            .into_iter()
            .collect();
        let parent_refs: Vec<&git2::Commit> = parents.iter().collect();
        let id = repo
            .commit(
                Some("HEAD"),
                &signature,
                &signature,
                message,
                &tree,
                &parent_refs,
            )
            .map_err(git)?;
        ids.push(id.to_string());
        parent = Some(id);
    }
    Ok(ids)
}

/// Adds `files` (new or replacing, the rest kept) to the index as regular files.
fn stage(
    repo: &Repository,
    index: &mut git2::Index,
    files: &[FileContent],
) -> Result<(), git2::Error> {
    for (path, content) in files {
        index.add(&git2::IndexEntry {
            ctime: git2::IndexTime::new(0, 0),
            mtime: git2::IndexTime::new(0, 0),
            dev: 0,
            ino: 0,
            mode: 0o100644,
            uid: 0,
            gid: 0,
            file_size: content.len() as u32,
            id: repo.blob(content)?,
            flags: 0,
            flags_extended: 0,
            path: path.as_bytes().to_vec(),
        })?;
    }
    Ok(())
}

/// Commits `files` on top of the current branch of the repository at `dir`, keeping every other
/// file, as a push of a change would; returns the new commit's id. For the demo and tests.
pub fn add_commit(dir: &Path, message: &str, files: &[FileContent]) -> Result<String, RepoError> {
    let git = |e: git2::Error| RepoError::Git {
        repo: dir.display().to_string(),
        message: e.message().to_string(),
    };
    let repo = Repository::open(dir).map_err(git)?;
    let head = repo.head().and_then(|h| h.peel_to_commit()).map_err(git)?;
    let mut index = git2::Index::new().map_err(git)?;
    index.read_tree(&head.tree().map_err(git)?).map_err(git)?;
    stage(&repo, &mut index, files).map_err(git)?;
    let tree = repo
        .find_tree(index.write_tree_to(&repo).map_err(git)?)
        .map_err(git)?;
    let signature = Signature::now("Plumbline", "plumbline@localhost").map_err(git)?;
    let id = repo
        .commit(
            Some("HEAD"),
            &signature,
            &signature,
            message,
            &tree,
            &[&head],
        )
        .map_err(git)?;
    Ok(id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(pairs: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
        pairs
            .iter()
            .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn a_tree_naming_a_parent_folder_is_refused_and_nothing_lands_outside() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        // Written to the object database directly: Git's own tree builder refuses the name.
        let odb = repo.odb().unwrap();
        let blob = repo.blob(b"kind: Secret").unwrap();
        let raw_tree = |entries: &[(&str, &str, git2::Oid)]| {
            let mut bytes = Vec::new();
            for (mode, name, id) in entries {
                bytes.extend(format!("{mode} {name}\0").bytes());
                bytes.extend(id.as_bytes());
            }
            odb.write(ObjectType::Tree, &bytes).unwrap()
        };
        let inner = raw_tree(&[("100644", "escaped.yaml", blob)]);
        let root = raw_tree(&[("40000", "..", inner), ("100644", "ok.yaml", blob)]);
        let signature = git2::Signature::now("t", "t@example").unwrap();
        let tree = repo.find_tree(root).unwrap();
        let commit = repo
            .commit(None, &signature, &signature, "hostile", &tree, &[])
            .unwrap();

        let dest = dir.path().join("exports/render");
        let error = export_paths(dir.path(), &commit.to_string(), &dest, &[String::new()])
            .unwrap_err()
            .to_string();
        assert!(error.contains("`../escaped.yaml`"), "{error}");
        assert!(!dir.path().join("exports/escaped.yaml").exists());
    }

    #[test]
    fn reads_a_folder_at_a_branch_and_at_an_older_commit() {
        let dir = tempfile::tempdir().unwrap();
        let ids = create_with_history(
            dir.path(),
            &[
                (
                    "first",
                    files(&[("app/a.yaml", "a: 1"), ("other/x.yaml", "x: 1")]),
                ),
                (
                    "second\n\nbody",
                    files(&[("app/a.yaml", "a: 2"), ("app/nested/b.yaml", "b: 1")]),
                ),
            ],
        )
        .unwrap();
        let head = read_revision(dir.path(), "main", "app").unwrap();
        assert_eq!(head.commit.sha, ids[1]);
        assert_eq!(head.commit.summary, "second");
        let paths: Vec<_> = head.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["app/a.yaml", "app/nested/b.yaml"]);
        let old = read_revision(dir.path(), &ids[0], "app").unwrap();
        assert_eq!(old.files[0].content, b"a: 1");
    }

    #[test]
    fn problems_are_named() {
        let dir = tempfile::tempdir().unwrap();
        create_with_history(dir.path(), &[("one", files(&[("a.yaml", "a: 1")]))]).unwrap();
        assert!(matches!(
            read_revision(dir.path(), "nope", ""),
            Err(RepoError::UnknownRevision { .. })
        ));
        assert!(matches!(
            read_revision(dir.path(), "main", "missing"),
            Err(RepoError::PathNotFound { .. })
        ));
        assert!(matches!(
            read_revision(&dir.path().join("x"), "main", ""),
            Err(RepoError::Missing { .. })
        ));
        let plain = tempfile::tempdir().unwrap();
        assert!(matches!(
            read_revision(plain.path(), "main", ""),
            Err(RepoError::NotARepository { .. })
        ));
    }
}
