//! Operations across processes, with the real `plumbline` binary against a sandbox: one sync
//! of an application at a time (the second says who holds it), and a sync killed half way
//! keeps what it did and is marked Interrupted the next time Plumbline looks.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Setup {
    _sandbox: kube_sandbox::Sandbox,
    _dir: tempfile::TempDir,
    data: PathBuf,
    kubeconfig: PathBuf,
}

impl Setup {
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_plumbline"));
        command
            .arg("--data-dir")
            .arg(&self.data)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args);
        command
    }

    fn start(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Runs to the end off the async runtime (the sandbox in this process keeps serving).
    async fn run(&self, args: &[&str]) -> (i32, String, String) {
        let mut command = self.command(args);
        let out = tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

/// A sandbox, and an app `slow` whose objects are `files`.
async fn setup(files: Vec<(String, Vec<u8>)>) -> Setup {
    let sandbox = kube_sandbox::Sandbox::start(Default::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    sandbox.write_kubeconfig(&kubeconfig, "sandbox").unwrap();
    let repo = dir.path().join("repo");
    plumbline_core::repos::create_with_history(&repo, &[("first", files)]).unwrap();
    let setup = Setup {
        data: dir.path().join("data"),
        kubeconfig,
        _sandbox: sandbox,
        _dir: dir,
    };
    let repo = repo.display().to_string();
    let (code, out, err) = setup
        .run(&[
            "app",
            "add",
            "slow",
            "--repo",
            &repo,
            "--path",
            "app",
            "--context",
            "sandbox",
            "--namespace",
            "default",
        ])
        .await;
    assert_eq!(code, 0, "{out}{err}");
    setup
}

/// A PostSync hook that never finishes: its image is never pulled.
const STUCK_HOOK: &str = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: never-done\n  annotations:\n    argocd.argoproj.io/hook: PostSync\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - {name: wait, image: registry.example/doesnotexist:1}\n";

fn config_maps(n: usize) -> Vec<(String, Vec<u8>)> {
    (0..n)
        .map(|i| {
            (
                format!("app/cm-{i:03}.yaml"),
                format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i:03}\ndata:\n  n: '{i}'\n")
                    .into_bytes(),
            )
        })
        .collect()
}

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn history_file(data: &Path) -> PathBuf {
    data.join("history/slow.json")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_sync_of_the_same_app_says_who_holds_it() {
    let mut files = config_maps(2);
    files.push(("app/hook.yaml".into(), STUCK_HOOK.as_bytes().to_vec()));
    let s = setup(files).await;
    let first = s.start(&["sync", "slow", "--timeout", "20"]);
    // It is in its hook's wait once its history entry has results.
    until("the first sync to apply its resources", || {
        std::fs::read_to_string(history_file(&s.data)).is_ok_and(|t| t.contains("cm-001"))
    })
    .await;
    let (code, _, err) = s.run(&["sync", "slow"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(
            "application \"slow\" is already syncing, started by the command line (process"
        ) && err.contains(&format!("process {})", first.id())),
        "{err}"
    );
    let mut first = first;
    let _ = first.kill();
    let _ = first.wait();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_killed_half_way_keeps_what_it_did_and_is_marked_interrupted() {
    let mut files = config_maps(300);
    files.push(("app/hook.yaml".into(), STUCK_HOOK.as_bytes().to_vec()));
    let s = setup(files).await;
    let mut sync = s.start(&["sync", "slow"]);
    until("the sync to reach its PostSync hook", || {
        std::fs::read_to_string(history_file(&s.data))
            .is_ok_and(|t| t.matches("\"status\"").count() >= 300)
    })
    .await;
    // SIGKILL: no chance to write anything more.
    sync.kill().unwrap();
    sync.wait().unwrap();

    let (code, out, err) = s.run(&["history", "slow"]).await;
    assert_eq!(code, 0, "{err}");
    let line = out.lines().nth(1).unwrap_or_default().to_string();
    assert!(
        line.contains("Interrupted")
            && line.contains("300 resources had been applied or pruned by then"),
        "{out}"
    );
    let entries: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(history_file(&s.data)).unwrap()).unwrap();
    let results = entries[0]["result"]["results"].as_array().unwrap();
    assert_eq!(
        results.len(),
        300,
        "each ConfigMap's result was recorded as it came"
    );
    assert_eq!(entries[0]["by"], "the command line");
    // The lock went with the process: the next sync runs.
    let (code, _, err) = s.run(&["sync", "slow", "--dry-run"]).await;
    assert_eq!(code, 0, "{err}");
}
