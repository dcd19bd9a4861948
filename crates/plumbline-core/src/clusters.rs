//! Kubeconfig contexts, merged as kubectl merges them, and lazily created clients per context.

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
    #[error("context {0:?} is not in any kubeconfig file")]
    UnknownContext(String),
    #[error("context {context:?} cannot be used: {message}")]
    Config { context: String, message: String },
    #[error("cluster of context {context:?} did not answer: {message}")]
    Unreachable { context: String, message: String },
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
            match Kubeconfig::read_from(path) {
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
                Err(e) => out.problems.push(KubeconfigProblem {
                    file: path.display().to_string(),
                    message: describe_kubeconfig_error(&e),
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
}

fn describe_kubeconfig_error(e: &kube::config::KubeconfigError) -> String {
    use std::error::Error;
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}

/// Clients per context, created on first use and shared afterwards. Nothing connects until a
/// caller asks for a context.
pub struct Clusters {
    kubeconfigs: Kubeconfigs,
    clients: Mutex<HashMap<String, Arc<OnceCell<kube::Client>>>>,
}

impl Clusters {
    /// Clients for the contexts of `kubeconfigs`; none is created yet.
    pub fn new(kubeconfigs: Kubeconfigs) -> Self {
        Self {
            kubeconfigs,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// The merged kubeconfig files these clients come from.
    pub fn kubeconfigs(&self) -> &Kubeconfigs {
        &self.kubeconfigs
    }

    /// The client for `context`; concurrent first calls share one creation.
    pub async fn client(&self, context: &str) -> Result<kube::Client, ClusterError> {
        if !self.kubeconfigs.has_context(context) {
            return Err(ClusterError::UnknownContext(context.to_string()));
        }
        let cell = {
            let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
            clients.entry(context.to_string()).or_default().clone()
        };
        cell.get_or_try_init(|| self.connect(context))
            .await
            .cloned()
    }

    /// Forgets the client of `context`, so the next call builds a new one (after auth errors).
    pub fn forget(&self, context: &str) {
        self.clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(context);
    }

    async fn connect(&self, context: &str) -> Result<kube::Client, ClusterError> {
        let options = KubeConfigOptions {
            context: Some(context.to_string()),
            ..Default::default()
        };
        let mut config =
            kube::Config::from_custom_kubeconfig(self.kubeconfigs.merged.clone(), &options)
                .await
                .map_err(|e| ClusterError::Config {
                    context: context.to_string(),
                    message: describe_kubeconfig_error(&e),
                })?;
        // A dead cluster must answer within seconds, never hang the app.
        config.connect_timeout = Some(Duration::from_secs(5));
        config.read_timeout = Some(Duration::from_secs(30));
        kube::Client::try_from(config).map_err(|e| ClusterError::Config {
            context: context.to_string(),
            message: e.to_string(),
        })
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
        assert!(matches!(result, Err(ClusterError::UnknownContext(ref c)) if c == "nope"));
    }
}
