//! What the sandbox's client-side test suites share.

// Each test crate compiles this module and uses a different part of it.
#![allow(dead_code)]

use kube_sandbox::{Sandbox, SandboxOptions};

/// A kube-rs client for `sandbox`, through its admin kubeconfig.
pub async fn client_for(sandbox: &Sandbox) -> kube::Client {
    let kubeconfig =
        kube::config::Kubeconfig::from_yaml(&sandbox.kubeconfig_yaml("sandbox")).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap();
    kube::Client::try_from(config).unwrap()
}

/// A sandbox started with `options`, and a client for it.
pub async fn start(options: SandboxOptions) -> (Sandbox, kube::Client) {
    let sandbox = Sandbox::start(options).await.unwrap();
    let client = client_for(&sandbox).await;
    (sandbox, client)
}
