//! Kubeconfig contexts, merged as kubectl merges them, and lazily created clients per context.

pub mod retry;

use crate::resources::error_chain;
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OnceCell;
use ts_rs::TS;

/// One kubeconfig context as the UI lists it.
#[derive(Debug, Clone, Serialize, TS, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ContextInfo {
    pub name: String,
    pub cluster: String,
    pub server: Option<String>,
    pub user: String,
    pub namespace: Option<String>,
    /// The kubeconfig file that defined this context.
    pub file: String,
    /// True for the merged `current-context`.
    pub current: bool,
    /// What Plumbline last learned of the cluster.
    pub state: ContextState,
    /// Sync, prune and rollback here ask the user to type the context's name.
    pub protected: bool,
}

/// A kubeconfig file that could not be read; the others still load.
#[derive(Debug, Clone, Serialize, TS, PartialEq)]
pub struct KubeconfigProblem {
    pub file: String,
    pub message: String,
}

/// Every context from every kubeconfig file, plus the files that failed.
#[derive(Debug, Clone, Serialize, TS, PartialEq)]
pub struct ContextList {
    pub contexts: Vec<ContextInfo>,
    pub problems: Vec<KubeconfigProblem>,
}

/// Why a context could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "context {context:?} is not in any kubeconfig file{}",
        unread_files(problems)
    )]
    UnknownContext {
        context: String,
        /// The files that could not be read, which might have held it.
        problems: Vec<KubeconfigProblem>,
    },
    #[error("context {context:?} cannot be used: {message}")]
    Config { context: String, message: String },
    #[error(
        "the credential plugin {command:?} of context {context:?} did not run: {message}. It was looked for on this PATH: {path}"
    )]
    CredentialPlugin {
        context: String,
        command: String,
        message: String,
        path: String,
    },
    #[error("cluster of context {context:?} did not answer: {message}")]
    Unreachable { context: String, message: String },
}

/// "; these could not be read: FILE (why); …", or nothing when every file was read.
fn unread_files(problems: &[KubeconfigProblem]) -> String {
    if problems.is_empty() {
        return String::new();
    }
    let files: Vec<String> = problems
        .iter()
        .map(|p| format!("{} ({})", p.file, p.message))
        .collect();
    format!(
        " that could be read; {} could not be: {}",
        if files.len() == 1 {
            "this one"
        } else {
            "these"
        },
        files.join("; ")
    )
}

/// The kubeconfig files to read: each entry of `KUBECONFIG`, then `~/.kube/config`.
pub fn default_kubeconfig_paths() -> Vec<PathBuf> {
    kubeconfig_paths(
        std::env::var_os("KUBECONFIG").as_deref(),
        std::env::var_os("HOME").as_deref(),
    )
}

