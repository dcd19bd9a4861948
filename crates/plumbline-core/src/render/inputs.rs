//! What a Kustomize overlay or a Helm chart reads from its repository, found before the tool
//! runs: its own folder, the bases, resources, components, patches and generator files its
//! kustomization files name (followed into each base), a chart's values files and its
//! `file://` dependencies. Only these are written out for the tool — not the rest of the
//! commit, where other applications' Secrets may be — and a reference that leaves the
//! repository (`../../..`) is refused, naming the file that makes it.

use super::RenderError;
use serde_json::Value;
use std::collections::BTreeSet;

/// Reads the repository: a file's content by path, and whether a path is a folder.
pub trait Tree {
    fn read(&self, path: &str) -> Option<Vec<u8>>;
    fn is_dir(&self, path: &str) -> bool;
}

const KUSTOMIZATION_FILES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// `a/./b/../c` as `a/c`; `None` when it climbs out of the repository.
pub fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            name => parts.push(name),
        }
    }
    Some(parts.join("/"))
}

fn join(dir: &str, path: &str) -> String {
    if dir.is_empty() {
        path.to_string()
    } else {
        format!("{dir}/{path}")
    }
}

/// A reference Kustomize fetches from the network, not from the repository.
fn is_remote(reference: &str) -> bool {
    reference.contains("://")
        || reference.starts_with("git@")
        || reference.contains("?ref=")
        || ["github.com/", "gitlab.com/", "bitbucket.org/"]
            .iter()
            .any(|host| reference.starts_with(host))
}

/// The repository paths the overlay at `path` reads (folders whole), each inside the
/// repository.
pub fn kustomize(tree: &dyn Tree, path: &str) -> Result<Vec<String>, RenderError> {
    let root = normalize(path).unwrap_or_default();
    let mut found = BTreeSet::new();
    let mut pending = vec![root];
    let mut visited = BTreeSet::new();
    while let Some(dir) = pending.pop() {
        if !visited.insert(dir.clone()) {
            continue;
        }
        found.insert(dir.clone());
        let Some((file, text)) = KUSTOMIZATION_FILES.iter().find_map(|name| {
            let file = join(&dir, name);
            tree.read(&file).map(|text| (file, text))
        }) else {
            continue;
        };
        let kustomization: Value =
            serde_norway::from_slice(&text).map_err(|e| RenderError::Parse {
                file: file.clone(),
                line: e.location().map(|l| l.line()),
                message: e.to_string(),
            })?;
        for reference in references(&kustomization) {
            if is_remote(&reference) {
                continue;
            }
            let Some(full) = normalize(&join(&dir, &reference)) else {
                return Err(RenderError::Parse {
                    file,
                    line: None,
                    message: format!(
                        "{reference:?} is outside the repository: Plumbline renders only what the repository holds"
                    ),
                });
            };
            if tree.is_dir(&full) {
                pending.push(full);
            } else {
                found.insert(full);
            }
        }
    }
    Ok(outermost(found, &visited))
}

/// `paths` without those inside one of `folders` (written out whole anyway).
fn outermost(paths: BTreeSet<String>, folders: &BTreeSet<String>) -> Vec<String> {
    paths
        .iter()
        .filter(|p| {
            !folders
                .iter()
                .any(|f| *p != f && (f.is_empty() || p.starts_with(&format!("{f}/"))))
        })
        .cloned()
        .collect()
}

/// Every local path a kustomization names, as written.
fn references(k: &Value) -> Vec<String> {
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    };
    let mut out = Vec::new();
    for field in ["resources", "bases", "components", "crds"] {
        out.extend(strings(k.get(field)));
    }
    // Paths, unless written inline (a patch's YAML has line breaks).
    out.extend(
        strings(k.get("patchesStrategicMerge"))
            .into_iter()
            .filter(|p| !p.contains('\n')),
    );
    for field in ["generators", "transformers", "validators"] {
        out.extend(
            strings(k.get(field))
                .into_iter()
                .filter(|p| !p.contains('\n')),
        );
    }
    for field in ["patchesJson6902", "patches", "replacements"] {
        for item in k.get(field).and_then(Value::as_array).into_iter().flatten() {
            if let Some(p) = item.get("path").and_then(Value::as_str) {
                out.push(p.to_string());
            }
        }
    }
    for field in ["configMapGenerator", "secretGenerator"] {
        for generator in k.get(field).and_then(Value::as_array).into_iter().flatten() {
            for file in strings(generator.get("files")) {
                // `key=path` names the key the file's content goes under.
                out.push(
                    file.split_once('=')
                        .map_or(file.clone(), |(_, p)| p.to_string()),
                );
            }
            out.extend(strings(generator.get("envs")));
            if let Some(env) = generator.get("env").and_then(Value::as_str) {
                out.push(env.to_string());
            }
        }
    }
    if let Some(p) = k.pointer("/openapi/path").and_then(Value::as_str) {
        out.push(p.to_string());
    }
    if k.get("helmCharts").is_some() {
        out.push(
            k.pointer("/helmGlobals/chartHome")
                .and_then(Value::as_str)
                .unwrap_or("charts")
                .to_string(),
        );
    }
    out
}

