//! Argo CD `Application` manifests in and out: an application moves between Plumbline and an
//! Argo CD installation with its source, destination, sync policy and ignore rules. What has no
//! counterpart here is named in a note rather than dropped silently.

use crate::apps::{Application, Automated, Destination, SyncPolicy};
use crate::clusters::ContextInfo;
use crate::diff::IgnoreRule;
use crate::render::jsonnet::{JsonnetOptions, JsonnetVar};
use crate::render::{DirectoryOptions, HelmOptions, SourceOptions, SourceType};
use serde::Serialize;
use serde_json::{Map, Value, json};
use ts_rs::TS;

/// An imported application, to review before it is added, and what did not come across.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ImportedApp {
    pub app: Application,
    pub notes: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImportError {
    #[error("the manifest is not YAML: {0}")]
    Yaml(String),
    #[error("this is not an Argo CD Application (apiVersion {api_version:?}, kind {kind:?})")]
    NotAnApplication { api_version: String, kind: String },
    #[error("the Application has no {0}")]
    Missing(&'static str),
    #[error(
        "the Application has {0} sources; Plumbline reads one source per application: import each as its own application"
    )]
    MultipleSources(usize),
    #[error(
        "the Application renders the chart {0:?} from a Helm repository; Plumbline renders charts from Git: point it at the chart's folder in a repository"
    )]
    ChartRepository(String),
}

