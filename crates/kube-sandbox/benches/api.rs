//! Sandbox figures, measured through a real kube-rs client over HTTPS on loopback:
//! memory held at 10,000 objects, list latency at 5,000 objects in one namespace, and
//! server-side-apply requests per second with 16 concurrent clients. Controllers are off so
//! the figures are the API server's alone. Run with `make bench`.

use futures::{StreamExt, stream};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube_sandbox::{Sandbox, SandboxOptions};
use std::time::{Duration, Instant};

const CLIENTS: usize = 16;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(str::to_string)
        })
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// A ConfigMap of about 1 KiB, like a small real one.
fn configmap(name: &str, version: usize) -> ConfigMap {
    let data: std::collections::BTreeMap<String, String> = (0..10)
        .map(|i| {
            (
                format!("key-{i}"),
                format!("value-{version}-{i}-{}", "x".repeat(64)),
            )
        })
        .collect();
    ConfigMap {
        metadata: kube::api::ObjectMeta {
            name: Some(name.into()),
            labels: Some([("app".to_string(), "bench".to_string())].into()),
            ..Default::default()
        },
        data: Some(data),
        ..Default::default()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let sandbox = Sandbox::start(SandboxOptions {
        controllers: None,
        ..Default::default()
    })
    .await
    .unwrap();
    let kubeconfig =
        kube::config::Kubeconfig::from_yaml(&sandbox.kubeconfig_yaml("bench")).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap();
    let client = kube::Client::try_from(config).unwrap();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    for i in 0..2 {
        let ns: Namespace =
            serde_json::from_value(serde_json::json!({"metadata": {"name": format!("bench-{i}")}}))
                .unwrap();
        namespaces
            .create(&PostParams::default(), &ns)
            .await
            .unwrap();
    }

    // 1. Memory at 10,000 objects: 5,000 in each of two namespaces, created by 16 clients.
    let before = rss_kib();
    let started = Instant::now();
    stream::iter(0..10_000)
        .map(|i| {
            let api: Api<ConfigMap> = Api::namespaced(client.clone(), &format!("bench-{}", i % 2));
            async move {
                api.create(&PostParams::default(), &configmap(&format!("cm-{i:05}"), 0))
                    .await
                    .unwrap()
            }
        })
        .buffer_unordered(CLIENTS)
        .for_each(|_| async {})
        .await;
    let create_time = started.elapsed();
    let after = rss_kib();
    println!("objects held: 10000 ConfigMaps of ~1 KiB (plus 6 Namespaces)");
    println!(
        "memory: process RSS {} MiB -> {} MiB, {:.1} KiB per object (includes the change log of 10,000 entries and the client)",
        before / 1024,
        after / 1024,
        (after.saturating_sub(before)) as f64 / 10_000.0
    );
    println!(
        "create: 10000 objects in {:.2} s with {CLIENTS} clients ({:.0}/s)",
        create_time.as_secs_f64(),
        10_000.0 / create_time.as_secs_f64()
    );

    // 2. List latency for 5,000 objects in one namespace, 30 lists after 3 warm-ups.
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "bench-0");
    for _ in 0..3 {
        api.list(&ListParams::default()).await.unwrap();
    }
    let mut times = Vec::new();
    for _ in 0..30 {
        let t = Instant::now();
        let list = api.list(&ListParams::default()).await.unwrap();
        times.push(t.elapsed());
        assert_eq!(list.items.len(), 5_000);
    }
    times.sort();
    println!(
        "list 5000 objects (client-side, including decoding): median {:.1} ms, p95 {:.1} ms, min {:.1} ms over 30 lists",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.95).as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3
    );

    // 3. Server-side apply: 16 clients, each applying its own 100 ConfigMaps with changing data, for 10 s.
    let deadline = Instant::now() + Duration::from_secs(10);
    let counts = stream::iter(0..CLIENTS)
        .map(|c| {
            let api: Api<ConfigMap> = Api::namespaced(client.clone(), "bench-1");
            async move {
                let params = PatchParams::apply("bench").force();
                let mut n = 0usize;
                while Instant::now() < deadline {
                    let name = format!("ssa-{c:02}-{:03}", n % 100);
                    let mut cm = configmap(&name, n);
                    cm.metadata.namespace = Some("bench-1".into());
                    let body = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": cm.metadata, "data": cm.data});
                    api.patch(&name, &params, &Patch::Apply(&body)).await.unwrap();
                    n += 1;
                }
                n
            }
        })
        .buffer_unordered(CLIENTS)
        .collect::<Vec<_>>()
        .await;
    let total: usize = counts.iter().sum();
    println!(
        "server-side apply: {total} requests in 10 s with {CLIENTS} concurrent clients = {:.0} requests/s",
        total as f64 / 10.0
    );
}