fn kubeconfig_paths(
    kubeconfig: Option<&std::ffi::OsStr>,
    home: Option<&std::ffi::OsStr>,
) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = kubeconfig
        .map(|v| {
            std::env::split_paths(v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default();
    if let Some(home) = home {
        paths.push(Path::new(home).join(".kube").join("config"));
    }
    let mut seen = std::collections::HashSet::new();
    paths.retain(|p| seen.insert(p.clone()));
    paths
}

/// The merged view of several kubeconfig files.
#[derive(Debug, Clone, Default)]
pub struct Kubeconfigs {
    merged: Kubeconfig,
    origin: HashMap<String, PathBuf>,
    problems: Vec<KubeconfigProblem>,
}

impl Kubeconfigs {
    /// Reads each file in order; the first file to define a name wins, as in kubectl. Files that
    /// do not exist are skipped silently (kubectl does the same); files that fail to parse are
    /// reported and skipped.
    pub fn load(paths: &[PathBuf]) -> Self {
        let mut out = Self::default();
        for path in paths.iter().filter(|p| p.exists()) {
            match read_kubeconfig(path) {
                Ok(config) => {
                    for ctx in &config.contexts {
                        out.origin
                            .entry(ctx.name.clone())
                            .or_insert_with(|| path.clone());
                    }
                    match std::mem::take(&mut out.merged).merge(config) {
                        Ok(merged) => out.merged = merged,
                        Err(e) => out.problems.push(KubeconfigProblem {
                            file: path.display().to_string(),
                            message: format!("cannot be merged with the files before it: {e}"),
                        }),
                    }
                }
                Err(message) => out.problems.push(KubeconfigProblem {
                    file: path.display().to_string(),
                    message,
                }),
            }
        }
        out
    }

    /// True when no file defined any context.
    pub fn is_empty(&self) -> bool {
        self.merged.contexts.is_empty()
    }

    /// The contexts in the order kubectl lists them (by name).
    pub fn list(&self) -> ContextList {
        let current = self.merged.current_context.as_deref();
        let mut contexts: Vec<ContextInfo> = self
            .merged
            .contexts
            .iter()
            .map(|named| {
                let ctx = named.context.clone().unwrap_or_default();
                let server = self
                    .merged
                    .clusters
                    .iter()
                    .find(|c| c.name == ctx.cluster)
                    .and_then(|c| c.cluster.as_ref())
                    .and_then(|c| c.server.clone());
                ContextInfo {
                    name: named.name.clone(),
                    cluster: ctx.cluster.clone(),
                    server,
                    user: ctx.user.clone().unwrap_or_default(),
                    namespace: ctx.namespace.clone(),
                    file: self
                        .origin
                        .get(&named.name)
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                    current: Some(named.name.as_str()) == current,
                    state: ContextState::NotConnected,
                    protected: false,
                }
            })
            .collect();
        contexts.sort_by(|a, b| a.name.cmp(&b.name));
        ContextList {
            contexts,
            problems: self.problems.clone(),
        }
    }

    fn has_context(&self, name: &str) -> bool {
        self.merged.contexts.iter().any(|c| c.name == name)
    }

    /// Everything that decides how `context` connects, to tell whether it changed.
    fn definition(&self, context: &str) -> Option<String> {
        let ctx = self.merged.contexts.iter().find(|c| c.name == context)?;
        let inner = ctx.context.as_ref()?;
        let cluster = self
            .merged
            .clusters
            .iter()
            .find(|c| c.name == inner.cluster);
        let user = inner
            .user
            .as_ref()
            .and_then(|u| self.merged.auth_infos.iter().find(|a| &a.name == u));
        serde_json::to_string(&(ctx, cluster, user)).ok()
    }
}

/// Names a failed request the way the user can act on it.
fn classify(error: &kube::Error) -> ContextState {
    let message = error_chain(error);
    match error {
        kube::Error::Api(status) if status.code == 401 || status.code == 403 => {
            ContextState::Unauthorized {
                message: status.message.clone(),
            }
        }
        kube::Error::Auth(_) => ContextState::Unauthorized { message },
        kube::Error::Api(status) if status.code >= 500 => ContextState::Unreachable {
            message: format!(
                "the server answered {} {}: {}",
                status.code, status.reason, status.message
            ),
        },
        _ => {
            let lower = message.to_lowercase();
            if lower.contains("corrupt message") || lower.contains("invalidcontenttype") {
                // Something listens there, but what it says is not TLS.
                ContextState::Unreachable {
                    message: "what answers at the server's address does not speak TLS: is it the API server's HTTPS address?".into(),
                }
            } else if ["certificate", "tls", "handshake", "x509"]
                .iter()
                .any(|w| lower.contains(w))
            {
                ContextState::TlsError { message }
            } else if lower.contains("deadline has elapsed") {
                // The connection (or the TLS handshake on it) took longer than allowed.
                ContextState::Unreachable {
                    message: format!(
                        "no answer within {} seconds while connecting",
                        CONNECT_TIMEOUT.as_secs()
                    ),
                }
            } else if lower.contains("connection refused") {
                ContextState::Unreachable {
                    message: "connection refused: nothing listens at the server's address".into(),
                }
            } else {
                ContextState::Unreachable { message }
            }
        }
    }
}

/// Resolves a plugin named without a folder on `path`, and gives the plugin that PATH.
fn use_plugin_path(exec: &mut kube::config::ExecConfig, path: &str) {
    if let Some(command) = exec.command.as_mut()
        && !command.contains('/')
        && let Some(found) = std::env::split_paths(path)
            .map(|dir| dir.join(&*command))
            .find(|candidate| candidate.is_file())
    {
        *command = found.display().to_string();
    }
    let env = exec.env.get_or_insert_with(Vec::new);
    if !env
        .iter()
        .any(|e| e.get("name").is_some_and(|n| n == "PATH"))
    {
        env.push(HashMap::from([
            ("name".to_string(), "PATH".to_string()),
            ("value".to_string(), path.to_string()),
        ]));
    }
}

/// Runs the credential plugin under `timeout` (GNU coreutils, found on `search`) so that a
/// plugin that never answers — waiting on a browser login, a hung SSO — is stopped after
/// `limit`, its children with it, even when Plumbline itself was killed meanwhile (kube-rs
/// waits on a plugin for ever). On macOS it is Homebrew's `gtimeout`; where there is neither,
/// the plugin runs as it is.
fn with_time_limit(exec: &mut kube::config::ExecConfig, search: &str, limit: Duration) {
    let Some(command) = exec.command.clone() else {
        return;
    };
    let Some(timeout) = ["timeout", "gtimeout"].iter().find_map(|name| {
        std::env::split_paths(search)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    }) else {
        return;
    };
    let mut args = vec![
        "--kill-after=5".to_string(),
        limit.as_secs().max(1).to_string(),
        command,
    ];
    args.extend(exec.args.take().unwrap_or_default());
    exec.command = Some(timeout.display().to_string());
    exec.args = Some(args);
}

/// How long a credential plugin may take before it is stopped.
pub const PLUGIN_TIMEOUT: Duration = Duration::from_secs(60);

/// The PATH a login shell sets up (`$SHELL -l -c`), for an app started from a desktop
/// launcher whose environment lacks what the user's profile adds (Homebrew, gcloud, aws).
/// `None` when the shell does not answer within a few seconds.
pub fn login_shell_path(shell: &Path, home: Option<&Path>) -> Option<String> {
    let mut command = std::process::Command::new(shell);
    command
        .args(["-l", "-c", "printf '%s' \"$PATH\""])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    if let Some(home) = home {
        command.env("HOME", home);
    }
    let mut child = command.spawn().ok()?;
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => break,
            Ok(Some(_)) | Err(_) => return None,
            Ok(None) if std::time::Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take()?, &mut out).ok()?;
    let path = out.trim().to_string();
    (!path.is_empty()).then_some(path)
}

/// How many requests one task (a sync group, a sweep) has in flight against one cluster.
pub const CONCURRENCY: usize = 8;

/// Runs `futures` against a cluster, at most [`CONCURRENCY`] at a time, never one by one and
/// never all at once. They are built up front (not in a lazy map) so the stream's type holds
/// no higher-ranked closure, which a Send future cannot hold. The outputs come in the order of
/// `futures`, whichever finished first: what a sync reports waiting for reads in plan order on
/// any cluster.
pub async fn bounded<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    use futures::StreamExt;
    futures::stream::iter(futures)
        .buffered(CONCURRENCY)
        .collect()
        .await
}

