//! Jsonnet, as Argo CD renders it in a plain folder: each `.jsonnet` file of the app's path is
//! evaluated (`.libsonnet` files are libraries, only imported), in-process with rsjsonnet —
//! no `jsonnet` binary needed — with the app's external variables and top-level arguments
//! (plain strings or Jsonnet code) and library paths, as Argo CD's `directory.jsonnet` options
//! give them. The output is one Kubernetes object or a list of them. Imports resolve beside
//! the importing file, then in the app's folder, then in each library path (relative to the
//! repository root), and never outside the repository. Errors name the file and line.

use super::RenderError;
use rsjsonnet_lang::arena::Arena;
use rsjsonnet_lang::program::{
    AnalyzeError, Callbacks, EvalError, EvalErrorKind, EvalStackTraceItem, ImportError, LoadError,
    NativeError, Program, Thunk, Value as JValue,
};
use rsjsonnet_lang::span::{SpanContextId, SpanId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use ts_rs::TS;

/// Argo CD's `directory.jsonnet` options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct JsonnetOptions {
    /// External variables (`std.extVar`).
    pub ext_vars: Vec<JsonnetVar>,
    /// Top-level arguments, given to a file whose result is a function.
    pub tlas: Vec<JsonnetVar>,
    /// Library folders searched by imports, relative to the repository root.
    pub libs: Vec<String>,
}

/// One external variable or top-level argument: a string, or Jsonnet code when `code` is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct JsonnetVar {
    pub name: String,
    pub value: String,
    pub code: bool,
}

impl JsonnetOptions {
    /// These options with Argo CD's build environment put into the values of the variables and
    /// arguments (`$ARGOCD_APP_NAME`, `${ARGOCD_APP_REVISION}`…). Other `$` words stay as written.
    pub fn with_build_env(&self, env: &[(&str, String)]) -> JsonnetOptions {
        let expand = |vars: &[JsonnetVar]| -> Vec<JsonnetVar> {
            vars.iter()
                .map(|v| JsonnetVar {
                    value: expand(&v.value, env),
                    ..v.clone()
                })
                .collect()
        };
        JsonnetOptions {
            ext_vars: expand(&self.ext_vars),
            tlas: expand(&self.tlas),
            libs: self.libs.clone(),
        }
    }
}

/// `text` with each `$NAME` and `${NAME}` of `env` replaced by its value.
fn expand(text: &str, env: &[(&str, String)]) -> String {
    let mut out = text.to_string();
    // Longest names first, so $ARGOCD_APP_REVISION_SHORT is not read as $ARGOCD_APP_REVISION.
    let mut env: Vec<&(&str, String)> = env.iter().collect();
    env.sort_by_key(|(name, _)| std::cmp::Reverse(name.len()));
    for (name, value) in env {
        out = out
            .replace(&format!("${{{name}}}"), value)
            .replace(&format!("${name}"), value);
    }
    out
}

/// True for a file Argo CD evaluates as Jsonnet.
pub fn is_jsonnet(path: &str) -> bool {
    path.to_ascii_lowercase().ends_with(".jsonnet")
}

