//! `plumbline watch`, the real binary against a sandbox: it prints each app's status, then the
//! transitions as the cluster changes (text and JSON, two watchers at once), says when the
//! cluster stops answering, and ends cleanly when interrupted.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const SETTINGS: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  greeting: hello\n";

fn command(data: &Path, kubeconfig: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_plumbline"));
    command
        .arg("--data-dir")
        .arg(data)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args);
    command
}

/// Runs to the end off the async runtime (the sandbox in this process keeps serving).
async fn run(data: &Path, kubeconfig: &Path, args: &[&str]) -> (i32, String) {
    let mut command = command(data, kubeconfig, args);
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// A running `plumbline watch`, its lines read as they come; killed if the test fails.
struct Watcher {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Watcher {
    fn start(data: &Path, kubeconfig: &Path, args: &[&str]) -> Self {
        let mut child = command(data, kubeconfig, args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let (tx, lines) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits (off the runtime) for a line that `wanted` accepts, and returns it.
    async fn line(&mut self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(line) = self.seen.iter().find(|l| wanted(l)) {
                return line.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no line with {what} in:\n{}",
                self.seen.join("\n")
            );
            match self.lines.try_recv() {
                Ok(line) => self.seen.push(line),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Interrupts it as Ctrl-C does and returns its exit code.
    async fn interrupt(&mut self) -> i32 {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-INT", &pid])
                .status()
                .unwrap()
                .success()
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "watch did not stop when interrupted"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn json(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not one JSON object ({e}): {line}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_streams_statuses_and_transitions_until_interrupted() {
    let mut sandbox = kube_sandbox::Sandbox::start(Default::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    sandbox.write_kubeconfig(&kubeconfig, "sandbox").unwrap();
    let repo = dir.path().join("repo");
    plumbline_core::repos::create_with_history(
        &repo,
        &[(
            "first",
            vec![("app/settings.yaml".into(), SETTINGS.as_bytes().to_vec())],
        )],
    )
    .unwrap();
    let data: PathBuf = dir.path().join("data");
    let repo = repo.display().to_string();
    for name in ["web", "other"] {
        let (code, out) = run(
            &data,
            &kubeconfig,
            &[
                "app",
                "add",
                name,
                "--repo",
                &repo,
                "--path",
                "app",
                "--context",
                "sandbox",
                "--namespace",
                name,
                "--create-namespace",
            ],
        )
        .await;
        assert_eq!(code, 0, "{out}");
    }
    let (code, out) = run(&data, &kubeconfig, &["sync", "web"]).await;
    assert_eq!(code, 0, "{out}");

    // An unknown app is refused, by name.
    let (code, out) = run(&data, &kubeconfig, &["watch", "nosuch"]).await;
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("no application named nosuch"), "{out}");

    let mut text = Watcher::start(&data, &kubeconfig, &["watch", "web"]);
    let mut json_lines = Watcher::start(&data, &kubeconfig, &["watch", "--output", "json"]);
    let first = text
        .line("web's status", |l| l.contains("\tweb\tStatus\t"))
        .await;
    assert!(first.contains("\tStatus\tSynced at "), "{first}");
    let first = json_lines
        .line("web's status", |l| {
            json(l)["status"]["app"]["name"] == "web"
        })
        .await;
    assert_eq!(json(&first)["type"], "status");
    assert_eq!(json(&first)["status"]["sync"], "Synced");
    // Every app when none is named: `other` was never synced, so it is missing.
    let other = json_lines
        .line("other's status", |l| {
            json(l)["status"]["app"]["name"] == "other"
        })
        .await;
    assert_eq!(json(&other)["status"]["sync"], "OutOfSync", "{other}");

    // Changed by hand: both watchers say so, with no call from the test.
    let config_maps: kube::Api<k8s_openapi::api::core::v1::ConfigMap> = kube::Api::namespaced(
        plumbline_core::clusters::Clusters::from_paths(vec![kubeconfig.clone()])
            .client("sandbox")
            .await
            .unwrap(),
        "web",
    );
    config_maps
        .patch(
            "settings",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(serde_json::json!({"data": {"greeting": "changed"}})),
        )
        .await
        .unwrap();
    let told = text
        .line("the drift", |l| l.contains("\tweb\tOutOfSync\t"))
        .await;
    assert!(
        told.contains("web is out of sync: 1 of 1 resources differ"),
        "{told}"
    );
    let status = text
        .line("the new status", |l| {
            l.contains("\tStatus\tOutOfSync (1 of 1 resources)")
        })
        .await;
    assert!(status.contains("\tweb\t"), "{status}");
    let told = json_lines
        .line("the drift", |l| {
            let v = json(l);
            v["type"] == "activity" && v["activity"]["kind"] == "OutOfSync"
        })
        .await;
    assert_eq!(json(&told)["activity"]["app"], "web", "{told}");
    assert!(
        !text.seen.iter().any(|l| l.contains("\tother\t")),
        "only the app named: {:?}",
        text.seen
    );

    // The cluster stops answering: said once, on the context.
    sandbox.stop_serving().await;
    let lost = text
        .line("the cluster lost", |l| {
            l.contains("\tsandbox\tUnreachable\t")
        })
        .await;
    assert!(lost.contains("cluster sandbox does not answer"), "{lost}");
    let stale = text
        .line("the stale status", |l| {
            l.contains("last known state: cluster unreachable since")
        })
        .await;
    assert!(
        stale.contains("OutOfSync"),
        "the last known status is kept: {stale}"
    );

    assert_eq!(text.interrupt().await, 0);
    assert_eq!(json_lines.interrupt().await, 0);
    assert_eq!(
        text.seen
            .iter()
            .filter(|l| l.contains("\tUnreachable\t"))
            .count(),
        1,
        "told once: {:?}",
        text.seen
    );
}
