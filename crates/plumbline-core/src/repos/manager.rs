//! The repositories the user added: their settings in a [`RepoStore`], their secrets in the
//! keyring, their bare clones in the app data folder, one operation at a time per repository.

use super::RepoError;
use super::known_hosts::{HostKey, KnownHosts};
use super::remote::{
    self, FetchOutcome, RepoAuth, RepoConfig, Secrets, Transfer, TransferProgress,
};
use crate::apps::StoreError;
use crate::secrets::{SecretKey, SecretKind, SecretStore, Sensitive};
use base64::Engine;
use git2::Repository;
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use ts_rs::TS;

/// Persistence for repository settings (never their secrets).
pub trait RepoStore: Send + Sync {
    fn load(&self) -> Result<Vec<RepoConfig>, StoreError>;
    /// Changes the stored repositories as one step no other writer comes between; when
    /// `change` fails, nothing is written.
    fn update(
        &self,
        change: &mut dyn FnMut(&mut Vec<RepoConfig>) -> Result<(), RepoError>,
    ) -> Result<(), RepoError>;
}

/// Repository settings in memory, for tests and tools that keep nothing.
#[derive(Default)]
pub struct MemoryRepoStore(Mutex<Vec<RepoConfig>>);

impl RepoStore for MemoryRepoStore {
    fn load(&self) -> Result<Vec<RepoConfig>, StoreError> {
        Ok(self.0.lock().unwrap_or_else(|p| p.into_inner()).clone())
    }

    fn update(
        &self,
        change: &mut dyn FnMut(&mut Vec<RepoConfig>) -> Result<(), RepoError>,
    ) -> Result<(), RepoError> {
        let mut repos = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let mut changed = repos.clone();
        change(&mut changed)?;
        *repos = changed;
        Ok(())
    }
}

/// A repository as the UI shows it: settings, which secrets are stored (never their values),
/// and the state of its clone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RepoInfo {
    pub url: String,
    pub auth: RepoAuth,
    pub has_password: bool,
    pub has_key_passphrase: bool,
    pub cloned: bool,
    /// Why the last fetch failed, when it did; the clone before it is still in use.
    pub last_error: Option<String>,
}

/// The commits of a revision that touched a path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CommitInfo {
    pub sha: String,
    pub summary: String,
    pub author: String,
    /// Seconds since the Unix epoch.
    #[ts(type = "number")]
    pub time: i64,
}

/// Branches and tags of a clone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
pub struct Refs {
    pub branches: Vec<String>,
    pub tags: Vec<String>,
}

pub struct Repositories {
    store: Arc<dyn RepoStore>,
    secrets: Arc<dyn SecretStore>,
    clones: PathBuf,
    known_hosts: KnownHosts,
    git_config: Option<PathBuf>,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    last_errors: Mutex<HashMap<String, String>>,
    /// The cancel flags of the fetches running now, by URL.
    running: Mutex<HashMap<String, Arc<AtomicBool>>>,
}

impl Repositories {
    /// Repositories with clones under `data_dir/repos`, trusting the host keys in the user's
    /// `~/.ssh/known_hosts` (when `home` is given) and those accepted in the app.
    pub fn new(
        store: Arc<dyn RepoStore>,
        secrets: Arc<dyn SecretStore>,
        data_dir: &Path,
        home: Option<&Path>,
    ) -> Self {
        let user_known_hosts = home
            .map(|h| vec![h.join(".ssh/known_hosts")])
            .unwrap_or_default();
        Self {
            store,
            secrets,
            clones: data_dir.join("repos"),
            known_hosts: KnownHosts::new(user_known_hosts, data_dir.join("known_hosts")),
            git_config: None,
            locks: Mutex::default(),
            last_errors: Mutex::default(),
            running: Mutex::default(),
        }
    }

    /// Also reads this git configuration file (credential helpers), after the user's own.
    pub fn with_git_config(mut self, file: PathBuf) -> Self {
        self.git_config = Some(file);
        self
    }

    pub fn list(&self) -> Result<Vec<RepoInfo>, RepoError> {
        let errors = self
            .last_errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        self.store
            .load()?
            .into_iter()
            .map(|config| {
                Ok(RepoInfo {
                    has_password: self.secrets.contains(&password_key(&config.url))?,
                    has_key_passphrase: self.secrets.contains(&passphrase_key(&config.url))?,
                    cloned: self.clone_dir(&config.url).join("HEAD").exists(),
                    last_error: errors.get(&config.url).cloned(),
                    url: config.url,
                    auth: config.auth,
                })
            })
            .collect()
    }

