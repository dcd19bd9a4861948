//! The engine's figures (`make bench`, release build):
//! - normalize + mask + YAML + line diff of 1,000 and 10,000 resources, offline, per resource;
//! - server-side diff of a 500-resource app against the sandbox, beside `kubectl diff
//!   --server-side` of the same manifests in the same run;
//! - sync of the 500-resource app: wall time and the process's peak memory.
//!
//! The sandbox runs in a child process (this binary again, with `BENCH_SANDBOX_KUBECONFIG`
//! set), so the memory figures are the engine's own.

#[path = "../tests/world/mod.rs"]
mod world;

use plumbline_core::comparison::SyncStatus;
use plumbline_core::diff;
use plumbline_core::sync::{OperationPhase, SyncOptions};
use plumbline_core::{Engine, repos};
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const APP_RESOURCES: usize = 500;
const DRIFTED: usize = 50;
const RUNS: usize = 3;

/// A live Deployment as a server returns it (managed fields, status, defaults) and the desired
/// one from Git; every tenth differs in its image.
fn pair(i: usize) -> (Value, Value) {
    let desired = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": format!("web-{i}"), "namespace": "bench", "labels": {"app": format!("web-{i}")}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": format!("web-{i}")}},
            "template": {"metadata": {"labels": {"app": format!("web-{i}")}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
                    "ports": [{"containerPort": 80}], "env": [{"name": "MODE", "value": "prod"}]}]}}}
    });
    let mut live = desired.clone();
    live["metadata"]["uid"] = json!(format!("uid-{i}"));
    live["metadata"]["resourceVersion"] = json!(i.to_string());
    live["metadata"]["generation"] = json!(3);
    live["metadata"]["creationTimestamp"] = json!("2026-11-26T10:00:00Z");
    live["metadata"]["managedFields"] = json!([{"manager": "plumbline", "operation": "Apply",
        "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {}}}}]);
    live["spec"]["strategy"] = json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}});
    live["spec"]["revisionHistoryLimit"] = json!(10);
    live["status"] =
        json!({"replicas": 2, "readyReplicas": 2, "availableReplicas": 2, "observedGeneration": 3});
    if i.is_multiple_of(10) {
        live["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.25");
    }
    (live, desired)
}

fn offline(count: usize) {
    let pairs: Vec<_> = (0..count).map(pair).collect();
    let started = Instant::now();
    let mut changed = 0;
    for (live, desired) in &pairs {
        let mut before = diff::normalize(live);
        let mut after = diff::normalize(desired);
        diff::mask_secrets(Some(&mut before), Some(&mut after));
        let lines = diff::lines(&diff::to_yaml(&before), &diff::to_yaml(&after));
        changed += lines.iter().any(|l| l.change != diff::LineChange::Equal) as usize;
    }
    let elapsed = started.elapsed();
    println!(
        "normalize + mask + YAML + line diff, {count} Deployments offline: {:.1} ms, {:.1} µs per resource ({changed} differ: the live side carries server defaults)",
        elapsed.as_secs_f64() * 1e3,
        elapsed.as_secs_f64() * 1e6 / count as f64
    );
}

/// Peak and current resident memory of this process, in MiB.
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (field("VmHWM:"), field("VmRSS:"))
}