fn text(obj: &Value, pointer: &str) -> String {
    obj.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn strings(obj: &Value, pointer: &str) -> Vec<String> {
    obj.pointer(pointer)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// Reads an Argo CD `Application`. Its destination becomes the kubeconfig context of the same
/// name, or the one whose cluster has the destination's server URL; when none matches, the
/// context is left empty and a note says what to pick.
pub fn import(manifest: &str, contexts: &[ContextInfo]) -> Result<ImportedApp, ImportError> {
    let obj: Value =
        serde_norway::from_str(manifest).map_err(|e| ImportError::Yaml(e.to_string()))?;
    let (api_version, kind) = (text(&obj, "/apiVersion"), text(&obj, "/kind"));
    if !api_version.starts_with("argoproj.io/") || kind != "Application" {
        return Err(ImportError::NotAnApplication { api_version, kind });
    }
    let name = text(&obj, "/metadata/name");
    if name.is_empty() {
        return Err(ImportError::Missing("metadata.name"));
    }
    let mut notes = Vec::new();
    let source = match obj.pointer("/spec/sources").and_then(Value::as_array) {
        Some(sources) if sources.len() > 1 => {
            return Err(ImportError::MultipleSources(sources.len()));
        }
        Some(sources) if sources.len() == 1 => sources[0].clone(),
        _ => obj
            .pointer("/spec/source")
            .cloned()
            .ok_or(ImportError::Missing("spec.source"))?,
    };
    let chart = text(&source, "/chart");
    if !chart.is_empty() {
        return Err(ImportError::ChartRepository(chart));
    }
    let repo = text(&source, "/repoURL");
    if repo.is_empty() {
        return Err(ImportError::Missing("spec.source.repoURL"));
    }
    let revision = match text(&source, "/targetRevision") {
        r if r.is_empty() => "HEAD".to_string(),
        r => r,
    };

    let mut options = SourceOptions::default();
    if let Some(helm) = source.get("helm") {
        options.source_type = Some(SourceType::Helm);
        let release = text(helm, "/releaseName");
        options.helm = HelmOptions {
            release_name: (!release.is_empty()).then_some(release),
            values_files: strings(helm, "/valueFiles"),
            values: match (helm.get("values"), helm.get("valuesObject")) {
                (Some(Value::String(values)), _) => values.clone(),
                (_, Some(object)) => crate::diff::to_yaml(object),
                _ => String::new(),
            },
        };
        if helm.get("parameters").is_some() {
            notes.push("Helm parameters were left out: put them in the inline values".into());
        }
    } else if let Some(kustomize) = source.get("kustomize") {
        options.source_type = Some(SourceType::Kustomize);
        let set: Vec<&String> = kustomize
            .as_object()
            .into_iter()
            .flat_map(Map::keys)
            .collect();
        if !set.is_empty() {
            notes.push(format!(
                "Kustomize options ({}) were left out: Plumbline builds the kustomization as committed",
                set.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
    } else if let Some(directory) = source.get("directory") {
        options.source_type = Some(SourceType::Directory);
        let vars = |pointer: &str| -> Vec<JsonnetVar> {
            directory
                .pointer(pointer)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|v| JsonnetVar {
                    name: text(v, "/name"),
                    value: text(v, "/value"),
                    code: v.get("code").and_then(Value::as_bool).unwrap_or(false),
                })
                .collect()
        };
        options.directory = DirectoryOptions {
            recurse: directory
                .get("recurse")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            include: text(directory, "/include"),
            exclude: text(directory, "/exclude"),
            jsonnet: JsonnetOptions {
                ext_vars: vars("/jsonnet/extVars"),
                tlas: vars("/jsonnet/tlas"),
                libs: strings(directory, "/jsonnet/libs"),
            },
        };
    } else {
        // Argo CD reads only the folder itself unless told to recurse.
        options.directory.recurse = false;
    }

    let destination_name = text(&obj, "/spec/destination/name");
    let server = text(&obj, "/spec/destination/server");
    let context = contexts
        .iter()
        .find(|c| !destination_name.is_empty() && c.name == destination_name)
        .or_else(|| {
            contexts
                .iter()
                .find(|c| !server.is_empty() && c.server.as_deref() == Some(server.as_str()))
        })
        .map(|c| c.name.clone());
    if context.is_none() {
        let wanted = if destination_name.is_empty() {
            server
        } else {
            destination_name
        };
        notes.push(format!(
            "no kubeconfig context matches the destination {wanted:?}: choose the context"
        ));
    }

    let automated = obj.pointer("/spec/syncPolicy/automated").and_then(|a| {
        let enabled = a.get("enabled").and_then(Value::as_bool).unwrap_or(true);
        enabled.then(|| Automated {
            prune: a.get("prune").and_then(Value::as_bool).unwrap_or(false),
            self_heal: a.get("selfHeal").and_then(Value::as_bool).unwrap_or(false),
        })
    });
    let mut sync_options = strings(&obj, "/spec/syncPolicy/syncOptions");
    let create_namespace = sync_options.iter().any(|o| {
        o.replace(' ', "")
            .eq_ignore_ascii_case("CreateNamespace=true")
    });
    sync_options.retain(|o| {
        !o.replace(' ', "")
            .to_ascii_lowercase()
            .starts_with("createnamespace=")
    });
    if !sync_options.is_empty() {
        notes.push(format!(
            "sync options ({}) were left out: choose them in the sync plan",
            sync_options.join(", ")
        ));
    }
    let project = text(&obj, "/spec/project");
    if !project.is_empty() && project != "default" {
        notes.push(format!(
            "the Argo CD project {project:?} has no counterpart here"
        ));
    }

    let mut ignore = Vec::new();
    for rule in obj
        .pointer("/spec/ignoreDifferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if rule.get("jqPathExpressions").is_some() {
            notes.push(format!(
                "jq path expressions of the ignore rule for {} were left out: use JSON pointers",
                text(rule, "/kind")
            ));
        }
        let json_pointers = strings(rule, "/jsonPointers");
        let managed_fields_managers = strings(rule, "/managedFieldsManagers");
        if json_pointers.is_empty() && managed_fields_managers.is_empty() {
            continue;
        }
        ignore.push(IgnoreRule {
            group: text(rule, "/group"),
            kind: text(rule, "/kind"),
            namespace: text(rule, "/namespace"),
            name: text(rule, "/name"),
            json_pointers,
            managed_fields_managers,
        });
    }

    Ok(ImportedApp {
        app: Application {
            name,
            repo,
            revision,
            path: text(&source, "/path"),
            destination: Destination {
                context: context.unwrap_or_default(),
                namespace: text(&obj, "/spec/destination/namespace"),
            },
            source: options,
            ignore,
            sync_policy: SyncPolicy {
                automated,
                create_namespace,
            },
        },
        notes,
    })
}

/// The application as an Argo CD `Application` (namespace `argocd`, project `default`), its
/// destination the cluster named like the context.
pub fn export(app: &Application) -> String {
    let mut source = json!({
        "repoURL": app.repo,
        "targetRevision": app.revision,
        "path": if app.path.is_empty() { "." } else { app.path.as_str() },
    });
    let options = &app.source;
    match options.source_type {
        Some(SourceType::Helm) => {
            let mut helm = Map::new();
            if let Some(release) = &options.helm.release_name {
                helm.insert("releaseName".into(), json!(release));
            }
            if !options.helm.values_files.is_empty() {
                helm.insert("valueFiles".into(), json!(options.helm.values_files));
            }
            if !options.helm.values.is_empty() {
                helm.insert("values".into(), json!(options.helm.values));
            }
            source["helm"] = Value::Object(helm);
        }
        Some(SourceType::Kustomize) => source["kustomize"] = json!({}),
        Some(SourceType::Directory) => {
            let d = &options.directory;
            let mut directory = json!({ "recurse": d.recurse });
            if !d.include.is_empty() {
                directory["include"] = json!(d.include);
            }
            if !d.exclude.is_empty() {
                directory["exclude"] = json!(d.exclude);
            }
            let j = &d.jsonnet;
            if !(j.ext_vars.is_empty() && j.tlas.is_empty() && j.libs.is_empty()) {
                let vars = |list: &[JsonnetVar]| -> Vec<Value> {
                    list.iter()
                        .map(|v| json!({"name": v.name, "value": v.value, "code": v.code}))
                        .collect()
                };
                let mut jsonnet = Map::new();
                for (key, list) in [("extVars", &j.ext_vars), ("tlas", &j.tlas)] {
                    if !list.is_empty() {
                        jsonnet.insert(key.into(), json!(vars(list)));
                    }
                }
                if !j.libs.is_empty() {
                    jsonnet.insert("libs".into(), json!(j.libs));
                }
                directory["jsonnet"] = Value::Object(jsonnet);
            }
            source["directory"] = directory;
        }
        None => {}
    }
    let mut spec = json!({
        "project": "default",
        "source": source,
        "destination": {"name": app.destination.context, "namespace": app.destination.namespace},
    });
    let mut sync_policy = Map::new();
    if let Some(automated) = &app.sync_policy.automated {
        sync_policy.insert(
            "automated".into(),
            json!({"prune": automated.prune, "selfHeal": automated.self_heal}),
        );
    }
    if app.sync_policy.create_namespace {
        sync_policy.insert("syncOptions".into(), json!(["CreateNamespace=true"]));
    }
    if !sync_policy.is_empty() {
        spec["syncPolicy"] = Value::Object(sync_policy);
    }
    if !app.ignore.is_empty() {
        let rules: Vec<Value> = app
            .ignore
            .iter()
            .map(|r| {
                let mut rule = json!({"group": r.group, "kind": r.kind});
                for (key, value) in [("namespace", &r.namespace), ("name", &r.name)] {
                    if !value.is_empty() {
                        rule[key] = json!(value);
                    }
                }
                if !r.json_pointers.is_empty() {
                    rule["jsonPointers"] = json!(r.json_pointers);
                }
                if !r.managed_fields_managers.is_empty() {
                    rule["managedFieldsManagers"] = json!(r.managed_fields_managers);
                }
                rule
            })
            .collect();
        spec["ignoreDifferences"] = json!(rules);
    }
    let manifest = json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": app.name, "namespace": "argocd"},
        "spec": spec,
    });
    serde_norway::to_string(&manifest).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clusters::ContextState;

    fn context(name: &str, server: &str) -> ContextInfo {
        ContextInfo {
            name: name.into(),
            cluster: name.into(),
            server: Some(server.into()),
            user: "me".into(),
            namespace: None,
            file: "~/.kube/config".into(),
            current: false,
            state: ContextState::NotConnected,
            protected: false,
        }
    }

    const GUESTBOOK: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: guestbook
  namespace: argocd
spec:
  project: default
  source:
    repoURL: https://github.com/argoproj/argocd-example-apps.git
    targetRevision: main
    path: helm-guestbook
    helm:
      releaseName: gb
      valueFiles: [values-prod.yaml]
      valuesObject:
        replicaCount: 2
  destination:
    server: https://staging.example.com:6443
    namespace: guestbook
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
    syncOptions: [CreateNamespace=true, ServerSideApply=true]
  ignoreDifferences:
  - group: apps
    kind: Deployment
    jsonPointers: [/spec/replicas]
  - kind: ConfigMap
    jqPathExpressions: [.data.x]
"#;

    #[test]
    fn an_argo_cd_application_comes_in_with_what_has_a_counterpart() {
        let contexts = [
            context("dev", "https://dev.example.com:6443"),
            context("staging", "https://staging.example.com:6443"),
        ];
        let imported = import(GUESTBOOK, &contexts).unwrap();
        let app = &imported.app;
        assert_eq!(app.name, "guestbook");
        assert_eq!(
            app.repo,
            "https://github.com/argoproj/argocd-example-apps.git"
        );
        assert_eq!(
            (app.revision.as_str(), app.path.as_str()),
            ("main", "helm-guestbook")
        );
        assert_eq!(app.destination.context, "staging", "matched by server URL");
        assert_eq!(app.destination.namespace, "guestbook");
        assert_eq!(app.source.source_type, Some(SourceType::Helm));
        assert_eq!(app.source.helm.release_name.as_deref(), Some("gb"));
        assert_eq!(app.source.helm.values_files, ["values-prod.yaml"]);
        assert_eq!(app.source.helm.values.trim(), "replicaCount: 2");
        assert_eq!(
            app.sync_policy.automated,
            Some(Automated {
                prune: true,
                self_heal: true
            })
        );
        assert!(app.sync_policy.create_namespace);
        assert_eq!(app.ignore.len(), 1);
        assert_eq!(app.ignore[0].json_pointers, ["/spec/replicas"]);
        let notes = imported.notes.join("\n");
        assert!(
            notes.contains("sync options (ServerSideApply=true) were left out"),
            "{notes}"
        );
        assert!(!notes.contains("CreateNamespace"), "{notes}");
        assert!(notes.contains("jq path expressions"), "{notes}");
    }

    #[test]
    fn export_then_import_gives_the_same_application() {
        let contexts = [context("staging", "https://staging.example.com:6443")];
        let app = import(GUESTBOOK, &contexts).unwrap().app;
        let text = export(&app);
        assert!(text.contains("kind: Application"), "{text}");
        assert!(text.contains("- CreateNamespace=true"), "{text}");
        assert!(
            text.contains("name: staging"),
            "destination by context name: {text}"
        );
        let again = import(&text, &contexts).unwrap();
        assert_eq!(again.app, app);
        assert_eq!(again.notes, Vec::<String>::new());
    }

    #[test]
    fn a_plain_folder_keeps_argo_cds_no_recursion_and_unmatched_destinations_are_named() {
        let manifest = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: web}\nspec:\n  source: {repoURL: 'https://git.example.com/deploy.git', path: web}\n  destination: {name: in-cluster, namespace: web}\n";
        let imported = import(manifest, &[]).unwrap();
        assert_eq!(imported.app.revision, "HEAD");
        assert!(!imported.app.source.directory.recurse);
        assert_eq!(imported.app.destination.context, "");
        assert!(
            imported.notes[0].contains("\"in-cluster\""),
            "{:?}",
            imported.notes
        );
        assert_eq!(imported.app.sync_policy.automated, None);
    }

    #[test]
    fn jsonnet_options_come_in_and_go_out() {
        let manifest = r#"
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: guestbook}
spec:
  source:
    repoURL: https://github.com/argoproj/argocd-example-apps.git
    path: jsonnet-guestbook-tla
    directory:
      jsonnet:
        tlas:
        - {name: replicas, value: "2", code: true}
        - {name: image, value: "nginx:1.29"}
        extVars:
        - {name: env, value: staging}
        libs: [vendor, lib]
  destination: {name: dev, namespace: guestbook}
"#;
        let contexts = [context("dev", "https://dev.example.com:6443")];
        let imported = import(manifest, &contexts).unwrap();
        let jsonnet = &imported.app.source.directory.jsonnet;
        assert_eq!(
            jsonnet.tlas,
            [
                JsonnetVar {
                    name: "replicas".into(),
                    value: "2".into(),
                    code: true
                },
                JsonnetVar {
                    name: "image".into(),
                    value: "nginx:1.29".into(),
                    code: false
                }
            ]
        );
        assert_eq!(jsonnet.ext_vars[0].name, "env");
        assert_eq!(jsonnet.libs, ["vendor", "lib"]);
        assert_eq!(imported.notes, Vec::<String>::new());
        let again = import(&export(&imported.app), &contexts).unwrap();
        assert_eq!(again.app, imported.app);
    }

    #[test]
    fn what_cannot_come_in_is_refused_with_the_reason() {
        let err = |m: &str| import(m, &[]).unwrap_err().to_string();
        assert!(
            err("kind: Deployment\napiVersion: apps/v1\n").contains("not an Argo CD Application")
        );
        assert!(err("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a}\nspec:\n  sources: [{repoURL: a}, {repoURL: b}]\n").contains("2 sources"));
        assert!(err("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a}\nspec:\n  source: {repoURL: 'https://charts.example.com', chart: redis}\n").contains("\"redis\""));
        assert!(err("{{").contains("not YAML"));
        assert!(
            err("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {}\n")
                .contains("metadata.name")
        );
    }
}
