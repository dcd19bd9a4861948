//! What crosses to the UI: the error shape, and the TypeScript bindings of every IPC type.

use crate::apps::AppError;
use crate::engine::EngineError;
use crate::reconcile::ReconcileError;
use crate::repos::RepoError;
use serde::Serialize;
use ts_rs::TS;

/// What the UI branches on. A code exists only where the UI acts differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub enum ErrorCode {
    NotFound,
    Invalid,
    Busy,
    Cluster,
    Repository,
    /// The repository needs a password, token or key passphrase: ask for it.
    NeedsCredentials,
    /// An SSH server's host key is not known yet: show it and ask whether to trust it.
    UnknownHostKey,
    Cancelled,
    /// The context is protected: ask the user to type its name.
    ConfirmationRequired,
    Manifest,
    Store,
    Internal,
}

/// An error as the UI shows it: what failed, and what the user can do about it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ErrorInfo {
    pub code: ErrorCode,
    pub message: String,
    pub detail: Option<String>,
    /// With [`ErrorCode::UnknownHostKey`]: the key to show and, if the user trusts it, accept.
    pub host_key: Option<Box<HostKeyPrompt>>,
}

pub use crate::repos::HostKeyPrompt;

impl ErrorInfo {
    /// An error with its code, sentence and, optionally, what to do about it.
    pub fn new(code: ErrorCode, message: impl Into<String>, detail: Option<&str>) -> Self {
        Self {
            code,
            message: message.into(),
            detail: detail.map(str::to_string),
            host_key: None,
        }
    }
}

impl From<&RepoError> for ErrorInfo {
    fn from(e: &RepoError) -> Self {
        let (code, detail) = match e {
            RepoError::NeedsCredentials { .. } => (
                ErrorCode::NeedsCredentials,
                Some("Enter the password, token or key passphrase for this repository."),
            ),
            RepoError::UnknownHostKey { .. } => (
                ErrorCode::UnknownHostKey,
                Some(
                    "Compare the fingerprint with the one the server's owner publishes before you trust it.",
                ),
            ),
            RepoError::HostKeyChanged { .. } => (ErrorCode::Repository, None),
            RepoError::Cancelled { .. } => (ErrorCode::Cancelled, None),
            RepoError::NotRegistered { .. } | RepoError::NotCloned { .. } => {
                (ErrorCode::NotFound, None)
            }
            RepoError::AlreadyRegistered { .. } | RepoError::InvalidUrl { .. } => {
                (ErrorCode::Invalid, None)
            }
            RepoError::Secret(_) => (ErrorCode::Store, None),
            RepoError::Store(_) => (
                ErrorCode::Store,
                Some("Your repositories were not changed. Check the disk and try again."),
            ),
            RepoError::Fetch { .. } => (
                ErrorCode::Repository,
                Some(
                    "Plumbline keeps using the last good clone. Check the address and your network.",
                ),
            ),
            _ => (
                ErrorCode::Repository,
                Some("Check the application's repository and revision."),
            ),
        };
        let mut info = Self::new(code, e.to_string(), detail);
        if let RepoError::UnknownHostKey { prompt, .. } = e {
            info.host_key = Some(prompt.clone());
        }
        info
    }
}

const CHECK_CLUSTER: &str =
    "Check that the cluster is running and that the context's credentials are valid.";

impl From<&EngineError> for ErrorInfo {
    fn from(e: &EngineError) -> Self {
        let message = e.to_string();
        let (code, detail) = match e {
            EngineError::App(AppError::NotFound(_)) => (ErrorCode::NotFound, None),
            EngineError::App(AppError::Invalid { .. } | AppError::AlreadyExists(_)) => {
                (ErrorCode::Invalid, None)
            }
            EngineError::App(AppError::Store(_)) => (
                ErrorCode::Store,
                Some("Your applications were not changed. Check the disk and try again."),
            ),
            EngineError::Repo(e) => return Self::from(e),
            EngineError::Cluster(_) => (ErrorCode::Cluster, Some(CHECK_CLUSTER)),
            EngineError::Reconcile(e) => match &**e {
                ReconcileError::Repo(repo) => return Self::from(repo),
                // The message says which tool and how to install it.
                ReconcileError::Render(crate::render::RenderError::ToolMissing { .. }) => {
                    (ErrorCode::Manifest, None)
                }
                ReconcileError::Cluster { .. } => (ErrorCode::Cluster, Some(CHECK_CLUSTER)),
                _ => (
                    ErrorCode::Manifest,
                    Some(
                        "Fix the manifest in Git and commit; Plumbline reads the committed files.",
                    ),
                ),
            },
            EngineError::NoSuchResource { .. } => {
                (ErrorCode::NotFound, Some("Refresh the application."))
            }
            EngineError::Busy { .. } => (ErrorCode::Busy, None),
            EngineError::ConfirmationRequired { .. } => (ErrorCode::ConfirmationRequired, None),
            EngineError::Store(_) => (
                ErrorCode::Store,
                Some("Your settings were not changed. Check the disk and try again."),
            ),
            EngineError::Plan(_) => (ErrorCode::NotFound, Some("Refresh the application.")),
            EngineError::History(crate::history::HistoryError::NoSuchEntry { .. }) => {
                (ErrorCode::NotFound, None)
            }
            EngineError::History(_) => (
                ErrorCode::Store,
                Some("The operation's record could not be kept. Check the disk and try again."),
            ),
            EngineError::Settings(_) => (ErrorCode::Invalid, None),
            EngineError::Import(_) => (
                ErrorCode::Invalid,
                Some("Fix the manifest and import it again."),
            ),
            EngineError::AutomatedRollback(_) => (
                ErrorCode::Invalid,
                Some(
                    "Set the sync policy to manual in the application's settings, then roll back.",
                ),
            ),
        };
        Self::new(code, message, detail)
    }
}

