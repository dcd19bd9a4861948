//! The cluster a test runs against. Tests that hold for any Kubernetes API server take a
//! [`TestCluster`]; which one is chosen by `PLUMBLINE_TEST_CLUSTER`:
//!
//! - `sandbox` (the default): a fresh kube-sandbox in this process, started in milliseconds;
//! - `control-plane`: a fresh real control plane (etcd, kube-apiserver, kube-controller-manager,
//!   kube-scheduler and kwok's simulated Nodes) from `scripts/control-plane.sh`, started in a few
//!   seconds from binaries built once per machine. `make test` runs the cluster suites this way
//!   too, with the same assertions.
//!
//! Either is stopped when dropped, also when the test panics. A test process killed outright
//! leaves its control plane behind: `make test` stops every one left in [`control_plane_root`]
//! when it ends, and the next start in a folder stops a stale one first.

pub use kube_sandbox::Access;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A Kubernetes API server for one test.
pub enum TestCluster {
    Sandbox(kube_sandbox::Sandbox),
    ControlPlane(ControlPlane),
}

impl TestCluster {
    /// The cluster `PLUMBLINE_TEST_CLUSTER` names, started.
    pub async fn start() -> Self {
        match std::env::var("PLUMBLINE_TEST_CLUSTER").as_deref() {
            // Blocks this test's thread for the few seconds the script takes; nothing else of
            // the test can run before its cluster is up.
            Ok("control-plane") => {
                Self::ControlPlane(ControlPlane::start().unwrap_or_else(|error| panic!("{error}")))
            }
            Ok("sandbox") | Ok("") | Err(_) => Self::Sandbox(
                kube_sandbox::Sandbox::start(Default::default())
                    .await
                    .expect("the sandbox starts"),
            ),
            Ok(other) => panic!(
                "PLUMBLINE_TEST_CLUSTER={other}: say `sandbox` (the default) or `control-plane`"
            ),
        }
    }

    /// Whether this is the real control plane.
    pub fn is_real(&self) -> bool {
        matches!(self, Self::ControlPlane(_))
    }

    /// Writes a kubeconfig whose one context, `context`, reaches this cluster as the admin.
    pub fn write_kubeconfig(&self, path: &Path, context: &str) {
        self.write_kubeconfig_for(Access::Admin, path, context)
    }

    /// Writes a kubeconfig whose one context, `context`, reaches this cluster with `access`.
    pub fn write_kubeconfig_for(&self, access: Access, path: &Path, context: &str) {
        match self {
            Self::Sandbox(sandbox) => sandbox
                .write_kubeconfig_for(access, path, context)
                .expect("the kubeconfig is written"),
            Self::ControlPlane(plane) => plane.write_kubeconfig_for(access, path, context),
        }
    }
}

/// Where the control planes of tests live, one folder each: `PLUMBLINE_CONTROL_PLANES`, or
/// `target/control-planes` of this workspace.
pub fn control_plane_root() -> PathBuf {
    std::env::var_os("PLUMBLINE_CONTROL_PLANES")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/control-planes"))
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A real control plane started by `scripts/control-plane.sh`, stopped and removed when dropped.
pub struct ControlPlane {
    dir: PathBuf,
}

impl ControlPlane {
    /// Starts one in a fresh folder of [`control_plane_root`] (building the binaries first if
    /// this machine has none yet).
    pub fn start() -> Result<Self, String> {
        let root = control_plane_root();
        std::fs::create_dir_all(&root).map_err(|error| format!("{}: {error}", root.display()))?;
        let dir = root.join(format!("{:016x}", rand::random::<u64>()));
        let plane = Self { dir };
        let output = Command::new(workspace().join("scripts/control-plane.sh"))
            .arg("start")
            .arg(&plane.dir)
            .output()
            .map_err(|error| format!("scripts/control-plane.sh does not run: {error}"))?;
        if !output.status.success() {
            return Err(format!(
                "the control plane did not start: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(plane)
    }

    /// The kubeconfig the script wrote for `access` (context `control-plane`).
    pub fn kubeconfig(&self, access: Access) -> PathBuf {
        self.dir.join(match access {
            Access::Admin => "admin.kubeconfig",
            Access::ReadOnly => "readonly.kubeconfig",
        })
    }

    /// Writes a copy of [`Self::kubeconfig`] whose context is called `context`, with the
    /// cluster's certificate authority inline (as kube-sandbox writes it), so that the copy
    /// still reads once this control plane and its folder are gone.
    pub fn write_kubeconfig_for(&self, access: Access, path: &Path, context: &str) {
        use base64::Engine as _;
        let mut config = kube::config::Kubeconfig::read_from(self.kubeconfig(access))
            .expect("the script wrote a kubeconfig");
        for named in &mut config.contexts {
            named.name = context.to_string();
        }
        for named in &mut config.clusters {
            let cluster = named
                .cluster
                .as_mut()
                .expect("the script names the cluster");
            if let Some(file) = cluster.certificate_authority.take() {
                let pem = std::fs::read(file).expect("the script wrote the certificate");
                cluster.certificate_authority_data =
                    Some(base64::engine::general_purpose::STANDARD.encode(pem));
            }
        }
        config.current_context = Some(context.to_string());
        let text = serde_norway::to_string(&config).expect("a kubeconfig serialises");
        std::fs::write(path, text).expect("the kubeconfig is written");
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        let _ = Command::new(workspace().join("scripts/control-plane.sh"))
            .arg("stop")
            .arg(&self.dir)
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