fn manifest(i: usize) -> String {
    match i % 5 {
        0 | 1 => format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\ndata:\n  greeting: hello {i}\n  mode: prod\n"
        ),
        2 => format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-{i}\nspec:\n  selector: {{app: web-{i}}}\n  ports:\n  - port: 80\n"
        ),
        3 => format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: secret-{i}\nstringData:\n  password: hunter{i}\n"
        ),
        _ => format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-{i}\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {{app: web-{i}}}\n  template:\n    metadata:\n      labels: {{app: web-{i}}}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n"
        ),
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// The sandbox process, killed when this is dropped (also when the bench panics).
struct SandboxProcess(std::process::Child);

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sandbox_child(kubeconfig: &Path, controllers: bool) -> SandboxProcess {
    let mut command = Command::new(std::env::current_exe().unwrap());
    if controllers {
        command.env("BENCH_SANDBOX_CONTROLLERS", "1");
    }
    let child = SandboxProcess(
        command
            .env("BENCH_SANDBOX_KUBECONFIG", kubeconfig)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while !kubeconfig.exists() {
        assert!(Instant::now() < deadline, "the sandbox did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

/// The child: a sandbox until it is killed; without controllers (the API alone) unless
/// `BENCH_SANDBOX_CONTROLLERS` is set.
fn serve_sandbox(kubeconfig: &str) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut options = kube_sandbox::SandboxOptions::default();
        if std::env::var_os("BENCH_SANDBOX_CONTROLLERS").is_none() {
            options.controllers = None;
        }
        let sandbox = kube_sandbox::Sandbox::start(options).await.unwrap();
        let partial = format!("{kubeconfig}.partial");
        sandbox
            .write_kubeconfig(Path::new(&partial), "bench")
            .unwrap();
        std::fs::rename(&partial, kubeconfig).unwrap();
        std::future::pending::<()>().await;
    });
}

/// An engine with the one app "bench" on `repo`, synced to context "bench".
fn engine_for(kubeconfig: &Path, data: &Path, repo: &Path) -> Engine {
    let engine = world::engine_for(kubeconfig, data, std::env::var("PATH").unwrap_or_default());
    let mut app = world::app("bench", repo, "app", "bench");
    app.destination.context = "bench".into();
    engine.apps().add(app).unwrap();
    engine
}

fn main() {
    if let Ok(kubeconfig) = std::env::var("BENCH_SANDBOX_KUBECONFIG") {
        return serve_sandbox(&kubeconfig);
    }
    // `cargo bench --bench engine -- view` runs the app page's figures only.
    if std::env::args().any(|a| a == "view") {
        return app_page();
    }
    // The cluster part first, so that the memory figures are not the offline part's.
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let _sandbox = sandbox_child(&kubeconfig, false);
    let manifests = dir.path().join("manifests");
    std::fs::create_dir(&manifests).unwrap();
    let mut files = Vec::new();
    for i in 0..APP_RESOURCES {
        let text = manifest(i);
        std::fs::write(manifests.join(format!("r{i:03}.yaml")), &text).unwrap();
        files.push((format!("app/r{i:03}.yaml"), text.into_bytes()));
    }
    files.push((
        "app/ns.yaml".into(),
        b"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bench\n".to_vec(),
    ));
    let repo = dir.path().join("repo");
    repos::create_with_history(&repo, &[("bench", files)]).unwrap();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let engine = engine_for(&kubeconfig, dir.path(), &repo);
        let first = engine.status("bench").await.unwrap();
        assert_eq!(first.sync, SyncStatus::OutOfSync, "{:?}", first.error);
        let (_, before) = memory();
        let started = Instant::now();
        let result = engine
            .sync("bench", &SyncOptions::default(), None, &|_| {})
            .await
            .unwrap();
        let took = started.elapsed();
        let (peak, after) = memory();
        assert_eq!(result.phase, OperationPhase::Succeeded, "{}", result.message);
        println!(
            "sync of a {}-resource app (dry run of all, apply, refresh): {:.2} s; process memory {before:.0} MiB before, {after:.0} MiB after, peak {peak:.0} MiB",
            APP_RESOURCES + 1,
            took.as_secs_f64()
        );

        // Drift by hand (`kubectl patch` changes a value Git sets), then compare both ways.
        for i in 0..DRIFTED {
            let drift = Command::new("kubectl")
                .args(["--kubeconfig", &kubeconfig.display().to_string(), "-n", "bench"])
                .args(["patch", "configmap", &format!("cm-{}", i * 5), "--type", "merge"])
                .args(["-p", r#"{"data":{"mode":"by-hand"}}"#])
                .output()
                .unwrap();
            assert!(drift.status.success(), "{}", String::from_utf8_lossy(&drift.stderr));
        }

        // Cold: every resource changed since the last look (a fresh engine has no predictions).
        let mut ours = Vec::new();
        let mut warm = Vec::new();
        for _ in 0..RUNS {
            let cold = engine_for(&kubeconfig, dir.path(), &repo);
            let started = Instant::now();
            let status = cold.status("bench").await.unwrap();
            ours.push(started.elapsed());
            let started = Instant::now();
            cold.status("bench").await.unwrap();
            warm.push(started.elapsed());
            let out_of_sync = status
                .resources
                .iter()
                .filter(|r| r.status != plumbline_core::comparison::ResourceSync::Synced)
                .count();
            assert_eq!(out_of_sync, DRIFTED, "{:?}", status.error);
        }
        let mut theirs = Vec::new();
        for _ in 0..RUNS {
            let started = Instant::now();
            let out = Command::new("kubectl")
                .args(["--kubeconfig", &kubeconfig.display().to_string(), "-n", "bench"])
                .args(["diff", "--server-side", "--force-conflicts", "-f"])
                .arg(&manifests)
                .output()
                .unwrap();
            theirs.push(started.elapsed());
            assert_eq!(out.status.code(), Some(1), "kubectl diff: {}", String::from_utf8_lossy(&out.stderr));
        }
        let (ours, warm, theirs) = (median(ours), median(warm), median(theirs));
        println!(
            "server-side diff of {} resources ({DRIFTED} drifted), median of {RUNS}: Plumbline {:.0} ms (every object dry-run), kubectl diff --server-side {:.0} ms: {:.1}x faster",
            APP_RESOURCES + 1,
            ours.as_secs_f64() * 1e3,
            theirs.as_secs_f64() * 1e3,
            theirs.as_secs_f64() / ours.as_secs_f64()
        );
        println!(
            "refresh with nothing changed since (dry runs kept by resourceVersion and desired hash): {:.0} ms",
            warm.as_secs_f64() * 1e3
        );
    });
    offline(1_000);
    offline(10_000);
    app_page();
}

/// The 2,000-resource app of `make bench-desktop` (1,500 ConfigMaps, 250 Deployments, 250
/// Services), as the app page asks for it: status and tree in one view.
fn big_app(i: usize) -> String {
    if i < 1_500 {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\ndata:\n  index: \"{i}\"\n"
        )
    } else if i < 1_750 {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-{i}\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {{app: web-{i}}}\n  template:\n    metadata:\n      labels: {{app: web-{i}}}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n"
        )
    } else {
        let d = i - 250;
        format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: web-{d}\nspec:\n  selector: {{app: web-{d}}}\n  ports:\n  - port: 80\n"
        )
    }
}