/// The TypeScript file the UI imports (`ui/src/backend/bindings.ts`), generated from the Rust
/// types so the two can never drift apart.
pub fn typescript_bindings() -> String {
    use crate::*;
    let cfg = ts_rs::Config::new();
    let decls = [
        ErrorCode::decl(&cfg),
        ErrorInfo::decl(&cfg),
        clusters::ContextState::decl(&cfg),
        clusters::ContextInfo::decl(&cfg),
        settings::Settings::decl(&cfg),
        clusters::KubeconfigProblem::decl(&cfg),
        clusters::ContextList::decl(&cfg),
        apps::Destination::decl(&cfg),
        render::SourceType::decl(&cfg),
        render::HelmOptions::decl(&cfg),
        render::jsonnet::JsonnetVar::decl(&cfg),
        render::jsonnet::JsonnetOptions::decl(&cfg),
        render::DirectoryOptions::decl(&cfg),
        render::SourceOptions::decl(&cfg),
        diff::IgnoreRule::decl(&cfg),
        apps::Automated::decl(&cfg),
        apps::SyncPolicy::decl(&cfg),
        apps::Application::decl(&cfg),
        repos::Commit::decl(&cfg),
        HostKeyPrompt::decl(&cfg),
        repos::remote::RepoAuth::decl(&cfg),
        repos::remote::RepoConfig::decl(&cfg),
        repos::remote::TransferProgress::decl(&cfg),
        repos::remote::ForcePush::decl(&cfg),
        repos::remote::FetchOutcome::decl(&cfg),
        repos::manager::RepoInfo::decl(&cfg),
        repos::manager::CommitInfo::decl(&cfg),
        repos::manager::Refs::decl(&cfg),
        secrets::SecretKind::decl(&cfg),
        resources::ResourceKey::decl(&cfg),
        reconcile::SyncStatus::decl(&cfg),
        reconcile::ResourceSync::decl(&cfg),
        health::HealthStatus::decl(&cfg),
        health::Health::decl(&cfg),
        reconcile::ResourceStatus::decl(&cfg),
        diff::LineChange::decl(&cfg),
        diff::Span::decl(&cfg),
        diff::DiffLine::decl(&cfg),
        diff::DiffRow::decl(&cfg),
        diff::SplitRow::decl(&cfg),
        reconcile::ResourceDiff::decl(&cfg),
        engine::LastOperation::decl(&cfg),
        engine::AppStatus::decl(&cfg),
        sync::SyncPhase::decl(&cfg),
        sync::HookDeletePolicy::decl(&cfg),
        sync::SyncOptions::decl(&cfg),
        sync::SyncAction::decl(&cfg),
        sync::PlanStep::decl(&cfg),
        sync::SyncPlan::decl(&cfg),
        sync::ResultStatus::decl(&cfg),
        sync::ResourceResult::decl(&cfg),
        sync::OperationPhase::decl(&cfg),
        sync::SyncResult::decl(&cfg),
        sync::SyncEvent::decl(&cfg),
        history::OperationKind::decl(&cfg),
        history::HistoryEntry::decl(&cfg),
        automation::AutoSync::decl(&cfg),
        argocd::ImportedApp::decl(&cfg),
        kube_events::EventInfo::decl(&cfg),
        logs::LogOptions::decl(&cfg),
        tree::TreeNode::decl(&cfg),
        engine::AppView::decl(&cfg),
        events::Stale::decl(&cfg),
        events::AppSummary::decl(&cfg),
        events::ActivityKind::decl(&cfg),
        events::Activity::decl(&cfg),
        events::Event::decl(&cfg),
        settings::Notifications::decl(&cfg),
        crate::Environment::decl(&cfg),
    ];
    let mut out = String::from(
        "// Generated from the Rust types in crates/plumbline-core by `make bindings`. Do not edit.\n\n",
    );
    for decl in decls {
        out.push_str("export ");
        out.push_str(&decl);
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Fails when `ui/src/backend/bindings.ts` no longer matches the Rust types. Run
    /// `make bindings` (UPDATE_BINDINGS=1 cargo test -p plumbline-core bindings) to refresh it.
    #[test]
    fn bindings_file_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/backend/bindings.ts");
        let expected = typescript_bindings();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(&path, &expected).unwrap();
        }
        let actual = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            actual == expected,
            "{} is stale: run `make bindings` and commit the result",
            path.display()
        );
    }

    #[test]
    fn every_engine_error_becomes_a_sentence_with_a_code() {
        let e = EngineError::App(AppError::NotFound("web".into()));
        let info = ErrorInfo::from(&e);
        assert_eq!(info.code, ErrorCode::NotFound);
        assert_eq!(info.message, "no application named \"web\"");
    }
}
