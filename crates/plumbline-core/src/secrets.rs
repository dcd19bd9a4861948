//! Secrets: a wrapper that keeps them out of logs and files, and the OS keyring that holds them.
//!
//! Every password, token and key passphrase lives only in the keyring (the Secret Service on
//! Linux, the Keychain on macOS). Everything else (settings, app store, logs, the UI) knows
//! only whether a secret is stored.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

/// A secret value. It prints as `<redacted>`, refuses to serialize, and is read only through
/// [`Sensitive::expose`], so that reading it is visible in the code.
#[derive(Clone, PartialEq, Eq)]
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The secret itself: hand it to the one place that needs it, never to a log.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sensitive(<redacted>)")
    }
}

impl<T> Serialize for Sensitive<T> {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom(
            "a secret is never serialized; it belongs in the keyring",
        ))
    }
}

/// Secrets arrive from the UI once, to be stored in the keyring.
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Sensitive<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Self)
    }
}

/// Which secret of what: `repo https://git.example.com/team/deploy.git` and its password.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretKey {
    /// What the secret belongs to, such as a repository URL.
    pub owner: String,
    pub kind: SecretKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub enum SecretKind {
    /// An HTTPS password or access token.
    Password,
    /// The passphrase of an SSH private key.
    KeyPassphrase,
}

impl SecretKey {
    pub fn new(owner: impl Into<String>, kind: SecretKind) -> Self {
        Self {
            owner: owner.into(),
            kind,
        }
    }

    /// The keyring account name.
    fn account(&self) -> String {
        let kind = match self.kind {
            SecretKind::Password => "password",
            SecretKind::KeyPassphrase => "key-passphrase",
        };
        format!("{kind} for {}", self.owner)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "the OS keyring is not available ({message}); Plumbline keeps credentials only there. On Linux, start a Secret Service such as GNOME Keyring or KWallet in your session"
    )]
    Unavailable { message: String },
    #[error("the OS keyring refused to {action} the {what}: {message}")]
    Failed {
        action: &'static str,
        what: String,
        message: String,
    },
}

/// Where secrets are kept.
pub trait SecretStore: Send + Sync {
    /// The secret, or `None` when none is stored.
    fn get(&self, key: &SecretKey) -> Result<Option<Sensitive<String>>, SecretError>;
    fn set(&self, key: &SecretKey, value: &Sensitive<String>) -> Result<(), SecretError>;
    /// Removes the secret; removing one that is not there is not an error.
    fn delete(&self, key: &SecretKey) -> Result<(), SecretError>;

    fn contains(&self, key: &SecretKey) -> Result<bool, SecretError> {
        Ok(self.get(key)?.is_some())
    }
}

/// The OS keyring, under one service name.
pub struct Keyring {
    service: String,
}

impl Keyring {
    /// The service name of this build: debug builds never see a release build's secrets.
    pub fn for_this_build() -> Self {
        Self::with_service(if cfg!(debug_assertions) {
            "dev.plumbline.desktop.debug"
        } else {
            "dev.plumbline.desktop"
        })
    }

    pub fn with_service(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    fn entry(&self, key: &SecretKey) -> Result<keyring::Entry, SecretError> {
        keyring::Entry::new(&self.service, &key.account())
            .map_err(|e| unavailable_or(e, "open", key))
    }
}

fn unavailable_or(error: keyring::Error, action: &'static str, key: &SecretKey) -> SecretError {
    match error {
        keyring::Error::NoStorageAccess(_)
        | keyring::Error::PlatformFailure(_)
        | keyring::Error::NoDefaultStore => SecretError::Unavailable {
            message: error.to_string(),
        },
        other => SecretError::Failed {
            action,
            what: key.account(),
            message: other.to_string(),
        },
    }
}

impl SecretStore for Keyring {
    fn get(&self, key: &SecretKey) -> Result<Option<Sensitive<String>>, SecretError> {
        match self.entry(key)?.get_password() {
            Ok(secret) => Ok(Some(Sensitive(secret))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(unavailable_or(e, "read", key)),
        }
    }

    fn set(&self, key: &SecretKey, value: &Sensitive<String>) -> Result<(), SecretError> {
        self.entry(key)?
            .set_password(value.expose())
            .map_err(|e| unavailable_or(e, "store", key))
    }

    fn delete(&self, key: &SecretKey) -> Result<(), SecretError> {
        match self.entry(key)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable_or(e, "delete", key)),
        }
    }
}

/// Secrets in memory, for tests of the code above the keyring.
#[derive(Default)]
pub struct MemorySecrets {
    secrets: Mutex<HashMap<SecretKey, String>>,
}

impl SecretStore for MemorySecrets {
    fn get(&self, key: &SecretKey) -> Result<Option<Sensitive<String>>, SecretError> {
        let secrets = self.secrets.lock().unwrap_or_else(|p| p.into_inner());
        Ok(secrets.get(key).cloned().map(Sensitive))
    }

    fn set(&self, key: &SecretKey, value: &Sensitive<String>) -> Result<(), SecretError> {
        let mut secrets = self.secrets.lock().unwrap_or_else(|p| p.into_inner());
        secrets.insert(key.clone(), value.expose().clone());
        Ok(())
    }

    fn delete(&self, key: &SecretKey) -> Result<(), SecretError> {
        let mut secrets = self.secrets.lock().unwrap_or_else(|p| p.into_inner());
        secrets.remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sensitive_value_hides_in_debug_and_refuses_to_serialize() {
        let secret = Sensitive::new("hunter2".to_string());
        assert_eq!(format!("{secret:?}"), "Sensitive(<redacted>)");
        #[derive(Debug, Serialize)]
        struct Login {
            user: &'static str,
            password: Sensitive<String>,
        }
        let login = Login {
            user: "ann",
            password: secret.clone(),
        };
        assert!(!format!("{login:?}").contains("hunter2"));
        let err = serde_json::to_string(&login).unwrap_err();
        assert!(err.to_string().contains("never serialized"), "{err}");
        let back: Sensitive<String> = serde_json::from_str("\"hunter2\"").unwrap();
        assert_eq!(back.expose(), "hunter2");
    }

    #[test]
    fn debug_and_release_builds_use_different_services() {
        let service = Keyring::for_this_build().service().to_string();
        assert_eq!(
            service.ends_with(".debug"),
            cfg!(debug_assertions),
            "{service}"
        );
    }
}
