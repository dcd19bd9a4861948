//! The engine keeps watching (issue: every application live, every cluster's health known):
//! against a real sandbox over HTTPS, with nobody asking, a change in the cluster reaches the
//! status of an app that is not open; a cluster that stops answering is marked unreachable, its
//! apps stale, and they recover by themselves when it is back; a commit pushed to the remote
//! reaches the status after the next fetch; one cluster that accepts connections and never
//! answers holds up no other.

mod world;

use plumbline_core::clusters::{Clusters, ContextState, Kubeconfigs};
use plumbline_core::comparison::{ResourceSync, SyncStatus};
use plumbline_core::events::{ActivityKind, AppSummary, Event};
use plumbline_core::sync::SyncOptions;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::Receiver;
use world::{api, sample_app, sync_succeeds, world_on_sandbox, world_with};

/// Waits up to `limit` for an event `pick` takes; fails saying what it waited for.
async fn next<T>(
    events: &mut Receiver<Event>,
    limit: Duration,
    what: &str,
    mut pick: impl FnMut(Event) -> Option<T>,
) -> T {
    tokio::time::timeout(limit, async {
        loop {
            match events.recv().await {
                Ok(event) => {
                    if let Some(found) = pick(event) {
                        return found;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("the engine stopped telling: {e}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("waited {limit:?} for {what}"))
}

/// The next status of `app` that `test` accepts.
async fn status(
    events: &mut Receiver<Event>,
    app: &str,
    limit: Duration,
    what: &str,
    test: impl Fn(&AppSummary) -> bool,
) -> AppSummary {
    next(events, limit, what, |event| match event {
        Event::Status { status } if status.app.name == app && test(&status) => Some(*status),
        _ => None,
    })
    .await
}

/// The first status of `app` the engine knows: kept already (a sync compared it), or the
/// first one it tells.
async fn first_status(
    engine: &plumbline_core::Engine,
    events: &mut Receiver<Event>,
    app: &str,
) -> AppSummary {
    if let Some(known) = engine.summaries().into_iter().find(|s| s.app.name == app) {
        return known;
    }
    status(
        events,
        app,
        Duration::from_secs(20),
        "the first status",
        |_| true,
    )
    .await
}

/// An engine of its own over `clusters`, with nothing in it yet, beside the world's (whose
/// folder it uses for its clones).
fn engine_beside(w: &world::World, clusters: Clusters) -> Arc<plumbline_core::Engine> {
    Arc::new(plumbline_core::Engine::new(
        clusters,
        Arc::new(plumbline_core::apps::MemoryStore::default()),
        Arc::new(plumbline_core::repos::manager::Repositories::new(
            Arc::new(plumbline_core::repos::manager::MemoryRepoStore::default()),
            Arc::new(plumbline_core::secrets::MemorySecrets::default()),
            &w._dir.path().join("beside"),
            None,
        )),
        Arc::new(plumbline_core::settings::MemorySettings::default()),
    ))
}

#[tokio::test]
async fn a_change_in_the_cluster_reaches_the_status_of_an_app_nobody_has_open() {
    let w = world_with("waves", "default", "waves", sample_app("waves")).await;
    sync_succeeds(&w, "waves", &SyncOptions::default()).await;
    let mut events = w.engine.subscribe();
    let _watching = w.engine.keep_watching();
    let first = first_status(&w.engine, &mut events, "waves").await;
    assert_eq!(first.sync, SyncStatus::Synced, "{:?}", first.error);
    assert!(first.stale.is_none());

    let configmaps = api(&w.client, "", "v1", "ConfigMap", "default");
    world::patch_by_hand(&configmaps, "settings", json!({"data": {"greeting": "hi"}})).await;
    let drifted = status(
        &mut events,
        "waves",
        Duration::from_secs(10),
        "OutOfSync after a change by hand",
        |s| s.sync == SyncStatus::OutOfSync,
    )
    .await;
    assert_eq!(drifted.out_of_sync, 1);
    let told = next(
        &mut events,
        Duration::from_secs(5),
        "the activity",
        |event| match event {
            Event::Activity { activity } => Some(activity),
            _ => None,
        },
    )
    .await;
    assert_eq!(told.kind, ActivityKind::OutOfSync);
    assert_eq!(told.app.as_deref(), Some("waves"));
    assert!(told.message.contains("1 of"), "{}", told.message);
    assert_eq!(w.engine.activity()[0], told, "the activity list keeps it");

    // Nobody compared anything: the summaries the window paints from say it too.
    let known = w.engine.summaries();
    assert_eq!(known.len(), 1);
    assert_eq!(known[0].sync, SyncStatus::OutOfSync);

    // Deleted by hand: only that resource is compared again, and it is missing; the rest of
    // the app is as it was.
    let before = w.engine.view("waves").await.unwrap().status.resources;
    configmaps
        .delete("settings", &Default::default())
        .await
        .unwrap();
    let missing = |resources: &[plumbline_core::comparison::ResourceStatus]| {
        resources
            .iter()
            .any(|r| r.key.name == "settings" && r.status == ResourceSync::Missing)
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let after = loop {
        // The page's view: from the last comparison, which the watch keeps current.
        let now = w.engine.view("waves").await.unwrap().status.resources;
        if missing(&now) {
            break now;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the deletion was not compared"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        if a.key.name == "settings" && a.key.kind == "ConfigMap" {
            assert_eq!(a.status, ResourceSync::Missing);
        } else {
            assert_eq!((&b.key, b.status), (&a.key, a.status));
        }
    }
}

#[tokio::test]
async fn the_app_page_reads_the_cluster_cache_and_hears_of_changes_to_what_the_cluster_made() {
    let w = world_on_sandbox("waves", "default", "waves", sample_app("waves")).await;
    sync_succeeds(&w, "waves", &SyncOptions::default()).await;
    // Let the rollout the sync started come to rest first.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut events = w.engine.subscribe();
    let watching = w.engine.keep_watching();
    first_status(&w.engine, &mut events, "waves").await;
    // The page shows the tree once: the kinds the cluster makes are watched from then on.
    let view = w.engine.view("waves").await.unwrap();
    assert!(view.tree.iter().any(|n| n.key.kind == "Pod"));

    let notices = Arc::new(tokio::sync::Notify::new());
    let n = notices.clone();
    let page = w.engine.watch("waves", move || n.notify_one());
    let lists = || {
        (
            w.sandbox().lists_served("configmaps"),
            w.sandbox().lists_served("pods"),
        )
    };
    let before = lists();
    assert!(
        tokio::time::timeout(Duration::from_millis(500), notices.notified())
            .await
            .is_err(),
        "nothing changed, nothing is said"
    );

    let configmaps = api(&w.client, "", "v1", "ConfigMap", "default");
    world::patch_by_hand(&configmaps, "settings", json!({"data": {"greeting": "hi"}})).await;
    tokio::time::timeout(Duration::from_secs(10), notices.notified())
        .await
        .expect("a change by hand is heard");
    // The objects changed at once; the status follows when the change is compared.
    status(
        &mut events,
        "waves",
        Duration::from_secs(10),
        "the status after the change",
        |s| s.sync == SyncStatus::OutOfSync,
    )
    .await;
    let view = w.engine.view("waves").await.unwrap();
    let settings = view
        .status
        .resources
        .iter()
        .find(|r| r.key.name == "settings")
        .unwrap();
    assert_eq!(settings.status, ResourceSync::OutOfSync);
    assert!(view.tree.iter().any(|n| n.key.kind == "Pod"));
    assert_eq!(
        lists(),
        before,
        "the views listed nothing: the cache has it all"
    );

    // A Pod the cluster made (not one of the app's own resources) is heard of too.
    let pods = api(&w.client, "", "v1", "Pod", "default");
    let pod = pods.list(&Default::default()).await.unwrap().items[0]
        .metadata
        .name
        .clone()
        .unwrap();
    pods.delete(&pod, &Default::default()).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), notices.notified())
        .await
        .expect("a deleted Pod is heard of");

    // A plan lists afresh: what a sync will do is never decided on a cache.
    w.engine
        .plan("waves", &SyncOptions::default())
        .await
        .unwrap();
    assert!(lists().0 > before.0, "the plan listed the ConfigMaps");

    drop(page);
    drop(watching);
    let after = lists();
    w.engine.view("waves").await.unwrap();
    assert!(
        lists().0 > after.0 && lists().1 > after.1,
        "once the engine stops watching, a view lists again"
    );
}

#[tokio::test]
async fn a_cluster_that_stops_answering_keeps_its_apps_stale_and_they_recover_by_themselves() {
    let mut w = world_on_sandbox("waves", "default", "waves", sample_app("waves")).await;
    sync_succeeds(&w, "waves", &SyncOptions::default()).await;
    let mut events = w.engine.subscribe();
    let _watching = w.engine.keep_watching();
    let known = first_status(&w.engine, &mut events, "waves").await;
    // The app page is open on the tree.
    let shown = w.engine.view("waves").await.unwrap();

    w.sandbox_mut().stop_serving().await;
    let lost = next(
        &mut events,
        Duration::from_secs(10),
        "the context unreachable within 10 s",
        |event| match event {
            Event::Context { context, state }
                if context == "sandbox" && !matches!(state, ContextState::Connected { .. }) =>
            {
                Some(state)
            }
            _ => None,
        },
    )
    .await;
    assert!(matches!(lost, ContextState::Unreachable { .. }), "{lost:?}");
    let stale = status(
        &mut events,
        "waves",
        Duration::from_secs(2),
        "the app marked stale",
        |s| s.stale.is_some(),
    )
    .await;
    assert_eq!(stale.sync, known.sync, "the last known status stands");
    assert_eq!(stale.commit, known.commit);
    assert!(
        stale.error.is_none(),
        "the error is the context's, said once"
    );
    let reason = &stale.stale.as_ref().unwrap().reason;
    assert!(reason.contains("does not answer"), "{reason}");
    let told: Vec<_> = w
        .engine
        .activity()
        .into_iter()
        .filter(|a| a.kind == ActivityKind::Unreachable)
        .collect();
    assert_eq!(told.len(), 1, "{told:?}");
    // The app page meanwhile shows the last known status and tree, marked stale.
    let view = w.engine.view("waves").await.unwrap();
    assert!(view.status.stale.is_some());
    assert!(view.status.error.is_none());
    assert_eq!(view.status.sync, known.sync);
    assert_eq!(view.status.resources.len(), known.resources as usize);
    assert_eq!(view.tree, shown.tree, "{:?}", view.tree_error);
    let summaries = w.engine.summaries();
    assert_eq!(summaries[0].sync, known.sync);
    assert!(summaries[0].stale.is_some());

    w.sandbox_mut().serve_again().await.unwrap();
    let back = status(
        &mut events,
        "waves",
        Duration::from_secs(15),
        "the app current again, with no call",
        |s| s.stale.is_none(),
    )
    .await;
    assert_eq!(back.sync, known.sync);
    assert!(
        w.engine
            .activity()
            .iter()
            .any(|a| a.kind == ActivityKind::Reachable)
    );
    // The watches run again: a change by hand is heard.
    let configmaps = api(&w.client, "", "v1", "ConfigMap", "default");
    world::patch_by_hand(
        &configmaps,
        "settings",
        json!({"data": {"greeting": "back"}}),
    )
    .await;
    status(
        &mut events,
        "waves",
        Duration::from_secs(10),
        "OutOfSync after the cluster came back",
        |s| s.sync == SyncStatus::OutOfSync,
    )
    .await;
}

#[tokio::test]
async fn a_commit_pushed_to_the_remote_reaches_the_status_after_the_next_fetch() {
    use plumbline_core::repos::remote::{RepoAuth, RepoConfig};
    let w = world_with(
        "remote",
        "default",
        "app",
        vec![world::file("app/cm.yaml", &cm("one"))],
    )
    .await;
    // The repository as a remote the engine clones and fetches (file://), not a local path.
    let url = format!("file://{}", w.repo.display());
    w.engine
        .repositories()
        .add(RepoConfig {
            url: url.clone(),
            auth: RepoAuth::None,
        })
        .unwrap();
    let mut app = w.engine.apps().get("remote").unwrap();
    app.repo = url;
    w.engine.apps().update(app).unwrap();
    w.engine.set_fetch_interval(Some(10)).unwrap();
    sync_succeeds(&w, "remote", &SyncOptions::default()).await;

    let mut events = w.engine.subscribe();
    let _watching = w.engine.keep_watching();
    let first = first_status(&w.engine, &mut events, "remote").await;
    assert_eq!(first.sync, SyncStatus::Synced, "{:?}", first.error);

    let pushed = world::commit(&w.repo, "two", &[world::file("app/cm.yaml", &cm("two"))]);
    let moved = status(
        &mut events,
        "remote",
        Duration::from_secs(30),
        "the new commit after a fetch",
        |s| s.commit.as_ref().is_some_and(|c| c.sha == pushed),
    )
    .await;
    assert_eq!(moved.sync, SyncStatus::OutOfSync);
}

/// A server on 127.0.0.1 that accepts connections and never says a word; stopped by aborting
/// the task (or with the test's runtime).
async fn silent_server() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    (port, held)
}

/// A kubeconfig in `dir` whose one context, `name`, points at `https://127.0.0.1:PORT`.
fn loopback_kubeconfig(dir: &std::path::Path, name: &str, port: u16) -> std::path::PathBuf {
    let path = dir.join(format!("{name}.kubeconfig"));
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: {name}\n  cluster: {{server: 'https://127.0.0.1:{port}', insecure-skip-tls-verify: true}}\nusers:\n- name: {name}\n  user: {{token: t}}\ncontexts:\n- name: {name}\n  context: {{cluster: {name}, user: {name}}}\n"
        ),
    )
    .unwrap();
    path
}

fn cm(value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  value: {value}\n"
    )
}

#[tokio::test]
async fn a_cluster_that_never_answers_holds_up_no_other_and_is_named_once() {
    let w = world_with(
        "live",
        "default",
        "app",
        vec![world::file("app/cm.yaml", &cm("one"))],
    )
    .await;
    let (port, held) = silent_server().await;
    let hung = loopback_kubeconfig(w._dir.path(), "hung", port);
    let engine = engine_beside(
        &w,
        Clusters::new(Kubeconfigs::load(&[
            w._dir.path().join("kubeconfig"),
            hung.clone(),
        ])),
    );
    engine
        .apps()
        .add(w.engine.apps().get("live").unwrap())
        .unwrap();
    for n in 0..3 {
        let mut app = world::app(&format!("stuck{n}"), &w.repo, "app", "default");
        app.destination.context = "hung".into();
        engine.apps().add(app).unwrap();
    }

    let mut events = engine.subscribe();
    let _watching = engine.keep_watching();
    let live = status(
        &mut events,
        "live",
        Duration::from_secs(10),
        "the live context's app",
        |s| s.sync != SyncStatus::Unknown,
    )
    .await;
    assert!(live.error.is_none(), "{:?}", live.error);
    // The hung context is named unreachable, its apps marked so (never compared).
    let stuck = status(
        &mut events,
        "stuck0",
        Duration::from_secs(15),
        "the hung context's app marked",
        |s| s.stale.is_some(),
    )
    .await;
    assert_eq!(stuck.sync, SyncStatus::Unknown);
    assert!(stuck.error.is_none());
    let reason = &stuck.stale.as_ref().unwrap().reason;
    assert!(reason.contains("no answer within"), "{reason}");
    // Several probes later, it has still been told once.
    tokio::time::sleep(plumbline_core::watching::PROBE_EVERY * 3).await;
    let told: Vec<_> = engine
        .activity()
        .into_iter()
        .filter(|a| a.kind == ActivityKind::Unreachable)
        .collect();
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].context, "hung");
    held.abort();
}

