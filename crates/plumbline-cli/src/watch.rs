//! `plumbline watch`: the engine keeps watching, as in the window, and every status change and
//! transition of the applications asked for is printed as it happens, a line each (or one JSON
//! object a line: the window's `EngineEvent`), until the command is interrupted.

use crate::{Failure, Output};
use plumbline_core::events::{Activity, AppSummary, Event};
use plumbline_core::{Engine, EngineError};
use std::collections::{BTreeSet, HashMap};
use std::process::ExitCode;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

/// What to watch and how to print it.
pub struct Watch {
    /// Every application (also those added later) when empty.
    pub apps: Vec<String>,
    pub output: Output,
    /// Run automated syncs, as the window does; otherwise only tell.
    pub automate: bool,
}

/// What a status line says; a status is printed again only when this changes.
#[derive(PartialEq)]
struct Shown {
    sync: String,
    health: String,
    sha: Option<String>,
    stale: bool,
    error: Option<String>,
}

impl Shown {
    fn of(summary: &AppSummary) -> Self {
        Self {
            sync: format!("{:?}", summary.sync),
            health: summary
                .health
                .map_or_else(|| "-".to_string(), |h| format!("{h:?}")),
            sha: summary.commit.as_ref().map(|c| short(&c.sha).to_string()),
            stale: summary.stale.is_some(),
            error: summary.error.as_ref().map(|e| e.message.clone()),
        }
    }
}

struct Printer {
    wanted: Option<BTreeSet<String>>,
    output: Output,
    shown: HashMap<String, Shown>,
    /// The context of each application seen, for the lines about a context.
    contexts: HashMap<String, String>,
}

impl Printer {
    fn wants(&self, app: &str) -> bool {
        self.wanted.as_ref().is_none_or(|w| w.contains(app))
    }

    fn event(&mut self, event: &Event) {
        match event {
            Event::Status { status } => self.status(status, event),
            Event::Activity { activity } => self.activity(activity, event),
            Event::Removed { app } if self.wants(app) => {
                self.shown.remove(app);
                self.contexts.remove(app);
                match self.output {
                    Output::Json => self.json(event),
                    Output::Text => say!("{}\t{app}\tRemoved\tno longer an application", now()),
                }
            }
            // A context's state is told by its activity (lost, back); objects by statuses.
            Event::Removed { .. } | Event::Context { .. } | Event::Objects { .. } => {}
        }
    }

    fn status(&mut self, summary: &AppSummary, event: &Event) {
        let name = &summary.app.name;
        if !self.wants(name) {
            return;
        }
        self.contexts
            .insert(name.clone(), summary.app.destination.context.clone());
        let shown = Shown::of(summary);
        if self.shown.get(name) == Some(&shown) {
            return;
        }
        match self.output {
            Output::Json => self.json(event),
            Output::Text => say!("{}\t{name}\tStatus\t{}", now(), describe(summary)),
        }
        self.shown.insert(name.clone(), shown);
    }

    fn activity(&mut self, activity: &Activity, event: &Event) {
        let wanted = match &activity.app {
            Some(app) => self.wants(app),
            // A context's activity: when an application watched lives there.
            None => self.contexts.values().any(|c| *c == activity.context),
        };
        if !wanted {
            return;
        }
        match self.output {
            Output::Json => self.json(event),
            Output::Text => say!(
                "{}\t{}\t{:?}\t{}",
                local_time(&activity.at),
                activity.app.as_deref().unwrap_or(&activity.context),
                activity.kind,
                one_line(&activity.message)
            ),
        }
    }

    fn json(&self, event: &Event) {
        match serde_json::to_string(event) {
            Ok(line) => say!("{line}"),
            Err(e) => eprintln!("plumbline: an event could not be written as JSON: {e}"),
        }
    }
}

/// `OutOfSync (2 of 5 resources), Healthy at 1a2b3c4`, and why it is not current.
fn describe(s: &AppSummary) -> String {
    let mut text = format!("{:?}", s.sync);
    if s.out_of_sync > 0 {
        text += &format!(" ({} of {} resources)", s.out_of_sync, s.resources);
    }
    if let Some(health) = s.health {
        text += &format!(", {health:?}");
    }
    if let Some(commit) = &s.commit {
        text += &format!(" at {}", short(&commit.sha));
    }
    if let Some(stale) = &s.stale {
        // Why is on the context's own line.
        text += &format!(
            "; last known state: cluster unreachable since {}",
            local_time(&stale.since)
        );
    }
    if let Some(error) = &s.error {
        text += &format!(": {}", error.message);
    }
    one_line(&text)
}

fn one_line(text: &str) -> String {
    text.replace(['\n', '\t'], " ")
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(7)]
}

fn now() -> String {
    chrono::Local::now().format("%H:%M:%S").to_string()
}

/// An RFC 3339 time as the terminal's clock shows it.
fn local_time(at: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(at)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|_| at.to_string())
}

/// Resolves when the user interrupts (Ctrl-C) or the process is asked to stop.
async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

pub async fn run(engine: Engine, watch: Watch) -> Result<ExitCode, Failure> {
    let known: BTreeSet<String> = engine
        .apps()
        .list()
        .map_err(EngineError::from)?
        .into_iter()
        .map(|a| a.name)
        .collect();
    if let Some(unknown) = watch.apps.iter().find(|a| !known.contains(*a)) {
        return Err(Failure(format!("no application named {unknown}")));
    }
    if known.is_empty() {
        eprintln!("plumbline: no applications yet; watching for the ones added");
    }
    let engine = Arc::new(engine);
    // Listening before watching starts: the first status of each app is printed too.
    let mut events = engine.subscribe();
    let _watching = if watch.automate {
        engine.keep_watching()
    } else {
        engine.keep_watching_without_acting()
    };
    let mut printer = Printer {
        wanted: (!watch.apps.is_empty()).then(|| watch.apps.into_iter().collect()),
        output: watch.output,
        shown: HashMap::new(),
        contexts: HashMap::new(),
    };
    let stop = interrupted();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return Ok(ExitCode::SUCCESS),
            event = events.recv() => match event {
                Ok(event) => printer.event(&event),
                // Fell behind: the statuses as they are now stand for what was missed.
                Err(RecvError::Lagged(missed)) => {
                    eprintln!("plumbline: {missed} events came faster than they could be printed; statuses as they are now follow");
                    for summary in engine.summaries() {
                        let event = Event::Status { status: Box::new(summary) };
                        printer.event(&event);
                    }
                }
                Err(RecvError::Closed) => return Ok(ExitCode::SUCCESS),
            }
        }
    }
}
