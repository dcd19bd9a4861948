//! Render an application's source into Kubernetes manifests: a directory of YAML and JSON
//! files (multi-document, nested folders), a Kustomize overlay (`kubectl kustomize` or
//! `kustomize build`) or a Helm chart (`helm template`). The source type is detected as Argo CD
//! detects it: `Chart.yaml` means Helm, a kustomization file means Kustomize, else a directory.

pub mod inputs;
pub mod jsonnet;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use ts_rs::TS;

/// One file of an application's source, with its path relative to the repository root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub path: String,
    pub content: Vec<u8>,
}

/// One Kubernetes object from the source, with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// Repository-relative file path.
    pub file: String,
    pub object: Value,
}

/// Everything a render produced.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    pub manifests: Vec<Manifest>,
    /// Things skipped on purpose, said in words (a document without `kind`, say).
    pub notes: Vec<String>,
}

/// Why a source could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("{file}{}: {message}", line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Parse {
        file: String,
        line: Option<usize>,
        message: String,
    },
    #[error("could not read {path}: {message}")]
    Read { path: String, message: String },
    #[error("{source_type} needs `{tool}`, which is not on your PATH. {install}")]
    ToolMissing {
        source_type: &'static str,
        tool: &'static str,
        install: &'static str,
    },
    #[error("`{command}` failed: {message}")]
    Tool { command: String, message: String },
}

/// How an application's files become manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub enum SourceType {
    Directory,
    Kustomize,
    Helm,
}

/// Helm parameters: the release is named after the application unless given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct HelmOptions {
    pub release_name: Option<String>,
    /// Values files, relative to the chart folder.
    pub values_files: Vec<String>,
    /// Inline values (YAML), applied after the files.
    pub values: String,
}

/// What an application says of its source; everything defaults to "as detected".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct SourceOptions {
    /// `None`: detected from the files.
    #[serde(rename = "type")]
    pub source_type: Option<SourceType>,
    pub helm: HelmOptions,
    pub directory: DirectoryOptions,
}

/// Which files of a plain folder are manifests, and how its Jsonnet is evaluated (Argo CD's
/// `directory` options).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct DirectoryOptions {
    /// Read subfolders too (the default here; Argo CD's default is off).
    pub recurse: bool,
    /// Only files matching this glob, relative to the app's path (`*.yaml`, `{a.yaml,b.yaml}`,
    /// `prod/**`); empty: every file.
    pub include: String,
    /// Leave out files matching this glob.
    pub exclude: String,
    /// External variables, top-level arguments and library paths for its `.jsonnet` files.
    pub jsonnet: jsonnet::JsonnetOptions,
}

impl Default for DirectoryOptions {
    fn default() -> Self {
        Self {
            recurse: true,
            include: String::new(),
            exclude: String::new(),
            jsonnet: Default::default(),
        }
    }
}

/// What evaluating a folder's Jsonnet needs besides its files: where the app is, its options,
/// and any other file of the repository by path (for imports).
pub struct JsonnetContext<'a> {
    pub app_path: &'a str,
    pub options: &'a jsonnet::JsonnetOptions,
    pub read: &'a dyn Fn(&str) -> Option<Vec<u8>>,
}

/// The files of the folder `path` that `options` select. `*` does not cross `/`; `**` does.
pub fn select(
    files: &[SourceFile],
    path: &str,
    options: &DirectoryOptions,
) -> Result<Vec<SourceFile>, RenderError> {
    let glob = |pattern: &str, what: &str| {
        globset::GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map(|g| g.compile_matcher())
            .map_err(|e| RenderError::Parse {
                file: format!("the directory {what} pattern {pattern:?}"),
                line: None,
                message: e.kind().to_string(),
            })
    };
    let include = (!options.include.is_empty())
        .then(|| glob(&options.include, "include"))
        .transpose()?;
    let exclude = (!options.exclude.is_empty())
        .then(|| glob(&options.exclude, "exclude"))
        .transpose()?;
    let folder = path.trim_matches('/');
    let prefix = if folder.is_empty() || folder == "." {
        String::new()
    } else {
        format!("{folder}/")
    };
    Ok(files
        .iter()
        .filter(|f| {
            let Some(relative) = f.path.strip_prefix(&prefix) else {
                return false;
            };
            (options.recurse || !relative.contains('/'))
                && include.as_ref().is_none_or(|g| g.is_match(relative))
                && !exclude.as_ref().is_some_and(|g| g.is_match(relative))
        })
        .cloned()
        .collect())
}