/// `first`'s folders, then those of `then` that `first` lacks: a terminal's PATH keeps its
/// order and everything in it, and the login shell only adds. `None` when `then` adds nothing.
pub fn search_path(first: Option<&str>, then: Option<&str>) -> Option<String> {
    let then = then.filter(|t| !t.is_empty())?;
    let mut folders: Vec<&str> = first
        .unwrap_or_default()
        .split(':')
        .filter(|f| !f.is_empty())
        .collect();
    let before = folders.len();
    for folder in then.split(':').filter(|f| !f.is_empty()) {
        if !folders.contains(&folder) {
            folders.push(folder);
        }
    }
    (folders.len() > before || before == 0).then(|| folders.join(":"))
}

/// One kubeconfig file, read once (kubectl rewrites it in place, so a second read may see another
/// file) and decoded here: kube-rs's own reader panics on a UTF-16 file with an odd byte count,
/// which fuzzing found. Relative file references are made absolute against the file's folder, as
/// kubectl does (and kube-rs's reader did): certificates, keys, token files, and an exec command
/// given as a path.
fn read_kubeconfig(path: &Path) -> Result<Kubeconfig, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot be read: {e}"))?;
    let text = decode_kubeconfig(&bytes)?;
    let mut config = Kubeconfig::from_yaml(&text).map_err(|e| error_chain(&e))?;
    if let Some(dir) = path.parent() {
        let absolute = |file: &mut Option<String>| {
            if let Some(f) = file.as_deref()
                && Path::new(f).is_relative()
            {
                *file = Some(dir.join(f).display().to_string());
            }
        };
        for named in &mut config.clusters {
            if let Some(cluster) = &mut named.cluster {
                absolute(&mut cluster.certificate_authority);
            }
        }
        for named in &mut config.auth_infos {
            if let Some(user) = &mut named.auth_info {
                absolute(&mut user.client_certificate);
                absolute(&mut user.client_key);
                absolute(&mut user.token_file);
                if let Some(exec) = &mut user.exec
                    && exec
                        .command
                        .as_deref()
                        .is_some_and(|c| c.contains(std::path::MAIN_SEPARATOR))
                {
                    absolute(&mut exec.command);
                }
            }
        }
    }
    Ok(config)
}

/// A kubeconfig's text: UTF-8, with or without a byte-order mark, or UTF-16 with one (what
/// PowerShell's `>` writes).
fn decode_kubeconfig(bytes: &[u8]) -> Result<String, String> {
    let utf16 = |rest: &[u8], unit: fn([u8; 2]) -> u16| {
        if !rest.len().is_multiple_of(2) {
            return Err("is UTF-16 with an odd number of bytes (cut short?)".to_string());
        }
        let units: Vec<u16> = rest.chunks_exact(2).map(|c| unit([c[0], c[1]])).collect();
        String::from_utf16(&units).map_err(|_| "is not valid UTF-16".to_string())
    };
    match bytes {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        [0xEF, 0xBB, 0xBF, rest @ ..] | rest => String::from_utf8(rest.to_vec())
            .map_err(|_| "is not text (not valid UTF-8)".to_string()),
    }
}

