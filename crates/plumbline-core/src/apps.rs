//! Applications: what to render from where, and where to put it. Kept in an [`AppStore`] that
//! the window and the CLI back with one file ([`crate::store::FileStore`]) and tests with memory.

use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use ts_rs::TS;

/// Where an application's resources go.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Destination {
    /// A kubeconfig context name.
    pub context: String,
    /// Namespace for resources that do not name one.
    pub namespace: String,
}

/// An application: a path in a Git repository at a revision, synced to a destination.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Application {
    pub name: String,
    /// URL of an added repository, or the path of a local Git repository.
    pub repo: String,
    /// Branch, tag or commit.
    pub revision: String,
    /// Folder inside the repository; empty or `.` for the root.
    pub path: String,
    pub destination: Destination,
    /// Source type and its parameters; by default detected from the files.
    #[serde(default)]
    pub source: crate::render::SourceOptions,
    /// Differences that do not count as drift (Argo CD's `ignoreDifferences`).
    #[serde(default)]
    pub ignore: Vec<crate::diff::IgnoreRule>,
    /// Manual (the default) or automated sync.
    #[serde(default, rename = "syncPolicy")]
    pub sync_policy: SyncPolicy,
}

/// How an application is synced: by hand, or by Plumbline itself while the app runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SyncPolicy {
    /// Sync by itself when the app is out of sync with a commit not yet synced; none: by hand.
    #[serde(default)]
    pub automated: Option<Automated>,
    /// Every sync creates the destination namespace when it does not exist (Argo CD's
    /// `CreateNamespace=true` sync option).
    #[serde(default)]
    pub create_namespace: bool,
}

/// Argo CD's `syncPolicy.automated`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Automated {
    /// Automated syncs prune too.
    #[serde(default)]
    pub prune: bool,
    /// Sync again when the cluster drifts from a commit already synced.
    #[serde(default)]
    pub self_heal: bool,
}

/// Why the app store could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the application store {location} could not be read: {message}")]
    Read { location: String, message: String },
    #[error("the application store {location} could not be written: {message}")]
    Write { location: String, message: String },
}

