//! kube-sandbox: a Kubernetes API server on 127.0.0.1 for Plumbline's tests and demo mode.
//!
//! It speaks the real REST API over HTTPS with a generated CA and bearer tokens, so `kubectl`
//! and kube-rs talk to it as to any cluster. Nothing in Plumbline's engine knows it is here.

pub mod catalog;
mod controller;
mod defaults;
pub mod faults;
mod fields;
mod http;
mod logs;
mod openapi;
mod printing;
mod protobuf;
use kube_schema as schema;
pub mod selector;
pub mod store;
mod strategic;
mod structural;
mod tls;
mod validation;

pub use controller::ControllerOptions;
use http::Shared;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, pki_types};

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("could not generate the sandbox's certificates: {0}")]
    Certificates(#[from] rcgen::Error),
    #[error("could not set up TLS: {0}")]
    Tls(#[from] rustls::Error),
    #[error("could not listen on 127.0.0.1:{port}: {source}")]
    Listen { port: u16, source: std::io::Error },
}

/// What a bearer token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Every verb on every resource.
    Admin,
    /// Reads only; every write gets 403 Forbidden.
    ReadOnly,
}

/// The user names kubeconfigs and error messages use for each token.
pub const ADMIN_USER: &str = "sandbox-admin";
pub const READ_ONLY_USER: &str = "sandbox-reader";
/// The user the client certificate names (its CN), in the group `system:masters`.
pub const CERT_ADMIN_USER: &str = "sandbox-cert-admin";

/// How to start a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// How often a watch that allows bookmarks gets one.
    pub bookmark_interval: std::time::Duration,
    /// How many changes the server remembers for watches; older versions get 410 Gone.
    pub change_log: usize,
    /// Run the controllers (Deployments → ReplicaSets → Pods, Endpoints, Events). Off, the
    /// sandbox stores objects and nothing moves.
    pub controllers: Option<ControllerOptions>,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        Self {
            port: 0,
            bookmark_interval: std::time::Duration::from_secs(5),
            change_log: store::DEFAULT_CHANGE_LOG,
            controllers: Some(ControllerOptions::default()),
        }
    }
}

/// A running sandbox cluster. Dropping it stops the server and closes every connection.
pub struct Sandbox {
    addr: SocketAddr,
    ca_pem: String,
    client_cert_pem: String,
    client_key_pem: String,
    token: String,
    read_only_token: String,
    shared: Arc<Shared>,
    acceptor: TlsAcceptor,
    server: JoinHandle<()>,
    controllers: Option<JoinHandle<()>>,
}

/// The `kubernetes` Service in `default`, as kube-apiserver keeps it: how Pods reach the API.
fn kubernetes_service(shared: &Shared, port: u16) {
    let service = serde_json::json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "kubernetes", "labels": {"component": "apiserver", "provider": "kubernetes"}},
        "spec": {
            "type": "ClusterIP",
            "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}],
            "sessionAffinity": "None",
        },
    });
    let rt = catalog::by_plural("", "v1", "services").expect("services are built in");
    let mut store = shared.store.lock().unwrap_or_else(|p| p.into_inner());
    let _ = store.create(
        rt,
        Some("default"),
        service,
        &store::WriteOptions::default(),
    );
}