/// What Plumbline knows of a context's cluster, with the server's own words.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(
    tag = "state",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ContextState {
    /// Plumbline has not talked to it yet (it never connects at start-up).
    NotConnected,
    Connected {
        version: String,
    },
    /// No answer: the server is down, the address is wrong, or a network is in the way.
    Unreachable {
        message: String,
    },
    /// The server answered but refused the credentials, or the credential plugin failed.
    Unauthorized {
        message: String,
    },
    /// The TLS handshake failed: a certificate the kubeconfig does not trust.
    TlsError {
        message: String,
    },
    /// The kubeconfig entry itself cannot be used.
    Invalid {
        message: String,
    },
}

/// How long a context found unreachable is taken at its word before it is tried again.
pub const UNREACHABLE_REMEMBERED: Duration = Duration::from_secs(30);

/// How long a context may take to answer a probe before it is called unreachable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(8);

/// How long a connection to a cluster may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a request may wait for the next bytes of an answer.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Clients per context, created on first use and shared afterwards. Nothing connects until a
/// caller asks for a context.
pub struct Clusters {
    kubeconfigs: std::sync::RwLock<Kubeconfigs>,
    /// The files read, and when each was last changed (None: absent).
    files: Mutex<Vec<(PathBuf, Option<std::time::SystemTime>)>>,
    clients: Mutex<HashMap<String, Arc<OnceCell<kube::Client>>>>,
    /// Clients for watches, which may stay quiet for minutes (see [`Self::watch_client`]).
    watch_clients: Mutex<HashMap<String, Arc<OnceCell<kube::Client>>>>,
    states: Mutex<HashMap<String, ContextState>>,
    /// When each context was last found unreachable.
    unreachable_at: Mutex<HashMap<String, std::time::Instant>>,
    /// How long a credential plugin may take.
    plugin_timeout: Duration,
    /// Where tools and credential plugins are looked for.
    search_path: SearchPath,
    /// Bumped whenever the contexts or a context's state change.
    changes: tokio::sync::watch::Sender<u64>,
}

/// The PATH tools and credential plugins are looked for on: the process's own, then the login
/// shell's (or the one given). Worked out once, when first asked for, by whichever caller asks
/// first (the others wait for that answer); clones share it.
#[derive(Clone, Default)]
pub struct SearchPath(Arc<SearchPathInner>);

#[derive(Default)]
struct SearchPathInner {
    given: Option<String>,
    login_shell: Option<(PathBuf, Option<PathBuf>)>,
    found: std::sync::OnceLock<Option<String>>,
}

impl SearchPath {
    fn new(given: Option<String>, login_shell: Option<(PathBuf, Option<PathBuf>)>) -> Self {
        Self(Arc::new(SearchPathInner {
            given,
            login_shell,
            found: std::sync::OnceLock::new(),
        }))
    }

    /// The search path; none when there is nothing to add to the process's own. May run the
    /// login shell, so it blocks: call it off the async runtime.
    pub fn get(&self) -> Option<String> {
        let inner = &self.0;
        inner
            .found
            .get_or_init(|| {
                let extra = match (&inner.given, &inner.login_shell) {
                    (Some(given), _) => Some(given.clone()),
                    (None, Some((shell, home))) => login_shell_path(shell, home.as_deref()),
                    (None, None) => None,
                };
                search_path(std::env::var("PATH").ok().as_deref(), extra.as_deref())
            })
            .clone()
    }
}

