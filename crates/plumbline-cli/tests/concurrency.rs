//! Many `plumbline` processes changing one store at once, as scripts beside the window do:
//! every change lands, and nothing removed comes back.

use std::path::Path;
use std::process::{Child, Command, Stdio};

fn start(data: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_plumbline"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("plumbline starts")
}

fn add(data: &Path, name: &str) -> Child {
    start(
        data,
        &[
            "app",
            "add",
            name,
            "--repo",
            "https://git.example.com/deploy.git",
            "--path",
            "apps/web",
            "--context",
            "dev",
            "--namespace",
            "web",
        ],
    )
}

/// Waits for every process; each must have succeeded.
fn all_succeed(children: Vec<(String, Child)>) {
    for (what, child) in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn names(data: &Path) -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_plumbline"))
        .arg("--data-dir")
        .arg(data)
        .arg("apps")
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut names: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').next().map(str::to_string))
        .collect();
    names.sort();
    names
}

#[test]
fn fifty_processes_adding_at_once_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let children: Vec<(String, Child)> = (0..50)
        .map(|i| {
            let name = format!("app-{i:02}");
            (name.clone(), add(dir.path(), &name))
        })
        .collect();
    all_succeed(children);
    let expected: Vec<String> = (0..50).map(|i| format!("app-{i:02}")).collect();
    assert_eq!(names(dir.path()), expected);
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn adds_and_removes_at_once_end_in_exactly_the_expected_set() {
    let dir = tempfile::tempdir().unwrap();
    let old: Vec<String> = (0..25).map(|i| format!("old-{i:02}")).collect();
    all_succeed(
        old.iter()
            .map(|n| (n.clone(), add(dir.path(), n)))
            .collect(),
    );
    let mut children = Vec::new();
    for i in 0..25 {
        let old = format!("old-{i:02}");
        let new = format!("new-{i:02}");
        children.push((
            format!("remove {old}"),
            start(dir.path(), &["app", "remove", &old]),
        ));
        children.push((format!("add {new}"), add(dir.path(), &new)));
    }
    all_succeed(children);
    let expected: Vec<String> = (0..25).map(|i| format!("new-{i:02}")).collect();
    assert_eq!(names(dir.path()), expected, "nothing removed came back");
}
