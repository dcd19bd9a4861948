//! Clones and fetches through git2 with the user's own credentials: HTTPS username and
//! password or token, SSH keys (with a passphrase or not), ssh-agent and git's credential
//! helpers. SSH host keys are checked against known_hosts. Clones are bare: apps read their
//! files from the object database at their own revision, so they never disturb each other.

use super::RepoError;
use super::known_hosts::{HostKey, HostKeyCheck, KnownHosts};
use crate::secrets::Sensitive;
use git2::{
    AutotagOption, CertificateCheckStatus, Cred, CredentialType, FetchOptions, FetchPrune, Oid,
    RemoteCallbacks, Repository,
};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use ts_rs::TS;

/// How Plumbline authenticates to a repository. Passwords, tokens and key passphrases are never
/// part of this: they live in the OS keyring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(
    tag = "method",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum RepoAuth {
    /// A public repository.
    None,
    /// HTTPS with a username and a password or access token (in the keyring).
    Https { username: String },
    /// SSH with a private key file; its passphrase, if any, is in the keyring.
    SshKey { username: String, key_path: String },
    /// SSH with the keys the running ssh-agent holds.
    SshAgent { username: String },
    /// Whatever git's configured credential helpers answer.
    CredentialHelper,
}

/// A repository the user added: where it is and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RepoConfig {
    pub url: String,
    pub auth: RepoAuth,
}

/// The secrets an operation may use, read from the keyring just before it.
#[derive(Debug, Default)]
pub struct Secrets {
    pub password: Option<Sensitive<String>>,
    pub key_passphrase: Option<Sensitive<String>>,
}

/// How far a transfer has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TransferProgress {
    pub received_objects: usize,
    pub total_objects: usize,
    #[ts(type = "number")]
    pub received_bytes: usize,
}

/// A branch whose new tip does not descend from its old one: someone force-pushed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ForcePush {
    pub branch: String,
    pub old: String,
    pub new: String,
}

/// What a clone or fetch did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FetchOutcome {
    /// True when this was the first clone.
    pub cloned: bool,
    pub force_pushed: Vec<ForcePush>,
}

/// Everything one clone or fetch needs besides the repository itself.
pub struct Transfer<'a> {
    pub config: &'a RepoConfig,
    pub secrets: Secrets,
    pub known_hosts: &'a KnownHosts,
    /// Git configuration for credential helpers (the user's global configuration in the app).
    pub git_config: &'a git2::Config,
    pub progress: &'a (dyn Fn(TransferProgress) + Sync),
    pub cancel: &'a AtomicBool,
}

/// Brings the bare clone at `dir` up to date with the remote, cloning it first when it is not
/// there. A first clone is built beside `dir` and moved into place only when complete, and a
/// failed fetch leaves the refs as they were: the last good clone stays usable.
pub fn clone_or_fetch(dir: &Path, transfer: &Transfer) -> Result<FetchOutcome, RepoError> {
    let url = &transfer.config.url;
    let git = |e: git2::Error| RepoError::Git {
        repo: url.clone(),
        message: e.message().to_string(),
    };
    if dir.join("HEAD").exists() {
        let repo = Repository::open_bare(dir).map_err(git)?;
        let force_pushed = fetch(&repo, transfer)?;
        return Ok(FetchOutcome {
            cloned: false,
            force_pushed,
        });
    }
    let partial = partial_dir(dir);
    let io = |e: std::io::Error| RepoError::Git {
        repo: url.clone(),
        message: format!("{}: {e}", partial.display()),
    };
    if partial.exists() {
        std::fs::remove_dir_all(&partial).map_err(io)?;
    }
    let repo = Repository::init_bare(&partial).map_err(git)?;
    repo.remote("origin", url).map_err(git)?;
    let result = fetch(&repo, transfer);
    drop(repo);
    match result {
        Ok(_) => {
            std::fs::rename(&partial, dir).map_err(io)?;
            Ok(FetchOutcome {
                cloned: true,
                force_pushed: Vec::new(),
            })
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            Err(e)
        }
    }
}

fn partial_dir(dir: &Path) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    dir.with_file_name(name)
}

/// What the callbacks learned, for turning a failure into a reason.
#[derive(Default)]
struct Observed {
    credentials_asked: u32,
    credentials_missing: Option<String>,
    host_key: Option<(HostKey, HostKeyCheck)>,
}

const REFSPECS: [&str; 2] = [
    "+refs/heads/*:refs/remotes/origin/*",
    "+refs/tags/*:refs/tags/*",
];

