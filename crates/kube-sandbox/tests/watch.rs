//! Watches through kube-rs, as Plumbline's reflectors will use them: resuming from a
//! resourceVersion, bookmarks, and 410 Gone for a version the server no longer has.

mod common;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, PostParams, WatchEvent, WatchParams};
use kube_sandbox::{Sandbox, SandboxOptions};
use std::time::Duration;

async fn client(options: SandboxOptions) -> (Sandbox, kube::Client) {
    common::start(options).await
}

fn configmap(name: &str, value: &str) -> ConfigMap {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": name, "labels": {"app": "watched"}},
        "data": {"value": value}
    }))
    .unwrap()
}

async fn next<S>(events: &mut S) -> WatchEvent<ConfigMap>
where
    S: futures::Stream<Item = kube::Result<WatchEvent<ConfigMap>>> + Unpin,
{
    tokio::time::timeout(Duration::from_secs(10), events.try_next())
        .await
        .expect("an event within 10 s")
        .unwrap()
        .expect("the stream stays open")
}

fn name_of(event: &WatchEvent<ConfigMap>) -> (&'static str, String) {
    match event {
        WatchEvent::Added(o) => ("Added", o.metadata.name.clone().unwrap_or_default()),
        WatchEvent::Modified(o) => ("Modified", o.metadata.name.clone().unwrap_or_default()),
        WatchEvent::Deleted(o) => ("Deleted", o.metadata.name.clone().unwrap_or_default()),
        WatchEvent::Bookmark(_) => ("Bookmark", String::new()),
        WatchEvent::Error(e) => ("Error", e.reason.clone()),
    }
}

#[tokio::test]
async fn a_watch_resumes_from_a_resource_version_and_sees_later_changes() {
    let (_sandbox, client) = client(SandboxOptions::default()).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    api.create(&PostParams::default(), &configmap("first", "1"))
        .await
        .unwrap();
    let version = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    api.create(&PostParams::default(), &configmap("second", "2"))
        .await
        .unwrap();
    api.delete("first", &Default::default()).await.unwrap();

    let mut events = api
        .watch(&WatchParams::default().labels("app=watched"), &version)
        .await
        .unwrap()
        .boxed();
    assert_eq!(
        name_of(&next(&mut events).await),
        ("Added", "second".to_string())
    );
    assert_eq!(
        name_of(&next(&mut events).await),
        ("Deleted", "first".to_string())
    );

    api.create(&PostParams::default(), &configmap("third", "3"))
        .await
        .unwrap();
    assert_eq!(
        name_of(&next(&mut events).await),
        ("Added", "third".to_string())
    );
}

#[tokio::test]
async fn bookmarks_arrive_when_asked_for() {
    let options = SandboxOptions {
        bookmark_interval: Duration::from_millis(100),
        ..Default::default()
    };
    let (_sandbox, client) = client(options).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let version = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut events = api
        .watch(
            &WatchParams {
                bookmarks: true,
                ..Default::default()
            },
            &version,
        )
        .await
        .unwrap()
        .boxed();
    let WatchEvent::Bookmark(bookmark) = next(&mut events).await else {
        panic!("expected a bookmark")
    };
    assert_eq!(bookmark.metadata.resource_version, version);
}

#[tokio::test]
async fn a_version_older_than_the_change_log_is_gone() {
    let options = SandboxOptions {
        change_log: 3,
        ..Default::default()
    };
    let (_sandbox, client) = client(options).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    for i in 0..6 {
        api.create(&PostParams::default(), &configmap(&format!("cm-{i}"), "x"))
            .await
            .unwrap();
    }
    let mut events = api
        .watch(&WatchParams::default(), "2")
        .await
        .unwrap()
        .boxed();
    let WatchEvent::Error(status) = next(&mut events).await else {
        panic!("expected an error event")
    };
    assert_eq!(status.code, 410);
}

#[tokio::test]
async fn lists_page_with_limit_and_continue() {
    let (_sandbox, client) = client(SandboxOptions::default()).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    for i in 0..5 {
        api.create(&PostParams::default(), &configmap(&format!("cm-{i}"), "x"))
            .await
            .unwrap();
    }
    let mut names = Vec::new();
    // Only these: every namespace also holds the controllers' kube-root-ca.crt.
    let mut params = ListParams::default().labels("app=watched").limit(2);
    let mut pages = 0;
    loop {
        let page = api.list(&params).await.unwrap();
        pages += 1;
        names.extend(page.items.iter().map(|c| c.metadata.name.clone().unwrap()));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => {
                assert!(page.metadata.remaining_item_count.is_some_and(|n| n > 0));
                params = params.continue_token(&token);
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names, ["cm-0", "cm-1", "cm-2", "cm-3", "cm-4"]);
    let garbage = api
        .list(&ListParams::default().continue_token("not-a-token"))
        .await;
    assert!(matches!(garbage, Err(kube::Error::Api(s)) if s.code == 400));
}
