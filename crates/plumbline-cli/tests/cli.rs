//! The `plumbline` binary as a script runs it: arguments in, lines and exit codes out.

use std::path::Path;
use std::process::{Command, Output};

fn plumbline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_plumbline"))
        .args(args)
        .output()
        .expect("plumbline runs")
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

const OBJECTS: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, generation: 2}
spec: {replicas: 2}
status: {observedGeneration: 2, replicas: 2, updatedReplicas: 1, availableReplicas: 1}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: shop}
status: {phase: Bound}
";

#[test]
fn health_prints_a_line_per_object_or_json() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = write(dir.path(), "objects.yaml", OBJECTS);
    let json = write(
        dir.path(),
        "ns.json",
        r#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"shop","deletionTimestamp":"2026-01-01T00:00:00Z"}}"#,
    );
    let out = plumbline(&["health", &yaml, &json]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "Deployment\tshop/web\tProgressing\tWaiting for rollout to finish: 1 out of 2 new replicas have been updated...",
            "ConfigMap\tshop/settings\t-\t",
            "PersistentVolumeClaim\tshop/data\tHealthy\t",
            "Namespace\t/shop\tProgressing\tPending deletion",
        ]
    );

    let out = plumbline(&["health", "--output", "json", &yaml]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["kind"], "Deployment");
    assert_eq!(rows[0]["namespace"], "shop");
    assert_eq!(rows[0]["status"], "Progressing");
    assert_eq!(rows[1]["status"], "-");
    assert_eq!(rows.as_array().unwrap().len(), 3);
}

#[test]
fn health_of_a_broken_file_names_it_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "bad.yaml", "kind: [oops\n");
    let out = plumbline(&["health", &bad]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.yaml") && stderr.contains("line"),
        "{stderr}"
    );
    let missing = plumbline(&["health", "/nonexistent.yaml"]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn diff_exits_0_1_or_2_and_never_shows_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let desired = write(
        dir.path(),
        "desired.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: shop}\nstringData: {password: new-password}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: shop}\ndata: {mode: fast}\n",
    );
    let live = write(
        dir.path(),
        "live.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: shop, uid: abc, resourceVersion: '7', managedFields: []}\ndata: {password: b2xkLXBhc3N3b3Jk}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: shop, resourceVersion: '9'}\ndata: {mode: fast}\n",
    );
    let out = plumbline(&["diff", "--desired", &desired, "--live", &live]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("===== Secret shop/db"), "{text}");
    assert!(
        !text.contains("ConfigMap"),
        "the ConfigMap agrees once normalized:\n{text}"
    );
    // Each distinct value gets its own run of `+`: the change shows, the values do not.
    let masked = |sign: char| {
        text.lines()
            .find(|l| l.starts_with(sign) && l.contains("password:"))
            .map(|l| l.split(": ").nth(1).unwrap().to_string())
            .unwrap()
    };
    let (old_mask, new_mask) = (masked('-'), masked('+'));
    assert!(
        old_mask.chars().all(|c| c == '+') && new_mask.chars().all(|c| c == '+'),
        "{text}"
    );
    assert_ne!(old_mask, new_mask);
    for secret in [
        "new-password",
        "old-password",
        "b2xkLXBhc3N3b3Jk",
        "bmV3LXBhc3N3b3Jk",
    ] {
        assert!(!text.contains(secret), "{secret} shown:\n{text}");
    }

    let same = plumbline(&["diff", "--desired", &live, "--live", &live]);
    assert_eq!(same.status.code(), Some(0));
    assert!(same.stdout.is_empty());
    let error = plumbline(&["diff", "--desired", "/nonexistent.yaml", "--live", &live]);
    assert_eq!(error.status.code(), Some(2));
}

