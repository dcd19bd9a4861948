//! `plumbline`: Plumbline's engine on the command line, for scripts and CI.

use clap::{Parser, Subcommand, ValueEnum};
use plumbline_core::diff;
use plumbline_core::health;
use plumbline_core::render;
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "plumbline", version, about = "Plumbline on the command line")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Prints the health of each object in the files (YAML or JSON, multi-document):
    /// KIND, NAMESPACE/NAME, STATUS and MESSAGE, tab-separated; `-` where no rule applies.
    Health {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Diffs desired against live objects offline, normalized and with Secret values masked.
    /// Exits 0 when they agree, 1 when they differ, 2 on an error (like `argocd app diff`).
    Diff {
        #[arg(long)]
        desired: PathBuf,
        #[arg(long)]
        live: PathBuf,
    },
    /// Prints the manifests a folder of YAML and JSON files renders to.
    Render {
        #[arg(long)]
        path: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Output {
    Text,
    Json,
}

/// A failure, said in words, that ends the command with exit code 2.
struct Failure(String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Self(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Health { files, output } => health_command(&files, output),
        Command::Diff { desired, live } => diff_command(&desired, &live),
        Command::Render { path } => render_command(&path),
    };
    match result {
        Ok(code) => code,
        Err(Failure(message)) => {
            eprintln!("plumbline: {message}");
            ExitCode::from(2)
        }
    }
}

/// Every object in `file`, in order.
fn read_objects(file: &Path) -> Result<Vec<Value>, Failure> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure(format!("could not read {}: {e}", file.display())))?;
    let rendered = render::objects(&file.display().to_string(), &text)?;
    for note in &rendered.notes {
        eprintln!("plumbline: {note}");
    }
    Ok(rendered.manifests.into_iter().map(|m| m.object).collect())
}

fn text<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

#[derive(Serialize)]
struct HealthRow {
    kind: String,
    namespace: String,
    name: String,
    status: String,
    message: String,
}

fn health_command(files: &[PathBuf], output: Output) -> Result<ExitCode, Failure> {
    let mut rows = Vec::new();
    for file in files {
        for obj in read_objects(file)? {
            let assessed = health::assess(&obj);
            rows.push(HealthRow {
                kind: text(&obj, "/kind").to_string(),
                namespace: text(&obj, "/metadata/namespace").to_string(),
                name: text(&obj, "/metadata/name").to_string(),
                status: assessed
                    .as_ref()
                    .map_or("-".to_string(), |h| format!("{:?}", h.status)),
                message: assessed.map(|h| h.message).unwrap_or_default(),
            });
        }
    }
    match output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        Output::Text => {
            for row in rows {
                // One line per object: a message never breaks the line.
                let message = row.message.replace(['\n', '\t'], " ");
                println!(
                    "{}\t{}/{}\t{}\t{}",
                    row.kind, row.namespace, row.name, row.status, message
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// (group, kind, namespace, name), to pair desired and live objects.
fn key_of(obj: &Value) -> (String, String, String, String) {
    let api_version = text(obj, "/apiVersion");
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    (
        group.to_string(),
        text(obj, "/kind").to_string(),
        text(obj, "/metadata/namespace").to_string(),
        text(obj, "/metadata/name").to_string(),
    )
}

fn diff_command(desired: &Path, live: &Path) -> Result<ExitCode, Failure> {
    let desired = read_objects(desired)?;
    let live = read_objects(live)?;
    let mut keys: Vec<_> = desired.iter().chain(&live).map(key_of).collect();
    keys.sort();
    keys.dedup();
    let mut differs = false;
    for key in keys {
        let find = |objects: &[Value]| {
            objects
                .iter()
                .find(|o| key_of(o) == key)
                .map(diff::normalize)
        };
        let (mut want, mut have) = (find(&desired), find(&live));
        diff::mask_secrets(want.as_mut(), have.as_mut());
        let show = |o: &Option<Value>| o.as_ref().map(diff::to_yaml).unwrap_or_default();
        let (old, new) = (show(&have), show(&want));
        if old == new {
            continue;
        }
        differs = true;
        let (group, kind, namespace, name) = &key;
        let kind = if group.is_empty() {
            kind.clone()
        } else {
            format!("{kind}.{group}")
        };
        println!("===== {kind} {namespace}/{name} ======");
        println!("--- live\n+++ desired");
        for line in diff::lines(&old, &new) {
            let sign = match line.change {
                diff::LineChange::Equal => ' ',
                diff::LineChange::Delete => '-',
                diff::LineChange::Insert => '+',
            };
            println!("{sign}{}", line.text);
        }
    }
    Ok(if differs {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn render_command(path: &Path) -> Result<ExitCode, Failure> {
    let files = render::read_directory(path)?;
    let rendered = render::directory(&files)?;
    for note in &rendered.notes {
        eprintln!("plumbline: {note}");
    }
    for manifest in rendered.manifests {
        println!("---\n{}", diff::to_yaml(&manifest.object).trim_end());
    }
    Ok(ExitCode::SUCCESS)
}
