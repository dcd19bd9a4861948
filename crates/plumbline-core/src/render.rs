//! Render an application's source into Kubernetes manifests. This step: a directory of YAML
//! and JSON files, multi-document, nested folders.

use crate::repos::SourceFile;
use serde::Deserialize;
use serde_json::Value;
use std::path::Path;

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
}

fn is_manifest_file(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json")
}

/// Renders a plain directory source: every `.yaml`, `.yml` and `.json` file, in path order.
pub fn directory(files: &[SourceFile]) -> Result<Rendered, RenderError> {
    let mut out = Rendered::default();
    let mut sorted: Vec<&SourceFile> = files.iter().filter(|f| is_manifest_file(&f.path)).collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    for file in sorted {
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
        let rendered = directory(&files).unwrap();
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
        let rendered = directory(&files).unwrap();
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
        let err = directory(&files).unwrap_err();
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