#[test]
fn the_offline_diff_is_argo_cds_default_diff_in_the_namespace_given() {
    let dir = tempfile::tempdir().unwrap();
    let git = |replicas: u32| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      containers:\n      - {{name: web, image: 'nginx:1.27', ports: [{{containerPort: 80}}]}}\n"
        )
    };
    let desired = write(dir.path(), "git.yaml", &git(2));
    let changed = write(dir.path(), "changed.yaml", &git(3));
    // As `kubectl get -o yaml` prints it: defaults, a controller's annotation, status.
    let live = write(
        dir.path(),
        "live.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\n  uid: u1\n  generation: 4\n  annotations: {deployment.kubernetes.io/revision: '4'}\nspec:\n  replicas: 2\n  progressDeadlineSeconds: 600\n  revisionHistoryLimit: 10\n  selector: {matchLabels: {app: web}}\n  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 25%, maxUnavailable: 25%}}\n  template:\n    metadata: {labels: {app: web}, creationTimestamp: null}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n        imagePullPolicy: IfNotPresent\n        ports: [{containerPort: 80, protocol: TCP}]\n        terminationMessagePath: /dev/termination-log\n        terminationMessagePolicy: File\n        resources: {}\n      dnsPolicy: ClusterFirst\n      restartPolicy: Always\n      schedulerName: default-scheduler\n      securityContext: {}\n      terminationGracePeriodSeconds: 30\nstatus: {observedGeneration: 4, replicas: 2}\n",
    );
    let diff = |args: &[&str]| {
        let mut all = vec!["diff", "--desired"];
        all.extend_from_slice(args);
        plumbline(&all)
    };
    let same = diff(&[&desired, "--live", &live, "--namespace", "shop"]);
    assert_eq!(
        same.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&same.stdout)
    );
    let out = diff(&[&changed, "--live", &live, "--namespace", "shop"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let changes: Vec<&str> = text
        .lines()
        .filter(|l| {
            (l.starts_with('-') || l.starts_with('+'))
                && !l.starts_with("---")
                && !l.starts_with("+++")
        })
        .collect();
    assert_eq!(changes, ["-  replicas: 2", "+  replicas: 3"], "{text}");
    let ignored = diff(&[
        &changed,
        "--live",
        &live,
        "--namespace",
        "shop",
        "--ignore-pointer",
        "Deployment.apps=/spec/replicas",
    ]);
    assert_eq!(ignored.status.code(), Some(0));
    let other_kind = diff(&[
        &changed,
        "--live",
        &live,
        "--namespace",
        "shop",
        "--ignore-pointer",
        "StatefulSet.apps=/spec/replicas",
    ]);
    assert_eq!(
        other_kind.status.code(),
        Some(1),
        "the rule is for another kind"
    );
    let bad = diff(&[
        &changed,
        "--live",
        &live,
        "--ignore-pointer",
        "spec/replicas",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("must start with /"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

#[test]
fn render_prints_a_folder_as_one_stream() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("nested")).unwrap();
    write(
        dir.path(),
        "a.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
    );
    write(
        dir.path(),
        "nested/b.json",
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b"}}"#,
    );
    write(dir.path(), "README.md", "not a manifest\n");
    let out = plumbline(&["render", "--path", &dir.path().display().to_string()]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.matches("kind: ConfigMap").count(), 2, "{text}");
    assert!(text.find("name: a").unwrap() < text.find("name: b").unwrap());
}

#[test]
fn render_evaluates_jsonnet_with_its_arguments_and_names_a_mistake() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "lib.libsonnet",
        "{ cm(name, size):: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: name }, data: { size: std.toString(size) } } }",
    );
    write(
        dir.path(),
        "main.jsonnet",
        "local lib = import 'lib.libsonnet';\nfunction(size) [lib.cm(std.extVar('name'), size)]\n",
    );
    let path = dir.path().display().to_string();
    let out = plumbline(&[
        "render",
        "--path",
        &path,
        "--jsonnet-tla-code",
        "size=2 * 21",
        "--jsonnet-ext-var-str",
        "name=answer",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("name: answer") && text.contains("size: '42'"),
        "{text}"
    );
    assert_eq!(
        text.matches("kind:").count(),
        1,
        "the library is not rendered by itself"
    );

    let missing = plumbline(&["render", "--path", &path]);
    assert_eq!(missing.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("main.jsonnet") && stderr.contains("\"size\" has no value"),
        "{stderr}"
    );
    let bad = plumbline(&["render", "--path", &path, "--jsonnet-tla-str", "size"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("expected NAME=VALUE"));
}

/// Runs the binary off the async runtime, so the sandbox in this process keeps serving.
async fn run(data: &Path, kubeconfig: &Path, args: &[&str]) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_plumbline"));
    command
        .args(["--data-dir", &data.display().to_string()])
        .args(["--kubeconfig", &kubeconfig.display().to_string()])
        .args(args);
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const APP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  greeting: hello\n  colour: blue\n";

#[tokio::test(flavor = "multi_thread")]
async fn apps_are_added_diffed_synced_and_rolled_back_from_the_command_line() {
    let sandbox = kube_sandbox::Sandbox::start(Default::default())
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
            vec![("app/settings.yaml".into(), APP.as_bytes().to_vec())],
        )],
    )
    .unwrap();
    let data = dir.path().join("data");
    let cli = |args: Vec<String>| {
        let (data, kubeconfig) = (data.clone(), kubeconfig.clone());
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run(&data, &kubeconfig, &args).await
        }
    };
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    let repo_arg = repo.display().to_string();
    let (code, out, err) = cli(args(&[
        "app",
        "add",
        "web",
        "--repo",
        &repo_arg,
        "--path",
        "app",
        "--revision",
        "main",
        "--context",
        "sandbox",
        "--namespace",
        "default",
    ]))
    .await;
    assert_eq!(code, 0, "{out}{err}");
    let (_, out, _) = cli(args(&["apps"])).await;
    assert!(
        out.lines()
            .any(|l| l.starts_with("web\tsandbox\tdefault\t")),
        "{out}"
    );
    assert!(
        data.join("applications.json").is_file(),
        "the app's own store file"
    );

    let (code, out, err) = cli(args(&["status", "web"])).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("web: OutOfSync") && out.contains("ConfigMap\tdefault/settings\tMissing"),
        "{out}"
    );
    let (code, out, _) = cli(args(&["diff", "web"])).await;
    assert_eq!(code, 1, "a diff exits 1: {out}");
    assert!(
        out.contains("===== ConfigMap default/settings (missing from the cluster)")
            && out.contains("+  greeting: hello"),
        "{out}"
    );

    let (code, out, err) = cli(args(&["sync", "web", "--dry-run"])).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("nothing was changed"), "{out}");
    let (code, out, err) = cli(args(&["sync", "web"])).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("Synced\tConfigMap default/settings"), "{err}");
    let (code, out, _) = cli(args(&["diff", "web"])).await;
    assert_eq!((code, out.as_str()), (0, ""), "in sync: no output, exit 0");

    // The working copy differs from the cluster: --local shows it before any commit.
    let local = dir.path().join("local");
    std::fs::create_dir(&local).unwrap();
    std::fs::write(local.join("settings.yaml"), APP.replace("blue", "green")).unwrap();
    let local_arg = local.display().to_string();
    let (code, out, err) = cli(args(&[
        "diff",
        "--local",
        &local_arg,
        "--context",
        "sandbox",
        "--namespace",
        "default",
        "--side-by-side",
    ]))
    .await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.lines()
            .any(|l| l.contains("colour: blue") && l.contains('|') && l.ends_with("colour: green")),
        "{out}"
    );

    let (code, out, _) = cli(args(&["history", "web"])).await;
    assert_eq!(code, 0);
    assert_eq!(
        out.lines().count(),
        2,
        "a header and one sync (the dry run is not kept): {out}"
    );
    assert!(
        out.lines().nth(1).unwrap().starts_with("1\tSync\tmain\t"),
        "{out}"
    );
    let (code, out, err) = cli(args(&["rollback", "web", "1"])).await;
    assert_eq!(code, 0, "{out}{err}");
    let (_, out, _) = cli(args(&["history", "web"])).await;
    assert!(
        out.lines().nth(1).unwrap().starts_with("2\tRollback\t"),
        "{out}"
    );

    let (code, _, err) = cli(args(&["sync", "web", "--resource", "ConfigMap/settings"])).await;
    assert_eq!(code, 2);
    assert!(err.contains("GROUP/KIND/NAMESPACE/NAME"), "{err}");
    let (code, _, err) = cli(args(&["status", "nope"])).await;
    assert_eq!(code, 2);
    assert!(err.contains("no application named \"nope\""), "{err}");
    // A plain folder's files can be chosen by glob.
    let (code, out, err) = cli(args(&[
        "app",
        "add",
        "some",
        "--repo",
        &repo_arg,
        "--path",
        "app",
        "--revision",
        "main",
        "--context",
        "sandbox",
        "--namespace",
        "default",
        "--exclude",
        "settings.*",
    ]))
    .await;
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = cli(args(&["render", "some"])).await;
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    let (code, out, _) = cli(args(&["render", "web"])).await;
    assert_eq!(code, 0);
    assert!(out.contains("greeting: hello"), "{out}");
    cli(args(&["app", "remove", "some"])).await;

    let (code, out, _) = cli(args(&["app", "remove", "web"])).await;
    assert_eq!(code, 0, "{out}");
    let (_, out, _) = cli(args(&["apps"])).await;
    assert_eq!(out.lines().count(), 1, "{out}");
}

