//! The real `kubectl` against the sandbox: what works here must work against a real cluster.

use kube_sandbox::{Sandbox, SandboxOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const MANIFESTS: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  labels: {app: web, tier: front}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: 'nginx:1.27'}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: kube-public, labels: {app: web}}
data: {greeting: hello}
";

fn kubectl(kubeconfig: &Path, args: &[&str]) -> Output {
    Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .expect("kubectl runs (make deps installs it)")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "kubectl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A running sandbox and a folder holding its kubeconfig; both live as long as the test keeps them.
async fn sandbox() -> (Sandbox, tempfile::TempDir, PathBuf) {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    sandbox.write_kubeconfig(&kubeconfig, "sandbox").unwrap();
    (sandbox, dir, kubeconfig)
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_applies_lists_and_deletes() {
    let (_sandbox, dir, kubeconfig) = sandbox().await;
    let manifests = dir.path().join("app.yaml");
    std::fs::write(&manifests, MANIFESTS).unwrap();

    let applied = stdout(&kubectl(
        &kubeconfig,
        &[
            "apply",
            "--server-side",
            "--validate=false",
            "-f",
            manifests.to_str().unwrap(),
        ],
    ));
    assert!(
        applied.contains("deployment.apps/web serverside-applied"),
        "{applied}"
    );

    let listed = stdout(&kubectl(&kubeconfig, &["get", "deployments", "-A"]));
    let mut lines = listed.lines();
    let header: Vec<_> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "NAMESPACE",
            "NAME",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "AGE"
        ]
    );
    let row: Vec<_> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(&row[..2], ["default", "web"]);

    let selected = stdout(&kubectl(
        &kubeconfig,
        &["get", "configmaps", "-A", "-l", "app=web", "-o", "name"],
    ));
    assert_eq!(selected.trim(), "configmap/settings");
    let none = stdout(&kubectl(
        &kubeconfig,
        &["get", "deployments", "-l", "tier in (back)", "-o", "name"],
    ));
    assert_eq!(none.trim(), "");

    let yaml = stdout(&kubectl(
        &kubeconfig,
        &[
            "get",
            "deployment",
            "web",
            "-o",
            "jsonpath={.spec.replicas} {.metadata.managedFields[0].manager}",
        ],
    ));
    assert_eq!(
        yaml, "1 kubectl",
        "defaulted replicas and the field manager kubectl sent"
    );

    stdout(&kubectl(&kubeconfig, &["delete", "deployment", "web"]));
    let gone = kubectl(&kubeconfig, &["get", "deployment", "web"]);
    assert!(!gone.status.success());
    assert!(String::from_utf8_lossy(&gone.stderr).contains("deployments.apps \"web\" not found"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_token_is_unauthorized() {
    let (_sandbox, _dir, kubeconfig) = sandbox().await;
    let output = kubectl(
        &kubeconfig,
        &["--token", "not-the-token", "get", "namespaces"],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("You must be logged in to the server"),
        "{stderr}"
    );
}
