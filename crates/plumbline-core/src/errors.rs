//! Errors as the UI shows them: what failed, a code the UI branches on, and what the user can
//! do about it. The engine's own error becomes one in [`crate::engine`].

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
