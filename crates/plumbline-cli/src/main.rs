//! `plumbline`: Plumbline's engine on the command line, for scripts and CI.

use clap::{Parser, Subcommand, ValueEnum};
use plumbline_core::diff;
use plumbline_core::health;
use plumbline_core::render;
use plumbline_core::render::jsonnet::{JsonnetOptions, JsonnetVar};
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `println!`, except that a reader who went away (`plumbline render app | head -1`) ends the
/// command quietly instead of a panic on the closed pipe.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::say_line(format_args!($($arg)*))
    };
}

mod engine;
mod watch;

/// Writes a line to standard output; a closed pipe ends the process as `head` expects.
pub fn say_line(line: std::fmt::Arguments) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(line).and_then(|()| out.write_all(b"\n")) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("plumbline: could not write the output: {e}");
        std::process::exit(2);
    }
}

#[derive(Parser)]
#[command(name = "plumbline", version, about = "Plumbline on the command line")]
struct Cli {
    /// Where applications, clones and history live; the desktop app's folder by default.
    #[arg(long, global = true, env = "PLUMBLINE_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Kubeconfig files to read instead of KUBECONFIG and ~/.kube/config (like kubectl).
    #[arg(long, global = true)]
    kubeconfig: Vec<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Lists the applications.
    Apps,
    /// Adds or removes an application.
    App {
        #[command(subcommand)]
        command: AppCommand,
    },
    /// Compares applications with their clusters: one line per app, or per resource of APP.
    Status { app: Option<String> },
    /// Prints the manifests an application (at its revision) or a folder renders to.
    Render {
        app: Option<String>,
        #[arg(long, conflicts_with = "app")]
        path: Option<PathBuf>,
        #[command(flatten)]
        jsonnet: JsonnetFlags,
    },
    /// Diffs every application (none named) or one with its cluster, a folder with a cluster (--local), or two files
    /// offline (--desired, --live: as Argo CD diffs when the server cannot predict; objects
    /// without a namespace go in --namespace). Exits 0 when they agree, 1 when they differ, 2 on
    /// an error (like `argocd app diff`). Secret values are masked.
    Diff {
        app: Option<String>,
        #[arg(long, conflicts_with_all = ["app", "desired"], requires_all = ["context", "namespace"])]
        local: Option<PathBuf>,
        #[arg(long)]
        context: Option<String>,
        #[arg(long)]
        namespace: Option<String>,
        #[arg(long, conflicts_with = "app", requires = "live")]
        desired: Option<PathBuf>,
        #[arg(long, requires = "desired")]
        live: Option<PathBuf>,
        /// Live on the left, desired on the right.
        #[arg(long)]
        side_by_side: bool,
        /// With --desired/--live: a field that does not count, as a JSON pointer, for every kind
        /// (`/spec/replicas`) or one (`Deployment.apps=/spec/replicas`). Repeatable.
        #[arg(long, value_name = "[KIND[.GROUP]=]POINTER", requires = "desired")]
        ignore_pointer: Vec<String>,
        /// With --desired/--live: the fields a field manager owns do not count, for every kind
        /// (`hpa`) or one (`Deployment.apps=hpa`). Repeatable.
        #[arg(long, value_name = "[KIND[.GROUP]=]MANAGER", requires = "desired")]
        ignore_manager: Vec<String>,
    },
    /// Syncs an application. Exits 0 when it succeeded, 1 when it failed, 2 on an error.
    Sync {
        app: String,
        #[command(flatten)]
        options: SyncFlags,
        /// Sync only this resource (GROUP/KIND/NAMESPACE/NAME; empty group and namespace allowed).
        #[arg(long = "resource", value_name = "GROUP/KIND/NAMESPACE/NAME")]
        resources: Vec<String>,
    },
    /// Lists an application's syncs and rollbacks, newest first.
    History { app: String },
    /// Syncs an application to the commit of history entry ID.
    Rollback {
        app: String,
        id: u32,
        #[command(flatten)]
        options: SyncFlags,
    },
    /// Streams the status of each application named (every one when none is), and each
    /// transition worth telling — out of sync, degraded, missing, synced, healthy again, a sync
    /// failed, a cluster lost or back — a line each, as the window hears them, until interrupted.
    /// Automated sync is left to the window unless --automate.
    Watch {
        apps: Vec<String>,
        /// `json`: one object a line, the window's EngineEvent (status, activity, removed).
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
        /// Run the automated syncs of automated applications, as the window does.
        #[arg(long)]
        automate: bool,
    },
    /// Prints the health of each object in the files (YAML or JSON, multi-document):
    /// KIND, NAMESPACE/NAME, STATUS and MESSAGE, tab-separated; `-` where no rule applies.
    Health {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
}

#[derive(Subcommand)]
enum AppCommand {
    /// Adds an application.
    Add {
        name: String,
        /// An added repository's URL, or a local Git repository's folder.
        #[arg(long)]
        repo: String,
        #[arg(long, default_value = ".")]
        path: String,
        #[arg(long, default_value = "HEAD")]
        revision: String,
        #[arg(long)]
        context: String,
        #[arg(long)]
        namespace: String,
        /// For a plain folder: only files matching this glob (`*.yaml`, `{a,b}.yaml`, `prod/**`).
        #[arg(long, value_name = "GLOB")]
        include: Option<String>,
        /// For a plain folder: leave out files matching this glob.
        #[arg(long, value_name = "GLOB")]
        exclude: Option<String>,
        /// For a plain folder: read only its top level, not its subfolders.
        #[arg(long)]
        no_recurse: bool,
        /// Every sync creates the destination namespace when it does not exist (Argo CD's
        /// CreateNamespace=true).
        #[arg(long)]
        create_namespace: bool,
        #[command(flatten)]
        jsonnet: Box<JsonnetFlags>,
    },
    /// Removes an application and its history; its resources stay in the cluster.
    Remove { name: String },
    /// Adds the application an Argo CD `Application` manifest describes (`-` reads standard
    /// input); `--context` picks the context when no context matches its destination.
    Import {
        file: PathBuf,
        #[arg(long)]
        context: Option<String>,
    },
    /// Prints the application as an Argo CD `Application` manifest.
    Export { name: String },
}

/// How a folder's `.jsonnet` files are evaluated, with the flags `argocd app create` takes.
#[derive(clap::Args)]
struct JsonnetFlags {
    /// A top-level argument for Jsonnet files, as a string. Repeatable.
    #[arg(long = "jsonnet-tla-str", value_name = "NAME=VALUE")]
    tla_str: Vec<String>,
    /// A top-level argument for Jsonnet files, as Jsonnet code. Repeatable.
    #[arg(long = "jsonnet-tla-code", value_name = "NAME=CODE")]
    tla_code: Vec<String>,
    /// An external variable (`std.extVar`), as a string. Repeatable.
    #[arg(long = "jsonnet-ext-var-str", value_name = "NAME=VALUE")]
    ext_var_str: Vec<String>,
    /// An external variable, as Jsonnet code. Repeatable.
    #[arg(long = "jsonnet-ext-var-code", value_name = "NAME=CODE")]
    ext_var_code: Vec<String>,
    /// A folder Jsonnet imports are looked for in, relative to the repository root. Repeatable.
    #[arg(long = "jsonnet-libs", value_name = "PATH")]
    libs: Vec<String>,
}

impl JsonnetFlags {
    fn options(&self) -> Result<JsonnetOptions, Failure> {
        let vars = |flag: &str, list: &[String], code: bool| -> Result<Vec<JsonnetVar>, Failure> {
            list.iter()
                .map(|text| match text.split_once('=') {
                    Some((name, value)) if !name.is_empty() => Ok(JsonnetVar {
                        name: name.to_string(),
                        value: value.to_string(),
                        code,
                    }),
                    _ => Err(Failure(format!("--{flag} {text:?}: expected NAME=VALUE"))),
                })
                .collect()
        };
        Ok(JsonnetOptions {
            tlas: [
                vars("jsonnet-tla-str", &self.tla_str, false)?,
                vars("jsonnet-tla-code", &self.tla_code, true)?,
            ]
            .concat(),
            ext_vars: [
                vars("jsonnet-ext-var-str", &self.ext_var_str, false)?,
                vars("jsonnet-ext-var-code", &self.ext_var_code, true)?,
            ]
            .concat(),
            libs: self.libs.clone(),
        })
    }
}

#[derive(clap::Args)]
struct SyncFlags {
    /// Delete tracked resources that are no longer in Git.
    #[arg(long)]
    prune: bool,
    /// Dry-run every step on the server and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Create the destination namespace if it does not exist.
    #[arg(long)]
    create_namespace: bool,
    /// Take fields another field manager owns.
    #[arg(long)]
    force_conflicts: bool,
    /// The context's name, required when the context is protected.
    #[arg(long, value_name = "CONTEXT")]
    confirm: Option<String>,
    /// Seconds each wave may take to become healthy, and each hook to finish (300).
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<u32>,
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
    // `PLUMBLINE_LOG=debug plumbline …` says what it does on standard error.
    if let Ok(filter) = std::env::var("PLUMBLINE_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .init();
    }
    let result = match cli.command {
        Command::Health { files, output } => health_command(&files, output),
        Command::Diff {
            app: None,
            local: None,
            desired: Some(desired),
            live: Some(live),
            namespace,
            ignore_pointer,
            ignore_manager,
            side_by_side,
            ..
        } => ignore_rules(&ignore_pointer, &ignore_manager).and_then(|ignore| {
            diff_command(&desired, &live, namespace.as_deref(), &ignore, side_by_side)
        }),
        Command::Render {
            app: None,
            path: Some(path),
            jsonnet,
        } => jsonnet
            .options()
            .and_then(|options| render_command(&path, &options)),
        command => match tokio::runtime::Runtime::new() {
            Ok(runtime) => runtime.block_on(engine::run(
                command,
                cli.data_dir.as_deref(),
                &cli.kubeconfig,
            )),
            Err(e) => Err(Failure(format!("could not start: {e}"))),
        },
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
        Output::Json => say!("{}", serde_json::to_string_pretty(&rows)?),
        Output::Text => {
            for row in rows {
                // One line per object: a message never breaks the line.
                let message = row.message.replace(['\n', '\t'], " ");
                say!(
                    "{}\t{}/{}\t{}\t{}",
                    row.kind,
                    row.namespace,
                    row.name,
                    row.status,
                    message
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn diff_command(
    desired: &Path,
    live: &Path,
    namespace: Option<&str>,
    ignore: &[diff::IgnoreRule],
    side_by_side: bool,
) -> Result<ExitCode, Failure> {
    let diffs = plumbline_core::comparison::diff_offline(
        read_objects(desired)?,
        read_objects(live)?,
        namespace,
        ignore,
    );
    Ok(engine::print_diffs(&diffs, side_by_side))
}

/// Ignore rules from `--ignore-pointer` and `--ignore-manager` values: `[KIND[.GROUP]=]VALUE`,
/// the kind as kubectl writes it (`Deployment.apps`, `ConfigMap`).
fn ignore_rules(
    pointers: &[String],
    managers: &[String],
) -> Result<Vec<diff::IgnoreRule>, Failure> {
    let split = |text: &str| -> (String, String, String) {
        match text.split_once('=') {
            Some((kind, value)) => {
                let (kind, group) = kind.split_once('.').unwrap_or((kind, ""));
                (group.to_string(), kind.to_string(), value.to_string())
            }
            None => (String::new(), String::new(), text.to_string()),
        }
    };
    let mut rules = Vec::new();
    for text in pointers {
        let (group, kind, pointer) = split(text);
        if !pointer.starts_with('/') {
            return Err(Failure(format!(
                "--ignore-pointer {text:?}: the pointer must start with / (like /spec/replicas)"
            )));
        }
        rules.push(diff::IgnoreRule {
            group,
            kind,
            json_pointers: vec![pointer],
            ..Default::default()
        });
    }
    for text in managers {
        let (group, kind, manager) = split(text);
        if manager.is_empty() {
            return Err(Failure(format!(
                "--ignore-manager {text:?}: name a field manager"
            )));
        }
        rules.push(diff::IgnoreRule {
            group,
            kind,
            managed_fields_managers: vec![manager],
            ..Default::default()
        });
    }
    Ok(rules)
}

fn render_command(path: &Path, jsonnet: &JsonnetOptions) -> Result<ExitCode, Failure> {
    let files = render::read_directory(path)?;
    let read = |file: &str| std::fs::read(path.join(file)).ok();
    let rendered = render::directory(
        &files,
        &render::JsonnetContext {
            app_path: "",
            options: jsonnet,
            read: &read,
        },
    )?;
    for note in &rendered.notes {
        eprintln!("plumbline: {note}");
    }
    engine::print_manifests(rendered.manifests.into_iter().map(|m| m.object));
    Ok(ExitCode::SUCCESS)
}