/// Evaluates the Jsonnet `file` (repository-relative, its text `source`) of the app at
/// `app_path`; `read` gives any other file of the repository by its path. Returns the JSON it
/// produced: one object, or the items of a list.
pub fn evaluate(
    file: &str,
    source: &[u8],
    app_path: &str,
    options: &JsonnetOptions,
    read: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> Result<Vec<Value>, RenderError> {
    let arena = Arena::new();
    let mut program = Program::new(&arena);
    let mut importer = Importer {
        read,
        search: std::iter::once(app_path.trim_matches('/').to_string())
            .chain(options.libs.iter().map(|l| l.trim_matches('/').to_string()))
            .collect(),
        files: HashMap::new(),
        loaded: HashMap::new(),
        failure: None,
    };
    let main = importer
        .load(&mut program, file, source.to_vec())
        .map_err(|e| importer.load_error(&program, file, &e))?;
    for var in &options.ext_vars {
        let thunk = importer.argument(&mut program, "external variable", var)?;
        let name = program.intern_str(&var.name);
        program.add_ext_var(name, &thunk);
    }
    let evaluated = program.eval_value(&main, &mut importer);
    let value = match evaluated {
        Ok(value) if value.is_function() => {
            let mut named = Vec::new();
            for tla in &options.tlas {
                let thunk = importer.argument(&mut program, "top-level argument", tla)?;
                named.push((program.intern_str(&tla.name), thunk));
            }
            program.eval_call(&main, &[], &named, &mut importer)
        }
        other => other,
    }
    .map_err(|e| importer.eval_error(&program, file, &e))?;
    let text = program
        .manifest_json(&value, false)
        .map_err(|e| importer.eval_error(&program, file, &e))?;
    let json: Value = serde_json::from_str(&text).map_err(|e| RenderError::Parse {
        file: file.to_string(),
        line: None,
        message: format!("its output is not JSON: {e}"),
    })?;
    match json {
        Value::Array(items) => Ok(items),
        Value::Object(_) => Ok(vec![json]),
        other => Err(RenderError::Parse {
            file: file.to_string(),
            line: None,
            message: format!(
                "evaluates to {}, not a Kubernetes object or a list of them",
                kind_of(&other)
            ),
        }),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Loads the files a program imports, and knows which file each source span is in.
struct Importer<'r, 'p> {
    read: &'r dyn Fn(&str) -> Option<Vec<u8>>,
    /// Folders imports are looked for in after the importing file's own: the app's, then the
    /// library paths.
    search: Vec<String>,
    /// Each loaded source: its path and text, for the lines of errors.
    files: HashMap<SpanContextId, (String, Vec<u8>)>,
    loaded: HashMap<String, Thunk<'p>>,
    /// Why the last import failed, in words (a syntax error in a library, say).
    failure: Option<RenderError>,
}

impl<'p> Importer<'_, 'p> {
    fn load(
        &mut self,
        program: &mut Program<'p>,
        path: &str,
        text: Vec<u8>,
    ) -> Result<Thunk<'p>, LoadError> {
        let (context, _) = program.span_manager_mut().insert_source_context(text.len());
        let loaded = program.load_source(context, &text, true, path);
        self.files.insert(context, (path.to_string(), text));
        loaded
    }

    /// An external variable or top-level argument as a thunk: its code loaded, or its string.
    fn argument(
        &mut self,
        program: &mut Program<'p>,
        what: &str,
        var: &JsonnetVar,
    ) -> Result<Thunk<'p>, RenderError> {
        if !var.code {
            return Ok(program.value_to_thunk(&JValue::string(&var.value)));
        }
        let label = format!("{what} {}", var.name);
        self.load(program, &label, var.value.clone().into_bytes())
            .map_err(|e| self.load_error(program, &label, &e))
    }

    /// The repository path `path` names when imported from the file `from`, in the order it is
    /// looked for; paths that leave the repository are not looked for at all.
    fn candidates(&self, program: &Program<'p>, from: SpanId, path: &str) -> Vec<String> {
        let (context, _, _) = program.span_manager().get_span(from);
        let importer_dir = self
            .files
            .get(&context)
            .map(|(file, _)| file.rsplit_once('/').map_or("", |(dir, _)| dir))
            .unwrap_or_default()
            .to_string();
        std::iter::once(importer_dir)
            .chain(self.search.iter().cloned())
            .filter_map(|dir| normalize(&format!("{dir}/{path}")))
            .collect()
    }

    fn find(&self, program: &Program<'p>, from: SpanId, path: &str) -> Option<(String, Vec<u8>)> {
        if path.starts_with('/') {
            return None;
        }
        self.candidates(program, from, path)
            .into_iter()
            .find_map(|candidate| (self.read)(&candidate).map(|text| (candidate, text)))
    }

    /// The file and line a span is at.
    fn place(&self, program: &Program<'p>, span: SpanId) -> Option<(String, usize)> {
        let (context, start, _) = program.span_manager().get_span(span);
        let (file, text) = self.files.get(&context)?;
        let line = 1 + text[..start.min(text.len())]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        Some((file.clone(), line))
    }

    fn load_error(&mut self, program: &Program<'p>, file: &str, error: &LoadError) -> RenderError {
        let (span, message) = match error {
            LoadError::Lex(e) => (lex_span(e), format!("syntax error: {}", scrub(e))),
            LoadError::Parse(rsjsonnet_lang::parser::ParseError::Expected {
                span,
                instead,
                ..
            }) => {
                use rsjsonnet_lang::parser::ActualToken as T;
                let what = match instead {
                    T::EndOfFile => "the end of the file".to_string(),
                    T::Ident(name) => name.clone(),
                    T::OtherOp(op) => op.clone(),
                    other => scrub(other),
                };
                (Some(*span), format!("syntax error: unexpected {what}"))
            }
            LoadError::Analyze(e) => analyze_words(e),
        };
        self.at(program, file, span, message)
    }

    fn eval_error(&mut self, program: &Program<'p>, file: &str, error: &EvalError) -> RenderError {
        if let (EvalErrorKind::ImportFailed { .. }, Some(failure)) =
            (&error.kind, self.failure.take())
        {
            return failure;
        }
        let (span, message) = eval_words(&error.kind);
        // Where the error is, or else the innermost place the evaluation was at.
        let span = span.or_else(|| {
            error.stack_trace.iter().find_map(|item| match item {
                EvalStackTraceItem::Expr { span } => Some(*span),
                EvalStackTraceItem::Call { span, .. } => *span,
                _ => None,
            })
        });
        self.at(program, file, span, message)
    }

    fn at(
        &self,
        program: &Program<'p>,
        file: &str,
        span: Option<SpanId>,
        message: String,
    ) -> RenderError {
        match span.and_then(|s| self.place(program, s)) {
            Some((file, line)) => RenderError::Parse {
                file,
                line: Some(line),
                message,
            },
            None => RenderError::Parse {
                file: file.to_string(),
                line: None,
                message,
            },
        }
    }
}

