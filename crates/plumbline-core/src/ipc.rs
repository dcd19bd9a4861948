//! What crosses to the UI: the TypeScript bindings of every IPC type (and, for the shell, the
//! error shape).

pub use crate::errors::{ErrorCode, ErrorInfo, HostKeyPrompt};

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
        comparison::SyncStatus::decl(&cfg),
        comparison::ResourceSync::decl(&cfg),
        health::HealthStatus::decl(&cfg),
        health::Health::decl(&cfg),
        comparison::ResourceStatus::decl(&cfg),
        diff::LineChange::decl(&cfg),
        diff::Span::decl(&cfg),
        diff::DiffLine::decl(&cfg),
        diff::DiffRow::decl(&cfg),
        diff::SplitRow::decl(&cfg),
        comparison::ResourceDiff::decl(&cfg),
        history::LastOperation::decl(&cfg),
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
    use crate::EngineError;
    use crate::apps::AppError;
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