impl Sandbox {
    /// Starts serving on 127.0.0.1 and returns once the port is bound.
    pub async fn start(options: SandboxOptions) -> Result<Self, SandboxError> {
        let material = tls::generate()?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        // Client certificates are optional, as on kube-apiserver: a request without one
        // authenticates with its bearer token.
        let mut roots = rustls::RootCertStore::empty();
        roots.add(material.ca_der.clone())?;
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            roots.into(),
            provider.clone(),
        )
        .allow_unauthenticated()
        .build()
        .map_err(|e| rustls::Error::General(e.to_string()))?;
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![material.server_cert_der.clone()],
                pki_types::PrivateKeyDer::Pkcs8(material.server_key_der.clone_key()),
            )?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let acceptor = TlsAcceptor::from(Arc::new(config));

        let listener = TcpListener::bind(("127.0.0.1", options.port))
            .await
            .map_err(|source| SandboxError::Listen {
                port: options.port,
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| SandboxError::Listen {
                port: options.port,
                source,
            })?;

        let token = random_token();
        let read_only_token = random_token();
        let shared = Arc::new(Shared {
            store: Mutex::new(store::Store::with_change_log(options.change_log)),
            tokens: HashMap::from([
                (token.clone(), Access::Admin),
                (read_only_token.clone(), Access::ReadOnly),
            ]),
            bookmark_interval: options.bookmark_interval,
            faults: faults::Faults::default(),
            lists: Mutex::default(),
        });
        let app = axum::Router::new()
            .fallback(http::handle)
            .with_state(shared.clone());
        kubernetes_service(&shared, addr.port());
        let controllers = options.controllers.clone().map(|o| {
            let o = ControllerOptions {
                root_ca: material.ca_pem.clone(),
                ..o
            };
            tokio::spawn(run_controllers(shared.clone(), o))
        });
        let server = tokio::spawn(serve(listener, acceptor.clone(), app));
        tracing::info!(%addr, "kube-sandbox listening");
        Ok(Self {
            addr,
            ca_pem: material.ca_pem,
            client_cert_pem: material.client_cert_pem,
            client_key_pem: material.client_key_pem,
            token,
            read_only_token,
            shared,
            acceptor,
            server,
            controllers,
        })
    }

    /// The faults this sandbox injects: latency, 429s, 500s, dropped watches.
    pub fn faults(&self) -> &faults::Faults {
        &self.shared.faults
    }

    /// How many lists of `plural` (all namespaces together; watches not counted) this
    /// sandbox has served: tests use it to tell a read from a cache from one from the cluster.
    pub fn lists_served(&self, plural: &str) -> u64 {
        let lists = self.shared.lists.lock().unwrap_or_else(|p| p.into_inner());
        lists.get(plural).copied().unwrap_or(0)
    }

    /// Stops serving and starts again on the same port with the same objects, as an apiserver
    /// restart does: every connection, and so every watch, is cut.
    pub async fn restart(&mut self) -> Result<(), SandboxError> {
        self.stop_serving().await;
        self.serve_again().await
    }

    /// Stops serving, as a killed apiserver does: every connection is cut and the port
    /// refuses new ones. The objects stay for [`Sandbox::serve_again`].
    pub async fn stop_serving(&mut self) {
        self.server.abort();
        let _ = (&mut self.server).await;
    }

    /// Serves again on the same port, with the same objects and credentials.
    pub async fn serve_again(&mut self) -> Result<(), SandboxError> {
        let port = self.addr.port();
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|source| SandboxError::Listen { port, source })?;
        let app = axum::Router::new()
            .fallback(http::handle)
            .with_state(self.shared.clone());
        self.server = tokio::spawn(serve(listener, self.acceptor.clone(), app));
        Ok(())
    }

    /// Every object in the cluster, for saving (see [`Sandbox::restore`]).
    pub fn export(&self) -> Vec<serde_json::Value> {
        self.shared
            .store
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .export()
    }

    /// Puts back exported objects as they were; returns what could not be restored.
    pub fn restore(&self, objects: Vec<serde_json::Value>) -> Vec<String> {
        self.shared
            .store
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .restore(objects)
    }

    /// Creates objects as a client would (defaults, validation, managed fields under the
    /// manager `scenario`): Namespaces and CRDs first, then the rest in the order given.
    pub fn preload(&self, mut objects: Vec<serde_json::Value>) -> Result<(), String> {
        let first = |o: &serde_json::Value| {
            !matches!(
                o["kind"].as_str(),
                Some("Namespace" | "CustomResourceDefinition")
            )
        };
        objects.sort_by_key(first);
        let mut store = self.shared.store.lock().unwrap_or_else(|p| p.into_inner());
        let opts = store::WriteOptions {
            field_manager: Some("scenario".into()),
            ..Default::default()
        };
        for obj in objects {
            let api_version = obj["apiVersion"].as_str().unwrap_or_default().to_string();
            let kind = obj["kind"].as_str().unwrap_or_default().to_string();
            let (group, version) = api_version.split_once('/').unwrap_or(("", &api_version));
            let name = obj
                .pointer("/metadata/name")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_string();
            let rt = store
                .types()
                .into_iter()
                .find(|t| t.group == group && t.version == version && t.kind == kind)
                .ok_or_else(|| {
                    format!("{api_version} {kind} {name}: the sandbox does not serve this kind")
                })?;
            let ns = obj
                .pointer("/metadata/namespace")
                .and_then(serde_json::Value::as_str)
                .map(str::to_string);
            store
                .create(rt, ns.as_deref(), obj, &opts)
                .map_err(|e| format!("{kind} {name}: {}", e.message))?;
        }
        Ok(())
    }

    /// `https://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// PEM of the CA that signed the server certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// An admin kubeconfig with one cluster, user and context, all named `context`.
    pub fn kubeconfig_yaml(&self, context: &str) -> String {
        self.kubeconfig_yaml_for(Access::Admin, context)
    }

    /// A kubeconfig whose user holds the token with `access`.
    pub fn kubeconfig_yaml_for(&self, access: Access, context: &str) -> String {
        let user = match access {
            Access::Admin => ADMIN_USER,
            Access::ReadOnly => READ_ONLY_USER,
        };
        let stanza = format!("token: {}", self.token(access));
        self.kubeconfig_yaml_with_user(context, user, &stanza)
    }

    /// The bearer token with `access`, for exec credential plugins in tests.
    pub fn token(&self, access: Access) -> &str {
        match access {
            Access::Admin => &self.token,
            Access::ReadOnly => &self.read_only_token,
        }
    }

    /// A kubeconfig whose user authenticates with the sandbox's admin client certificate.
    pub fn kubeconfig_yaml_with_client_certificate(&self, context: &str) -> String {
        use base64::Engine;
        let b64 = |pem: &str| base64::engine::general_purpose::STANDARD.encode(pem);
        let stanza = format!(
            "client-certificate-data: {}\n    client-key-data: {}",
            b64(&self.client_cert_pem),
            b64(&self.client_key_pem)
        );
        self.kubeconfig_yaml_with_user(context, CERT_ADMIN_USER, &stanza)
    }

    /// A kubeconfig for this sandbox whose user `user` is given by `stanza`: the YAML lines
    /// under `user:`, indented by four spaces after the first (`exec:` blocks, for instance).
    pub fn kubeconfig_yaml_with_user(&self, context: &str, user: &str, stanza: &str) -> String {
        use base64::Engine;
        let ca = base64::engine::general_purpose::STANDARD.encode(&self.ca_pem);
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: {context}\n  cluster:\n    server: {url}\n    certificate-authority-data: {ca}\nusers:\n- name: {user}\n  user:\n    {stanza}\ncontexts:\n- name: {context}\n  context:\n    cluster: {context}\n    user: {user}\n    namespace: default\ncurrent-context: {context}\n",
            url = self.url(),
        )
    }

    /// Writes the admin kubeconfig to `path`, readable by the owner only.
    pub fn write_kubeconfig(&self, path: &Path, context: &str) -> std::io::Result<()> {
        self.write_kubeconfig_for(Access::Admin, path, context)
    }

    /// Writes the kubeconfig for `access` to `path`, readable by the owner only.
    pub fn write_kubeconfig_for(
        &self,
        access: Access,
        path: &Path,
        context: &str,
    ) -> std::io::Result<()> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, self.kubeconfig_yaml_for(access, context))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
        Ok(())
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.server.abort();
        if let Some(c) = &self.controllers {
            c.abort();
        }
    }
}