impl<'p> Callbacks<'p> for Importer<'_, 'p> {
    fn import(
        &mut self,
        program: &mut Program<'p>,
        from: SpanId,
        path: &str,
    ) -> Result<Thunk<'p>, ImportError> {
        let Some((found, text)) = self.find(program, from, path) else {
            self.failure = Some(self.at(
                program,
                "",
                Some(from),
                format!(
                    "cannot import {path:?}: no such file beside it, in the app's folder or in its library paths ({})",
                    self.search.join(", ")
                ),
            ));
            return Err(ImportError);
        };
        if let Some(thunk) = self.loaded.get(&found) {
            return Ok(thunk.clone());
        }
        match self.load(program, &found, text) {
            Ok(thunk) => {
                self.loaded.insert(found, thunk.clone());
                Ok(thunk)
            }
            Err(e) => {
                self.failure = Some(self.load_error(program, &found, &e));
                Err(ImportError)
            }
        }
    }

    fn import_str(
        &mut self,
        program: &mut Program<'p>,
        from: SpanId,
        path: &str,
    ) -> Result<String, ImportError> {
        let (_, text) = self.find(program, from, path).ok_or(ImportError)?;
        String::from_utf8(text).map_err(|_| ImportError)
    }

    fn import_bin(
        &mut self,
        program: &mut Program<'p>,
        from: SpanId,
        path: &str,
    ) -> Result<Vec<u8>, ImportError> {
        self.find(program, from, path)
            .map(|(_, text)| text)
            .ok_or(ImportError)
    }

    fn trace(&mut self, _: &mut Program<'p>, message: &str, _: &[EvalStackTraceItem]) {
        tracing::debug!("jsonnet trace: {message}");
    }

    fn native_call(
        &mut self,
        _: &mut Program<'p>,
        _: rsjsonnet_lang::interner::InternedStr<'p>,
        _: &[JValue<'p>],
    ) -> Result<JValue<'p>, NativeError> {
        Err(NativeError)
    }
}

/// `a/./b/../c` as `a/c`; `None` when it climbs out of the repository.
fn normalize(path: &str) -> Option<String> {
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

/// The Debug words of an error detail, without the source positions (they become file:line).
fn scrub(detail: &impl std::fmt::Debug) -> String {
    let text = format!("{detail:?}");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find("SpanId(") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let end = after.find(')').map_or(after.len(), |e| e + 1);
        rest = &after[end..];
    }
    out.push_str(rest);
    out.replace("span: , ", "")
        .replace("span: Some(), ", "")
        .replace("span: None, ", "")
        .replace(" { span:  }", "")
}

fn lex_span(error: &rsjsonnet_lang::lexer::LexError) -> Option<SpanId> {
    use rsjsonnet_lang::lexer::LexError as L;
    Some(match error {
        L::InvalidChar { span, .. }
        | L::InvalidUtf8 { span, .. }
        | L::UnfinishedMultilineComment { span }
        | L::LeadingZeroInNumber { span }
        | L::MissingFracDigits { span }
        | L::MissingExpDigits { span }
        | L::MissingDigitAfterUnderscore { span }
        | L::ExpOverflow { span }
        | L::InvalidEscapeInString { span, .. }
        | L::IncompleteUnicodeEscape { span }
        | L::InvalidUtf16EscapeSequence { span, .. }
        | L::UnfinishedString { span } => *span,
        _ => return None,
    })
}