/// The repository paths the chart at `path` reads: its folder, its values files (relative to
/// it), and the charts its `file://` dependencies name, each inside the repository.
pub fn helm(
    tree: &dyn Tree,
    path: &str,
    values_files: &[String],
) -> Result<Vec<String>, RenderError> {
    let chart = normalize(path).unwrap_or_default();
    let mut found = BTreeSet::new();
    for file in values_files {
        let Some(full) = normalize(&join(&chart, file)) else {
            return Err(RenderError::Parse {
                file: join(&chart, "Chart.yaml"),
                line: None,
                message: format!("the values file {file:?} is outside the repository"),
            });
        };
        found.insert(full);
    }
    let mut pending = vec![chart];
    let mut visited = BTreeSet::new();
    while let Some(dir) = pending.pop() {
        if !visited.insert(dir.clone()) {
            continue;
        }
        found.insert(dir.clone());
        let file = join(&dir, "Chart.yaml");
        let Some(text) = tree.read(&file) else {
            continue;
        };
        let Ok(chart) = serde_norway::from_slice::<Value>(&text) else {
            continue; // Helm says what is wrong with a Chart.yaml better than we would.
        };
        for dependency in chart
            .get("dependencies")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(local) = dependency
                .get("repository")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("file://"))
            else {
                continue;
            };
            let Some(full) = normalize(&join(&dir, local)) else {
                return Err(RenderError::Parse {
                    file,
                    line: None,
                    message: format!(
                        "the dependency file://{local} is outside the repository: Plumbline renders only what the repository holds"
                    ),
                });
            };
            pending.push(full);
        }
    }
    Ok(outermost(found, &visited))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    struct Files(BTreeMap<String, String>);

    impl Tree for Files {
        fn read(&self, path: &str) -> Option<Vec<u8>> {
            self.0.get(path).map(|t| t.as_bytes().to_vec())
        }
        fn is_dir(&self, path: &str) -> bool {
            self.0.keys().any(|k| k.starts_with(&format!("{path}/")))
        }
    }

    fn files(list: &[(&str, &str)]) -> Files {
        Files(
            list.iter()
                .map(|(p, t)| (p.to_string(), t.to_string()))
                .collect(),
        )
    }

    #[test]
    fn an_overlay_reads_its_bases_patches_and_generator_files_and_nothing_else() {
        let tree = files(&[
            (
                "apps/web/overlays/prod/kustomization.yaml",
                "resources: [../../base, ingress.yaml, https://github.com/org/repo//deploy?ref=v1]\npatches:\n- path: replicas.yaml\nconfigMapGenerator:\n- name: settings\n  files: [app.properties=../../config/app.properties]\n  envs: [prod.env]\n",
            ),
            ("apps/web/overlays/prod/ingress.yaml", ""),
            ("apps/web/overlays/prod/replicas.yaml", ""),
            ("apps/web/overlays/prod/prod.env", ""),
            (
                "apps/web/base/kustomization.yaml",
                "resources: [deployment.yaml, ../../../lib/common]\n",
            ),
            ("apps/web/base/deployment.yaml", ""),
            ("apps/web/config/app.properties", ""),
            ("lib/common/kustomization.yaml", "resources: [sa.yaml]\n"),
            ("lib/common/sa.yaml", ""),
            ("apps/other/secret.yaml", "the other app's Secret"),
        ]);
        let inputs = kustomize(&tree, "apps/web/overlays/prod").unwrap();
        assert_eq!(
            inputs,
            [
                "apps/web/base",
                "apps/web/config/app.properties",
                "apps/web/overlays/prod",
                "lib/common",
            ],
            "folders whole, and the one file from elsewhere"
        );
        assert!(!inputs.iter().any(|p| p.starts_with("apps/other")));
    }

    #[test]
    fn a_reference_out_of_the_repository_is_refused_with_its_file() {
        let tree = files(&[
            ("apps/web/kustomization.yaml", "resources: [../base]\n"),
            ("apps/base/kustomization.yaml", "resources: [../../../..]\n"),
        ]);
        let error = kustomize(&tree, "apps/web").unwrap_err().to_string();
        assert_eq!(
            error,
            "apps/base/kustomization.yaml: \"../../../..\" is outside the repository: Plumbline renders only what the repository holds"
        );
    }

    #[test]
    fn a_chart_reads_its_values_files_and_local_dependencies() {
        let tree = files(&[
            (
                "charts/shop/Chart.yaml",
                "apiVersion: v2\nname: shop\nversion: 1.0.0\ndependencies:\n- name: common\n  repository: file://../common\n- name: redis\n  repository: https://charts.example.com\n",
            ),
            ("charts/shop/templates/a.yaml", ""),
            (
                "charts/common/Chart.yaml",
                "apiVersion: v2\nname: common\nversion: 1.0.0\n",
            ),
            ("values/prod.yaml", ""),
        ]);
        let inputs = helm(&tree, "charts/shop", &["../../values/prod.yaml".into()]).unwrap();
        assert_eq!(inputs, ["charts/common", "charts/shop", "values/prod.yaml"]);
        let escape = helm(&tree, "charts/shop", &["../../../etc/passwd".into()]).unwrap_err();
        assert!(
            escape.to_string().contains("outside the repository"),
            "{escape}"
        );
    }
}