#[test]
fn an_app_goes_out_as_an_argo_cd_application_and_comes_back_in() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = write(
        dir.path(),
        "kubeconfig",
        "apiVersion: v1\nkind: Config\nclusters:\n- name: staging\n  cluster: {server: 'https://staging.example.com:6443'}\nusers:\n- name: me\n  user: {token: t}\ncontexts:\n- name: staging\n  context: {cluster: staging, user: me}\ncurrent-context: staging\n",
    );
    let cli = |data: &str, args: &[&str]| {
        let mut all = vec!["--data-dir", data, "--kubeconfig", kubeconfig.as_str()];
        all.extend_from_slice(args);
        plumbline(&all)
    };
    let first = dir.path().join("first").display().to_string();
    let added = cli(
        &first,
        &[
            "app",
            "add",
            "web",
            "--repo",
            "https://git.example.com/deploy.git",
            "--path",
            "web",
        ],
    );
    // `app add` needs context and namespace.
    assert!(!added.status.success());
    let added = cli(
        &first,
        &[
            "app",
            "add",
            "web",
            "--repo",
            "https://git.example.com/deploy.git",
            "--path",
            "web",
            "--revision",
            "v2",
            "--context",
            "staging",
            "--namespace",
            "shop",
        ],
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let exported = cli(&first, &["app", "export", "web"]);
    assert!(exported.status.success());
    let manifest = String::from_utf8(exported.stdout).unwrap();
    assert!(manifest.contains("kind: Application"), "{manifest}");
    assert!(manifest.contains("targetRevision: v2"), "{manifest}");
    let file = write(dir.path(), "web.yaml", &manifest);

    let second = dir.path().join("second").display().to_string();
    let imported = cli(&second, &["app", "import", &file]);
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    let listed = String::from_utf8(cli(&second, &["apps"]).stdout).unwrap();
    assert!(
        listed.contains("web\tstaging\tshop\thttps://git.example.com/deploy.git\tweb\tv2"),
        "{listed}"
    );

    let refused = cli(
        &second,
        &[
            "app",
            "import",
            &write(dir.path(), "no.yaml", "kind: Deployment\n"),
        ],
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not an Argo CD Application"));
}

#[test]
fn a_reader_that_goes_away_ends_the_output_quietly() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    for i in 0..3000 {
        write(
            dir.path(),
            &format!("cm-{i:04}.yaml"),
            &format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{i}}}\ndata: {{n: '{i}'}}\n"
            ),
        );
    }
    // As `plumbline render --path dir | head -1` does it: read a line, then close the pipe.
    let mut child = Command::new(env!("CARGO_BIN_EXE_plumbline"))
        .args(["render", "--path", &dir.path().display().to_string()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert_eq!(first, "---\n");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

#[test]
fn a_kubeconfig_that_cannot_be_read_is_named_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let broken = write(
        dir.path(),
        "team.yaml",
        "apiVersion: v1\nkind: Config\ncontexts: [unclosed\n",
    );
    let cli = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_plumbline"))
            .args([
                "--data-dir",
                &data.display().to_string(),
                "--kubeconfig",
                &broken,
            ])
            .args(args)
            .output()
            .unwrap()
    };
    let added = cli(&[
        "app",
        "add",
        "web",
        "--repo",
        "/nowhere",
        "--context",
        "dev",
        "--namespace",
        "web",
    ]);
    assert!(added.status.success());
    let out = cli(&["diff", "web"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("context \"dev\" is not in any kubeconfig file that could be read; this one could not be:")
            && stderr.contains(&broken),
        "{stderr}"
    );
}