fn fetch(repo: &Repository, transfer: &Transfer) -> Result<Vec<ForcePush>, RepoError> {
    let url = transfer.config.url.clone();
    let before = branch_tips(repo);
    let observed = RefCell::new(Observed::default());
    let ssh_target = ssh_host_port(&url);
    let mut callbacks = RemoteCallbacks::new();
    callbacks.credentials(|_, username_from_url, allowed| {
        credentials(transfer, &observed, username_from_url, allowed)
    });
    callbacks.certificate_check(|cert, host| {
        let Some(hostkey) = cert.as_hostkey() else {
            // TLS: libgit2 has verified the certificate chain; keep its verdict.
            return Ok(CertificateCheckStatus::CertificatePassthrough);
        };
        let key = hostkey
            .hostkey()
            .and_then(HostKey::from_blob)
            .ok_or_else(|| git2::Error::from_str("the server sent no SSH host key"))?;
        let port = ssh_target.as_ref().map_or(22, |(_, port)| *port);
        let verdict = transfer.known_hosts.check(host, port, &key);
        let known = verdict == HostKeyCheck::Known;
        observed.borrow_mut().host_key = Some((key, verdict));
        if known {
            Ok(CertificateCheckStatus::CertificateOk)
        } else {
            Err(git2::Error::from_str("the SSH host key is not trusted"))
        }
    });
    callbacks.transfer_progress(|p| {
        (transfer.progress)(TransferProgress {
            received_objects: p.received_objects(),
            total_objects: p.total_objects(),
            received_bytes: p.received_bytes(),
        });
        !transfer.cancel.load(Ordering::Relaxed)
    });
    let mut options = FetchOptions::new();
    options
        .remote_callbacks(callbacks)
        .prune(FetchPrune::On)
        .download_tags(AutotagOption::None);

    let mut remote = repo.find_remote("origin").map_err(|e| RepoError::Git {
        repo: url.clone(),
        message: e.message().to_string(),
    })?;
    let fetched = remote.fetch(&REFSPECS, Some(&mut options), None);
    drop(options);
    if let Err(e) = fetched {
        return Err(failure(&url, e, transfer, observed.into_inner()));
    }
    if let Ok(default) = remote.default_branch()
        && let Some(branch) = default
            .as_str()
            .ok()
            .and_then(|b| b.strip_prefix("refs/heads/"))
    {
        let target = format!("refs/remotes/origin/{branch}");
        let _ =
            repo.reference_symbolic("refs/remotes/origin/HEAD", &target, true, "default branch");
    }
    Ok(force_pushes(repo, &before))
}

fn credentials(
    transfer: &Transfer,
    observed: &RefCell<Observed>,
    username_from_url: Option<&str>,
    allowed: CredentialType,
) -> Result<Cred, git2::Error> {
    let mut seen = observed.borrow_mut();
    let ssh_user = |configured: &str| {
        if configured.is_empty() {
            username_from_url.unwrap_or("git").to_string()
        } else {
            configured.to_string()
        }
    };
    if allowed.contains(CredentialType::USERNAME) {
        let user = match &transfer.config.auth {
            RepoAuth::SshKey { username, .. } | RepoAuth::SshAgent { username } => {
                ssh_user(username)
            }
            _ => username_from_url.unwrap_or("git").to_string(),
        };
        return Cred::username(&user);
    }
    seen.credentials_asked += 1;
    if seen.credentials_asked > 1 {
        // libgit2 asks again after the server refused: what we have was wrong.
        return Err(git2::Error::from_str("the server refused the credentials"));
    }
    let mut missing = |what: &str| {
        seen.credentials_missing = Some(what.to_string());
        Err(git2::Error::from_str(what))
    };
    match &transfer.config.auth {
        RepoAuth::None => missing("the repository asks for credentials and none are set"),
        RepoAuth::Https { username } => match &transfer.secrets.password {
            Some(password) => Cred::userpass_plaintext(username, password.expose()),
            None => missing("no password or token is stored for this repository"),
        },
        RepoAuth::SshKey { username, key_path } => {
            let key = expand_home(key_path);
            if !key.exists() {
                return missing(&format!("the SSH key {} does not exist", key.display()));
            }
            let passphrase = transfer.secrets.key_passphrase.as_ref();
            Cred::ssh_key(
                &ssh_user(username),
                None,
                &key,
                passphrase.map(|p| p.expose().as_str()),
            )
        }
        RepoAuth::SshAgent { username } => Cred::ssh_key_from_agent(&ssh_user(username)),
        RepoAuth::CredentialHelper => {
            match Cred::credential_helper(
                transfer.git_config,
                &transfer.config.url,
                username_from_url,
            ) {
                Ok(cred) => Ok(cred),
                Err(_) => {
                    missing("git's credential helpers have no credentials for this repository")
                }
            }
        }
    }
}

