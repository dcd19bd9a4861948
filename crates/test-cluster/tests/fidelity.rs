//! The differential suite: the same steps, kubectl 1.27, 1.30 and 1.33 (the machine's
//! `kubectl.1.NN`, else the `kubectl` on PATH) and raw requests through kube-rs, sent to
//! kube-sandbox and to a real kube-apiserver; their answers (exit status, output and errors, or
//! HTTP status and body) compared once the values each server makes up are normalised: uids,
//! times, ages, resourceVersions, generated names, IPs, the server's address. `make
//! sandbox-fidelity` prints every step that disagrees and the agreement; the test holds the
//! sandbox to 95 % of steps agreeing.

use kube_sandbox::Sandbox;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use test_cluster::{Access, ControlPlane, TestCluster};

mod steps;
use steps::{Step, normalise};

/// What a server answered to a step, normalised.
#[derive(Debug, PartialEq)]
struct Answer {
    ok: bool,
    out: String,
    err: String,
}

struct Server {
    name: &'static str,
    kubeconfig: PathBuf,
    client: kube::Client,
    /// The port it listens on, which also shows in its own answers (the `kubernetes` Service).
    port: String,
}

impl Server {
    async fn new(name: &'static str, cluster: &TestCluster, dir: &Path) -> Self {
        let kubeconfig = dir.join(format!("{name}.kubeconfig"));
        cluster.write_kubeconfig_for(Access::Admin, &kubeconfig, "fidelity");
        let config = kube::Config::from_custom_kubeconfig(
            kube::config::Kubeconfig::read_from(&kubeconfig).unwrap(),
            &Default::default(),
        )
        .await
        .unwrap();
        let port = config.cluster_url.port_u16().unwrap().to_string();
        Self {
            name,
            kubeconfig,
            client: kube::Client::try_from(config).unwrap(),
            port,
        }
    }

    async fn run(&self, step: &Step) -> Answer {
        let answer = self.send(step).await;
        let own = |text: String| text.replace(&self.port, "<port>");
        Answer {
            ok: answer.ok,
            out: own(answer.out),
            err: own(answer.err),
        }
    }

    async fn send(&self, step: &Step) -> Answer {
        match step {
            Step::Kubectl {
                binary,
                args,
                stdin,
                ..
            } => {
                let binary = binary.clone();
                let kubeconfig = self.kubeconfig.clone();
                let args = args.clone();
                let stdin = stdin.clone();
                tokio::task::spawn_blocking(move || kubectl(&binary, &kubeconfig, &args, stdin))
                    .await
                    .unwrap()
            }
            Step::Request {
                method, path, body, ..
            } => {
                let mut request = http::Request::builder().method(*method).uri(path);
                if body.is_some() {
                    request = request.header(
                        "content-type",
                        if *method == "PATCH" {
                            "application/merge-patch+json"
                        } else {
                            "application/json"
                        },
                    );
                }
                let request = request
                    .body(body.clone().unwrap_or_default().into_bytes())
                    .unwrap();
                match self.client.request_text(request).await {
                    // Go writes fields in its structs' order, the sandbox in the alphabet's.
                    Ok(text) => Answer {
                        ok: true,
                        out: normalise(
                            &serde_json::from_str::<serde_json::Value>(&text)
                                .map_or(text, |v| v.to_string()),
                        ),
                        err: String::new(),
                    },
                    Err(kube::Error::Api(status)) => Answer {
                        ok: false,
                        out: String::new(),
                        err: normalise(&format!(
                            "{} {}: {}",
                            status.code, status.reason, status.message
                        )),
                    },
                    Err(other) => Answer {
                        ok: false,
                        out: String::new(),
                        err: normalise(&other.to_string()),
                    },
                }
            }
        }
    }
}

fn kubectl(binary: &Path, kubeconfig: &Path, args: &[String], stdin: Option<String>) -> Answer {
    let mut child = Command::new(binary)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl runs");
    {
        use std::io::Write;
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
    }
    let output = child.wait_with_output().unwrap();
    Answer {
        ok: output.status.success(),
        out: normalise(&String::from_utf8_lossy(&output.stdout)),
        err: normalise(&String::from_utf8_lossy(&output.stderr)),
    }
}

/// kubectl of each minor version the suite speaks, found as `kubectl.1.NN` on PATH or beside
/// the Google Cloud SDK's kubectl; the plain `kubectl` when none is.
fn kubectls() -> Vec<(String, PathBuf)> {
    let mut folders: Vec<PathBuf> =
        std::env::split_paths(&std::env::var_os("PATH").unwrap()).collect();
    folders.push("/usr/lib/google-cloud-sdk/bin".into());
    let found: Vec<(String, PathBuf)> = ["1.27", "1.30", "1.33"]
        .iter()
        .filter_map(|minor| {
            folders
                .iter()
                .map(|f| f.join(format!("kubectl.{minor}")))
                .find(|p| p.is_file())
                .map(|p| (minor.to_string(), p))
        })
        .collect();
    if found.is_empty() {
        vec![("default".to_string(), PathBuf::from("kubectl"))]
    } else {
        found
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sandbox_answers_as_kube_apiserver_does() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = TestCluster::Sandbox(Sandbox::start(Default::default()).await.unwrap());
    let real = TestCluster::ControlPlane(
        tokio::task::spawn_blocking(ControlPlane::start)
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let servers = [
        Server::new("kube-sandbox", &sandbox, dir.path()).await,
        Server::new("kube-apiserver", &real, dir.path()).await,
    ];

    let kubectls = kubectls();
    let mut all = Vec::new();
    for (minor, binary) in &kubectls {
        all.extend(steps::kubectl_steps(minor, binary));
    }
    let (minor, binary) = kubectls.last().expect("one kubectl at least");
    all.extend(steps::custom_resource_steps(minor, binary));
    all.extend(steps::request_steps());

    let mut agreeing = 0;
    let mut report = String::new();
    for step in &all {
        let sandbox = servers[0].run(step).await;
        let real = servers[1].run(step).await;
        if sandbox == real {
            agreeing += 1;
        } else {
            report.push_str(&format!(
                "\n✗ {}\n  {}: {}\n  {}: {}\n",
                step.label(),
                servers[1].name,
                show(&real),
                servers[0].name,
                show(&sandbox),
            ));
        }
    }
    let share = agreeing as f64 * 100.0 / all.len() as f64;
    println!(
        "{report}\nkubectl {}; sandbox fidelity: {agreeing} of {} steps agree ({share:.1} %)",
        kubectls
            .iter()
            .map(|(m, _)| m.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        all.len()
    );
    assert!(
        share >= 95.0,
        "the sandbox agrees with kube-apiserver on {share:.1} % of steps (at least 95 % wanted):{report}"
    );
}

fn show(answer: &Answer) -> String {
    let text = [answer.out.as_str(), answer.err.as_str()]
        .into_iter()
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    // PLUMBLINE_FIDELITY_FULL=1 shows whole answers.
    let limit = if std::env::var_os("PLUMBLINE_FIDELITY_FULL").is_some() {
        usize::MAX
    } else {
        700
    };
    let mut shown: String = text.chars().take(limit).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    format!(
        "{} {}",
        if answer.ok { "ok" } else { "failed" },
        shown.replace('\n', "\n    ")
    )
}
