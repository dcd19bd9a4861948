//! `plumbline status` over twenty applications on five contexts, two of them dead — one
//! refuses connections, one accepts and never answers: the live contexts' applications get
//! their status, the dead ones' say so in words, and a dead context is waited on once, not
//! once per application.

use std::process::Command;

#[tokio::test(flavor = "multi_thread")]
async fn dead_contexts_cost_their_timeout_once_and_hold_up_nobody() {
    let dir = tempfile::tempdir().unwrap();
    let mut kubeconfigs = Vec::new();
    let mut sandboxes = Vec::new();
    for name in ["dev", "staging", "prod"] {
        let sandbox = kube_sandbox::Sandbox::start(Default::default())
            .await
            .unwrap();
        let path = dir.path().join(name);
        // A user of its own per file: merged kubeconfigs keep the first user of a name.
        let stanza = format!("token: {}", sandbox.token(kube_sandbox::Access::Admin));
        let yaml = sandbox.kubeconfig_yaml_with_user(name, &format!("{name}-admin"), &stanza);
        std::fs::write(&path, yaml).unwrap();
        kubeconfigs.push(path);
        sandboxes.push(sandbox);
    }
    // Refuses: nobody listens on the port. Stalls: a listener that never answers.
    let refused_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let stalling = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let stalling_port = stalling.local_addr().unwrap().port();
    for (name, port) in [("gone", refused_port), ("stuck", stalling_port)] {
        let yaml = sandboxes[0]
            .kubeconfig_yaml(name)
            .replace(&sandboxes[0].url(), &format!("https://127.0.0.1:{port}"));
        let path = dir.path().join(name);
        std::fs::write(&path, yaml).unwrap();
        kubeconfigs.push(path);
    }

    let repo = dir.path().join("repo");
    plumbline_core::repos::create_with_history(
        &repo,
        &[(
            "one",
            vec![(
                "app/cm.yaml".into(),
                b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: b}\n"
                    .to_vec(),
            )],
        )],
    )
    .unwrap();
    let data = dir.path().join("data");
    let cli = |args: Vec<String>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_plumbline"));
        command.arg("--data-dir").arg(&data);
        for k in &kubeconfigs {
            command.arg("--kubeconfig").arg(k);
        }
        command.args(args);
        tokio::task::spawn_blocking(move || command.output().unwrap())
    };
    let contexts = ["dev", "staging", "prod", "gone", "stuck"];
    for (i, context) in contexts.iter().cycle().take(20).enumerate() {
        let out = cli([
            "app",
            "add",
            &format!("app-{i:02}"),
            "--repo",
            &repo.display().to_string(),
            "--path",
            "app",
            "--context",
            context,
            "--namespace",
            "default",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect())
        .await
        .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let started = std::time::Instant::now();
    let out = cli(vec!["status".into()]).await.unwrap();
    let took = started.elapsed();
    eprintln!("plumbline status, 20 apps, 2 of 5 contexts dead: {took:?}");
    assert_eq!(out.status.code(), Some(2), "some could not be compared");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(lines.len(), 20, "{text}");
    for (i, line) in lines.iter().enumerate() {
        let context = contexts[i % 5];
        if matches!(context, "gone" | "stuck") {
            assert!(
                line.contains("\tUnknown\t") && line.contains(&format!("context \"{context}\"")),
                "{line}"
            );
        } else {
            assert!(line.contains("\tOutOfSync\t"), "{context}: {line}");
        }
    }
    drop(stalling);
}
