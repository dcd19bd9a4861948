//! The commands that need the engine: applications, clusters, sync and history. The engine is
//! the desktop app's own, over the same store file, clones, history and keyring.

use crate::{AppCommand, Command, Failure, SyncFlags};
use plumbline_core::apps::{Application, Destination};
use plumbline_core::clusters::{Clusters, default_kubeconfig_paths};
use plumbline_core::comparison::{ResourceDiff, ResourceSync};
use plumbline_core::diff::{self, DiffRow, LineChange, SplitRow};
use plumbline_core::repos::manager::Repositories;
use plumbline_core::resources::ResourceKey;
use plumbline_core::secrets::Keyring;
use plumbline_core::store::FileStore;
use plumbline_core::sync::{OperationPhase, SyncEvent, SyncOptions, SyncResult};
use plumbline_core::{Engine, EngineError};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// How many unchanged lines a diff shows around each change.
const CONTEXT_LINES: usize = 3;

/// The desktop app's data folder (`dev.plumbline.desktop` under the platform's data folder).
fn default_data_dir() -> Result<PathBuf, Failure> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let base = if cfg!(target_os = "macos") {
        home.map(|h| h.join("Library/Application Support"))
    } else {
        std::env::var_os("XDG_DATA_HOME")
            .map(PathBuf::from)
            .or_else(|| home.map(|h| h.join(".local/share")))
    };
    base.map(|b| b.join("dev.plumbline.desktop"))
        .ok_or_else(|| Failure("no HOME: pass --data-dir or set PLUMBLINE_DATA_DIR".into()))
}

fn engine(data_dir: Option<&Path>, kubeconfig: &[PathBuf]) -> Result<Engine, Failure> {
    let data = match data_dir {
        Some(d) => d.to_path_buf(),
        None => default_data_dir()?,
    };
    let files = if kubeconfig.is_empty() {
        default_kubeconfig_paths()
    } else {
        kubeconfig.to_vec()
    };
    plumbline_core::shared_file::make_private(&data).map_err(|e| {
        Failure(format!(
            "the data folder {} could not be made: {e}",
            data.display()
        ))
    })?;
    let (store, notice) = FileStore::open(&plumbline_core::store::store_path(&data))?;
    if let Some(notice) = notice {
        eprintln!("plumbline: {notice}");
    }
    let store = Arc::new(store);
    let repositories = Repositories::new(
        store.clone(),
        Arc::new(Keyring::for_this_build()),
        &data,
        std::env::var_os("HOME").as_deref().map(Path::new),
    );
    Ok(Engine::new(
        Clusters::from_paths(files),
        store.clone(),
        Arc::new(repositories),
        store,
    )
    .with_operator("the command line"))
}

