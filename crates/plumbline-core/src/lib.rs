//! Plumbline's engine: contexts, applications, render, diff and sync. No Tauri in here; the
//! desktop shell, the CLI and the tests all drive this crate.

pub mod apps;
pub mod argocd;
pub mod automation;
pub mod cache;
pub mod clusters;
pub mod comparison;
pub mod diff;
pub mod engine;
pub mod errors;
pub mod events;
pub mod health;
pub mod history;
pub mod ipc;
pub mod kube_events;
pub mod logs;
pub mod order;
pub mod render;
pub mod repos;
pub mod resources;
pub mod secrets;
pub mod settings;
pub mod shared_file;
pub mod statuses;
pub mod store;
pub mod sync;
pub mod tracked;
pub mod tree;
pub mod watching;

pub use engine::{AppStatus, AppView, Engine, EngineError};

use serde::Serialize;
use ts_rs::TS;

/// What the UI needs to know about where it runs.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Environment {
    /// True when the app runs against the built-in demo sandbox.
    pub demo: bool,
    pub data_dir: String,
    pub log_dir: String,
    pub version: String,
}