fn stamp(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

impl Clusters {
    /// Clients for the contexts of `kubeconfigs`; none is created yet.
    pub fn new(kubeconfigs: Kubeconfigs) -> Self {
        Self {
            kubeconfigs: std::sync::RwLock::new(kubeconfigs),
            files: Mutex::new(Vec::new()),
            clients: Mutex::new(HashMap::new()),
            watch_clients: Mutex::new(HashMap::new()),
            states: Mutex::new(HashMap::new()),
            unreachable_at: Mutex::new(HashMap::new()),
            plugin_timeout: PLUGIN_TIMEOUT,
            search_path: SearchPath::default(),
            changes: tokio::sync::watch::Sender::new(0),
        }
    }

    /// Changes whenever the contexts are re-read or a context's state changes.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    fn changed(&self) {
        self.changes.send_modify(|n| *n += 1);
    }

    /// Contexts from `paths`, which [`Self::reload_if_changed`] re-reads when they change.
    pub fn from_paths(paths: Vec<PathBuf>) -> Self {
        let clusters = Self::new(Kubeconfigs::default());
        clusters.set_paths(paths);
        clusters
    }

    /// Reads contexts from `paths` from now on (the defaults plus files the user added).
    pub fn set_paths(&self, paths: Vec<PathBuf>) {
        let stamped = paths.into_iter().map(|p| {
            let s = stamp(&p);
            (p, s)
        });
        *self.files.lock().unwrap_or_else(|p| p.into_inner()) = stamped.collect();
        self.reload();
    }

    /// The files contexts are read from.
    pub fn paths(&self) -> Vec<PathBuf> {
        let files = self.files.lock().unwrap_or_else(|p| p.into_inner());
        files.iter().map(|(p, _)| p.clone()).collect()
    }

    /// Re-reads the files when one of them changed, appeared or went; true when it did.
    /// Connections of contexts whose definition changed are dropped.
    pub fn reload_if_changed(&self) -> bool {
        let changed = {
            let mut files = self.files.lock().unwrap_or_else(|p| p.into_inner());
            let mut changed = false;
            for (path, seen) in files.iter_mut() {
                let now = stamp(path);
                if now != *seen {
                    *seen = now;
                    changed = true;
                }
            }
            changed
        };
        if changed {
            self.reload();
        }
        changed
    }

    fn reload(&self) {
        let fresh = Kubeconfigs::load(&self.paths());
        let mut current = self.kubeconfigs.write().unwrap_or_else(|p| p.into_inner());
        let stale: Vec<String> = current
            .merged
            .contexts
            .iter()
            .map(|c| c.name.clone())
            .filter(|name| current.definition(name) != fresh.definition(name))
            .collect();
        *current = fresh;
        drop(current);
        for name in stale {
            self.forget(&name);
            self.states
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&name);
        }
        self.changed();
    }

    /// Looks for tools and exec credential plugins on `path` too (after the process's own
    /// PATH), and gives plugins the whole search path as their PATH.
    pub fn with_plugin_path(mut self, path: Option<String>) -> Self {
        self.search_path = SearchPath::new(path, None);
        self
    }

    /// Stops a credential plugin that has not answered after `limit` (60 s unless said).
    pub fn with_plugin_timeout(mut self, limit: Duration) -> Self {
        self.plugin_timeout = limit;
        self
    }

    /// Adds the user's login shell's PATH (`$SHELL -l`) after the process's own, asked once,
    /// when a context first connects: start-up never waits for a shell. An app started from a
    /// desktop launcher lacks what the profile adds; one started from a terminal has it already
    /// and keeps everything that terminal's PATH holds.
    pub fn with_login_shell_path(self) -> Self {
        let shell = std::env::var_os("SHELL").unwrap_or_else(|| "/bin/sh".into());
        let home = std::env::var_os("HOME").map(PathBuf::from);
        self.with_login_shell(PathBuf::from(shell), home)
    }

    /// [`Self::with_login_shell_path`] with this shell and home folder.
    pub fn with_login_shell(mut self, shell: PathBuf, home: Option<PathBuf>) -> Self {
        self.search_path = SearchPath::new(None, Some((shell, home)));
        self
    }

    /// The PATH to find tools and plugins on: the process's own first, then the login shell's
    /// (or the one given); none when there is nothing to add to the process's own.
    pub async fn plugin_path(&self) -> Option<String> {
        let search_path = self.search_path.clone();
        tokio::task::spawn_blocking(move || search_path.get())
            .await
            .ok()
            .flatten()
    }

    /// [`Self::plugin_path`], worked out only when first asked for (a plain-YAML render never
    /// asks, so it never waits for the login shell).
    pub fn search_path(&self) -> SearchPath {
        self.search_path.clone()
    }

    /// The last known state of `context`.
    pub fn state(&self, context: &str) -> ContextState {
        self.states
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(context)
            .cloned()
            .unwrap_or(ContextState::NotConnected)
    }

    /// Connects to `context` if needed and asks the server for its version, within seconds.
    pub async fn probe(&self, context: &str) -> ContextState {
        self.probe_within(context, PROBE_TIMEOUT).await
    }

    /// [`Self::probe`], counting the context unreachable after `limit`.
    pub async fn probe_within(&self, context: &str, limit: Duration) -> ContextState {
        // A probe always asks the server afresh (the user pressed Connect, say).
        let client = if self.kubeconfigs().has_context(context) {
            self.shared_client(context).await
        } else {
            self.client(context).await
        };
        let state = match client {
            Err(e @ ClusterError::CredentialPlugin { .. }) => ContextState::Unauthorized {
                message: e.to_string(),
            },
            Err(e) => ContextState::Invalid {
                message: e.to_string(),
            },
            Ok(client) => match tokio::time::timeout(limit, client.apiserver_version()).await {
                Err(_) => ContextState::Unreachable {
                    message: format!("no answer within {} seconds", limit.as_secs()),
                },
                Ok(Ok(info)) => ContextState::Connected {
                    version: info.git_version,
                },
                Ok(Err(e)) => classify(&e),
            },
        };
        self.set_state(context, &state);
        state
    }

    /// Takes what a failed request says of `context`: a server that cannot be reached is
    /// marked so at once (the next calls fail fast), with no probe of its own.
    pub fn observe_failure(&self, context: &str, error: &kube::Error) {
        if matches!(error, kube::Error::Api(_)) {
            return;
        }
        let state = classify(error);
        if matches!(state, ContextState::Unreachable { .. }) {
            self.set_state(context, &state);
        }
    }

    /// True when `context` was found unreachable a moment ago.
    pub fn recently_unreachable(&self, context: &str) -> bool {
        self.unreachable_at
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(context)
            .is_some_and(|at| at.elapsed() < UNREACHABLE_REMEMBERED)
    }

    fn set_state(&self, context: &str, state: &ContextState) {
        match state {
            // The client stays for a server that stops answering (it is the same server when
            // it comes back); for a while, calls fail at once instead of each waiting its own
            // timeout.
            ContextState::Unreachable { .. } => {
                self.unreachable_at
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(context.to_string(), std::time::Instant::now());
            }
            ContextState::Connected { .. } => {
                self.unreachable_at
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(context);
            }
            // A later attempt starts afresh: new credentials, a fixed certificate.
            _ => self.forget(context),
        }
        let previous = self
            .states
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(context.to_string(), state.clone());
        if previous.as_ref() != Some(state) {
            self.changed();
        }
    }

    /// The merged kubeconfig files these clients come from.
    /// The contexts as the files say now.
    pub fn kubeconfigs(&self) -> Kubeconfigs {
        self.kubeconfigs
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The client for `context`; concurrent first calls share one creation. A context found
    /// unreachable in the last [`UNREACHABLE_REMEMBERED`] says so at once.
    pub async fn client(&self, context: &str) -> Result<kube::Client, ClusterError> {
        let kubeconfigs = self.kubeconfigs();
        if !kubeconfigs.has_context(context) {
            return Err(ClusterError::UnknownContext {
                context: context.to_string(),
                problems: kubeconfigs.problems.clone(),
            });
        }
        if self.recently_unreachable(context)
            && let ContextState::Unreachable { message } = self.state(context)
        {
            return Err(ClusterError::Unreachable {
                context: context.to_string(),
                message,
            });
        }
        self.shared_client(context).await
    }

    /// The one client of `context`, made on first use.
    async fn shared_client(&self, context: &str) -> Result<kube::Client, ClusterError> {
        let cell = {
            let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
            clients.entry(context.to_string()).or_default().clone()
        };
        cell.get_or_try_init(|| self.connect(context, Some(READ_TIMEOUT)))
            .await
            .cloned()
    }

    /// The client of `context` made already, if any; connects to nothing.
    pub fn existing_client(&self, context: &str) -> Option<kube::Client> {
        let clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        clients.get(context)?.get().cloned()
    }

    /// The client for `context`'s watches: the same credentials, but no read timeout of its
    /// own, since a watch may hear nothing for minutes (whether the server still answers is
    /// the probe's to say). Made on first use.
    pub async fn watch_client(&self, context: &str) -> Result<kube::Client, ClusterError> {
        let cell = {
            let mut clients = self.watch_clients.lock().unwrap_or_else(|p| p.into_inner());
            clients.entry(context.to_string()).or_default().clone()
        };
        cell.get_or_try_init(|| self.connect(context, None))
            .await
            .cloned()
    }

    /// Forgets the clients of `context`, so the next call builds new ones (after auth errors).
    pub fn forget(&self, context: &str) {
        for clients in [&self.clients, &self.watch_clients] {
            clients
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(context);
        }
    }

    /// The exec credential plugin of `context`'s user, if it has one.
    fn plugin_of(&self, context: &str) -> Option<String> {
        let kubeconfigs = self.kubeconfigs();
        let merged = &kubeconfigs.merged;
        let user = merged
            .contexts
            .iter()
            .find(|c| c.name == context)?
            .context
            .as_ref()?
            .user
            .clone()?;
        merged
            .auth_infos
            .iter()
            .find(|a| a.name == user)?
            .auth_info
            .as_ref()?
            .exec
            .as_ref()?
            .command
            .clone()
    }

    async fn connect(
        &self,
        context: &str,
        read_timeout: Option<Duration>,
    ) -> Result<kube::Client, ClusterError> {
        let options = KubeConfigOptions {
            context: Some(context.to_string()),
            ..Default::default()
        };
        let mut kubeconfig = self.kubeconfigs().merged;
        let plugin = self.plugin_of(context);
        // Only a context with a credential plugin waits for the login shell's PATH.
        let plugin_path = match plugin {
            Some(_) => self.plugin_path().await,
            None => None,
        };
        let search = plugin_path
            .clone()
            .or_else(|| std::env::var("PATH").ok())
            .unwrap_or_default();
        for user in kubeconfig.auth_infos.iter_mut() {
            if let Some(exec) = user.auth_info.as_mut().and_then(|a| a.exec.as_mut()) {
                if let Some(path) = &plugin_path {
                    use_plugin_path(exec, path);
                }
                with_time_limit(exec, &search, self.plugin_timeout);
            }
        }
        // kube runs an exec plugin as soon as the client is configured; say which plugin failed
        // and where it was looked for.
        let timeout = self.plugin_timeout;
        let fail = |message: String| match &plugin {
            // `timeout` ends a plugin that overstays with 124 (or 137 once it had to kill).
            Some(command)
                if message.contains("exit status: 124") || message.contains("exit status: 137") =>
            {
                ClusterError::CredentialPlugin {
                    context: context.to_string(),
                    command: command.clone(),
                    message: format!(
                        "it did not answer within {} seconds and was stopped, with what it started",
                        timeout.as_secs()
                    ),
                    path: search.clone(),
                }
            }
            Some(command) if message.contains("exec") => ClusterError::CredentialPlugin {
                context: context.to_string(),
                command: command.clone(),
                message,
                path: plugin_path
                    .clone()
                    .or_else(|| std::env::var("PATH").ok())
                    .unwrap_or_default(),
            },
            _ => ClusterError::Config {
                context: context.to_string(),
                message,
            },
        };
        let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| fail(error_chain(&e)))?;
        // A dead cluster must answer within seconds, never hang the app; a busy one is retried
        // a few times, not for minutes.
        config.connect_timeout = Some(CONNECT_TIMEOUT);
        config.read_timeout = read_timeout;
        config.default_retry = false;
        let builder =
            kube::client::ClientBuilder::try_from(config).map_err(|e| fail(error_chain(&e)))?;
        // Retries clone the service below them: a buffer makes kube's stack shareable.
        Ok(builder
            .with_layer(&tower::buffer::BufferLayer::new(1024))
            .with_layer(&tower::retry::RetryLayer::new(retry::Patience::new()))
            .build())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn the_login_shell_adds_to_the_process_path_and_never_replaces_it() {
        assert_eq!(
            search_path(Some("/term/bin:/usr/bin"), Some("/usr/bin:/opt/cloud/bin")).as_deref(),
            Some("/term/bin:/usr/bin:/opt/cloud/bin"),
            "a tool only the terminal's PATH has is still found, and found first"
        );
        assert_eq!(
            search_path(Some("/usr/bin"), Some("/usr/bin")),
            None,
            "nothing to add"
        );
        assert_eq!(search_path(Some("/usr/bin"), None), None);
        assert_eq!(
            search_path(None, Some("/opt/cloud/bin")).as_deref(),
            Some("/opt/cloud/bin")
        );
        assert_eq!(
            search_path(Some("/a::/b"), Some(":/c")).as_deref(),
            Some("/a:/b:/c")
        );
    }

    const FIRST: &str = "apiVersion: v1\nkind: Config\ncurrent-context: dev\nclusters:\n- name: dev\n  cluster: {server: 'https://dev.example:6443'}\n- name: shared\n  cluster: {server: 'https://first.example'}\nusers:\n- name: dev\n  user: {token: a}\ncontexts:\n- name: dev\n  context: {cluster: dev, user: dev, namespace: team}\n";
    const SECOND: &str = "apiVersion: v1\nkind: Config\ncurrent-context: prod\nclusters:\n- name: shared\n  cluster: {server: 'https://second.example'}\nusers:\n- name: prod\n  user: {token: b}\ncontexts:\n- name: prod\n  context: {cluster: shared, user: prod}\n- name: dev\n  context: {cluster: shared, user: prod}\n";

    #[test]
    fn merges_files_first_one_wins() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a", FIRST);
        let b = write(dir.path(), "b", SECOND);
        let list = Kubeconfigs::load(&[a.clone(), b.clone()]).list();
        let names: Vec<_> = list.contexts.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["dev", "prod"]);
        let dev = &list.contexts[0];
        assert!(
            dev.current,
            "current-context comes from the first file that sets it"
        );
        assert_eq!(dev.server.as_deref(), Some("https://dev.example:6443"));
        assert_eq!(dev.namespace.as_deref(), Some("team"));
        assert_eq!(dev.file, a.display().to_string());
        let prod = &list.contexts[1];
        assert_eq!(
            prod.server.as_deref(),
            Some("https://first.example"),
            "cluster `shared` comes from the first file"
        );
        assert_eq!(prod.file, b.display().to_string());
        assert!(list.problems.is_empty());
    }

    #[test]
    fn a_broken_file_is_reported_and_the_others_load() {
        let dir = tempfile::tempdir().unwrap();
        let bad = write(dir.path(), "bad", "clusters: [unclosed\n");
        let good = write(dir.path(), "good", SECOND);
        let list = Kubeconfigs::load(&[bad.clone(), good, dir.path().join("missing")]).list();
        assert_eq!(list.contexts.len(), 2);
        assert_eq!(list.problems.len(), 1);
        assert_eq!(list.problems[0].file, bad.display().to_string());
        assert!(!list.problems[0].message.is_empty());
    }

    #[test]
    fn files_in_any_encoding_load_and_cut_or_binary_ones_are_problems() {
        let dir = tempfile::tempdir().unwrap();
        let utf16 = |bom: [u8; 2], unit: fn(u16) -> [u8; 2]| {
            let mut bytes = bom.to_vec();
            bytes.extend(SECOND.encode_utf16().flat_map(unit));
            bytes
        };
        let mut bom8 = vec![0xEF, 0xBB, 0xBF];
        bom8.extend(SECOND.as_bytes());
        for (name, bytes) in [
            ("utf8-bom", bom8),
            ("utf16le", utf16([0xFF, 0xFE], u16::to_le_bytes)),
            ("utf16be", utf16([0xFE, 0xFF], u16::to_be_bytes)),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            let list = Kubeconfigs::load(&[path]).list();
            assert_eq!(list.contexts.len(), 2, "{name}: {:?}", list.problems);
        }

        // Found by `make fuzz` (fuzz/seeds/kubeconfig/odd-utf16): kube-rs's reader panicked on it.
        let cut = write(dir.path(), "cut", "");
        std::fs::write(&cut, [0xFF, 0xFE, 0x2A, 0xEF, 0x2A]).unwrap();
        let binary = dir.path().join("binary");
        std::fs::write(&binary, [0x80, 0x81, 0xFE]).unwrap();
        let good = write(dir.path(), "good", FIRST);
        let list = Kubeconfigs::load(&[cut.clone(), binary.clone(), good]).list();
        assert_eq!(list.contexts.len(), 1, "the good file still loads");
        let messages: Vec<_> = list
            .problems
            .iter()
            .map(|p| (p.file.as_str(), p.message.as_str()))
            .collect();
        assert_eq!(
            messages,
            [
                (
                    cut.to_str().unwrap(),
                    "is UTF-16 with an odd number of bytes (cut short?)"
                ),
                (binary.to_str().unwrap(), "is not text (not valid UTF-8)"),
            ]
        );
    }

    #[test]
    fn relative_files_are_taken_from_the_kubeconfig_folder() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "config",
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://c', certificate-authority: ca.crt}\nusers:\n- name: u\n  user:\n    client-certificate: /abs/u.crt\n    client-key: keys/u.key\n    tokenFile: token\n    exec: {apiVersion: client.authentication.k8s.io/v1, command: bin/login}\n- name: v\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1, command: aws}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\n",
        );
        let config = read_kubeconfig(&path).unwrap();
        let at = |f: &str| Some(dir.path().join(f).display().to_string());
        let cluster = config.clusters[0].cluster.as_ref().unwrap();
        assert_eq!(cluster.certificate_authority, at("ca.crt"));
        let user = config.auth_infos[0].auth_info.as_ref().unwrap();
        assert_eq!(user.client_certificate.as_deref(), Some("/abs/u.crt"));
        assert_eq!(user.client_key, at("keys/u.key"));
        assert_eq!(user.token_file, at("token"));
        assert_eq!(user.exec.as_ref().unwrap().command, at("bin/login"));
        let bare = config.auth_infos[1].auth_info.as_ref().unwrap();
        assert_eq!(
            bare.exec.as_ref().unwrap().command.as_deref(),
            Some("aws"),
            "a bare command is looked up on PATH"
        );
    }

    #[test]
    fn a_plugin_runs_under_gnu_timeout_by_either_of_its_names() {
        let exec = || kube::config::ExecConfig {
            command: Some("aws".into()),
            args: Some(vec!["eks".into(), "get-token".into()]),
            ..serde_json::from_value(serde_json::json!({"apiVersion": "v1"})).unwrap()
        };
        let (coreutils, homebrew, neither) = (
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        write(coreutils.path(), "timeout", "");
        write(homebrew.path(), "gtimeout", "");
        for (dir, name) in [(&coreutils, "timeout"), (&homebrew, "gtimeout")] {
            let mut limited = exec();
            let search = format!("{}:{}", neither.path().display(), dir.path().display());
            with_time_limit(&mut limited, &search, Duration::from_secs(60));
            assert_eq!(
                limited.command,
                Some(dir.path().join(name).display().to_string())
            );
            assert_eq!(
                limited.args.unwrap(),
                ["--kill-after=5", "60", "aws", "eks", "get-token"]
            );
        }
        let mut unlimited = exec();
        with_time_limit(
            &mut unlimited,
            &neither.path().display().to_string(),
            Duration::from_secs(60),
        );
        assert_eq!(unlimited.command.as_deref(), Some("aws"));
    }

    #[test]
    fn paths_are_kubeconfig_entries_then_home_without_repeats() {
        let paths = kubeconfig_paths(Some("/a:/b::/h/.kube/config".as_ref()), Some("/h".as_ref()));
        assert_eq!(
            paths,
            [
                PathBuf::from("/a"),
                PathBuf::from("/b"),
                PathBuf::from("/h/.kube/config")
            ]
        );
    }

    #[tokio::test]
    async fn unknown_context_is_an_error_without_connecting() {
        let clusters = Clusters::new(Kubeconfigs::default());
        let result = clusters.client("nope").await;
        assert!(
            matches!(result, Err(ClusterError::UnknownContext { ref context, .. }) if context == "nope")
        );
    }
}