pub async fn run(
    command: Command,
    data_dir: Option<&Path>,
    kubeconfig: &[PathBuf],
) -> Result<ExitCode, Failure> {
    let engine = engine(data_dir, kubeconfig)?;
    match command {
        Command::Watch {
            apps,
            output,
            automate,
        } => {
            crate::watch::run(
                engine,
                crate::watch::Watch {
                    apps,
                    output,
                    automate,
                },
            )
            .await
        }
        Command::Apps => {
            say!("NAME\tCONTEXT\tNAMESPACE\tREPOSITORY\tPATH\tREVISION");
            for app in engine.apps().list().map_err(EngineError::from)? {
                say!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    app.name,
                    app.destination.context,
                    app.destination.namespace,
                    app.repo,
                    app.path,
                    app.revision
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::App {
            command:
                AppCommand::Add {
                    name,
                    repo,
                    path,
                    revision,
                    context,
                    namespace,
                    include,
                    exclude,
                    no_recurse,
                    create_namespace,
                    jsonnet,
                },
        } => {
            let jsonnet = jsonnet.options()?;
            // A local folder is stored as an absolute path, so the app finds it from anywhere.
            let repo = match std::fs::canonicalize(&repo) {
                Ok(dir) if Path::new(&repo).exists() => dir.display().to_string(),
                _ => repo,
            };
            engine
                .apps()
                .add(Application {
                    name: name.clone(),
                    repo,
                    revision,
                    path,
                    destination: Destination { context, namespace },
                    source: plumbline_core::render::SourceOptions {
                        directory: plumbline_core::render::DirectoryOptions {
                            recurse: !no_recurse,
                            include: include.unwrap_or_default(),
                            exclude: exclude.unwrap_or_default(),
                            jsonnet,
                        },
                        ..Default::default()
                    },
                    ignore: Vec::new(),
                    sync_policy: plumbline_core::apps::SyncPolicy {
                        create_namespace,
                        ..Default::default()
                    },
                })
                .map_err(EngineError::from)?;
            say!("application {name} added");
            Ok(ExitCode::SUCCESS)
        }
        Command::App {
            command: AppCommand::Remove { name },
        } => {
            engine.remove_app(&name)?;
            say!("application {name} removed; its resources stay in the cluster");
            Ok(ExitCode::SUCCESS)
        }
        Command::App {
            command: AppCommand::Import { file, context },
        } => {
            let manifest = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())
            } else {
                std::fs::read_to_string(&file)
            }
            .map_err(|e| Failure(format!("{}: {e}", file.display())))?;
            let mut imported = engine.import_argocd(&manifest)?;
            if let Some(context) = context {
                imported.app.destination.context = context;
            }
            for note in &imported.notes {
                eprintln!("note: {note}");
            }
            let name = imported.app.name.clone();
            engine.apps().add(imported.app).map_err(EngineError::from)?;
            say!("application {name} added");
            Ok(ExitCode::SUCCESS)
        }
        Command::App {
            command: AppCommand::Export { name },
        } => {
            print!("{}", engine.export_argocd(&name)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { app: None } => {
            say!("NAME\tSYNC\tREVISION\tMESSAGE");
            let mut trouble = false;
            for (name, status) in every_status(&engine).await? {
                let status = status?;
                trouble |= status.error.is_some();
                say!(
                    "{}\t{:?}\t{}\t{}",
                    name,
                    status.sync,
                    status.commit.map(|c| short(&c.sha)).unwrap_or_default(),
                    status.error.map(|e| e.message).unwrap_or_default()
                );
            }
            Ok(if trouble {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Status { app: Some(name) } => {
            let status = engine.status(&name).await?;
            if let Some(error) = status.error {
                return Err(Failure(error.message));
            }
            say!(
                "{name}: {:?} at {}",
                status.sync,
                status.commit.map(|c| short(&c.sha)).unwrap_or_default()
            );
            for note in status.notes {
                say!("note: {note}");
            }
            say!("KIND\tNAMESPACE/NAME\tSTATUS\tMESSAGE");
            for r in status.resources {
                say!(
                    "{}\t{}/{}\t{:?}\t{}",
                    kind_of(&r.key),
                    r.key.namespace,
                    r.key.name,
                    r.status,
                    r.message.unwrap_or_default()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Render {
            app: Some(name), ..
        } => {
            print_manifests(engine.render(&name).await?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff {
            app: None,
            local: None,
            desired: None,
            side_by_side,
            ..
        } => {
            // Every application, compared together; then the diffs of those that differ.
            let mut code = ExitCode::SUCCESS;
            let mut trouble = false;
            for (name, status) in every_status(&engine).await? {
                let status = status?;
                if let Some(error) = status.error {
                    eprintln!("plumbline: {name}: {}", error.message);
                    trouble = true;
                    continue;
                }
                if status.sync != plumbline_core::comparison::SyncStatus::Synced {
                    say!("##### {name}");
                    code = print_diffs(&engine.diffs(&name).await?, side_by_side);
                }
            }
            Ok(if trouble { ExitCode::from(2) } else { code })
        }
        Command::Diff {
            app: Some(name),
            side_by_side,
            ..
        } => {
            let status = engine.status(&name).await?;
            if let Some(error) = status.error {
                return Err(Failure(error.message));
            }
            Ok(print_diffs(&engine.diffs(&name).await?, side_by_side))
        }
        Command::Diff {
            local: Some(dir),
            context: Some(context),
            namespace: Some(namespace),
            side_by_side,
            ..
        } => {
            let diffs = engine.diff_local(&dir, &context, &namespace).await?;
            let changed: Vec<_> = diffs
                .into_iter()
                .filter(|d| d.status != ResourceSync::Synced)
                .collect();
            Ok(print_diffs(&changed, side_by_side))
        }
        Command::Sync {
            app,
            options,
            resources,
        } => {
            let resources = resources
                .iter()
                .map(|r| parse_resource(r))
                .collect::<Result<Vec<_>, _>>()?;
            let (sync_options, confirm) = options.into_options(resources);
            let result = engine
                .sync(&app, &sync_options, confirm.as_deref(), &print_progress)
                .await?;
            Ok(report(&result))
        }
        Command::Rollback { app, id, options } => {
            let (sync_options, confirm) = options.into_options(Vec::new());
            let result = engine
                .rollback(&app, id, &sync_options, confirm.as_deref(), &print_progress)
                .await?;
            Ok(report(&result))
        }
        Command::History { app } => {
            say!("ID\tKIND\tREVISION\tCOMMIT\tSTARTED\tPHASE\tMESSAGE");
            for entry in engine.history(&app)? {
                say!(
                    "{}\t{:?}\t{}\t{}\t{}\t{:?}\t{}",
                    entry.id,
                    entry.kind,
                    entry.revision,
                    short(&entry.result.commit.sha),
                    entry.started_at,
                    entry.result.phase,
                    entry.result.message
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Health { .. } | Command::Render { .. } | Command::Diff { .. } => Err(Failure(
            "say what to use: an application, --path/--local DIR, or --desired and --live".into(),
        )),
    }
}

impl SyncFlags {
    fn into_options(self, resources: Vec<ResourceKey>) -> (SyncOptions, Option<String>) {
        (
            SyncOptions {
                prune: self.prune,
                dry_run: self.dry_run,
                resources,
                create_namespace: self.create_namespace,
                force_conflicts: self.force_conflicts,
                timeout: self.timeout,
            },
            self.confirm,
        )
    }
}

/// `GROUP/KIND/NAMESPACE/NAME`, as `argocd app sync --resource` takes it.
fn parse_resource(text: &str) -> Result<ResourceKey, Failure> {
    match text.split('/').collect::<Vec<_>>().as_slice() {
        [group, kind, namespace, name] if !kind.is_empty() && !name.is_empty() => Ok(ResourceKey {
            group: group.to_string(),
            kind: kind.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        }),
        _ => Err(Failure(format!(
            "--resource {text:?}: expected GROUP/KIND/NAMESPACE/NAME, e.g. apps/Deployment/web/api or /ConfigMap/web/settings"
        ))),
    }
}

fn print_progress(event: SyncEvent) {
    match event {
        SyncEvent::Planned { plan } => {
            eprintln!(
                "plan: {} steps, {} changes",
                plan.steps.len(),
                plan.changes()
            );
            for s in &plan.steps {
                eprintln!(
                    "  {:?}\twave {}\t{:?}\t{}{}{}",
                    s.phase,
                    s.wave,
                    s.action,
                    s.key,
                    if s.generate_name { "…" } else { "" },
                    if s.hook.is_some() { " (hook)" } else { "" }
                );
            }
        }
        SyncEvent::Done { result } => {
            eprintln!("{:?}\t{}\t{}", result.status, result.key, result.message)
        }
        SyncEvent::Waiting { message, .. } => eprintln!("{message}"),
        SyncEvent::DryRun { .. } | SyncEvent::Applying { .. } => {}
    }
}

fn report(result: &SyncResult) -> ExitCode {
    say!("{:?}: {}", result.phase, result.message);
    if result.phase == OperationPhase::Succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn short(sha: &str) -> String {
    sha.chars().take(7).collect()
}

fn kind_of(key: &ResourceKey) -> String {
    if key.group.is_empty() {
        key.kind.clone()
    } else {
        format!("{}.{}", key.kind, key.group)
    }
}

/// Prints each diff (unified, or side by side) with long unchanged runs collapsed; exit code
/// 1 when there is any, else 0.
pub fn print_diffs(diffs: &[ResourceDiff], side_by_side: bool) -> ExitCode {
    for d in diffs {
        let what = match d.status {
            ResourceSync::Missing => " (missing from the cluster)",
            ResourceSync::RequiresPruning => " (no longer in Git: requires pruning)",
            _ => "",
        };
        say!(
            "===== {} {}/{}{what} ======",
            kind_of(&d.key),
            d.key.namespace,
            d.key.name
        );
        if let Some(note) = &d.note {
            say!("# {note}");
        }
        let rows = diff::collapse(&d.lines, CONTEXT_LINES);
        if side_by_side {
            print_side_by_side(&rows);
        } else {
            say!("--- live\n+++ desired");
            for row in rows {
                match row {
                    DiffRow::Line { line } => say!("{}{}", sign(line.change), line.text),
                    DiffRow::Gap { hidden, .. } => say!("@@ {hidden} unchanged lines @@"),
                }
            }
        }
    }
    if diffs.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn sign(change: LineChange) -> char {
    match change {
        LineChange::Equal => ' ',
        LineChange::Delete => '-',
        LineChange::Insert => '+',
    }
}

fn print_side_by_side(rows: &[DiffRow]) {
    let split = diff::side_by_side(rows);
    let width = split
        .iter()
        .filter_map(|r| match r {
            SplitRow::Pair { left: Some(l), .. } => Some(l.text.chars().count()),
            _ => None,
        })
        .max()
        .unwrap_or(0)
        .clamp(20, 60);
    say!("{:<width$}   desired", "live");
    for row in split {
        match row {
            SplitRow::Pair { left, right } => {
                let marker = match (&left, &right) {
                    (Some(l), Some(r))
                        if l.change == LineChange::Equal && r.change == LineChange::Equal =>
                    {
                        ' '
                    }
                    (Some(_), None) => '<',
                    (None, Some(_)) => '>',
                    _ => '|',
                };
                let text = |l: &Option<diff::DiffLine>| {
                    l.as_ref().map(|l| l.text.clone()).unwrap_or_default()
                };
                let left: String = text(&left).chars().take(width).collect();
                say!("{left:<width$} {marker} {}", text(&right));
            }
            SplitRow::Gap { hidden, .. } => say!("@@ {hidden} unchanged lines @@"),
        }
    }
}

/// Prints objects as one YAML stream, Secret values masked (said once, on standard error).
pub fn print_manifests(objects: impl IntoIterator<Item = serde_json::Value>) {
    let mut masked = false;
    for mut object in objects {
        if object.get("kind").and_then(serde_json::Value::as_str) == Some("Secret") {
            diff::mask_secrets(Some(&mut object), None);
            masked = true;
        }
        say!("---\n{}", diff::to_yaml(&object).trim_end());
    }
    if masked {
        eprintln!("plumbline: Secret values are shown as +++, never in the clear");
    }
}

/// How many applications of one context are compared at once.
const PER_CONTEXT: usize = 4;

/// Every application's status, in name order: the contexts side by side, a few applications
/// of each at a time, so that a dead or stalling context costs its timeout once and never
/// holds up the others.
async fn every_status(
    engine: &Engine,
) -> Result<Vec<(String, Result<plumbline_core::AppStatus, EngineError>)>, Failure> {
    use futures::StreamExt;
    let apps = engine.apps().list().map_err(EngineError::from)?;
    let mut by_context: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for app in apps {
        by_context
            .entry(app.destination.context)
            .or_default()
            .push(app.name);
    }
    let per_context = by_context.into_values().map(|names| async move {
        futures::stream::iter(names)
            .map(|name| async move {
                let status = engine.status(&name).await;
                (name, status)
            })
            .buffer_unordered(PER_CONTEXT)
            .collect::<Vec<_>>()
            .await
    });
    let mut all: Vec<_> = futures::future::join_all(per_context)
        .await
        .into_iter()
        .flatten()
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(all)
}
