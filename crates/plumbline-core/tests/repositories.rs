//! Repositories against real Git servers on loopback (lighttpd + git http-backend, sshd), with
//! secrets in the real Secret Service (run through scripts/with-keyring.sh, as `make rust-test`
//! does).

mod common;

use common::{HttpGit, SshGit, Upstream, git, key_pair};
use plumbline_core::repos::manager::{MemoryRepoStore, Repositories};
use plumbline_core::repos::remote::{FetchOutcome, RepoAuth, RepoConfig};
use plumbline_core::repos::{HostKeyPrompt, RepoError, read_revision};
use plumbline_core::secrets::{Keyring, SecretKind, Sensitive};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const PASSWORD: &str = "correct-horse-battery-staple";

fn repositories(data: &Path, home: Option<&Path>) -> Arc<Repositories> {
    let keyring = Keyring::with_service(format!(
        "dev.plumbline.test.{}.{}",
        std::process::id(),
        data.display()
    ));
    Arc::new(Repositories::new(
        Arc::new(MemoryRepoStore::default()),
        Arc::new(keyring),
        data,
        home,
    ))
}

/// A fixture repository `name` under `dir/srv`, served over HTTP (user ann, [`PASSWORD`]).
fn serve(dir: &Path, name: &str) -> (Upstream, HttpGit) {
    let upstream = Upstream::create(&dir.join("srv"), name);
    let server = HttpGit::start(&dir.join("srv"), &dir.join("http"), "ann", PASSWORD);
    (upstream, server)
}

async fn fetch(repos: &Arc<Repositories>, url: &str) -> Result<FetchOutcome, RepoError> {
    repos
        .fetch(url, |_| {}, Arc::new(AtomicBool::new(false)))
        .await
}

fn greeting(repos: &Repositories, url: &str, revision: &str) -> String {
    let snapshot = read_revision(&repos.clone_dir(url), revision, "guestbook").unwrap();
    let text = String::from_utf8(snapshot.files[0].content.clone()).unwrap();
    text.split("greeting: ")
        .nth(1)
        .unwrap()
        .trim_end_matches("}\n")
        .to_string()
}