/// Turns a failed fetch into the reason the user can act on.
fn failure(url: &str, error: git2::Error, transfer: &Transfer, observed: Observed) -> RepoError {
    if transfer.cancel.load(Ordering::Relaxed) {
        return RepoError::Cancelled { url: url.into() };
    }
    if let Some((key, verdict)) = observed.host_key
        && verdict != HostKeyCheck::Known
    {
        let (host, port) = ssh_host_port(url).unwrap_or_default();
        return match verdict {
            HostKeyCheck::Changed => RepoError::HostKeyChanged {
                url: url.into(),
                host,
                fingerprint: key.fingerprint(),
            },
            _ => RepoError::UnknownHostKey {
                url: url.into(),
                prompt: Box::new(super::HostKeyPrompt {
                    host,
                    port,
                    key_type: key.key_type.clone(),
                    fingerprint: key.fingerprint(),
                    key: base64::Engine::encode(
                        &base64::engine::general_purpose::STANDARD,
                        &key.blob,
                    ),
                }),
            },
        };
    }
    let auth_failed = error.code() == git2::ErrorCode::Auth
        || observed.credentials_asked > 0 && error.class() == git2::ErrorClass::Ssh
        || observed.credentials_missing.is_some()
        || error.message().contains("refused the credentials")
        || error.message().contains("status code: 401")
        || error.message().contains("status code: 403");
    if auth_failed {
        let refused = "the server refused the credentials";
        let reason = observed.credentials_missing.unwrap_or_else(|| {
            if error.message().contains(refused) {
                refused.to_string()
            } else {
                format!("{refused} ({})", error.message())
            }
        });
        return RepoError::NeedsCredentials {
            url: url.into(),
            reason,
        };
    }
    RepoError::Fetch {
        url: url.into(),
        message: error.message().to_string(),
    }
}

fn branch_tips(repo: &Repository) -> Vec<(String, Oid)> {
    let Ok(refs) = repo.references_glob("refs/remotes/origin/*") else {
        return Vec::new();
    };
    refs.flatten()
        .filter(|r| r.kind() == Some(git2::ReferenceType::Direct))
        .filter_map(|r| Some((r.name().ok()?.to_string(), r.target()?)))
        .collect()
}

fn force_pushes(repo: &Repository, before: &[(String, Oid)]) -> Vec<ForcePush> {
    let after = branch_tips(repo);
    before
        .iter()
        .filter_map(|(name, old)| {
            let new = after.iter().find(|(n, _)| n == name)?.1;
            let descends = new == *old || repo.graph_descendant_of(new, *old).unwrap_or(false);
            (!descends).then(|| ForcePush {
                branch: name.trim_start_matches("refs/remotes/origin/").to_string(),
                old: old.to_string(),
                new: new.to_string(),
            })
        })
        .collect()
}

/// Host and port of an SSH URL: `ssh://git@host:2222/path` or scp-like `git@host:path`.
pub fn ssh_host_port(url: &str) -> Option<(String, u16)> {
    if let Some(rest) = url.strip_prefix("ssh://") {
        let authority = rest.split('/').next()?;
        let host_port = authority.rsplit('@').next()?;
        return Some(match host_port.rsplit_once(':') {
            Some((host, port)) => (
                host.trim_matches(['[', ']']).to_string(),
                port.parse().ok()?,
            ),
            None => (host_port.to_string(), 22),
        });
    }
    if url.contains("://") {
        return None;
    }
    let (authority, _) = url.split_once(':')?;
    Some((authority.rsplit('@').next()?.to_string(), 22))
}

fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_urls_name_their_host_and_port() {
        assert_eq!(
            ssh_host_port("ssh://git@127.0.0.1:2222/srv/repo.git"),
            Some(("127.0.0.1".into(), 2222))
        );
        assert_eq!(
            ssh_host_port("ssh://github.com/team/repo.git"),
            Some(("github.com".into(), 22))
        );
        assert_eq!(
            ssh_host_port("git@github.com:team/repo.git"),
            Some(("github.com".into(), 22))
        );
        assert_eq!(ssh_host_port("https://github.com/team/repo.git"), None);
    }

    #[test]
    fn auth_methods_serialize_without_secrets() {
        let auth = RepoAuth::SshKey {
            username: "git".into(),
            key_path: "~/.ssh/id_ed25519".into(),
        };
        assert_eq!(
            serde_json::to_value(&auth).unwrap(),
            serde_json::json!({"method": "sshKey", "username": "git", "keyPath": "~/.ssh/id_ed25519"})
        );
    }
}
