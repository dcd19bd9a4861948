//! Each way a kubeconfig authenticates, against the sandbox: a token, a client certificate and
//! an exec credential plugin found on the login shell's PATH; and each state a context can be
//! in, with the server's words.

use plumbline_core::clusters::{Clusters, ContextState, Kubeconfigs, login_shell_path};
use std::path::{Path, PathBuf};

fn clusters(dir: &Path, name: &str, yaml: &str) -> Clusters {
    let path = dir.join(name);
    std::fs::write(&path, yaml).unwrap();
    Clusters::new(Kubeconfigs::load(&[path]))
}

fn connected(state: &ContextState) -> bool {
    matches!(state, ContextState::Connected { version } if version.starts_with("v1."))
}

#[tokio::test]
async fn tokens_certificates_and_exec_plugins_connect() {
    let sandbox = kube_sandbox::Sandbox::start(Default::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();

    let by_token = clusters(dir.path(), "token", &sandbox.kubeconfig_yaml("dev"));
    assert_eq!(
        by_token.state("dev"),
        ContextState::NotConnected,
        "nothing connects until asked"
    );
    let state = by_token.probe("dev").await;
    assert!(connected(&state), "{state:?}");
    assert_eq!(by_token.state("dev"), state);

    let by_cert = clusters(
        dir.path(),
        "cert",
        &sandbox.kubeconfig_yaml_with_client_certificate("dev"),
    );
    let state = by_cert.probe("dev").await;
    assert!(connected(&state), "{state:?}");

    // The plugin lives in a folder only the login shell's PATH has.
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    let plugin = plugins.join("sandbox-credential");
    let token = sandbox.token(kube_sandbox::Access::Admin);
    std::fs::write(
        &plugin,
        format!(
            "#!/bin/sh\nprintf '%s' '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{token}\"}}}}'\n"
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let exec = "exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: sandbox-credential\n      interactiveMode: Never";
    let yaml = sandbox.kubeconfig_yaml_with_user("dev", "exec-user", exec);

    let without = clusters(dir.path(), "exec", &yaml);
    let state = without.probe("dev").await;
    assert!(
        matches!(&state, ContextState::Unauthorized { message } if message.contains("sandbox-credential")),
        "{state:?}"
    );
    let login_path = format!("/usr/bin:/bin:{}", plugins.display());
    let with = clusters(dir.path(), "exec", &yaml).with_plugin_path(Some(login_path));
    let state = with.probe("dev").await;
    assert!(connected(&state), "{state:?}");
}

#[tokio::test]
async fn refused_untrusted_and_dead_contexts_say_why_and_never_block_the_others() {
    let sandbox = kube_sandbox::Sandbox::start(Default::default())
        .await
        .unwrap();
    let other = kube_sandbox::Sandbox::start(Default::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();

    let wrong_token = sandbox
        .kubeconfig_yaml("dev")
        .replace(sandbox.token(kube_sandbox::Access::Admin), "not-the-token");
    let state = clusters(dir.path(), "wrong", &wrong_token)
        .probe("dev")
        .await;
    assert!(
        matches!(&state, ContextState::Unauthorized { message } if message == "Unauthorized"),
        "{state:?}"
    );

    // The other sandbox's CA does not vouch for this server's certificate.
    let ca_line = |yaml: &str| {
        yaml.lines()
            .find(|l| l.contains("certificate-authority-data"))
            .unwrap()
            .to_string()
    };
    let ours = sandbox.kubeconfig_yaml("dev");
    let untrusted = ours.replace(&ca_line(&ours), &ca_line(&other.kubeconfig_yaml("dev")));
    let state = clusters(dir.path(), "untrusted", &untrusted)
        .probe("dev")
        .await;
    assert!(matches!(state, ContextState::TlsError { .. }), "{state:?}");

    // A port nobody listens on, beside a live context in the same kubeconfig set.
    let dead_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = other
        .kubeconfig_yaml("dead")
        .replace(&other.url(), &format!("https://127.0.0.1:{dead_port}"));
    let paths: Vec<PathBuf> = [("live", sandbox.kubeconfig_yaml("live")), ("dead", dead)]
        .into_iter()
        .map(|(name, yaml)| {
            let path = dir.path().join(name);
            std::fs::write(&path, yaml).unwrap();
            path
        })
        .collect();
    let both = Clusters::new(Kubeconfigs::load(&paths));
    let (dead_state, live_state) = tokio::join!(both.probe("dead"), both.probe("live"));
    assert!(
        matches!(&dead_state, ContextState::Unreachable { message } if message.to_lowercase().contains("connect")),
        "{dead_state:?}"
    );
    assert!(connected(&live_state), "{live_state:?}");
    let unknown = both.probe("nowhere").await;
    assert!(
        matches!(unknown, ContextState::Invalid { .. }),
        "{unknown:?}"
    );
}

#[test]
fn the_login_shell_path_includes_what_the_profile_adds() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join(".bash_profile"),
        "export PATH=\"$PATH:/opt/plumbline-test/bin\"\n",
    )
    .unwrap();
    let path = login_shell_path(Path::new("/bin/bash"), Some(home.path())).unwrap();
    assert!(
        path.split(':').any(|d| d == "/opt/plumbline-test/bin"),
        "{path}"
    );
    assert!(login_shell_path(Path::new("/nonexistent/shell"), None).is_none());
}

/// Started from a terminal, the app keeps that terminal's PATH (where Helm may be) and only
/// adds what the login shell's has besides.
#[tokio::test]
async fn the_search_path_is_the_process_path_then_the_login_shells() {
    let dir = tempfile::tempdir().unwrap();
    let shell = dir.path().join("login-shell");
    std::fs::write(
        &shell,
        "#!/bin/sh\nprintf '%s' '/usr/bin:/opt/from-profile/bin'\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&shell, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = Clusters::new(Kubeconfigs::load(&[]))
        .with_login_shell(shell, None)
        .plugin_path()
        .await
        .unwrap();
    let process = std::env::var("PATH").unwrap();
    assert!(path.starts_with(&process), "{path} keeps {process} first");
    assert!(path.ends_with(":/opt/from-profile/bin"), "{path}");
}

#[tokio::test]
async fn kubeconfig_files_are_re_read_when_they_change_and_stale_connections_dropped() {
    let sandbox = kube_sandbox::Sandbox::start(Default::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config");
    let later = dir.path().join("later");
    std::fs::write(&file, sandbox.kubeconfig_yaml("dev")).unwrap();
    let clusters = Clusters::from_paths(vec![file.clone(), later.clone()]);
    let names = |c: &Clusters| -> Vec<String> {
        c.kubeconfigs()
            .list()
            .contexts
            .into_iter()
            .map(|c| c.name)
            .collect()
    };
    assert_eq!(names(&clusters), ["dev"]);
    assert!(!clusters.reload_if_changed(), "nothing changed yet");
    assert!(connected(&clusters.probe("dev").await));

    // A file that did not exist appears; the first one breaks.
    std::fs::write(&later, sandbox.kubeconfig_yaml("staging")).unwrap();
    std::fs::write(&file, "apiVersion: v1\nkind: Config\nclusters: [oops\n").unwrap();
    assert!(clusters.reload_if_changed());
    let list = clusters.kubeconfigs().list();
    assert_eq!(names(&clusters), ["staging"]);
    assert_eq!(list.problems.len(), 1);
    assert!(
        list.problems[0].file.ends_with("config"),
        "{:?}",
        list.problems
    );
    assert_eq!(
        clusters.state("dev"),
        ContextState::NotConnected,
        "its connection was dropped"
    );
}

/// A server answering 429 is heard (its Retry-After honoured, up to a few seconds) and given up
/// on after a few tries, never waited on for minutes.
#[tokio::test]
async fn a_busy_server_is_retried_a_few_times_within_a_capped_wait() {
    use k8s_openapi::api::core::v1::Namespace;
    let sandbox = kube_sandbox::Sandbox::start(Default::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let clusters = clusters(dir.path(), "busy", &sandbox.kubeconfig_yaml("dev"));
    let namespaces: kube::Api<Namespace> = kube::Api::all(clusters.client("dev").await.unwrap());

    sandbox.faults().throttle_next(2, 1);
    namespaces
        .list(&Default::default())
        .await
        .expect("the third try gets through");

    sandbox.faults().throttle_next(1000, 120);
    let answer = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        namespaces.list(&Default::default()),
    )
    .await
    .expect("given up on long before the 120 s the server asked for, four times over");
    assert!(
        matches!(&answer, Err(kube::Error::Api(s)) if s.code == 429),
        "{answer:?}"
    );
}

/// A credential plugin that never answers (a browser login nobody finishes) is stopped at its
/// time limit, with what it started, and the context says so.
#[tokio::test]
async fn a_credential_plugin_that_never_answers_is_stopped_with_its_children() {
    let sandbox = kube_sandbox::Sandbox::start(Default::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let plugin = dir.path().join("hanging-login");
    let (own, child) = (dir.path().join("plugin.pid"), dir.path().join("child.pid"));
    std::fs::write(
        &plugin,
        format!(
            "#!/bin/sh\necho $$ > {}\nsleep 300 &\necho $! > {}\nwait\n",
            own.display(),
            child.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let exec = format!(
        "exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      interactiveMode: Never",
        plugin.display()
    );
    let yaml = sandbox.kubeconfig_yaml_with_user("dev", "sso-user", &exec);
    let clusters =
        clusters(dir.path(), "sso", &yaml).with_plugin_timeout(std::time::Duration::from_secs(2));
    let state = tokio::time::timeout(std::time::Duration::from_secs(30), clusters.probe("dev"))
        .await
        .expect("the probe ends");
    assert!(
        matches!(&state, ContextState::Unauthorized { message }
            if message.contains("did not answer within 2 seconds and was stopped")),
        "{state:?}"
    );
    let alive = |pid_file: &Path| {
        let pid = std::fs::read_to_string(pid_file)
            .unwrap()
            .trim()
            .to_string();
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|stat| stat.split(' ').nth(2).is_none_or(|s| s != "Z"))
    };
    assert!(!alive(&own), "the plugin was stopped");
    assert!(!alive(&child), "and what it started");
}
