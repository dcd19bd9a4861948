//! Demo mode: a kube-sandbox on 127.0.0.1, a Git repository made from the sample app in
//! `demo/`, and one application, already deployed at the older commit, so the user opens
//! Plumbline to a real app that is out of sync.

use kube_sandbox::{Sandbox, SandboxOptions};
use plumbline_core::apps::{Application, Destination, MemoryStore};
use plumbline_core::clusters::{Clusters, Kubeconfigs};
use plumbline_core::repos::manager::{MemoryRepoStore, Repositories};
use plumbline_core::secrets::MemorySecrets;
use plumbline_core::settings::MemorySettings;
use plumbline_core::{Engine, repos};
use std::path::Path;
use std::sync::Arc;

pub const CONTEXT: &str = "plumbline-demo";
pub const APP: &str = "guestbook";

const PREVIOUS: &[(&str, &str)] = &[
    (
        "guestbook/namespace.yaml",
        include_str!("../demo/guestbook-previous/namespace.yaml"),
    ),
    (
        "guestbook/configmap.yaml",
        include_str!("../demo/guestbook-previous/configmap.yaml"),
    ),
    (
        "guestbook/deployment.yaml",
        include_str!("../demo/guestbook-previous/deployment.yaml"),
    ),
];
const CURRENT: &[(&str, &str)] = &[
    (
        "guestbook/namespace.yaml",
        include_str!("../demo/guestbook/namespace.yaml"),
    ),
    (
        "guestbook/configmap.yaml",
        include_str!("../demo/guestbook/configmap.yaml"),
    ),
    (
        "guestbook/deployment.yaml",
        include_str!("../demo/guestbook/deployment.yaml"),
    ),
    (
        "guestbook/service.yaml",
        include_str!("../demo/guestbook/service.yaml"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the demo cluster could not start: {0}")]
    Sandbox(#[from] kube_sandbox::SandboxError),
    #[error("the demo folder {path} could not be prepared: {message}")]
    Files { path: String, message: String },
    #[error("the demo repository could not be created: {0}")]
    Repo(#[from] plumbline_core::repos::RepoError),
    #[error("the demo application's first release could not be deployed: {0}")]
    Seed(String),
    #[error("the demo application could not be set up: {0}")]
    Engine(#[from] plumbline_core::EngineError),
}

/// Everything the demo owns; the sandbox stops when this is dropped.
pub struct Demo {
    /// Never read: held so the demo cluster lives as long as the app.
    pub _sandbox: Sandbox,
    pub engine: Arc<Engine>,
}

/// Builds the demo world in `dir` (replacing any earlier demo there).
pub async fn start(dir: &Path) -> Result<Demo, DemoError> {
    let files_error = |e: std::io::Error| DemoError::Files {
        path: dir.display().to_string(),
        message: e.to_string(),
    };
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(files_error)?;
    }
    std::fs::create_dir_all(dir).map_err(files_error)?;

    let sandbox = Sandbox::start(SandboxOptions::default()).await?;
    let kubeconfig = dir.join("kubeconfig");
    sandbox
        .write_kubeconfig(&kubeconfig, CONTEXT)
        .map_err(files_error)?;

    let repo = dir.join("repo");
    let as_files = |set: &[(&str, &str)]| {
        set.iter()
            .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
            .collect()
    };
    let commits = repos::create_with_history(
        &repo,
        &[
            ("Guestbook: first release", as_files(PREVIOUS)),
            (
                "Guestbook: add a Service, scale to 2, new greeting",
                as_files(CURRENT),
            ),
        ],
    )?;

    // The demo's repository is local and public: nothing for the keyring.
    let repositories = Repositories::new(
        Arc::new(MemoryRepoStore::default()),
        Arc::new(MemorySecrets::default()),
        dir,
        None,
    );
    let engine = Arc::new(
        Engine::new(
            Clusters::new(Kubeconfigs::load(&[kubeconfig])),
            Arc::new(MemoryStore::default()),
            Arc::new(repositories),
            Arc::new(MemorySettings::default()),
        )
        .with_operator("the window"),
    );
    let mut app = Application {
        name: APP.into(),
        repo: repo.display().to_string(),
        revision: commits[0].clone(),
        path: "guestbook".into(),
        destination: Destination {
            context: CONTEXT.into(),
            namespace: APP.into(),
        },
        source: Default::default(),
        ignore: Vec::new(),
        sync_policy: Default::default(),
    };
    // Deploy the first release, then point the app at `main`: the cluster is one commit behind.
    engine
        .apps()
        .add(app.clone())
        .map_err(plumbline_core::EngineError::from)?;
    let first = engine.sync(APP, &Default::default(), None, &|_| {}).await?;
    if first.phase != plumbline_core::sync::OperationPhase::Succeeded {
        return Err(DemoError::Seed(first.message));
    }
    app.revision = "main".into();
    engine
        .apps()
        .update(app)
        .map_err(plumbline_core::EngineError::from)?;
    Ok(Demo {
        _sandbox: sandbox,
        engine,
    })
}
