//! `kube-sandbox`: run the sandbox cluster as a process, for kubectl and for trying things out.

use kube_sandbox::{Access, ControllerOptions, Sandbox, SandboxOptions};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

const USAGE: &str = "usage: kube-sandbox [--port PORT] [--kubeconfig-out PATH] [--context NAME]
                    [--state FILE] [--scenario FILE]... [--pod-start-delay-ms N] [--no-controllers]

  --kubeconfig-out PATH   write an admin kubeconfig to PATH and a read-only one to PATH-readonly
  --state FILE            load the cluster from FILE if it exists; save it there on exit
  --scenario FILE         create the objects in FILE (YAML, multi-document) when starting empty
  --pod-start-delay-ms N  how long Pods stay Pending before their containers start (default 1000)
  --no-controllers        store objects only: no ReplicaSets, Pods, Endpoints or Events";

#[tokio::main]
async fn main() {
    if let Err(message) = run().await {
        eprintln!("kube-sandbox: {message}");
        std::process::exit(2);
    }
}

struct Args {
    port: u16,
    kubeconfig_out: Option<PathBuf>,
    context: String,
    state: Option<PathBuf>,
    scenarios: Vec<PathBuf>,
    controllers: Option<ControllerOptions>,
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut args = Args {
        port: 0,
        kubeconfig_out: None,
        context: "sandbox".into(),
        state: None,
        scenarios: Vec::new(),
        controllers: Some(ControllerOptions::default()),
    };
    let mut words = std::env::args().skip(1);
    while let Some(arg) = words.next() {
        let mut value = || {
            words
                .next()
                .ok_or_else(|| format!("{arg} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--port" => args.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--kubeconfig-out" => args.kubeconfig_out = Some(PathBuf::from(value()?)),
            "--context" => args.context = value()?,
            "--state" => args.state = Some(PathBuf::from(value()?)),
            "--scenario" => args.scenarios.push(PathBuf::from(value()?)),
            "--pod-start-delay-ms" => {
                let ms: u64 = value()?
                    .parse()
                    .map_err(|e| format!("--pod-start-delay-ms: {e}"))?;
                if let Some(c) = args.controllers.as_mut() {
                    c.pod_start_delay = Duration::from_millis(ms);
                }
            }
            "--no-controllers" => args.controllers = None,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(None);
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(Some(args))
}

/// Every object in a YAML file (multi-document; a `List` counts as its items).
fn read_objects(path: &Path) -> Result<Vec<serde_json::Value>, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let mut objects = Vec::new();
    for doc in serde_norway::Deserializer::from_str(&text) {
        let value =
            serde_json::Value::deserialize(doc).map_err(|e| format!("{}: {e}", path.display()))?;
        match value {
            serde_json::Value::Null => {}
            serde_json::Value::Object(ref o) if o.get("items").is_some_and(|i| i.is_array()) => {
                objects.extend(o["items"].as_array().into_iter().flatten().cloned());
            }
            other => objects.push(other),
        }
    }
    Ok(objects)
}

/// Writes the cluster to `path` through a temporary file, so a crash never leaves half a file.
fn save_state(sandbox: &Sandbox, path: &Path) -> Result<(), String> {
    let saved = serde_json::json!({"objects": sandbox.export()});
    let temporary = path.with_extension("tmp");
    std::fs::write(
        &temporary,
        serde_json::to_vec(&saved).map_err(|e| e.to_string())?,
    )
    .and_then(|()| std::fs::rename(&temporary, path))
    .map_err(|e| format!("saving {}: {e}", path.display()))
}

async fn shutdown_signal() -> Result<(), String> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| e.to_string())?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result.map_err(|e| e.to_string()),
        _ = terminate.recv() => Ok(()),
    }
}

async fn run() -> Result<(), String> {
    let Some(args) = parse_args()? else {
        return Ok(());
    };
    let options = SandboxOptions {
        port: args.port,
        controllers: args.controllers,
        ..Default::default()
    };
    let sandbox = Sandbox::start(options).await.map_err(|e| e.to_string())?;

    let mut restored = false;
    if let Some(state) = args.state.as_ref().filter(|s| s.exists()) {
        let text = std::fs::read(state).map_err(|e| format!("reading {}: {e}", state.display()))?;
        let saved: serde_json::Value = serde_json::from_slice(&text)
            .map_err(|e| format!("{} is not a sandbox state file: {e}", state.display()))?;
        let objects = saved["objects"].as_array().cloned().unwrap_or_default();
        restored = !objects.is_empty();
        for problem in sandbox.restore(objects) {
            eprintln!("kube-sandbox: {}: {problem}", state.display());
        }
    }
    if !restored {
        for scenario in &args.scenarios {
            sandbox
                .preload(read_objects(scenario)?)
                .map_err(|e| format!("{}: {e}", scenario.display()))?;
        }
    }

    match &args.kubeconfig_out {
        Some(path) => {
            let mut read_only = path.clone().into_os_string();
            read_only.push("-readonly");
            let read_only = PathBuf::from(read_only);
            for (access, file) in [(Access::Admin, path), (Access::ReadOnly, &read_only)] {
                sandbox
                    .write_kubeconfig_for(access, file, &args.context)
                    .map_err(|e| format!("writing {}: {e}", file.display()))?;
            }
            println!(
                "kube-sandbox listening on {}; kubeconfigs written to {} (admin) and {} (read-only)",
                sandbox.url(),
                path.display(),
                read_only.display()
            );
        }
        None => println!(
            "kube-sandbox listening on {}\n{}",
            sandbox.url(),
            sandbox.kubeconfig_yaml(&args.context)
        ),
    }
    shutdown_signal().await?;
    if let Some(state) = &args.state {
        save_state(&sandbox, state)?;
        println!("kube-sandbox: state saved to {}", state.display());
    }
    Ok(())
}