fn analyze_words(error: &AnalyzeError) -> (Option<SpanId>, String) {
    use AnalyzeError as A;
    match error {
        A::UnknownVariable { span, name } => (Some(*span), format!("unknown variable {name}")),
        A::SelfOutsideObject { self_span } => (Some(*self_span), "self outside an object".into()),
        A::SuperOutsideObject { super_span } => {
            (Some(*super_span), "super outside an object".into())
        }
        A::DollarOutsideObject { dollar_span } => {
            (Some(*dollar_span), "$ outside an object".into())
        }
        A::RepeatedLocalName {
            repeated_span,
            name,
            ..
        } => (
            Some(*repeated_span),
            format!("local {name} is defined twice"),
        ),
        A::RepeatedFieldName {
            repeated_span,
            name,
            ..
        } => (
            Some(*repeated_span),
            format!("field {name} is defined twice"),
        ),
        A::RepeatedParamName {
            repeated_span,
            name,
            ..
        } => (
            Some(*repeated_span),
            format!("parameter {name} is defined twice"),
        ),
        A::PositionalArgAfterNamed { arg_span } => (
            Some(*arg_span),
            "a positional argument after a named one".into(),
        ),
        A::TextBlockAsImportPath { span } | A::ComputedImportPath { span } => {
            (Some(*span), "an import path must be a plain string".into())
        }
    }
}

