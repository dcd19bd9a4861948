//! The `kube-sandbox` binary: scenario files preload a cluster, `--state` keeps it across a
//! restart with the same uids and resourceVersions, and a bad scenario is refused in words.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SCENARIO: &str = "apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {currency: EUR}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
";

fn start(dir: &Path, extra: &[&str]) -> Child {
    let kubeconfig = dir.join("kubeconfig");
    let _ = std::fs::remove_file(&kubeconfig);
    let child = Command::new(env!("CARGO_BIN_EXE_kube-sandbox"))
        .arg("--kubeconfig-out")
        .arg(&kubeconfig)
        .args(extra)
        .stdout(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !dir.join("kubeconfig-readonly").exists() {
        assert!(
            Instant::now() < deadline,
            "kube-sandbox did not write its kubeconfigs"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn stop(mut child: Child) {
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "a clean shutdown on SIGTERM: {exit}");
}

fn kubectl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(dir.join("kubeconfig"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_scenario_preloads_and_state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("scenario.yaml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let state = dir.path().join("state.json");
    let state_arg = state.to_str().unwrap();

    let first = start(
        dir.path(),
        &[
            "--state",
            state_arg,
            "--scenario",
            scenario.to_str().unwrap(),
            "--no-controllers",
        ],
    );
    let identity = "jsonpath={.metadata.uid} {.metadata.resourceVersion} {.data.currency}";
    let before = kubectl(
        dir.path(),
        &["get", "configmap", "settings", "-n", "shop", "-o", identity],
    );
    assert!(before.ends_with(" EUR"), "{before}");
    stop(first);
    assert!(state.exists(), "state saved on exit");

    let second = start(
        dir.path(),
        &[
            "--state",
            state_arg,
            "--scenario",
            scenario.to_str().unwrap(),
            "--no-controllers",
        ],
    );
    let after = kubectl(
        dir.path(),
        &["get", "configmap", "settings", "-n", "shop", "-o", identity],
    );
    assert_eq!(
        after, before,
        "same uid and resourceVersion after the restart, scenario not applied twice"
    );
    stop(second);
}

#[test]
fn a_scenario_with_an_unknown_kind_is_refused_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("bad.yaml");
    std::fs::write(
        &scenario,
        "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g, namespace: default}\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kube-sandbox"))
        .args(["--scenario", scenario.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Gadget g: the sandbox does not serve this kind"),
        "{stderr}"
    );
}