/// The source type of the folder `path` holding `files` (repository-relative paths).
pub fn detect(files: &[SourceFile], path: &str) -> SourceType {
    let folder = path.trim_matches('/');
    let here = |name: &str| {
        let wanted = if folder.is_empty() || folder == "." {
            name.to_string()
        } else {
            format!("{folder}/{name}")
        };
        files.iter().any(|f| f.path == wanted)
    };
    if here("Chart.yaml") {
        SourceType::Helm
    } else if ["kustomization.yaml", "kustomization.yml", "Kustomization"]
        .iter()
        .any(|n| here(n))
    {
        SourceType::Kustomize
    } else {
        SourceType::Directory
    }
}

/// Rendered output by application source (repository, path, parameters) and commit: reading
/// and parsing a big app's files, or running Kustomize or Helm, costs more than a refresh
/// should. One commit per source and the most recent sources only, so memory stays flat
/// however many commits go by.
#[derive(Default)]
pub struct RenderCache {
    /// (what was rendered, the commit it was rendered at, the output), one per application
    /// source: a new commit replaces the last one's output rather than piling up beside it.
    entries: std::sync::Mutex<std::collections::VecDeque<(String, String, Rendered)>>,
}

const RENDER_CACHE_ENTRIES: usize = 64;

impl RenderCache {
    /// The output for `source` rendered at `commit`, if that is the one kept.
    pub fn get(&self, source: &str, commit: &str) -> Option<Rendered> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .iter()
            .find(|(s, c, _)| s == source && c == commit)
            .map(|(_, _, r)| r.clone())
    }

    pub fn put(&self, source: String, commit: String, rendered: Rendered) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|(s, _, _)| *s != source);
        entries.push_back((source, commit, rendered));
        while entries.len() > RENDER_CACHE_ENTRIES {
            entries.pop_front();
        }
    }
}

/// Finds command-line tools on a search path (the login shell's PATH when known), worked out
/// only when a tool is first looked for: a render that needs no tool never waits for it.
#[derive(Clone, Default)]
pub struct Tools {
    search_path: Option<Arc<dyn Fn() -> Option<String> + Send + Sync>>,
}

impl std::fmt::Debug for Tools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tools")
    }
}

impl Tools {
    /// Tools on `search_path` (the process's PATH when it gives none); it may block.
    pub fn new(search_path: impl Fn() -> Option<String> + Send + Sync + 'static) -> Self {
        Self {
            search_path: Some(Arc::new(search_path)),
        }
    }

    fn find(&self, name: &str) -> Option<std::path::PathBuf> {
        let path = self
            .search_path
            .as_ref()
            .and_then(|search| search())
            .or_else(|| std::env::var("PATH").ok())?;
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    }

    fn run(&self, program: &Path, args: &[&str], cwd: &Path) -> Result<String, RenderError> {
        let command = format!(
            "{} {}",
            program.file_name().unwrap_or_default().to_string_lossy(),
            args.join(" ")
        );
        let output = std::process::Command::new(program)
            .args(args)
            .current_dir(cwd)
            .output()
            .map_err(|e| RenderError::Tool {
                command: command.clone(),
                message: e.to_string(),
            })?;
        if !output.status.success() {
            return Err(RenderError::Tool {
                command,
                message: String::from_utf8_lossy(&output.stderr).trim().to_string(),
            });
        }
        String::from_utf8(output.stdout).map_err(|_| RenderError::Tool {
            command,
            message: "the output is not UTF-8 text".into(),
        })
    }
}

