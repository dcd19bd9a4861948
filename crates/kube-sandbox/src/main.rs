//! `kube-sandbox`: run the sandbox cluster as a process, for kubectl and for trying things out.

use kube_sandbox::{Access, Sandbox, SandboxOptions};
use std::path::PathBuf;

const USAGE: &str = "usage: kube-sandbox [--port PORT] [--kubeconfig-out PATH] [--context NAME]";

#[tokio::main]
async fn main() {
    if let Err(message) = run().await {
        eprintln!("kube-sandbox: {message}");
        std::process::exit(2);
    }
}

async fn run() -> Result<(), String> {
    let mut port = 0u16;
    let mut kubeconfig_out: Option<PathBuf> = None;
    let mut context = "sandbox".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{arg} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--port" => port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--kubeconfig-out" => kubeconfig_out = Some(PathBuf::from(value()?)),
            "--context" => context = value()?,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let sandbox = Sandbox::start(SandboxOptions {
        port,
        ..Default::default()
    })
    .await
    .map_err(|e| e.to_string())?;
    match &kubeconfig_out {
        Some(path) => {
            let mut read_only = path.clone().into_os_string();
            read_only.push("-readonly");
            let read_only = PathBuf::from(read_only);
            for (access, file) in [(Access::Admin, path), (Access::ReadOnly, &read_only)] {
                sandbox
                    .write_kubeconfig_for(access, file, &context)
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
            sandbox.kubeconfig_yaml(&context)
        ),
    }
    tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
    Ok(())
}
