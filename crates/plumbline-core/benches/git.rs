//! Clone and fetch of a repository with 5,000 commits and 2,000 files over HTTP (git
//! http-backend behind lighttpd on loopback): Plumbline's git2 path side by side with the `git`
//! command line, in the same run. `make bench` runs it.

#[path = "../tests/common/mod.rs"]
mod common;

use common::HttpGit;
use plumbline_core::repos::manager::{MemoryRepoStore, Repositories};
use plumbline_core::repos::remote::{RepoAuth, RepoConfig};
use plumbline_core::secrets::MemorySecrets;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

const COMMITS: usize = 5_000;
const FILES: usize = 2_000;
const NEW_COMMITS: usize = 50;
const RUNS: usize = 3;

/// Writes `COMMITS` commits through `git fast-import`: the first adds `FILES` files, each later
/// one changes one of them.
fn build_upstream(bare: &Path, first_mark: usize, commits: usize, files: bool) {
    let mut script = String::new();
    for i in 0..commits {
        let n = first_mark + i;
        script.push_str(&format!(
            "commit refs/heads/main\nmark :{}\ncommitter Bench <bench@example.com> {} +0000\ndata <<EOM\ncommit {n}\nEOM\n",
            n + 1,
            1_700_000_000 + n
        ));
        if n > 0 && i == 0 {
            script.push_str("from refs/heads/main^0\n");
        }
        if files && i == 0 {
            for f in 0..FILES {
                let body = format!(
                    "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{f}}}\ndata: {{v: '0'}}\n"
                );
                script.push_str(&format!(
                    "M 644 inline apps/cm-{f}.yaml\ndata {}\n{body}\n",
                    body.len()
                ));
            }
        } else {
            let f = n % FILES;
            let body = format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{f}}}\ndata: {{v: '{n}'}}\n"
            );
            script.push_str(&format!(
                "M 644 inline apps/cm-{f}.yaml\ndata {}\n{body}\n",
                body.len()
            ));
        }
    }
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(bare)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
}

/// Repositories in `data` with the public repository `url` added.
fn public_repository(data: &Path, url: &str) -> Arc<Repositories> {
    let repos = Arc::new(Repositories::new(
        Arc::new(MemoryRepoStore::default()),
        Arc::new(MemorySecrets::default()),
        data,
        None,
    ));
    repos
        .add(RepoConfig {
            url: url.to_string(),
            auth: RepoAuth::None,
        })
        .unwrap();
    repos
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn git_cli(args: &[&str], dir: &Path) {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let srv = dir.path().join("srv");
    let bare = srv.join("big.git");
    std::fs::create_dir_all(&bare).unwrap();
    git_cli(&["init", "-q", "--bare", "-b", "main"], &bare);
    let started = Instant::now();
    build_upstream(&bare, 0, COMMITS, true);
    git_cli(&["gc", "-q"], &bare);
    println!(
        "repository: {COMMITS} commits, {FILES} files (built in {:.1} s)",
        started.elapsed().as_secs_f64()
    );
    let server = HttpGit::start(&srv, &dir.path().join("http"), "bench", "bench");
    let url = server.url("public", "big.git");
    let runtime = tokio::runtime::Runtime::new().unwrap();

    let mut git2_clone = Vec::new();
    let mut cli_clone = Vec::new();
    for run in 0..RUNS {
        let data = dir.path().join(format!("data-{run}"));
        let repos = public_repository(&data, &url);
        let t = Instant::now();
        runtime
            .block_on(repos.fetch(&url, |_| {}, Arc::new(AtomicBool::new(false))))
            .unwrap();
        git2_clone.push(t.elapsed());

        let target = dir.path().join(format!("cli-{run}.git"));
        let t = Instant::now();
        git_cli(
            &["clone", "-q", "--bare", &url, target.to_str().unwrap()],
            dir.path(),
        );
        cli_clone.push(t.elapsed());
    }

    // Fetch: NEW_COMMITS more upstream, then each side fetches into its last clone.
    let mut git2_fetch = Vec::new();
    let mut cli_fetch = Vec::new();
    for run in 0..RUNS {
        build_upstream(&bare, COMMITS + run * NEW_COMMITS, NEW_COMMITS, false);
        let data = dir.path().join(format!("data-{}", RUNS - 1));
        let repos = public_repository(&data, &url);
        let t = Instant::now();
        runtime
            .block_on(repos.fetch(&url, |_| {}, Arc::new(AtomicBool::new(false))))
            .unwrap();
        git2_fetch.push(t.elapsed());
        let target = dir.path().join(format!("cli-{}.git", RUNS - 1));
        let t = Instant::now();
        git_cli(
            &["fetch", "-q", "origin", "+refs/heads/*:refs/heads/*"],
            &target,
        );
        cli_fetch.push(t.elapsed());
    }

    let report = |what: &str, ours: Vec<Duration>, cli: Vec<Duration>| {
        let (ours, cli) = (median(ours), median(cli));
        println!(
            "{what}: git2 {:.0} ms, git CLI {:.0} ms (median of {RUNS}), ratio git2/CLI {:.2}",
            ours.as_secs_f64() * 1e3,
            cli.as_secs_f64() * 1e3,
            ours.as_secs_f64() / cli.as_secs_f64()
        );
    };
    report("clone over HTTP", git2_clone, cli_clone);
    report(
        &format!("fetch of {NEW_COMMITS} new commits"),
        git2_fetch,
        cli_fetch,
    );
}