/// Renders the Kustomize overlay at `root/path` (the whole commit exported under `root`).
pub fn kustomize(root: &Path, path: &str, tools: &Tools) -> Result<Rendered, RenderError> {
    let dir = root.join(path.trim_matches('/'));
    let dir_text = dir.to_string_lossy().to_string();
    let output = if let Some(kustomize) = tools.find("kustomize") {
        tools.run(&kustomize, &["build", &dir_text], root)?
    } else if let Some(kubectl) = tools.find("kubectl") {
        tools.run(&kubectl, &["kustomize", &dir_text], root)?
    } else {
        return Err(RenderError::ToolMissing {
            source_type: "A Kustomize source",
            tool: "kustomize",
            install: "Install kubectl (it includes Kustomize) or kustomize, then refresh.",
        });
    };
    tool_output(&format!("{} (kustomize)", path.trim_matches('/')), &output)
}

/// Renders the Helm chart at `root/path` as release `release` in `namespace`; inline values
/// are written into `scratch` (a private folder of this render's own, never the repository).
pub fn helm(
    root: &Path,
    path: &str,
    release: &str,
    namespace: &str,
    options: &HelmOptions,
    tools: &Tools,
    scratch: &Path,
) -> Result<Rendered, RenderError> {
    let Some(helm) = tools.find("helm") else {
        return Err(RenderError::ToolMissing {
            source_type: "A Helm chart",
            tool: "helm",
            install: "Install Helm 3 (https://helm.sh/docs/intro/install/), then refresh.",
        });
    };
    let chart = root.join(path.trim_matches('/'));
    let chart_text = chart.to_string_lossy().to_string();
    let release = options.release_name.as_deref().unwrap_or(release);
    let mut args: Vec<String> = vec![
        "template".into(),
        release.into(),
        chart_text,
        "--namespace".into(),
        namespace.into(),
    ];
    for file in &options.values_files {
        args.push("--values".into());
        args.push(chart.join(file).to_string_lossy().to_string());
    }
    if !options.values.trim().is_empty() {
        let inline = scratch.join("inline-values.yaml");
        let written = crate::shared_file::private_file(&inline)
            .and_then(|mut f| std::io::Write::write_all(&mut f, options.values.as_bytes()));
        written.map_err(|e| RenderError::Read {
            path: inline.display().to_string(),
            message: e.to_string(),
        })?;
        args.push("--values".into());
        args.push(inline.to_string_lossy().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = tools.run(&helm, &args, root)?;
    tool_output(&format!("{} (helm)", path.trim_matches('/')), &output)
}

/// A private folder for one render (the files a tool reads, inline values), removed when the
/// render is done: nothing of a commit stays on disk after it.
pub fn scratch(parent: &Path) -> Result<tempfile::TempDir, RenderError> {
    let failed = |e: std::io::Error| RenderError::Read {
        path: parent.display().to_string(),
        message: e.to_string(),
    };
    crate::shared_file::private_dir(parent).map_err(failed)?;
    tempfile::Builder::new()
        .prefix("render-")
        .tempdir_in(parent)
        .map_err(failed)
}

/// The objects in one file's text: multi-document YAML, or JSON when the name says so.
pub fn objects(file: &str, text: &str) -> Result<Rendered, RenderError> {
    tool_output(file, text)
}

/// The objects a tool printed, as one multi-document YAML stream.
fn tool_output(label: &str, text: &str) -> Result<Rendered, RenderError> {
    let mut out = Rendered::default();
    for (index, doc) in documents(label, text)?.into_iter().enumerate() {
        collect(label, index + 1, doc, &mut out);
    }
    Ok(out)
}

fn is_manifest_file(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.ends_with(".yaml")
        || lower.ends_with(".yml")
        || lower.ends_with(".json")
        || jsonnet::is_jsonnet(path)
}

/// Renders a plain directory source: every `.yaml`, `.yml` and `.json` file, and every
/// `.jsonnet` file evaluated, in path order.
pub fn directory(files: &[SourceFile], jsonnet: &JsonnetContext) -> Result<Rendered, RenderError> {
    let mut out = Rendered::default();
    let mut sorted: Vec<&SourceFile> = files.iter().filter(|f| is_manifest_file(&f.path)).collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    for file in sorted {
        if jsonnet::is_jsonnet(&file.path) {
            let values = jsonnet::evaluate(
                &file.path,
                &file.content,
                jsonnet.app_path,
                jsonnet.options,
                jsonnet.read,
            )?;
            for (index, value) in values.into_iter().enumerate() {
                collect(&file.path, index + 1, value, &mut out);
            }
            continue;
        }
        let text = std::str::from_utf8(&file.content).map_err(|_| RenderError::Parse {
            file: file.path.clone(),
            line: None,
            message: "is not UTF-8 text".into(),
        })?;
        for (index, doc) in documents(&file.path, text)?.into_iter().enumerate() {
            collect(&file.path, index + 1, doc, &mut out);
        }
    }
    Ok(out)
}

fn documents(file: &str, text: &str) -> Result<Vec<Value>, RenderError> {
    if file.to_ascii_lowercase().ends_with(".json") {
        let v: Value = serde_json::from_str(text).map_err(|e| RenderError::Parse {
            file: file.to_string(),
            line: Some(e.line()),
            message: e.to_string(),
        })?;
        return Ok(vec![v]);
    }
    let mut docs = Vec::new();
    for doc in serde_norway::Deserializer::from_str(text) {
        let value = Value::deserialize(doc).map_err(|e| RenderError::Parse {
            file: file.to_string(),
            line: e.location().map(|l| l.line()),
            message: e.to_string(),
        })?;
        docs.push(value);
    }
    Ok(docs)
}

fn collect(file: &str, index: usize, doc: Value, out: &mut Rendered) {
    match &doc {
        Value::Null => {} // An empty document, e.g. a trailing `---`.
        Value::Object(map) if map.contains_key("apiVersion") && map.contains_key("kind") => {
            let is_list = map
                .get("kind")
                .and_then(Value::as_str)
                .is_some_and(|k| k.ends_with("List"));
            if let (true, Some(Value::Array(items))) = (is_list, map.get("items")) {
                for item in items {
                    collect(file, index, item.clone(), out);
                }
            } else {
                out.manifests.push(Manifest {
                    file: file.to_string(),
                    object: doc,
                });
            }
        }
        _ => out.notes.push(format!(
            "{file}: document {index} is not a Kubernetes object (no apiVersion and kind); skipped"
        )),
    }
}

/// Reads a directory on disk into source files, recursively, skipping hidden folders such as `.git`.
pub fn read_directory(dir: &Path) -> Result<Vec<SourceFile>, RenderError> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<SourceFile>) -> Result<(), RenderError> {
        let read_err = |e: std::io::Error| RenderError::Read {
            path: dir.display().to_string(),
            message: e.to_string(),
        };
        for entry in std::fs::read_dir(dir).map_err(read_err)? {
            let entry = entry.map_err(read_err)?;
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out)?;
            } else {
                let content = std::fs::read(&path).map_err(|e| RenderError::Read {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })?;
                let relative = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push(SourceFile {
                    path: relative,
                    content,
                });
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files)?;
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_exclude_and_recurse_select_files_as_argo_cd_does() {
        let files: Vec<SourceFile> = [
            "app/a.yaml",
            "app/b.yaml",
            "app/config.json",
            "app/prod/c.yaml",
            "other/d.yaml",
        ]
        .iter()
        .map(|p| SourceFile {
            path: p.to_string(),
            content: Vec::new(),
        })
        .collect();
        let pick = |recurse: bool, include: &str, exclude: &str| -> Vec<String> {
            let options = DirectoryOptions {
                recurse,
                include: include.into(),
                exclude: exclude.into(),
                jsonnet: Default::default(),
            };
            select(&files, "app", &options)
                .unwrap()
                .into_iter()
                .map(|f| f.path)
                .collect()
        };
        assert_eq!(
            pick(true, "", ""),
            [
                "app/a.yaml",
                "app/b.yaml",
                "app/config.json",
                "app/prod/c.yaml"
            ]
        );
        assert_eq!(
            pick(false, "", ""),
            ["app/a.yaml", "app/b.yaml", "app/config.json"]
        );
        assert_eq!(
            pick(true, "*.yaml", ""),
            ["app/a.yaml", "app/b.yaml"],
            "* stays in one folder"
        );
        assert_eq!(
            pick(true, "**/*.yaml", ""),
            ["app/a.yaml", "app/b.yaml", "app/prod/c.yaml"]
        );
        assert_eq!(
            pick(true, "", "{config.json,prod/*}"),
            ["app/a.yaml", "app/b.yaml"]
        );
        assert_eq!(pick(true, "{a,b}.yaml", "b.yaml"), ["app/a.yaml"]);
        let broken = DirectoryOptions {
            include: "{a.yaml".into(),
            ..Default::default()
        };
        let e = select(&files, "app", &broken).unwrap_err().to_string();
        assert!(e.contains("include pattern \"{a.yaml\""), "{e}");
    }

    /// No Jsonnet options and no other files.
    fn plain() -> JsonnetContext<'static> {
        static NONE: std::sync::LazyLock<jsonnet::JsonnetOptions> =
            std::sync::LazyLock::new(Default::default);
        JsonnetContext {
            app_path: "",
            options: &NONE,
            read: &|_| None,
        }
    }

    fn file(path: &str, text: &str) -> SourceFile {
        SourceFile {
            path: path.into(),
            content: text.as_bytes().to_vec(),
        }
    }

    #[test]
    fn multi_document_nested_and_json() {
        let files = [
            file(
                "b/nested/svc.yaml",
                "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n",
            ),
            file(
                "a.yaml",
                "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: one}\n---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: two}\n",
            ),
            file(
                "c.json",
                r#"{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}"#,
            ),
            file("README.md", "# not a manifest"),
        ];
        let rendered = directory(&files, &plain()).unwrap();
        let names: Vec<_> = rendered
            .manifests
            .iter()
            .map(|m| m.object["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["one", "two", "web", "s"]);
        assert_eq!(rendered.manifests[2].file, "b/nested/svc.yaml");
    }

    #[test]
    fn lists_are_flattened_and_non_objects_noted() {
        let files = [file(
            "list.yaml",
            "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n---\nfoo: bar\n",
        )];
        let rendered = directory(&files, &plain()).unwrap();
        assert_eq!(rendered.manifests.len(), 1);
        assert_eq!(
            rendered.notes,
            ["list.yaml: document 2 is not a Kubernetes object (no apiVersion and kind); skipped"]
        );
    }

    #[test]
    fn a_parse_error_names_file_and_line() {
        let files = [file(
            "bad.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n",
        )];
        let err = directory(&files, &plain()).unwrap_err();
        let RenderError::Parse { file, line, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(file, "bad.yaml");
        assert!(line.is_some_and(|l| l >= 4), "{err}");
        assert!(err.to_string().starts_with("bad.yaml, line "), "{err}");
    }

    #[test]
    fn reads_a_directory_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("x/.git")).unwrap();
        std::fs::write(
            dir.path().join("x/a.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("x/.git/config"), "ignored").unwrap();
        let files = read_directory(dir.path()).unwrap();
        assert_eq!(
            files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(),
            ["x/a.yaml"]
        );
    }
}