/// What an evaluation error says, in words, and where it is when it says.
fn eval_words(kind: &EvalErrorKind) -> (Option<SpanId>, String) {
    use EvalErrorKind as E;
    match kind {
        E::ExplicitError { span, message } => (Some(*span), format!("error: {message}")),
        E::AssertFailed { span, message } => (
            Some(*span),
            match message {
                Some(m) => format!("assertion failed: {m}"),
                None => "assertion failed".into(),
            },
        ),
        E::UnknownObjectField { span, field_name } => {
            (Some(*span), format!("field {field_name:?} does not exist"))
        }
        E::UnknownExtVar { name } => (
            None,
            format!(
                "external variable {name:?} is not defined: give it in the application's Jsonnet options"
            ),
        ),
        E::CallParamNotBound { span, param_name } => (
            *span,
            format!(
                "parameter {param_name:?} has no value: a top-level argument of that name may be missing"
            ),
        ),
        E::UnknownCallParam { span, param_name } => {
            (*span, format!("there is no parameter {param_name:?}"))
        }
        E::ImportFailed { span, path } => (Some(*span), format!("cannot import {path:?}")),
        E::ManifestFunction => (None, "a function cannot be turned into JSON".into()),
        E::StackOverflow | E::InfiniteRecursion => {
            (None, "the evaluation recursed too deep".into())
        }
        other => (None, scrub(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(
        main: &str,
        files: &[(&str, &str)],
        options: &JsonnetOptions,
    ) -> Result<Vec<Value>, RenderError> {
        let files: HashMap<String, Vec<u8>> = files
            .iter()
            .map(|(p, t)| (p.to_string(), t.as_bytes().to_vec()))
            .collect();
        let read = |path: &str| files.get(path).cloned();
        evaluate(
            "apps/web/main.jsonnet",
            main.as_bytes(),
            "apps/web",
            options,
            &read,
        )
    }

    fn var(name: &str, value: &str, code: bool) -> JsonnetVar {
        JsonnetVar {
            name: name.into(),
            value: value.into(),
            code,
        }
    }

    #[test]
    fn top_level_arguments_external_variables_and_libraries() {
        let main = r#"
            local k = import 'k8s.libsonnet';
            local settings = import 'settings.libsonnet';
            function(replicas, image='nginx:1.27') [
              k.deployment('web', replicas, image) + { metadata+: { labels: { env: std.extVar('env') } } },
              settings,
            ]
        "#;
        let files = [
            (
                "lib/k8s.libsonnet",
                "{ deployment(name, replicas, image):: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: name }, spec: { replicas: replicas, template: { spec: { containers: [{ name: name, image: image }] } } } } }",
            ),
            (
                "apps/web/settings.libsonnet",
                "{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { greeting: importstr 'greeting.txt' } }",
            ),
            ("apps/web/greeting.txt", "hello"),
        ];
        let options = JsonnetOptions {
            ext_vars: vec![var("env", "prod", false)],
            tlas: vec![
                var("replicas", "1 + 2", true),
                var("image", "nginx:1.29", false),
            ],
            libs: vec!["lib".into()],
        };
        let out = run(main, &files, &options).unwrap();
        assert_eq!(out[0]["spec"]["replicas"], 3);
        assert_eq!(
            out[0]["spec"]["template"]["spec"]["containers"][0]["image"],
            "nginx:1.29"
        );
        assert_eq!(out[0]["metadata"]["labels"]["env"], "prod");
        assert_eq!(out[1]["data"]["greeting"], "hello");
    }

    /// The main file, other files, options; the file and line the error names, and its words.
    type ErrorCase<'a> = (
        &'a str,
        Vec<(&'a str, &'a str)>,
        JsonnetOptions,
        &'a str,
        Option<usize>,
        &'a str,
    );

    #[test]
    fn errors_name_the_file_and_line() {
        let cases: Vec<ErrorCase> = vec![
            (
                "{\n  a: 1,\n  b: error 'no value for b',\n}\n",
                vec![],
                JsonnetOptions::default(),
                "apps/web/main.jsonnet",
                Some(3),
                "error: no value for b",
            ),
            (
                "{\n  a: 1\n  b: 2\n}\n",
                vec![],
                JsonnetOptions::default(),
                "apps/web/main.jsonnet",
                Some(3),
                "syntax error",
            ),
            (
                "local lib = import 'broken.libsonnet';\nlib\n",
                vec![("apps/web/broken.libsonnet", "{\n\n  x: [1, 2,\n")],
                JsonnetOptions::default(),
                "apps/web/broken.libsonnet",
                None,
                "syntax error",
            ),
            (
                "import 'missing.libsonnet'\n",
                vec![],
                JsonnetOptions::default(),
                "apps/web/main.jsonnet",
                Some(1),
                "cannot import \"missing.libsonnet\"",
            ),
            (
                "{ env: std.extVar('env') }\n",
                vec![],
                JsonnetOptions::default(),
                "apps/web/main.jsonnet",
                None,
                "external variable \"env\" is not defined",
            ),
            (
                "function(replicas) { replicas: replicas }\n",
                vec![],
                JsonnetOptions::default(),
                "apps/web/main.jsonnet",
                None,
                "parameter \"replicas\" has no value",
            ),
            (
                "42\n",
                vec![],
                JsonnetOptions::default(),
                "apps/web/main.jsonnet",
                None,
                "evaluates to a number",
            ),
        ];
        for (main, files, options, file, line, message) in cases {
            let error = run(main, &files, &options).unwrap_err();
            let RenderError::Parse {
                file: at,
                line: at_line,
                message: words,
            } = &error
            else {
                panic!("{error}")
            };
            assert_eq!(at, file, "{main}: {error}");
            if line.is_some() {
                assert_eq!(*at_line, line, "{main}: {error}");
            } else {
                assert!(at_line.is_some() || !words.is_empty(), "{error}");
            }
            assert!(words.contains(message), "{main}: {error}");
        }
    }

    #[test]
    fn argo_cds_build_environment_goes_into_the_values() {
        let options = JsonnetOptions {
            tlas: vec![var("branch", "$ARGOCD_APP_SOURCE_TARGET_REVISION", false)],
            ext_vars: vec![
                var("id", "${ARGOCD_APP_NAME}-$ARGOCD_APP_REVISION_SHORT", false),
                var("price", "$5", false),
            ],
            libs: vec![],
        };
        let env = [
            ("ARGOCD_APP_NAME", "guestbook".to_string()),
            ("ARGOCD_APP_REVISION", "4f2a9c1d0e".to_string()),
            ("ARGOCD_APP_REVISION_SHORT", "4f2a9c1".to_string()),
            ("ARGOCD_APP_SOURCE_TARGET_REVISION", "main".to_string()),
        ];
        let expanded = options.with_build_env(&env);
        assert_eq!(expanded.tlas[0].value, "main");
        assert_eq!(expanded.ext_vars[0].value, "guestbook-4f2a9c1");
        assert_eq!(expanded.ext_vars[1].value, "$5", "not a build variable");
    }

    #[test]
    fn imports_never_leave_the_repository() {
        let files = [("secret.libsonnet", "{ leaked: true }")];
        let error = run(
            "import '../../../secret.libsonnet'",
            &files,
            &Default::default(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("cannot import"), "{error}");
        let error = run("import '/etc/passwd'", &files, &Default::default()).unwrap_err();
        assert!(error.to_string().contains("cannot import"), "{error}");
        // Two levels up from apps/web is the repository root: allowed.
        let ok = run(
            "import '../../secret.libsonnet'",
            &files,
            &Default::default(),
        )
        .unwrap();
        assert_eq!(ok, [json!({"leaked": true})]);
    }
}
