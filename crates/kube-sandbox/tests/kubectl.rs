//! The real `kubectl` against the sandbox: what works here must work against a real cluster.

use kube_sandbox::{Sandbox, SandboxOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const MANIFESTS: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  labels: {app: web, tier: front}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: 'nginx:1.27'}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: kube-public, labels: {app: web}}
data: {greeting: hello}
";

fn kubectl(kubeconfig: &Path, args: &[&str]) -> Output {
    Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .expect("kubectl runs (make deps installs it)")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "kubectl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A running sandbox and a folder holding its kubeconfig; both live as long as the test keeps them.
async fn sandbox() -> (Sandbox, tempfile::TempDir, PathBuf) {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    sandbox.write_kubeconfig(&kubeconfig, "sandbox").unwrap();
    (sandbox, dir, kubeconfig)
}

/// `kubectl apply --server-side` of a file.
fn apply(kubeconfig: &Path, file: &Path) -> Output {
    kubectl(
        kubeconfig,
        &["apply", "--server-side", "-f", file.to_str().unwrap()],
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_applies_lists_and_deletes() {
    let (_sandbox, dir, kubeconfig) = sandbox().await;
    let manifests = dir.path().join("app.yaml");
    std::fs::write(&manifests, MANIFESTS).unwrap();

    let applied = stdout(&apply(&kubeconfig, &manifests));
    assert!(
        applied.contains("deployment.apps/web serverside-applied"),
        "{applied}"
    );

    let listed = stdout(&kubectl(&kubeconfig, &["get", "deployments", "-A"]));
    let mut lines = listed.lines();
    let header: Vec<_> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "NAMESPACE",
            "NAME",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "AGE"
        ]
    );
    let row: Vec<_> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(&row[..2], ["default", "web"]);

    let selected = stdout(&kubectl(
        &kubeconfig,
        &["get", "configmaps", "-A", "-l", "app=web", "-o", "name"],
    ));
    assert_eq!(selected.trim(), "configmap/settings");
    let none = stdout(&kubectl(
        &kubeconfig,
        &["get", "deployments", "-l", "tier in (back)", "-o", "name"],
    ));
    assert_eq!(none.trim(), "");

    let yaml = stdout(&kubectl(
        &kubeconfig,
        &[
            "get",
            "deployment",
            "web",
            "-o",
            "jsonpath={.spec.replicas} {.metadata.managedFields[0].manager}",
        ],
    ));
    assert_eq!(
        yaml, "1 kubectl",
        "defaulted replicas and the field manager kubectl sent"
    );

    stdout(&kubectl(&kubeconfig, &["delete", "deployment", "web"]));
    let gone = kubectl(&kubeconfig, &["get", "deployment", "web"]);
    assert!(!gone.status.success());
    assert!(String::from_utf8_lossy(&gone.stderr).contains("deployments.apps \"web\" not found"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_token_is_unauthorized() {
    let (_sandbox, _dir, kubeconfig) = sandbox().await;
    let output = kubectl(
        &kubeconfig,
        &["--token", "not-the-token", "get", "namespaces"],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("You must be logged in to the server"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_certificate_authenticates_and_a_foreign_one_does_not() {
    let (sandbox, dir, _) = sandbox().await;
    let certified = dir.path().join("cert-kubeconfig");
    std::fs::write(
        &certified,
        sandbox.kubeconfig_yaml_with_client_certificate("sandbox"),
    )
    .unwrap();
    let names = stdout(&kubectl(&certified, &["get", "namespaces", "-o", "name"]));
    assert!(names.contains("namespace/default"), "{names}");
    let manifest = dir.path().join("by-cert.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: by-cert, namespace: default}\n",
    )
    .unwrap();
    let created = stdout(&apply(&certified, &manifest));
    assert!(
        created.contains("configmap/by-cert serverside-applied"),
        "{created}"
    );

    // A certificate from another sandbox's CA is not trusted here.
    let other = Sandbox::start(SandboxOptions {
        controllers: None,
        ..Default::default()
    })
    .await
    .unwrap();
    let foreign = other
        .kubeconfig_yaml_with_client_certificate("sandbox")
        .replace(&other.url(), &sandbox.url());
    let foreign_ca_swapped = dir.path().join("foreign-kubeconfig");
    // Keep this sandbox's CA so that only the client certificate is foreign.
    let ours = sandbox.kubeconfig_yaml_with_client_certificate("sandbox");
    let ca_line = |yaml: &str| {
        yaml.lines()
            .find(|l| l.contains("certificate-authority-data"))
            .unwrap()
            .to_string()
    };
    std::fs::write(
        &foreign_ca_swapped,
        foreign.replace(&ca_line(&foreign), &ca_line(&ours)),
    )
    .unwrap();
    let refused = kubectl(&foreign_ca_swapped, &["get", "namespaces"]);
    assert!(!refused.status.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_get_watch_receives_events() {
    let (_sandbox, dir, kubeconfig) = sandbox().await;
    let mut watcher = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        // Server-printed tables: kubectl adds an EVENT column with --output-watch-events.
        .args(["get", "configmaps", "-w", "--output-watch-events"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("kubectl runs");
    let output = watcher.stdout.take().unwrap();
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(output)
            .lines()
            .map_while(Result::ok)
        {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let wait_for = |wanted: &str| loop {
        match received.recv_timeout(std::time::Duration::from_secs(10)) {
            Ok(line) if line.contains(wanted) => return,
            Ok(_) => continue,
            Err(e) => panic!("kubectl get -w did not print {wanted:?}: {e}"),
        }
    };

    let manifest = dir.path().join("watched.yaml");
    std::fs::write(&manifest, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: watched, namespace: default}\ndata: {a: '1'}\n").unwrap();
    stdout(&apply(&kubeconfig, &manifest));
    wait_for("ADDED");
    stdout(&kubectl(
        &kubeconfig,
        &[
            "patch",
            "configmap",
            "watched",
            "--type=merge",
            "-p",
            r#"{"data":{"a":"2"}}"#,
        ],
    ));
    wait_for("MODIFIED");
    stdout(&kubectl(&kubeconfig, &["delete", "configmap", "watched"]));
    wait_for("DELETED");
    let _ = watcher.kill();
    let _ = watcher.wait();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_only_token_reads_but_cannot_write() {
    let (sandbox, dir, _) = sandbox().await;
    let reader = dir.path().join("reader");
    sandbox
        .write_kubeconfig_for(kube_sandbox::Access::ReadOnly, &reader, "sandbox")
        .unwrap();
    assert!(
        stdout(&kubectl(&reader, &["get", "namespaces", "-o", "name"]))
            .contains("namespace/default")
    );
    let manifest = dir.path().join("cm.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: nope, namespace: default}\n",
    )
    .unwrap();
    let refused = apply(&reader, &manifest);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains(r#"configmaps "nope" is forbidden: User "sandbox-reader" cannot patch resource "configmaps" in API group "" in the namespace "default""#),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn api_resources_lists_every_built_in_kind() {
    let (_sandbox, _dir, kubeconfig) = sandbox().await;
    let listed = stdout(&kubectl(&kubeconfig, &["api-resources", "-o", "name"]));
    for resource in [
        "namespaces",
        "configmaps",
        "secrets",
        "services",
        "serviceaccounts",
        "endpoints",
        "pods",
        "persistentvolumeclaims",
        "events",
        "nodes",
        "persistentvolumes",
        "replicationcontrollers",
        "deployments.apps",
        "replicasets.apps",
        "statefulsets.apps",
        "daemonsets.apps",
        "jobs.batch",
        "cronjobs.batch",
        "ingresses.networking.k8s.io",
        "networkpolicies.networking.k8s.io",
        "roles.rbac.authorization.k8s.io",
        "rolebindings.rbac.authorization.k8s.io",
        "clusterroles.rbac.authorization.k8s.io",
        "clusterrolebindings.rbac.authorization.k8s.io",
        "poddisruptionbudgets.policy",
        "horizontalpodautoscalers.autoscaling",
        "customresourcedefinitions.apiextensions.k8s.io",
    ] {
        assert!(
            listed.lines().any(|l| l == resource),
            "{resource} missing from:\n{listed}"
        );
    }
    let short = stdout(&kubectl(
        &kubeconfig,
        &["get", "deploy,cm", "-n", "kube-system", "-o", "name"],
    ));
    assert_eq!(
        short.trim(),
        "configmap/kube-root-ca.crt",
        "short names resolve (the controllers' CA bundle is all kube-system holds)"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_sees_a_custom_kind_once_its_crd_is_applied() {
    let (_sandbox, dir, kubeconfig) = sandbox().await;
    let crd = dir.path().join("crd.yaml");
    std::fs::write(
        &crd,
        "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: gear, namespace: default}
spec: {teeth: 12}
",
    )
    .unwrap();
    // The CRD must exist before its Widget can be mapped, as with a real cluster: apply twice.
    let _ = apply(&kubeconfig, &crd);
    stdout(&apply(&kubeconfig, &crd));
    let resources = stdout(&kubectl(
        &kubeconfig,
        &["api-resources", "--api-group=example.com", "-o", "name"],
    ));
    assert_eq!(resources.trim(), "widgets.example.com");
    let teeth = stdout(&kubectl(
        &kubeconfig,
        &["get", "wd", "gear", "-o", "jsonpath={.spec.teeth}"],
    ));
    assert_eq!(teeth, "12");
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_uses_aggregated_discovery() {
    let (_sandbox, dir, kubeconfig) = sandbox().await;
    let cache = dir.path().join("cache");
    let out = kubectl(
        &kubeconfig,
        &[
            "--cache-dir",
            cache.to_str().unwrap(),
            "api-resources",
            "-v=6",
        ],
    );
    let listed = stdout(&out);
    assert!(listed.contains("deployments"), "{listed}");
    let requests: Vec<String> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| {
            l.split_once(" GET ")
                .map(|(_, rest)| rest.split('?').next().unwrap_or_default().to_string())
        })
        .map(|url| {
            url.rsplit_once(":")
                .map(|(_, p)| {
                    p.split_once('/')
                        .map(|(_, path)| format!("/{path}"))
                        .unwrap_or_default()
                })
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(
        requests,
        ["/api", "/apis"],
        "two documents, no per-group requests"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_patches_with_each_type() {
    let (_sandbox, dir, kubeconfig) = sandbox().await;
    let manifests = dir.path().join("app.yaml");
    std::fs::write(&manifests, MANIFESTS).unwrap();
    stdout(&apply(&kubeconfig, &manifests));
    let get = |path: &str| {
        let jsonpath = format!("jsonpath={path}");
        stdout(&kubectl(
            &kubeconfig,
            &[
                "get",
                "cm",
                "settings",
                "-n",
                "kube-public",
                "-o",
                &jsonpath,
            ],
        ))
    };
    let patch = |kind: &str, body: &str| {
        let kind = format!("--type={kind}");
        kubectl(
            &kubeconfig,
            &[
                "patch",
                "cm",
                "settings",
                "-n",
                "kube-public",
                &kind,
                "-p",
                body,
            ],
        )
    };

    stdout(&patch("merge", r#"{"data":{"merge":"1"}}"#));
    assert_eq!(get("{.data.merge}"), "1");
    stdout(&patch("strategic", r#"{"data":{"strategic":"2"}}"#));
    assert_eq!(get("{.data.strategic}"), "2");
    let ops = r#"[{"op":"replace","path":"/data/greeting","value":"hi"},{"op":"remove","path":"/data/merge"}]"#;
    stdout(&patch("json", ops));
    assert_eq!(get("{.data.greeting} {.data.merge}"), "hi ");
    let failing = patch(
        "json",
        r#"[{"op":"test","path":"/data/greeting","value":"nope"}]"#,
    );
    assert!(
        !failing.status.success(),
        "a failed test operation refuses the patch"
    );
    assert_eq!(get("{.data.greeting}"), "hi");

    // A strategic merge patch merges containers by name: the sidecar joins, web keeps its image.
    let sidecar = r#"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox:1.36"}]}}}}"#;
    stdout(&kubectl(
        &kubeconfig,
        &[
            "patch",
            "deployment",
            "web",
            "--type=strategic",
            "-p",
            sidecar,
        ],
    ));
    let images = stdout(&kubectl(
        &kubeconfig,
        &[
            "get",
            "deployment",
            "web",
            "-o",
            "jsonpath={range .spec.template.spec.containers[*]}{.name}={.image} {end}",
        ],
    ));
    assert_eq!(images.trim(), "web=nginx:1.27 sidecar=busybox:1.36");
    let drop =
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"web","$patch":"delete"}]}}}}"#;
    stdout(&kubectl(
        &kubeconfig,
        &["patch", "deployment", "web", "--type=strategic", "-p", drop],
    ));
    let names = stdout(&kubectl(
        &kubeconfig,
        &[
            "get",
            "deployment",
            "web",
            "-o",
            "jsonpath={.spec.template.spec.containers[*].name}",
        ],
    ));
    assert_eq!(names.trim(), "sidecar");
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_diff_conflicts_and_yaml_read_like_a_real_cluster() {
    let (_sandbox, dir, kubeconfig) = sandbox().await;
    let write = |name: &str, greeting: &str| {
        let path = dir.path().join(name);
        let text = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c, namespace: default}}\ndata: {{greeting: {greeting}}}\n"
        );
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let (hello, bye) = (write("hello.yaml", "hello"), write("bye.yaml", "bye"));
    let apply_as = |manager: &str, file: &str, force: bool| {
        let manager = format!("--field-manager={manager}");
        let mut args = vec!["apply", "--server-side", manager.as_str(), "-f", file];
        if force {
            args.push("--force-conflicts");
        }
        kubectl(&kubeconfig, &args)
    };
    stdout(&apply_as("alice", &hello, false));

    let diff = kubectl(
        &kubeconfig,
        &["diff", "--server-side", "--field-manager=alice", "-f", &bye],
    );
    assert_eq!(diff.status.code(), Some(1), "exit 1: there is a difference");
    let text = String::from_utf8_lossy(&diff.stdout);
    assert!(
        text.contains("-  greeting: hello") && text.contains("+  greeting: bye"),
        "{text}"
    );
    assert!(
        !text.contains("resourceVersion"),
        "a dry run keeps the live resourceVersion:\n{text}"
    );
    let same = kubectl(
        &kubeconfig,
        &[
            "diff",
            "--server-side",
            "--field-manager=alice",
            "-f",
            &hello,
        ],
    );
    assert_eq!(same.status.code(), Some(0));

    let conflict = apply_as("bob", &bye, false);
    assert!(!conflict.status.success());
    assert!(
        String::from_utf8_lossy(&conflict.stderr)
            .contains(r#"Apply failed with 1 conflict: conflict with "alice": .data.greeting"#)
    );
    stdout(&apply_as("bob", &bye, true));

    let yaml = stdout(&kubectl(
        &kubeconfig,
        &["get", "cm", "c", "-o", "yaml", "--show-managed-fields"],
    ));
    assert!(
        yaml.contains("manager: bob") && yaml.contains("operation: Apply"),
        "{yaml}"
    );
    assert!(
        !yaml.contains("manager: alice"),
        "alice lost her only field to the forced apply:\n{yaml}"
    );

    let manifests = dir.path().join("app.yaml");
    std::fs::write(&manifests, MANIFESTS).unwrap();
    stdout(&apply(&kubeconfig, &manifests));
    let deployment = stdout(&kubectl(
        &kubeconfig,
        &["get", "deployment", "web", "-o", "yaml"],
    ));
    for default in [
        "revisionHistoryLimit: 10",
        "imagePullPolicy: IfNotPresent",
        "terminationMessagePolicy: File",
        "dnsPolicy: ClusterFirst",
    ] {
        assert!(
            deployment.contains(default),
            "{default} missing:\n{deployment}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_get_prints_the_usual_columns() {
    let (_sandbox, dir, kubeconfig) = sandbox().await;
    let manifests = dir.path().join("app.yaml");
    std::fs::write(&manifests, MANIFESTS).unwrap();
    stdout(&apply(&kubeconfig, &manifests));

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let pods = loop {
        let listed = stdout(&kubectl(&kubeconfig, &["get", "pods", "-l", "app=web"]));
        if listed.contains("Running") {
            break listed;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the web Pod never ran:\n{listed}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let header: Vec<&str> = pods.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    let row: Vec<&str> = pods.lines().nth(1).unwrap().split_whitespace().collect();
    assert!(row[0].starts_with("web-"), "{pods}");
    assert_eq!(&row[1..4], ["1/1", "Running", "0"]);

    let everything = stdout(&kubectl(&kubeconfig, &["get", "all", "-n", "default"]));
    for listed in ["pod/web-", "deployment.apps/web", "replicaset.apps/web-"] {
        assert!(
            everything.contains(listed),
            "`get all` lists {listed}:\n{everything}"
        );
    }

    let namespaces = stdout(&kubectl(&kubeconfig, &["get", "namespace", "default"]));
    assert!(
        namespaces.lines().nth(1).unwrap().split_whitespace().nth(1) == Some("Active"),
        "{namespaces}"
    );

    let lb = dir.path().join("lb.yaml");
    std::fs::write(&lb, "apiVersion: v1\nkind: Service\nmetadata: {name: edge, namespace: default}\nspec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 443}]}\n").unwrap();
    stdout(&apply(&kubeconfig, &lb));
    let services = stdout(&kubectl(&kubeconfig, &["get", "service", "edge"]));
    let header: Vec<&str> = services
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        [
            "NAME",
            "TYPE",
            "CLUSTER-IP",
            "EXTERNAL-IP",
            "PORT(S)",
            "AGE"
        ]
    );
    let ports = services
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .nth(4)
        .unwrap()
        .to_string();
    assert!(
        ports.starts_with("443:3") && ports.ends_with("/TCP"),
        "a node port is allocated: {ports}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_validates_fields_through_the_server() {
    let (_sandbox, dir, kubeconfig) = sandbox().await;
    let manifest = dir.path().join("web.yaml");
    std::fs::write(
        &manifest,
        MANIFESTS.replace("  selector:", "  replicaz: 2\n  selector:"),
    )
    .unwrap();
    let file = manifest.to_str().unwrap();

    // kubectl finds `fieldValidation` in the OpenAPI document and leaves validation to the
    // server, which refuses the field the Deployment does not declare.
    let client_side = kubectl(&kubeconfig, &["apply", "-f", file]);
    assert!(!client_side.status.success());
    let stderr = String::from_utf8_lossy(&client_side.stderr);
    assert!(
        stderr.contains(r#"Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replicaz""#),
        "{stderr}"
    );
    let server_side = apply(&kubeconfig, &manifest);
    assert!(!server_side.status.success());
    let stderr = String::from_utf8_lossy(&server_side.stderr);
    assert!(
        stderr.contains(".spec.replicaz: field not declared in schema"),
        "{stderr}"
    );

    // Asked only to warn, the server drops the field, says so, and stores the rest.
    let warned = kubectl(&kubeconfig, &["apply", "--validate=warn", "-f", file]);
    let stderr = String::from_utf8_lossy(&warned.stderr);
    assert!(warned.status.success(), "{stderr}");
    assert!(
        stderr.contains(r#"unknown field "spec.replicaz""#),
        "{stderr}"
    );
    let spec = stdout(&kubectl(
        &kubeconfig,
        &[
            "get",
            "deployment",
            "web",
            "-o",
            "jsonpath={.spec.replicas} {.spec.replicaz}",
        ],
    ));
    assert_eq!(spec.trim(), "1");

    // A second client-side apply computes a patch against the stored object.
    std::fs::write(&manifest, MANIFESTS.replace("nginx:1.27", "nginx:1.28")).unwrap();
    let configured = stdout(&kubectl(&kubeconfig, &["apply", "-f", file]));
    assert!(
        configured.contains("deployment.apps/web configured"),
        "{configured}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_logs_reads_a_container_and_names_the_choices() {
    let (_sandbox, dir, kubeconfig) = sandbox().await;
    let file = dir.path().join("pod.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: default}\nspec:\n  containers:\n  - {name: web, image: 'nginx:1.27'}\n  - {name: proxy, image: 'envoy:1.31'}\n",
    )
    .unwrap();
    stdout(&apply(&kubeconfig, &file));
    let log = stdout(&kubectl(
        &kubeconfig,
        &["logs", "web", "-c", "proxy", "--tail", "1"],
    ));
    assert_eq!(log, "proxy: ready\n");
    // Without -c, kubectl picks the first container itself and says so.
    let defaulted = kubectl(&kubeconfig, &["logs", "web"]);
    assert!(String::from_utf8_lossy(&defaulted.stderr).contains("Defaulted container \"web\""));
    assert!(stdout(&defaulted).ends_with("web: ready\n"));
    let refused = kubectl(&kubeconfig, &["logs", "web", "-c", "web", "--previous"]);
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("previous terminated container \"web\""),
        "{message}"
    );
}