/// Runs the controllers whenever something changes or a timed step (a Pod starting) is due.
/// A pass that changed something is followed by another at once (a new ReplicaSet's status
/// feeds its Deployment's), until a pass changes nothing.
async fn run_controllers(shared: Arc<Shared>, options: ControllerOptions) {
    run_controllers_with(shared, options, || {}).await
}

/// [`run_controllers`], calling `after_pass` between each pass and the wait that follows it,
/// where a client's write must not be lost (tests write there).
async fn run_controllers_with(
    shared: Arc<Shared>,
    options: ControllerOptions,
    after_pass: impl Fn(),
) {
    let mut controllers = controller::Controllers::new(options);
    let mut changes = shared
        .store
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .subscribe();
    let mut busy_passes = 0;
    loop {
        let (next, changed, seen) = {
            let mut store = shared.store.lock().unwrap_or_else(|p| p.into_inner());
            let before = store.resource_version();
            let next = controllers.reconcile(&mut store, tokio::time::Instant::now());
            let seen = store.resource_version();
            (next, seen != before, seen)
        };
        after_pass();
        if changed && busy_passes < 20 {
            busy_passes += 1;
            tokio::task::yield_now().await;
            continue;
        }
        if busy_passes >= 20 {
            tracing::warn!("the sandbox controllers did not settle in 20 passes");
        }
        busy_passes = 0;
        // The notices of writes the pass has seen are dropped; a client's write that came in
        // after the pass (a sync applying a Deployment the moment its hook finished) is not:
        // it moved the resource version, so it gets a pass now instead of waiting for some
        // unrelated write. Writes after this check each leave a notice for the wait below.
        while changes.try_recv().is_ok() {}
        let written_since = shared
            .store
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .resource_version()
            != seen;
        if written_since {
            continue;
        }
        let wait = next.unwrap_or(std::time::Duration::from_secs(3600));
        tokio::select! {
            received = changes.recv() => {
                if matches!(received, Err(tokio::sync::broadcast::error::RecvError::Closed)) {
                    return;
                }
            }
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

async fn serve(listener: TcpListener, acceptor: TlsAcceptor, app: axum::Router) {
    // Connections live in this set so that aborting the server task closes them all.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((tcp, _)) = accepted else { continue };
                let acceptor = acceptor.clone();
                let app = app.clone();
                connections.spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else { return };
                    // rustls has verified a presented certificate against the sandbox's CA;
                    // the sandbox issues client certificates to its admin only.
                    let certified = tls.get_ref().1.peer_certificates().is_some_and(|c| !c.is_empty());
                    let app = app.layer(axum::Extension(http::PeerCertificate(certified)));
                    let service = hyper_util::service::TowerToHyperService::new(app);
                    let _ = auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

fn random_token() -> String {
    let bytes: [u8; 24] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A write that lands between a quiet pass and the wait after it (a client reacting to the
    /// pass's last write) gets a pass of its own: before, its notice was dropped with the
    /// pass's own, and the Deployment sat unobserved until some other write came.
    #[tokio::test]
    async fn a_write_just_after_a_quiet_pass_is_not_lost() {
        let shared = Arc::new(Shared {
            store: Mutex::new(store::Store::with_change_log(store::DEFAULT_CHANGE_LOG)),
            tokens: HashMap::new(),
            bookmark_interval: std::time::Duration::from_secs(60),
            faults: faults::Faults::default(),
            lists: Mutex::default(),
        });
        let deployments = catalog::by_plural("apps", "v1", "deployments").unwrap();
        let passes = AtomicUsize::new(0);
        let writer = shared.clone();
        let controllers = tokio::spawn(run_controllers_with(
            shared.clone(),
            ControllerOptions::default(),
            move || {
                // After the first pass, which found nothing to do.
                if passes.fetch_add(1, Ordering::SeqCst) == 0 {
                    let deployment = json!({
                        "apiVersion": "apps/v1", "kind": "Deployment",
                        "metadata": {"name": "web", "namespace": "default"},
                        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "web"}},
                                 "template": {"metadata": {"labels": {"app": "web"}},
                                              "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}},
                    });
                    let mut store = writer.store.lock().unwrap();
                    store
                        .create(
                            deployments,
                            Some("default"),
                            deployment,
                            &Default::default(),
                        )
                        .unwrap();
                }
            },
        ));
        let observed = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            loop {
                let store = shared
                    .store
                    .lock()
                    .unwrap()
                    .get(deployments, Some("default"), "web");
                if store.is_ok_and(|d| d.pointer("/status/observedGeneration").is_some()) {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        })
        .await;
        controllers.abort();
        assert!(observed.is_ok(), "the Deployment was never observed");
    }
}