/// A slow shell profile costs nothing to an app that needs no tool: the login shell is asked
/// for its PATH only when a tool (here Kustomize's) is first looked for.
#[tokio::test]
async fn only_an_app_that_needs_a_tool_asks_the_login_shell() {
    let w = world_with(
        "plain",
        "default",
        "app",
        vec![
            world::file("app/cm.yaml", &cm("one")),
            world::file(
                "kust/kustomization.yaml",
                "resources:\n- cm.yaml\nnamePrefix: k-\n",
            ),
            world::file("kust/cm.yaml", &cm("two")),
        ],
    )
    .await;
    let asked = w._dir.path().join("shell-was-asked");
    let shell = w._dir.path().join("login-shell");
    std::fs::write(
        &shell,
        format!(
            "#!/bin/sh\ntouch '{}'\nprintf '%s' \"$PATH\"\n",
            asked.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&shell, std::fs::Permissions::from_mode(0o755)).unwrap();
    let engine = engine_beside(
        &w,
        Clusters::new(Kubeconfigs::load(&[w._dir.path().join("kubeconfig")]))
            .with_login_shell(shell, None),
    );
    engine
        .apps()
        .add(w.engine.apps().get("plain").unwrap())
        .unwrap();
    engine
        .apps()
        .add(world::app("kustomized", &w.repo, "kust", "default"))
        .unwrap();

    let plain = engine.status("plain").await.unwrap();
    assert!(plain.error.is_none(), "{:?}", plain.error);
    assert_eq!(plain.sync, SyncStatus::OutOfSync);
    assert!(
        !asked.exists(),
        "a plain-YAML comparison (and its connection) asked the shell"
    );

    // Whether or not Kustomize is installed here, looking for it asks the shell once.
    let _ = engine.status("kustomized").await.unwrap();
    assert!(
        asked.exists(),
        "looking for kustomize asked the login shell"
    );
}

/// A user whose Roles grant only some namespaces cannot list or watch across them: the cache
/// watches each of the app's namespaces instead, and still hears a change by hand.
#[tokio::test]
async fn where_lists_across_namespaces_are_refused_the_cache_watches_per_namespace() {
    let w = world_on_sandbox("waves", "default", "waves", sample_app("waves")).await;
    sync_succeeds(&w, "waves", &SyncOptions::default()).await;
    // Syncing listed the cluster; from now on only lists inside a namespace are allowed.
    w.sandbox().faults().refuse_lists_across_namespaces(true);
    let configmaps = api(&w.client, "", "v1", "ConfigMap", "default");
    let refused = kube::Api::<k8s_openapi::api::core::v1::ConfigMap>::all(w.client.clone())
        .list(&Default::default())
        .await
        .expect_err("a list across namespaces is refused");
    assert!(
        refused.to_string().contains("at the cluster scope"),
        "{refused}"
    );

    let engine = engine_beside(
        &w,
        Clusters::new(Kubeconfigs::load(&[w._dir.path().join("kubeconfig")])),
    );
    engine
        .apps()
        .add(w.engine.apps().get("waves").unwrap())
        .unwrap();
    let mut events = engine.subscribe();
    let _watching = engine.keep_watching();
    let first = status(
        &mut events,
        "waves",
        Duration::from_secs(20),
        "the first status",
        |_| true,
    )
    .await;
    assert_eq!(first.sync, SyncStatus::Synced, "{:?}", first.error);

    world::patch_by_hand(&configmaps, "settings", json!({"data": {"greeting": "hi"}})).await;
    let drifted = status(
        &mut events,
        "waves",
        Duration::from_secs(10),
        "OutOfSync after a change by hand, heard by a watch in the namespace",
        |s| s.sync == SyncStatus::OutOfSync,
    )
    .await;
    assert_eq!(drifted.out_of_sync, 1);
}

/// A repository whose server accepts the connection and never answers: its clone and fetches
/// hang, and the other app on the same cluster is compared, and follows its own commits, as if
/// it were not there.
#[tokio::test]
async fn a_repository_whose_fetch_hangs_holds_up_no_other_app() {
    use plumbline_core::repos::remote::{RepoAuth, RepoConfig};
    let w = world_with(
        "remote",
        "default",
        "app",
        vec![world::file("app/cm.yaml", &cm("one"))],
    )
    .await;
    let (port, held) = silent_server().await;
    let url = format!("file://{}", w.repo.display());
    let hung = format!("http://127.0.0.1:{port}/deploy.git");
    for url in [&url, &hung] {
        w.engine
            .repositories()
            .add(RepoConfig {
                url: url.clone(),
                auth: RepoAuth::None,
            })
            .unwrap();
    }
    let mut app = w.engine.apps().get("remote").unwrap();
    app.repo = url;
    w.engine.apps().update(app).unwrap();
    sync_succeeds(&w, "remote", &SyncOptions::default()).await;
    for n in 0..3 {
        let mut stuck = world::app(&format!("stuck{n}"), &w.repo, "app", "default");
        stuck.repo = hung.clone();
        w.engine.apps().add(stuck).unwrap();
    }
    w.engine.set_fetch_interval(Some(10)).unwrap();

    let mut events = w.engine.subscribe();
    let _watching = w.engine.keep_watching();
    let first = first_status(&w.engine, &mut events, "remote").await;
    assert_eq!(first.sync, SyncStatus::Synced, "{:?}", first.error);
    let pushed = world::commit(&w.repo, "two", &[world::file("app/cm.yaml", &cm("two"))]);
    status(
        &mut events,
        "remote",
        Duration::from_secs(30),
        "the new commit after a fetch, with the other repository hanging",
        |s| s.commit.as_ref().is_some_and(|c| c.sha == pushed),
    )
    .await;
    // And a change in the cluster is heard as quickly as ever: made by hand as Git now says.
    let configmaps = api(&w.client, "", "v1", "ConfigMap", "default");
    world::patch_by_hand(&configmaps, "settings", json!({"data": {"value": "two"}})).await;
    status(
        &mut events,
        "remote",
        Duration::from_secs(10),
        "Synced after the change by hand",
        |s| s.sync == SyncStatus::Synced && s.commit.as_ref().is_some_and(|c| c.sha == pushed),
    )
    .await;
    // The apps of the silent repository say why they have no status, in words.
    let stuck = match w
        .engine
        .summaries()
        .into_iter()
        .find(|s| s.app.name == "stuck0")
    {
        Some(known) if known.error.is_some() => known,
        _ => {
            status(
                &mut events,
                "stuck0",
                Duration::from_secs(45),
                "the silent repository named",
                |s| s.error.is_some(),
            )
            .await
        }
    };
    let error = stuck.error.unwrap().message;
    assert!(error.contains("no answer within 30 seconds"), "{error}");
    held.abort();
}

/// A cluster that answers every request with 500, one that answers garbage, and watches that
/// drop every second on the live one: the live app is still current, hears its changes, and
/// each broken cluster is named once, with the reason, however often it is asked.
#[tokio::test]
async fn clusters_that_answer_500_or_garbage_and_dropping_watches_hold_up_no_other() {
    let w = world_on_sandbox(
        "live",
        "default",
        "app",
        vec![world::file("app/cm.yaml", &cm("one"))],
    )
    .await;
    sync_succeeds(&w, "live", &SyncOptions::default()).await;
    let failing = kube_sandbox::Sandbox::start(Default::default())
        .await
        .unwrap();
    failing.faults().fail_next(u32::MAX);
    let failing_config = w._dir.path().join("failing.kubeconfig");
    failing
        .write_kubeconfig(&failing_config, "failing")
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let _garbage = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        while let Ok((mut socket, _)) = listener.accept().await {
            let _ = socket.write_all(b"\x00\x01garbage, not TLS\r\n\r\n").await;
        }
    });
    let garbage_config = loopback_kubeconfig(w._dir.path(), "garbage", port);
    let engine = engine_beside(
        &w,
        Clusters::new(Kubeconfigs::load(&[
            w._dir.path().join("kubeconfig"),
            failing_config,
            garbage_config,
        ])),
    );
    engine
        .apps()
        .add(w.engine.apps().get("live").unwrap())
        .unwrap();
    for context in ["failing", "garbage"] {
        let mut app = world::app(&format!("on-{context}"), &w.repo, "app", "default");
        app.destination.context = context.into();
        engine.apps().add(app).unwrap();
    }
    let mut events = engine.subscribe();
    let _watching = engine.keep_watching();
    let first = status(
        &mut events,
        "live",
        Duration::from_secs(20),
        "the live app's status",
        |_| true,
    )
    .await;
    assert_eq!(first.sync, SyncStatus::Synced, "{:?}", first.error);

    // Every watch on the live cluster drops, again and again, around each change.
    let configmaps = api(&w.client, "", "v1", "ConfigMap", "default");
    for round in 0..3 {
        w.sandbox().faults().drop_watches();
        tokio::time::sleep(Duration::from_millis(1000)).await;
        w.sandbox().faults().drop_watches();
        let value = format!("by hand {round}");
        world::patch_by_hand(&configmaps, "settings", json!({"data": {"value": value}})).await;
        status(
            &mut events,
            "live",
            Duration::from_secs(10),
            "the change by hand, with watches dropping",
            |s| s.sync == SyncStatus::OutOfSync,
        )
        .await;
        w.sandbox().faults().drop_watches();
        world::patch_by_hand(&configmaps, "settings", json!({"data": {"value": "one"}})).await;
        status(
            &mut events,
            "live",
            Duration::from_secs(10),
            "back in sync by hand, with watches dropping",
            |s| s.sync == SyncStatus::Synced,
        )
        .await;
    }
    // Several probes later, each broken cluster has been told once, in words.
    tokio::time::sleep(plumbline_core::watching::PROBE_EVERY * 3).await;
    let told = engine.activity();
    for context in ["failing", "garbage"] {
        let lost: Vec<_> = told
            .iter()
            .filter(|a| a.context == context && a.kind == ActivityKind::Unreachable)
            .collect();
        assert_eq!(lost.len(), 1, "{context}: {told:#?}");
        let words = match context {
            "failing" => "does not answer: the server answered 500 InternalError: Internal error",
            _ => "does not answer: what answers at the server's address does not speak TLS",
        };
        assert!(lost[0].message.contains(words), "{}", lost[0].message);
    }
    assert!(
        !told
            .iter()
            .any(|a| a.context == "sandbox" && a.kind == ActivityKind::Unreachable),
        "dropped watches are not a lost cluster: {told:#?}"
    );
}