/// Why an application change was refused.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("no application named {0:?}")]
    NotFound(String),
    #[error("an application named {0:?} already exists")]
    AlreadyExists(String),
    #[error("application {name:?}: {field} {problem}")]
    Invalid {
        name: String,
        field: &'static str,
        problem: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Persistence for applications. Implementations write atomically: a failed save leaves the
/// previous content in place.
pub trait AppStore: Send + Sync {
    /// Every stored application.
    fn load(&self) -> Result<Vec<Application>, StoreError>;
    /// Changes the stored applications with `change` as one step: no other writer's change
    /// (in this process or another) comes between what it read and what it writes. When
    /// `change` fails, nothing is written.
    fn update(
        &self,
        change: &mut dyn FnMut(&mut Vec<Application>) -> Result<(), AppError>,
    ) -> Result<(), AppError>;
}

/// An in-memory store, for tests and for tools that keep nothing.
#[derive(Default)]
pub struct MemoryStore(Mutex<Vec<Application>>);

impl AppStore for MemoryStore {
    fn load(&self) -> Result<Vec<Application>, StoreError> {
        Ok(self.0.lock().unwrap_or_else(|p| p.into_inner()).clone())
    }

    fn update(
        &self,
        change: &mut dyn FnMut(&mut Vec<Application>) -> Result<(), AppError>,
    ) -> Result<(), AppError> {
        let mut apps = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let mut changed = apps.clone();
        change(&mut changed)?;
        *apps = changed;
        Ok(())
    }
}

/// The application catalogue over a store.
#[derive(Clone)]
pub struct Apps {
    store: Arc<dyn AppStore>,
}

impl Apps {
    /// The catalogue over `store`.
    pub fn new(store: Arc<dyn AppStore>) -> Self {
        Self { store }
    }

    /// Every application, sorted by name.
    pub fn list(&self) -> Result<Vec<Application>, AppError> {
        let mut apps = self.store.load()?;
        apps.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(apps)
    }

    /// The application called `name`.
    pub fn get(&self, name: &str) -> Result<Application, AppError> {
        self.store
            .load()?
            .into_iter()
            .find(|a| a.name == name)
            .ok_or_else(|| AppError::NotFound(name.to_string()))
    }

    /// Adds a new application after checking it.
    pub fn add(&self, app: Application) -> Result<(), AppError> {
        let app = normalized(app);
        validate(&app)?;
        let mut new = Some(app);
        self.store.update(&mut |apps| {
            let app = new
                .take()
                .unwrap_or_else(|| unreachable!("a change runs once"));
            if apps.iter().any(|a| a.name == app.name) {
                return Err(AppError::AlreadyExists(app.name));
            }
            apps.push(app);
            Ok(())
        })
    }

    /// Replaces the application of the same name.
    pub fn update(&self, app: Application) -> Result<(), AppError> {
        let app = normalized(app);
        validate(&app)?;
        self.store.update(&mut |apps| {
            let slot = apps
                .iter_mut()
                .find(|a| a.name == app.name)
                .ok_or_else(|| AppError::NotFound(app.name.clone()))?;
            *slot = app.clone();
            Ok(())
        })
    }

    /// Removes the application called `name`.
    pub fn remove(&self, name: &str) -> Result<(), AppError> {
        self.store.update(&mut |apps| {
            let before = apps.len();
            apps.retain(|a| a.name != name);
            if apps.len() == before {
                return Err(AppError::NotFound(name.to_string()));
            }
            Ok(())
        })
    }
}

/// `app` with its path as the repository names it: `./apps/web/`, `apps//web` → `apps/web`;
/// the root as empty.
pub fn normalized(mut app: Application) -> Application {
    app.path = app
        .path
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect::<Vec<_>>()
        .join("/");
    app
}

/// A DNS-1123 label: what Kubernetes accepts as a namespace and what Argo CD accepts as an app name.
fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Checks the fields a user types.
pub fn validate(app: &Application) -> Result<(), AppError> {
    let invalid = |field, problem: &str| AppError::Invalid {
        name: app.name.clone(),
        field,
        problem: problem.into(),
    };
    if !is_dns_label(&app.name) {
        return Err(invalid(
            "name",
            "must be lower-case letters, digits and '-', at most 63 characters",
        ));
    }
    if app.repo.trim().is_empty() {
        return Err(invalid("repository", "is required"));
    }
    if app.revision.trim().is_empty() {
        return Err(invalid("revision", "is required (a branch, tag or commit)"));
    }
    if app.path.starts_with('/') || app.path.split('/').any(|part| part == "..") {
        return Err(invalid("path", "must be a folder inside the repository"));
    }
    if app.destination.context.trim().is_empty() {
        return Err(invalid("destination context", "is required"));
    }
    if !is_dns_label(&app.destination.namespace) {
        return Err(invalid(
            "destination namespace",
            "must be a valid namespace name",
        ));
    }
    if let Some(release) = &app.source.helm.release_name
        && !is_helm_release_name(release)
    {
        return Err(invalid(
            "Helm release name",
            "must be lower-case letters, digits, '-' and '.', start and end with a letter or digit, at most 53 characters (as Helm requires)",
        ));
    }
    Ok(())
}

/// What Helm accepts as a release name: DNS-1123 subdomain rules, at most 53 characters.
fn is_helm_release_name(name: &str) -> bool {
    name.len() <= 53
        && !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

#[cfg(test)]
pub(crate) fn sample(name: &str) -> Application {
    Application {
        name: name.into(),
        repo: "/tmp/repo".into(),
        revision: "main".into(),
        path: "app".into(),
        destination: Destination {
            context: "kind-dev".into(),
            namespace: "default".into(),
        },
        source: Default::default(),
        ignore: Vec::new(),
        sync_policy: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apps() -> Apps {
        Apps::new(Arc::new(MemoryStore::default()))
    }

    #[test]
    fn add_list_update_remove() {
        let apps = apps();
        apps.add(sample("web")).unwrap();
        apps.add(sample("api")).unwrap();
        let names: Vec<_> = apps.list().unwrap().into_iter().map(|a| a.name).collect();
        assert_eq!(names, ["api", "web"]);
        let mut web = sample("web");
        web.revision = "v2".into();
        apps.update(web).unwrap();
        assert_eq!(apps.get("web").unwrap().revision, "v2");
        apps.remove("api").unwrap();
        assert!(matches!(apps.get("api"), Err(AppError::NotFound(_))));
    }

    #[test]
    fn paths_are_kept_as_the_repository_names_them() {
        let apps = apps();
        for (written, stored) in [
            ("./apps/web", "apps/web"),
            ("apps//web/", "apps/web"),
            ("./", ""),
            (".", ""),
        ] {
            let mut app = sample("web");
            app.path = written.into();
            apps.add(app).unwrap();
            assert_eq!(apps.get("web").unwrap().path, stored, "{written}");
            apps.remove("web").unwrap();
        }
        let mut escaping = sample("web");
        escaping.path = "apps/../../etc".into();
        assert!(matches!(
            apps.add(escaping),
            Err(AppError::Invalid { field: "path", .. })
        ));
    }

    #[test]
    fn helm_release_names_are_checked_as_helm_checks_them() {
        for good in ["web", "web-1", "shop.prod", "a"] {
            let mut app = sample("web");
            app.source.helm.release_name = Some(good.into());
            assert!(validate(&app).is_ok(), "{good}");
        }
        for bad in [
            "../../etc/x",
            "Web",
            "-web",
            "web-",
            "a/b",
            "",
            &"x".repeat(54),
        ] {
            let mut app = sample("web");
            app.source.helm.release_name = Some(bad.to_string());
            assert!(
                matches!(
                    validate(&app),
                    Err(AppError::Invalid {
                        field: "Helm release name",
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn duplicate_names_are_refused() {
        let apps = apps();
        apps.add(sample("web")).unwrap();
        assert!(matches!(
            apps.add(sample("web")),
            Err(AppError::AlreadyExists(_))
        ));
    }

    #[test]
    fn bad_fields_are_named() {
        let mut app = sample("Web_App");
        assert!(matches!(
            validate(&app),
            Err(AppError::Invalid { field: "name", .. })
        ));
        app.name = "web".into();
        app.path = "../elsewhere".into();
        assert!(matches!(
            validate(&app),
            Err(AppError::Invalid { field: "path", .. })
        ));
        app.path = "".into();
        app.destination.namespace = "".into();
        assert!(matches!(
            validate(&app),
            Err(AppError::Invalid {
                field: "destination namespace",
                ..
            })
        ));
    }

    #[test]
    fn a_refused_change_keeps_what_was_stored() {
        let apps = apps();
        apps.add(sample("web")).unwrap();
        let mut broken = sample("web");
        broken.revision = " ".into();
        assert!(apps.update(broken).is_err());
        assert_eq!(apps.get("web").unwrap(), sample("web"));
    }
}