/// How long the app page's view (one comparison and the tree) of a 2,000-resource app takes
/// with nothing changed, and after one Deployment changed, against a sandbox with controllers
/// (so that the tree has ReplicaSets, Pods and Endpoints).
fn app_page() {
    const SIZE: usize = 2_000;
    const SAMPLES: usize = 5;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let _sandbox = sandbox_child(&kubeconfig, true);
    let files = (0..SIZE)
        .map(|i| (format!("app/r{i:04}.yaml"), big_app(i).into_bytes()))
        .collect();
    let repo = dir.path().join("repo");
    repos::create_with_history(&repo, &[("big", files)]).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let engine = std::sync::Arc::new(engine_for(&kubeconfig, dir.path(), &repo));
        let options = SyncOptions {
            create_namespace: true,
            ..Default::default()
        };
        let result = engine.sync("bench", &options, None, &|_| {}).await.unwrap();
        assert_eq!(result.phase, OperationPhase::Succeeded, "{}", result.message);
        // Let the controllers make the ReplicaSets, Pods and Endpoints.
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let view = engine.view("bench").await.unwrap();
            let pods = view.tree.iter().filter(|n| n.key.kind == "Pod").count();
            if pods >= 250 {
                println!("app page of {SIZE} resources: {} tree nodes", view.tree.len());
                break;
            }
            assert!(Instant::now() < deadline, "only {pods} Pods after 2 minutes");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let (unchanged, changed) = views(&engine, &kubeconfig, SAMPLES).await;
        println!(
            "app page view (status + tree) of {SIZE} resources, median of {SAMPLES}, listing the cluster: nothing changed {:.0} ms, one Deployment changed {:.0} ms",
            unchanged.as_secs_f64() * 1e3,
            changed.as_secs_f64() * 1e3,
        );
        // As the window has it: the engine keeps watching, and its cluster cache keeps the
        // objects (the tree's kinds too, once the page has shown the tree).
        let (_, before_watch) = memory();
        let _watching = engine.keep_watching();
        while !engine.summaries().iter().any(|s| s.app.name == "bench") {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        engine.view("bench").await.unwrap();
        let (_, with_watch) = memory();
        let (unchanged, changed) = views(&engine, &kubeconfig, SAMPLES).await;
        let (_, after) = memory();
        println!(
            "the same with the cluster cache (objects from its watches): nothing changed {:.0} ms, one Deployment changed {:.0} ms; engine process {before_watch:.0} MiB before the watches, {with_watch:.0} MiB with them, {after:.0} MiB after these views",
            unchanged.as_secs_f64() * 1e3,
            changed.as_secs_f64() * 1e3,
        );
    });
}

/// Medians of `samples` views with nothing changed, and of as many after a Deployment's
/// replicas were changed by hand.
async fn views(engine: &Engine, kubeconfig: &Path, samples: usize) -> (Duration, Duration) {
    let mut unchanged = Vec::new();
    for _ in 0..samples {
        let started = Instant::now();
        engine.view("bench").await.unwrap();
        unchanged.push(started.elapsed());
    }
    let mut changed = Vec::new();
    for n in 0..samples {
        let patch = Command::new("kubectl")
            .args([
                "--kubeconfig",
                &kubeconfig.display().to_string(),
                "-n",
                "bench",
            ])
            .args(["patch", "deployment", "web-1500", "--type", "merge"])
            .args(["-p", &format!(r#"{{"spec":{{"replicas":{}}}}}"#, 2 + n % 2)])
            .output()
            .unwrap();
        assert!(
            patch.status.success(),
            "{}",
            String::from_utf8_lossy(&patch.stderr)
        );
        // The watches' notice comes 150 ms after a change; a view at once may still show the
        // state before it, so each sample starts after that.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = Instant::now();
        let view = engine.view("bench").await.unwrap();
        changed.push(started.elapsed());
        assert_eq!(view.status.sync, SyncStatus::OutOfSync);
    }
    (median(unchanged), median(changed))
}