/// Every file under `dir`, searched for `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if std::fs::read(&path)
                .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
            {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn https_basic_auth_from_missing_to_wrong_to_right_then_fetch_refs_and_history() {
    let dir = tempfile::tempdir().unwrap();
    let (upstream, server) = serve(dir.path(), "deploy.git");
    let data = dir.path().join("data");
    let repos = repositories(&data, None);

    // A public path needs nothing.
    let public = server.url("public", "deploy.git");
    repos
        .add(RepoConfig {
            url: public.clone(),
            auth: RepoAuth::None,
        })
        .unwrap();
    assert!(fetch(&repos, &public).await.unwrap().cloned);
    assert_eq!(greeting(&repos, &public, "main"), "hello again");

    let url = server.url("private", "deploy.git");
    repos
        .add(RepoConfig {
            url: url.clone(),
            auth: RepoAuth::Https {
                username: "ann".into(),
            },
        })
        .unwrap();
    let missing = fetch(&repos, &url).await.unwrap_err();
    assert!(
        matches!(&missing, RepoError::NeedsCredentials { reason, .. } if reason.contains("no password")),
        "{missing}"
    );
    repos
        .set_secret(&url, SecretKind::Password, &Sensitive::new("wrong".into()))
        .unwrap();
    let wrong = fetch(&repos, &url).await.unwrap_err();
    assert!(
        matches!(wrong, RepoError::NeedsCredentials { .. }),
        "{wrong}"
    );
    let listed = repos.list().unwrap();
    let info = listed.iter().find(|r| r.url == url).unwrap();
    assert!(info.has_password && !info.cloned);
    assert!(
        info.last_error
            .as_deref()
            .unwrap()
            .contains("needs credentials")
    );

    repos
        .set_secret(&url, SecretKind::Password, &Sensitive::new(PASSWORD.into()))
        .unwrap();
    assert!(fetch(&repos, &url).await.unwrap().cloned);
    assert_eq!(greeting(&repos, &url, "main"), "hello again");
    assert_eq!(greeting(&repos, &url, "v1"), "hello");
    let refs = repos.refs(&url).unwrap();
    assert_eq!(
        (refs.branches, refs.tags),
        (vec!["main".to_string()], vec!["v1".to_string()])
    );
    let history = repos.history(&url, "main", "guestbook", 10).unwrap();
    let summaries: Vec<&str> = history.iter().map(|c| c.summary.as_str()).collect();
    assert_eq!(summaries, ["Second", "First"]);
    let other = repos.history(&url, "main", "other", 10).unwrap();
    assert_eq!(other.len(), 1, "only the first commit touched other/");

    let newest = upstream.push_change("fetched");
    let outcome = fetch(&repos, &url).await.unwrap();
    assert!(!outcome.cloned && outcome.force_pushed.is_empty());
    assert_eq!(greeting(&repos, &url, "main"), "fetched");
    assert_eq!(
        read_revision(&repos.clone_dir(&url), "HEAD", "guestbook")
            .unwrap()
            .commit
            .sha,
        newest
    );

    assert!(
        files_containing(&data, PASSWORD).is_empty(),
        "the password is only in the keyring"
    );
    repos.remove(&url).await.unwrap();
    assert!(!repos.clone_dir(&url).exists());
    assert!(matches!(
        repos.get(&url),
        Err(RepoError::NotRegistered { .. })
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_fetch_keeps_the_last_good_clone_and_a_force_push_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (upstream, server) = serve(dir.path(), "deploy.git");
    let repos = repositories(&dir.path().join("data"), None);
    let url = server.url("public", "deploy.git");
    repos
        .add(RepoConfig {
            url: url.clone(),
            auth: RepoAuth::None,
        })
        .unwrap();
    fetch(&repos, &url).await.unwrap();

    let old = upstream.head();
    let new = upstream.force_push("rewritten");
    let outcome = fetch(&repos, &url).await.unwrap();
    assert_eq!(outcome.force_pushed.len(), 1, "{outcome:?}");
    let push = &outcome.force_pushed[0];
    assert_eq!(
        (push.branch.as_str(), push.old.as_str(), push.new.as_str()),
        ("main", old.as_str(), new.as_str())
    );
    assert_eq!(greeting(&repos, &url, "main"), "rewritten");
    // The commit the force-push dropped is still readable, for apps pinned to it.
    assert_eq!(greeting(&repos, &url, &old), "hello again");

    drop(server);
    let failed = fetch(&repos, &url).await.unwrap_err();
    assert!(matches!(failed, RepoError::Fetch { .. }), "{failed}");
    assert_eq!(
        greeting(&repos, &url, "main"),
        "rewritten",
        "the last good clone is still read"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn credential_helpers_answer_for_https() {
    let dir = tempfile::tempdir().unwrap();
    let (_upstream, server) = serve(dir.path(), "deploy.git");
    let helper = dir.path().join("gitconfig");
    std::fs::write(
        &helper,
        format!("[credential]\n\thelper = \"!f() {{ echo username=ann; echo password={PASSWORD}; }}; f\"\n"),
    )
    .unwrap();
    let data = dir.path().join("data");
    let repos = Arc::new(
        Arc::into_inner(repositories(&data, None))
            .unwrap()
            .with_git_config(helper),
    );
    let url = server.url("private", "deploy.git");
    repos
        .add(RepoConfig {
            url: url.clone(),
            auth: RepoAuth::CredentialHelper,
        })
        .unwrap();
    assert!(fetch(&repos, &url).await.unwrap().cloned);
    assert!(files_containing(&data, PASSWORD).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn ssh_keys_passphrases_the_agent_and_host_keys() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = Upstream::create(&dir.path().join("srv"), "deploy.git");
    let keys = dir.path().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let plain = key_pair(&keys, "plain", "");
    let locked = key_pair(&keys, "locked", "open-sesame");
    let server = SshGit::start(&dir.path().join("sshd"), &[&plain, &locked]);
    let data = dir.path().join("data");
    let repos = repositories(&data, None);
    let url = server.url(&upstream.bare);
    let with_key = |key: &Path| RepoConfig {
        url: url.clone(),
        auth: RepoAuth::SshKey {
            username: String::new(),
            key_path: key.display().to_string(),
        },
    };
    repos.add(with_key(&plain.private)).unwrap();

    // First contact: the host key is unknown, and shown for the user to check.
    let unknown = fetch(&repos, &url).await.unwrap_err();
    let RepoError::UnknownHostKey { prompt, .. } = unknown else {
        panic!("{unknown}")
    };
    let HostKeyPrompt {
        host,
        port,
        key,
        fingerprint,
        ..
    } = *prompt;
    assert_eq!((host.as_str(), port), ("127.0.0.1", server.port));
    let host_pub = dir.path().join("host.pub");
    let key_fields: Vec<&str> = server.known_hosts_line.split_whitespace().skip(1).collect();
    std::fs::write(&host_pub, key_fields.join(" ")).unwrap();
    let listed = std::process::Command::new("ssh-keygen")
        .arg("-l")
        .arg("-f")
        .arg(&host_pub)
        .output()
        .unwrap();
    let expected = String::from_utf8(listed.stdout).unwrap();
    assert!(
        expected.contains(&fingerprint),
        "{expected} vs {fingerprint}"
    );
    assert!(!repos.clone_dir(&url).exists());
    repos.accept_host_key(&host, port, &key).unwrap();
    assert!(fetch(&repos, &url).await.unwrap().cloned);
    assert_eq!(greeting(&repos, &url, "main"), "hello again");

    // A passphrase-protected key needs its passphrase from the keyring.
    repos.update(with_key(&locked.private)).unwrap();
    let needs = fetch(&repos, &url).await.unwrap_err();
    assert!(
        matches!(needs, RepoError::NeedsCredentials { .. }),
        "{needs}"
    );
    repos
        .set_secret(
            &url,
            SecretKind::KeyPassphrase,
            &Sensitive::new("open-sesame".into()),
        )
        .unwrap();
    upstream.push_change("over ssh");
    fetch(&repos, &url).await.unwrap();
    assert_eq!(greeting(&repos, &url, "main"), "over ssh");
    assert!(files_containing(&data, "open-sesame").is_empty());

    // The agent holds the key (scripts/with-keyring.sh starts one for the tests).
    assert!(
        std::env::var_os("SSH_AUTH_SOCK").is_some(),
        "no ssh-agent: run the tests through scripts/with-keyring.sh, as `make rust-test` does"
    );
    let added = std::process::Command::new("ssh-add")
        .arg(&plain.private)
        .output()
        .unwrap();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    repos
        .update(RepoConfig {
            url: url.clone(),
            auth: RepoAuth::SshAgent {
                username: String::new(),
            },
        })
        .unwrap();
    upstream.push_change("through the agent");
    fetch(&repos, &url).await.unwrap();
    assert_eq!(greeting(&repos, &url, "main"), "through the agent");

    // A known host presenting another key is refused, whatever the credentials.
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    let other_server_key = key_pair(&keys, "impostor", "");
    let impostor_line = format!(
        "[127.0.0.1]:{} {}",
        server.port,
        other_server_key
            .public
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
    );
    std::fs::write(home.join(".ssh/known_hosts"), impostor_line + "\n").unwrap();
    let careful = repositories(&dir.path().join("data2"), Some(&home));
    careful.add(with_key(&plain.private)).unwrap();
    let changed = fetch(&careful, &url).await.unwrap_err();
    assert!(
        matches!(changed, RepoError::HostKeyChanged { .. }),
        "{changed}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_clone_reports_progress_can_be_cancelled_and_operations_take_turns() {
    let dir = tempfile::tempdir().unwrap();
    let srv = dir.path().join("srv");
    let upstream = Upstream::create(&srv, "big.git");
    for i in 0..1500 {
        std::fs::write(
            upstream.work.join(format!("file-{i}.txt")),
            format!("content {i}\n"),
        )
        .unwrap();
    }
    git(&upstream.work, &["add", "-A"]);
    git(&upstream.work, &["commit", "-q", "-m", "Many files"]);
    git(&upstream.work, &["push", "-q", "origin", "main"]);
    let server = HttpGit::start(&srv, &dir.path().join("http"), "ann", PASSWORD);
    let repos = repositories(&dir.path().join("data"), None);
    let url = server.url("public", "big.git");
    repos
        .add(RepoConfig {
            url: url.clone(),
            auth: RepoAuth::None,
        })
        .unwrap();

    // The user presses Cancel as soon as objects arrive.
    let (canceller, cancel_url) = (Arc::clone(&repos), url.clone());
    let cancelled = repos
        .fetch(
            &url,
            move |p| {
                if p.received_objects > 0 {
                    assert!(canceller.cancel(&cancel_url), "the fetch is running");
                }
            },
            Arc::new(AtomicBool::new(false)),
        )
        .await
        .unwrap_err();
    assert!(!repos.cancel(&url), "nothing runs any more");
    assert!(
        matches!(cancelled, RepoError::Cancelled { .. }),
        "{cancelled}"
    );
    assert!(
        !repos.clone_dir(&url).exists(),
        "a cancelled clone leaves nothing behind"
    );

    // Two fetches at once: one clones, the other waits and then fetches into the clone.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let total = Arc::new(AtomicUsize::new(0));
    let run = |repos: Arc<Repositories>| {
        let url = url.clone();
        let seen = Arc::clone(&seen);
        let total = Arc::clone(&total);
        tokio::spawn(async move {
            repos
                .fetch(
                    &url,
                    move |p| {
                        total.fetch_max(p.total_objects, Ordering::Relaxed);
                        seen.lock().unwrap().push(p.received_objects);
                    },
                    Arc::new(AtomicBool::new(false)),
                )
                .await
        })
    };
    let (a, b) = tokio::join!(run(Arc::clone(&repos)), run(Arc::clone(&repos)));
    let (a, b) = (a.unwrap().unwrap(), b.unwrap().unwrap());
    assert_eq!(
        [a.cloned, b.cloned].iter().filter(|c| **c).count(),
        1,
        "exactly one of them cloned"
    );
    assert!(
        total.load(Ordering::Relaxed) > 1500,
        "progress counted the objects"
    );
    assert!(seen.lock().unwrap().len() > 1, "progress came in steps");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_app_on_a_private_repository_asks_for_credentials_then_syncs() {
    use plumbline_core::Engine;
    use plumbline_core::apps::{Application, Destination, MemoryStore};
    use plumbline_core::clusters::{Clusters, Kubeconfigs};
    use plumbline_core::comparison::SyncStatus;
    use plumbline_core::ipc::ErrorCode;
    use plumbline_core::settings::MemorySettings;

    let dir = tempfile::tempdir().unwrap();
    let (upstream, server) = serve(dir.path(), "deploy.git");
    let sandbox = kube_sandbox::Sandbox::start(Default::default())
        .await
        .unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    sandbox.write_kubeconfig(&kubeconfig, "sandbox").unwrap();
    let data = dir.path().join("data");
    let repos = repositories(&data, None);
    let url = server.url("private", "deploy.git");
    repos
        .add(RepoConfig {
            url: url.clone(),
            auth: RepoAuth::Https {
                username: "ann".into(),
            },
        })
        .unwrap();
    let engine = Engine::new(
        Clusters::new(Kubeconfigs::load(std::slice::from_ref(&kubeconfig))),
        Arc::new(MemoryStore::default()),
        Arc::clone(&repos),
        Arc::new(MemorySettings::default()),
    );
    engine
        .apps()
        .add(Application {
            name: "guestbook".into(),
            repo: url.clone(),
            revision: "main".into(),
            path: "guestbook".into(),
            destination: Destination {
                context: "sandbox".into(),
                namespace: "default".into(),
            },
            source: Default::default(),
            ignore: Vec::new(),
            sync_policy: Default::default(),
        })
        .unwrap();

    let locked = engine.status("guestbook").await.unwrap();
    assert_eq!(locked.sync, SyncStatus::Unknown);
    assert_eq!(locked.error.unwrap().code, ErrorCode::NeedsCredentials);

    repos
        .set_secret(&url, SecretKind::Password, &Sensitive::new(PASSWORD.into()))
        .unwrap();
    let status = engine.status("guestbook").await.unwrap();
    assert_eq!(status.sync, SyncStatus::OutOfSync, "{:?}", status.error);
    let result = engine
        .sync("guestbook", &Default::default(), None, &|_| {})
        .await
        .unwrap();
    assert_eq!(
        result.phase,
        plumbline_core::sync::OperationPhase::Succeeded,
        "{}",
        result.message
    );
    assert_eq!(
        engine.status("guestbook").await.unwrap().sync,
        SyncStatus::Synced
    );

    // A new commit arrives with the next fetch.
    upstream.push_change("from the next commit");
    fetch(&repos, &url).await.unwrap();
    assert_eq!(
        engine.status("guestbook").await.unwrap().sync,
        SyncStatus::OutOfSync
    );
    assert!(files_containing(&data, PASSWORD).is_empty());
}