    pub fn get(&self, url: &str) -> Result<RepoConfig, RepoError> {
        self.store
            .load()?
            .into_iter()
            .find(|r| r.url == url)
            .ok_or_else(|| RepoError::NotRegistered { url: url.into() })
    }

    pub fn add(&self, config: RepoConfig) -> Result<(), RepoError> {
        validate_url(&config.url)?;
        self.store.update(&mut |repos| {
            if repos.iter().any(|r| r.url == config.url) {
                return Err(RepoError::AlreadyRegistered {
                    url: config.url.clone(),
                });
            }
            repos.push(config.clone());
            Ok(())
        })
    }

    /// Changes how a repository is reached (its URL stays: it names the repository).
    pub fn update(&self, config: RepoConfig) -> Result<(), RepoError> {
        self.store.update(&mut |repos| {
            let slot = repos
                .iter_mut()
                .find(|r| r.url == config.url)
                .ok_or_else(|| RepoError::NotRegistered {
                    url: config.url.clone(),
                })?;
            *slot = config.clone();
            Ok(())
        })
    }

    /// Forgets a repository: its settings, its secrets and its clone.
    pub async fn remove(&self, url: &str) -> Result<(), RepoError> {
        let lock = self.lock_for(url);
        let _held = lock.lock().await;
        self.store.update(&mut |repos| {
            let before = repos.len();
            repos.retain(|r| r.url != url);
            if repos.len() == before {
                return Err(RepoError::NotRegistered { url: url.into() });
            }
            Ok(())
        })?;
        self.secrets.delete(&password_key(url))?;
        self.secrets.delete(&passphrase_key(url))?;
        let dir = self.clone_dir(url);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| RepoError::Git {
                repo: url.into(),
                message: format!("could not remove the clone {}: {e}", dir.display()),
            })?;
        }
        Ok(())
    }

    /// Stores or replaces a secret of a registered repository.
    pub fn set_secret(
        &self,
        url: &str,
        kind: SecretKind,
        value: &Sensitive<String>,
    ) -> Result<(), RepoError> {
        self.get(url)?;
        Ok(self.secrets.set(&SecretKey::new(url, kind), value)?)
    }

    pub fn delete_secret(&self, url: &str, kind: SecretKind) -> Result<(), RepoError> {
        Ok(self.secrets.delete(&SecretKey::new(url, kind))?)
    }

    /// Where commits are exported as files for tools that read folders (Kustomize, Helm).
    pub fn exports_dir(&self) -> PathBuf {
        self.clones.with_file_name("exports")
    }

    /// Where each application's sync history is kept.
    pub fn history_dir(&self) -> PathBuf {
        self.clones.with_file_name("history")
    }

    /// Where the bare clone of `url` lives.
    pub fn clone_dir(&self, url: &str) -> PathBuf {
        self.clones.join(clone_name(url))
    }

    /// Clones or fetches `url`, reporting progress; setting `cancel` stops it. Operations on
    /// one repository wait for each other. A failure keeps the last good clone.
    pub async fn fetch(
        self: &Arc<Self>,
        url: &str,
        progress: impl Fn(TransferProgress) + Send + Sync + 'static,
        cancel: Arc<AtomicBool>,
    ) -> Result<FetchOutcome, RepoError> {
        let config = self.get(url)?;
        let lock = self.lock_for(url);
        let _held = lock.lock().await;
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(url.to_string(), Arc::clone(&cancel));
        let this = Arc::clone(self);
        let url_owned = url.to_string();
        let started = std::time::Instant::now();
        let result =
            tokio::task::spawn_blocking(move || this.fetch_blocking(&config, &progress, &cancel))
                .await
                .unwrap_or_else(|e| {
                    Err(RepoError::Fetch {
                        url: url_owned,
                        message: format!("the fetch stopped unexpectedly: {e}"),
                    })
                });
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(url);
        let elapsed_ms = started.elapsed().as_millis();
        let mut errors = self.last_errors.lock().unwrap_or_else(|p| p.into_inner());
        match &result {
            Ok(outcome) => {
                let done = if outcome.cloned { "cloned" } else { "fetched" };
                tracing::info!(url, elapsed_ms, "{done}");
                errors.remove(url)
            }
            Err(e) => {
                tracing::warn!(url, elapsed_ms, "fetch failed: {e}");
                errors.insert(url.to_string(), e.to_string())
            }
        };
        result
    }

    /// Cancels the fetch of `url` that is running now; false when none is.
    pub fn cancel(&self, url: &str) -> bool {
        let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        running
            .get(url)
            .map(|flag| flag.store(true, std::sync::atomic::Ordering::Relaxed))
            .is_some()
    }

    fn fetch_blocking(
        &self,
        config: &RepoConfig,
        progress: &(dyn Fn(TransferProgress) + Sync),
        cancel: &AtomicBool,
    ) -> Result<FetchOutcome, RepoError> {
        let git = |e: git2::Error| RepoError::Git {
            repo: config.url.clone(),
            message: e.message().to_string(),
        };
        let mut git_config = git2::Config::open_default().map_err(git)?;
        if let Some(file) = &self.git_config {
            git_config
                .add_file(file, git2::ConfigLevel::App, false)
                .map_err(git)?;
        }
        let secrets = match &config.auth {
            RepoAuth::Https { .. } => Secrets {
                password: self.secrets.get(&password_key(&config.url))?,
                ..Secrets::default()
            },
            RepoAuth::SshKey { .. } => Secrets {
                key_passphrase: self.secrets.get(&passphrase_key(&config.url))?,
                ..Secrets::default()
            },
            _ => Secrets::default(),
        };
        std::fs::create_dir_all(&self.clones).map_err(|e| RepoError::Git {
            repo: config.url.clone(),
            message: format!("{}: {e}", self.clones.display()),
        })?;
        remote::clone_or_fetch(
            &self.clone_dir(&config.url),
            &Transfer {
                config,
                secrets,
                known_hosts: &self.known_hosts,
                git_config: &git_config,
                progress,
                cancel,
            },
        )
    }

    /// Trusts an SSH host key the user has checked (from [`RepoError::UnknownHostKey`]).
    pub fn accept_host_key(&self, host: &str, port: u16, key: &str) -> Result<(), RepoError> {
        let invalid = || RepoError::Fetch {
            url: format!("ssh://{host}:{port}"),
            message: "the host key to accept is not a valid SSH public key".into(),
        };
        let blob = base64::engine::general_purpose::STANDARD
            .decode(key)
            .map_err(|_| invalid())?;
        let key = HostKey::from_blob(&blob).ok_or_else(invalid)?;
        self.known_hosts
            .accept(host, port, &key)
            .map_err(|e| RepoError::Fetch {
                url: format!("ssh://{host}:{port}"),
                message: format!("{}: {e}", self.known_hosts.accepted_file().display()),
            })
    }

    /// Branches and tags of the clone.
    pub fn refs(&self, url: &str) -> Result<Refs, RepoError> {
        let repo = self.open(url)?;
        let names = |glob: &str, prefix: &str| -> Vec<String> {
            let mut names: Vec<String> = repo
                .references_glob(glob)
                .map(|refs| {
                    refs.flatten()
                        .filter_map(|r| {
                            r.name()
                                .ok()
                                .map(|n| n.trim_start_matches(prefix).to_string())
                        })
                        .filter(|n| n != "HEAD")
                        .collect()
                })
                .unwrap_or_default();
            names.sort();
            names
        };
        Ok(Refs {
            branches: names("refs/remotes/origin/*", "refs/remotes/origin/"),
            tags: names("refs/tags/*", "refs/tags/"),
        })
    }

    /// Up to `limit` commits of `revision` that changed something under `path`, newest first.
    pub fn history(
        &self,
        url: &str,
        revision: &str,
        path: &str,
        limit: usize,
    ) -> Result<Vec<CommitInfo>, RepoError> {
        let repo = self.open(url)?;
        let git = |e: git2::Error| RepoError::Git {
            repo: url.into(),
            message: e.message().to_string(),
        };
        let tip = super::resolve(&repo, revision).ok_or_else(|| RepoError::UnknownRevision {
            repo: url.into(),
            revision: revision.into(),
        })?;
        let folder = path.trim_matches('/');
        let folder = (!folder.is_empty() && folder != ".").then(|| Path::new(folder));
        let tree_id = |commit: &git2::Commit| -> Option<git2::Oid> {
            let tree = commit.tree().ok()?;
            match folder {
                Some(f) => tree.get_path(f).ok().map(|e| e.id()),
                None => Some(tree.id()),
            }
        };
        let mut walk = repo.revwalk().map_err(git)?;
        walk.push(tip.id()).map_err(git)?;
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::TIME)
            .map_err(git)?;
        let mut out = Vec::new();
        for oid in walk {
            let commit = repo.find_commit(oid.map_err(git)?).map_err(git)?;
            let here = tree_id(&commit);
            let changed = if commit.parent_count() == 0 {
                here.is_some()
            } else {
                commit.parents().all(|parent| tree_id(&parent) != here)
            };
            if changed {
                out.push(CommitInfo {
                    sha: commit.id().to_string(),
                    summary: String::from_utf8_lossy(commit.summary_bytes().unwrap_or_default())
                        .into_owned(),
                    author: String::from_utf8_lossy(commit.author().name_bytes()).into_owned(),
                    time: commit.time().seconds(),
                });
                if out.len() == limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    fn open(&self, url: &str) -> Result<Repository, RepoError> {
        let dir = self.clone_dir(url);
        if !dir.join("HEAD").exists() {
            return Err(RepoError::NotCloned { url: url.into() });
        }
        Repository::open_bare(&dir).map_err(|e| RepoError::Git {
            repo: url.into(),
            message: e.message().to_string(),
        })
    }

    fn lock_for(&self, url: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(locks.entry(url.to_string()).or_default())
    }
}

fn password_key(url: &str) -> SecretKey {
    SecretKey::new(url, SecretKind::Password)
}

fn passphrase_key(url: &str) -> SecretKey {
    SecretKey::new(url, SecretKind::KeyPassphrase)
}

/// A readable, unique folder name for a clone: the URL's last part plus a hash of the whole.
fn clone_name(url: &str) -> String {
    use sha2::Digest;
    let last = url
        .trim_end_matches('/')
        .rsplit(['/', ':'])
        .next()
        .unwrap_or("repo")
        .trim_end_matches(".git");
    let safe: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    let hash = sha2::Sha256::digest(url.as_bytes());
    let short: String = hash.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("{safe}-{short}")
}

fn validate_url(url: &str) -> Result<(), RepoError> {
    let invalid = |why: &str| RepoError::InvalidUrl {
        url: without_password(url),
        reason: why.into(),
    };
    if url.trim() != url || url.is_empty() {
        return Err(invalid("it is empty or has spaces around it"));
    }
    let known_scheme = ["https://", "http://", "ssh://", "git://", "file://"]
        .iter()
        .any(|s| url.starts_with(s));
    let scp_like = !url.contains("://") && remote::ssh_host_port(url).is_some();
    if !known_scheme && !scp_like {
        return Err(invalid(
            "use https://host/path, ssh://user@host/path, user@host:path or file:///path",
        ));
    }
    if url.contains('@')
        && url.starts_with("http")
        && url.split('@').next().is_some_and(|u| u.contains(':'))
    {
        return Err(invalid(
            "it contains a password; choose HTTPS authentication and store the password in the keyring instead",
        ));
    }
    Ok(())
}

/// `url` with any password in it replaced, fit for a message.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_folders_are_readable_and_distinct() {
        let a = clone_name("https://git.example.com/team/deploy.git");
        let b = clone_name("ssh://git@other.example.com/team/deploy.git");
        assert!(a.starts_with("deploy-"), "{a}");
        assert_ne!(a, b);
        assert!(clone_name("git@github.com:team/my repo.git").starts_with("my-repo-"));
    }

    #[test]
    fn urls_are_checked_and_passwords_in_them_refused() {
        for good in [
            "https://git.example.com/team/deploy.git",
            "ssh://git@127.0.0.1:2222/srv/deploy.git",
            "git@github.com:team/deploy.git",
            "file:///srv/git/deploy.git",
        ] {
            validate_url(good).unwrap_or_else(|e| panic!("{good}: {e}"));
        }
        for bad in [
            "",
            " https://x/y",
            "deploy.git",
            "https://ann:hunter2@git.example.com/x.git",
        ] {
            assert!(validate_url(bad).is_err(), "{bad:?} was accepted");
        }
        let err = validate_url("https://ann:hunter2@git.example.com/x.git").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
