//! Normalize objects, mask Secret values, and diff their YAML text with `similar`.

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use ts_rs::TS;

pub mod three_way;

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Drops what never counts as drift: status, server bookkeeping in metadata, and the
/// last-applied annotation. Secrets get `stringData` folded into base64 `data`.
pub fn normalize(obj: &Value) -> Value {
    let mut o = obj.clone();
    let Some(map) = o.as_object_mut() else {
        return o;
    };
    map.remove("status");
    if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in [
            "managedFields",
            "resourceVersion",
            "uid",
            "generation",
            "creationTimestamp",
            "selfLink",
        ] {
            meta.remove(field);
        }
        if let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            annotations.remove(LAST_APPLIED);
            if annotations.is_empty() {
                meta.remove("annotations");
            }
        }
    }
    if map.get("kind").and_then(Value::as_str) == Some("Secret") {
        fold_string_data(map);
    }
    o
}

/// Folds a Secret's `stringData` into base64 `data`, as the API server does, and makes a null
/// `data` value empty. A Secret whose `stringData` holds something that is not a string (or
/// whose `data` is not a map) is invalid: it is left as it is, so that it shows as it is and
/// the server refuses it, rather than passing for an empty value.
fn fold_string_data(map: &mut Map<String, Value>) {
    if let Some(Value::Object(data)) = map.get_mut("data") {
        for value in data.values_mut().filter(|v| v.is_null()) {
            *value = json!("");
        }
    }
    let valid = match map.get("stringData") {
        Some(Value::Object(string_data)) => {
            string_data.values().all(|v| v.is_string() || v.is_null())
                && map.get("data").is_none_or(|d| d.is_object() || d.is_null())
        }
        _ => false,
    };
    if !valid {
        return;
    }
    let Some(Value::Object(string_data)) = map.remove("stringData") else {
        return;
    };
    if !map.get("data").is_some_and(Value::is_object) {
        map.insert("data".into(), json!({}));
    }
    if let Some(Value::Object(data)) = map.get_mut("data") {
        for (k, v) in string_data {
            let text = v.as_str().unwrap_or_default();
            data.insert(
                k,
                json!(base64::engine::general_purpose::STANDARD.encode(text)),
            );
        }
    }
}

/// Replaces Secret `data` values on both sides with runs of `+`: per key, each distinct value
/// gets its own mask (8 `+` for the first, 4 more for each further one), so a change shows
/// and the value does not. Objects that are not Secrets pass through.
pub fn mask_secrets(a: Option<&mut Value>, b: Option<&mut Value>) {
    let is_secret = |v: &Option<&mut Value>| {
        v.as_ref()
            .is_some_and(|v| v.get("kind").and_then(Value::as_str) == Some("Secret"))
    };
    if !is_secret(&a) && !is_secret(&b) {
        return;
    }
    // Per field and key: the distinct values seen, each with its own mask. A value that is not
    // where a Secret's values belong (a list under `data`, a number under `stringData`) is
    // masked all the same.
    let mut masks: HashMap<String, Vec<Value>> = HashMap::new();
    let mut mask_one = |obj: &mut Value| {
        for field in ["data", "stringData"] {
            let Some(values) = obj.get_mut(field) else {
                continue;
            };
            let mut mask = |slot: String, value: &mut Value| {
                let seen = masks.entry(slot).or_default();
                let index = seen.iter().position(|v| v == value).unwrap_or_else(|| {
                    seen.push(value.clone());
                    seen.len() - 1
                });
                *value = json!("+".repeat(8 + 4 * index));
            };
            match values {
                Value::Object(map) => {
                    for (key, value) in map.iter_mut() {
                        mask(format!("{field}/{key}"), value);
                    }
                }
                Value::Array(items) => {
                    for (index, value) in items.iter_mut().enumerate() {
                        mask(format!("{field}[{index}]"), value);
                    }
                }
                Value::Null => {}
                other => mask(field.to_string(), other),
            }
        }
    };
    for side in [a, b].into_iter().flatten() {
        mask_one(side);
    }
}

/// Differences to ignore on some of an application's resources, as Argo CD's
/// `ignoreDifferences`: fields by JSON pointer, and every field that named field managers own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct IgnoreRule {
    /// Empty matches any group (the core group is matched by "" only when `kind` is set).
    pub group: String,
    /// Empty matches any kind.
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// RFC 6901 pointers such as `/spec/replicas`.
    pub json_pointers: Vec<String>,
    /// Field managers (`kube-controller-manager`, `kubectl-edit`, `hpa`…) whose fields are ignored.
    pub managed_fields_managers: Vec<String>,
}

impl IgnoreRule {
    fn matches(&self, group: &str, kind: &str, namespace: &str, name: &str) -> bool {
        let any_or = |want: &str, have: &str| want.is_empty() || want == have;
        (any_or(&self.kind, kind)
            && (self.kind.is_empty() && self.group.is_empty() || self.group == group))
            && any_or(&self.namespace, namespace)
            && any_or(&self.name, name)
    }
}

/// One step of a path through an object, as managed fields write it.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// `f:name`: a field of an object.
    Field(String),
    /// `k:{...}`: the list item whose fields have these values.
    Key(serde_json::Map<String, Value>),
    /// `v:value`: the set member equal to this value.
    Value(Value),
    /// A list index, from a JSON pointer.
    Index(usize),
}

/// The concrete fields to drop from both sides of one resource's comparison.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ignored(Vec<Vec<Step>>);

impl Ignored {
    /// The fields `rules` ignore on the resource `(group, kind, namespace, name)`, reading field
    /// ownership from `live`'s managed fields.
    pub fn for_resource(
        rules: &[IgnoreRule],
        (group, kind, namespace, name): (&str, &str, &str, &str),
        live: Option<&Value>,
    ) -> Self {
        let mut paths = Vec::new();
        for rule in rules
            .iter()
            .filter(|r| r.matches(group, kind, namespace, name))
        {
            paths.extend(rule.json_pointers.iter().filter_map(|p| pointer_steps(p)));
            let owners = live
                .and_then(|l| l.pointer("/metadata/managedFields"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|entry| {
                    entry
                        .get("manager")
                        .and_then(Value::as_str)
                        .is_some_and(|m| rule.managed_fields_managers.iter().any(|want| want == m))
                });
            for entry in owners {
                if let Some(fields) = entry.get("fieldsV1") {
                    owned_paths(fields, &mut Vec::new(), &mut paths);
                }
            }
        }
        Self(paths)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Drops every ignored field from `obj`.
    pub fn apply(&self, obj: &mut Value) {
        for path in &self.0 {
            remove_path(obj, path);
        }
    }
}

fn pointer_steps(pointer: &str) -> Option<Vec<Step>> {
    let rest = pointer.strip_prefix('/')?;
    Some(
        rest.split('/')
            .map(|token| {
                let token = token.replace("~1", "/").replace("~0", "~");
                match token.parse::<usize>() {
                    Ok(i) => Step::Index(i),
                    Err(_) => Step::Field(token),
                }
            })
            .collect(),
    )
}

/// Every leaf path in a managed-fields set (`fieldsV1`).
fn owned_paths(fields: &Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    let Some(map) = fields.as_object() else {
        return;
    };
    for (name, child) in map {
        let step = if name == "." {
            // The item itself: owned as a whole only when nothing below is listed.
            if map.len() == 1 {
                out.push(prefix.clone());
            }
            continue;
        } else if let Some(field) = name.strip_prefix("f:") {
            Step::Field(field.to_string())
        } else if let Some(key) = name.strip_prefix("k:") {
            match serde_json::from_str::<Value>(key) {
                Ok(Value::Object(k)) => Step::Key(k),
                _ => continue,
            }
        } else if let Some(value) = name.strip_prefix("v:") {
            match serde_json::from_str::<Value>(value) {
                Ok(v) => Step::Value(v),
                _ => continue,
            }
        } else {
            continue;
        };
        prefix.push(step);
        if child.as_object().is_some_and(|c| !c.is_empty()) {
            owned_paths(child, prefix, out);
        } else {
            out.push(prefix.clone());
        }
        prefix.pop();
    }
}

fn remove_path(obj: &mut Value, path: &[Step]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut at = obj;
    for step in parents {
        let next = match (step, at) {
            (Step::Field(f), Value::Object(m)) => m.get_mut(f),
            (Step::Index(i), Value::Array(a)) => a.get_mut(*i),
            (Step::Key(k), Value::Array(a)) => a.iter_mut().find(|item| item_has(item, k)),
            (Step::Value(v), Value::Array(a)) => a.iter_mut().find(|item| *item == v),
            _ => None,
        };
        match next {
            Some(n) => at = n,
            None => return,
        }
    }
    match (last, at) {
        (Step::Field(f), Value::Object(m)) => {
            m.remove(f);
        }
        (Step::Index(i), Value::Array(a)) if *i < a.len() => {
            a.remove(*i);
        }
        (Step::Key(k), Value::Array(a)) => a.retain(|item| !item_has(item, k)),
        (Step::Value(v), Value::Array(a)) => a.retain(|item| item != v),
        _ => {}
    }
}

fn item_has(item: &Value, key: &serde_json::Map<String, Value>) -> bool {
    key.iter().all(|(k, v)| item.get(k) == Some(v))
}

/// YAML text of an object, keys sorted, as the diff shows it.
pub fn to_yaml(obj: &Value) -> String {
    serde_norway::to_string(obj).unwrap_or_else(|e| format!("# could not show as YAML: {e}\n"))
}

/// How one diff line relates the two sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub enum LineChange {
    Equal,
    Delete,
    Insert,
}

/// One line of a unified diff, with its numbers on each side (1-based).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DiffLine {
    pub change: LineChange,
    pub old_line: Option<u32>,
    pub new_line: Option<u32>,
    pub text: String,
    /// The parts of a changed line that differ from its counterpart on the other side, as
    /// `[start, end)` offsets in UTF-16 code units (as JavaScript indexes strings).
    pub emphasis: Vec<Span>,
}

/// A range of a line, in UTF-16 code units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

/// Line diff of `old` (live) to `new` (desired), with intra-line emphasis on changed lines:
/// each deleted line of a changed block is paired with the inserted line at the same place.
pub fn lines(old: &str, new: &str) -> Vec<DiffLine> {
    let diff = similar::TextDiff::from_lines(old, new);
    let mut out = Vec::new();
    for op in diff.ops() {
        let start = out.len();
        out.extend(diff.iter_changes(op).map(|c| DiffLine {
            change: match c.tag() {
                similar::ChangeTag::Equal => LineChange::Equal,
                similar::ChangeTag::Delete => LineChange::Delete,
                similar::ChangeTag::Insert => LineChange::Insert,
            },
            old_line: c.old_index().map(|i| i as u32 + 1),
            new_line: c.new_index().map(|i| i as u32 + 1),
            text: c.to_string_lossy().trim_end_matches('\n').to_string(),
            emphasis: Vec::new(),
        }));
        if let similar::DiffOp::Replace {
            old_len, new_len, ..
        } = *op
        {
            for i in 0..old_len.min(new_len) {
                let (deleted, inserted) = out.split_at_mut(start + old_len);
                emphasize(&mut deleted[start + i], &mut inserted[i]);
            }
        }
    }
    out
}

/// Words (runs of letters and digits) and single other characters: `nginx:1.25` is
/// `nginx`, `:`, `1`, `.`, `25`, so a changed tag shows as the tag alone.
fn tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut word = false;
    for (i, c) in text.char_indices() {
        let is_word = c.is_alphanumeric();
        if i > start && (!is_word || !word) {
            out.push(&text[start..i]);
            start = i;
        }
        word = is_word;
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// Marks the tokens in which two paired lines differ.
fn emphasize(old: &mut DiffLine, new: &mut DiffLine) {
    let (old_spans, new_spans) = differing_tokens(&old.text, &new.text);
    old.emphasis = old_spans;
    new.emphasis = new_spans;
}

fn differing_tokens(old: &str, new: &str) -> (Vec<Span>, Vec<Span>) {
    let (a, b) = (tokens(old), tokens(new));
    let offsets = |t: &[&str]| {
        let mut at = vec![0u32];
        for token in t {
            at.push(at.last().copied().unwrap_or(0) + token.encode_utf16().count() as u32);
        }
        at
    };
    let (at_a, at_b) = (offsets(&a), offsets(&b));
    let (mut spans_a, mut spans_b) = (Vec::new(), Vec::new());
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &a, &b) {
        let (tag, ra, rb) = op.as_tag_tuple();
        if tag == similar::DiffTag::Equal {
            continue;
        }
        mark(&mut spans_a, at_a[ra.start], at_a[ra.end]);
        mark(&mut spans_b, at_b[rb.start], at_b[rb.end]);
    }
    // A line changed from end to end says nothing more with emphasis.
    let whole = |spans: &mut Vec<Span>, total: u32| {
        if matches!(spans.as_slice(), [s] if s.start == 0 && s.end == total) {
            spans.clear();
        }
    };
    whole(&mut spans_a, at_a[a.len()]);
    whole(&mut spans_b, at_b[b.len()]);
    (spans_a, spans_b)
}

fn mark(spans: &mut Vec<Span>, start: u32, end: u32) {
    if start == end {
        return;
    }
    match spans.last_mut() {
        Some(last) if last.end == start => last.end = end,
        _ => spans.push(Span { start, end }),
    }
}

/// A unified diff with long unchanged runs collapsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum DiffRow {
    Line {
        line: DiffLine,
    },
    /// `hidden` unchanged lines, starting at these numbers on each side.
    Gap {
        hidden: u32,
        old_line: u32,
        new_line: u32,
    },
}

/// Keeps `context` unchanged lines around each change and folds longer unchanged runs into gaps.
pub fn collapse(lines: &[DiffLine], context: usize) -> Vec<DiffRow> {
    let changed: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.change != LineChange::Equal)
        .map(|(i, _)| i)
        .collect();
    let near = |i: usize| {
        let at = changed.partition_point(|&c| c < i);
        let after = changed.get(at).is_some_and(|&c| c - i <= context);
        let before = at > 0 && i - changed[at - 1] <= context;
        after || before
    };
    let mut rows = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].change != LineChange::Equal || near(i) {
            rows.push(DiffRow::Line {
                line: lines[i].clone(),
            });
            i += 1;
            continue;
        }
        let start = i;
        while i < lines.len() && lines[i].change == LineChange::Equal && !near(i) {
            i += 1;
        }
        rows.push(DiffRow::Gap {
            hidden: (i - start) as u32,
            old_line: lines[start].old_line.unwrap_or_default(),
            new_line: lines[start].new_line.unwrap_or_default(),
        });
    }
    rows
}

/// One row of a side-by-side diff: live on the left, desired on the right.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum SplitRow {
    Pair {
        left: Option<DiffLine>,
        right: Option<DiffLine>,
    },
    Gap {
        hidden: u32,
        old_line: u32,
        new_line: u32,
    },
}

/// Side by side: unchanged lines on both sides, each run of deletions paired line by line with
/// the insertions that follow it.
pub fn side_by_side(rows: &[DiffRow]) -> Vec<SplitRow> {
    let mut out = Vec::new();
    let mut deleted: Vec<DiffLine> = Vec::new();
    let mut inserted: Vec<DiffLine> = Vec::new();
    let flush =
        |out: &mut Vec<SplitRow>, deleted: &mut Vec<DiffLine>, inserted: &mut Vec<DiffLine>| {
            let n = deleted.len().max(inserted.len());
            let mut d = deleted.drain(..);
            let mut ins = inserted.drain(..);
            for _ in 0..n {
                out.push(SplitRow::Pair {
                    left: d.next(),
                    right: ins.next(),
                });
            }
        };
    for row in rows {
        match row {
            DiffRow::Line { line } if line.change == LineChange::Delete => {
                if !inserted.is_empty() {
                    flush(&mut out, &mut deleted, &mut inserted);
                }
                deleted.push(line.clone());
            }
            DiffRow::Line { line } if line.change == LineChange::Insert => {
                inserted.push(line.clone())
            }
            DiffRow::Line { line } => {
                flush(&mut out, &mut deleted, &mut inserted);
                out.push(SplitRow::Pair {
                    left: Some(line.clone()),
                    right: Some(line.clone()),
                });
            }
            DiffRow::Gap {
                hidden,
                old_line,
                new_line,
            } => {
                flush(&mut out, &mut deleted, &mut inserted);
                out.push(SplitRow::Gap {
                    hidden: *hidden,
                    old_line: *old_line,
                    new_line: *new_line,
                });
            }
        }
    }
    flush(&mut out, &mut deleted, &mut inserted);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_drops_bookkeeping_and_keeps_content() {
        let live = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "uid": "x", "resourceVersion": "9", "generation": 2,
                         "creationTimestamp": "t", "managedFields": [], "selfLink": "s",
                         "annotations": {LAST_APPLIED: "{}"}},
            "data": {"k": "v"}, "status": {"x": 1}
        });
        assert_eq!(
            normalize(&live),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "v"}})
        );
    }

    #[test]
    fn secret_string_data_folds_into_data() {
        let s = json!({"kind": "Secret", "stringData": {"pw": "hunter2"}, "data": {"user": "YWRtaW4="}});
        let n = normalize(&s);
        assert_eq!(n["data"]["pw"], "aHVudGVyMg==");
        assert!(n.get("stringData").is_none());
    }

    #[test]
    fn masking_hides_values_but_shows_change() {
        let mut live = json!({"kind": "Secret", "data": {"pw": "b2xk", "user": "YQ=="}});
        let mut desired = json!({"kind": "Secret", "data": {"pw": "bmV3", "user": "YQ=="}});
        mask_secrets(Some(&mut live), Some(&mut desired));
        assert_eq!(live["data"]["pw"], "++++++++");
        assert_eq!(desired["data"]["pw"], "++++++++++++");
        assert_eq!(live["data"]["user"], desired["data"]["user"]);
        let text = to_yaml(&live) + &to_yaml(&desired);
        assert!(!text.contains("b2xk") && !text.contains("bmV3"));
    }

    #[test]
    fn masking_leaves_other_kinds_alone() {
        let mut cm = json!({"kind": "ConfigMap", "data": {"k": "v"}});
        mask_secrets(Some(&mut cm), None);
        assert_eq!(cm["data"]["k"], "v");
    }

    #[test]
    fn line_diff_numbers_both_sides() {
        let d = lines("a\nb\nc\n", "a\nB\nc\n");
        let changes: Vec<_> = d
            .iter()
            .map(|l| (l.change, l.old_line, l.new_line, l.text.as_str()))
            .collect();
        assert_eq!(
            changes,
            [
                (LineChange::Equal, Some(1), Some(1), "a"),
                (LineChange::Delete, Some(2), None, "b"),
                (LineChange::Insert, None, Some(2), "B"),
                (LineChange::Equal, Some(3), Some(3), "c"),
            ]
        );
    }

    #[test]
    fn changed_lines_carry_the_changed_part_only() {
        let d = lines(
            "image: nginx:1.25\nreplicas: 2\n",
            "image: nginx:1.27\nreplicas: 2\n",
        );
        let spans: Vec<_> = d
            .iter()
            .map(|l| {
                (
                    l.change,
                    l.emphasis
                        .iter()
                        .map(|s| &l.text[s.start as usize..s.end as usize])
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        assert_eq!(
            spans,
            [
                (LineChange::Delete, vec!["25"]),
                (LineChange::Insert, vec!["27"]),
                (LineChange::Equal, vec![]),
            ]
        );
        // A line with nothing in common gets no emphasis: the whole line is the change.
        let whole = lines("a: 1\n", "zzz\n");
        assert!(whole.iter().all(|l| l.emphasis.is_empty()), "{whole:?}");
    }

    #[test]
    fn emphasis_counts_utf16_units_as_the_ui_does() {
        let d = lines("name: café-1\n", "name: café-2\n");
        let span = d[1].emphasis[0];
        let units: Vec<u16> = d[1].text.encode_utf16().collect();
        assert_eq!(
            String::from_utf16(&units[span.start as usize..span.end as usize]).unwrap(),
            "2"
        );
    }

    #[test]
    fn long_unchanged_runs_collapse_into_gaps() {
        let old: String = (1..=20).map(|i| format!("line {i}\n")).collect();
        let new = old.replace("line 10\n", "line ten\n");
        let rows = collapse(&lines(&old, &new), 2);
        let shape: Vec<String> = rows
            .iter()
            .map(|r| match r {
                DiffRow::Gap {
                    hidden, old_line, ..
                } => format!("gap {hidden} from {old_line}"),
                DiffRow::Line { line } => format!("{:?} {}", line.change, line.text),
            })
            .collect();
        assert_eq!(
            shape,
            [
                "gap 7 from 1",
                "Equal line 8",
                "Equal line 9",
                "Delete line 10",
                "Insert line ten",
                "Equal line 11",
                "Equal line 12",
                "gap 8 from 13",
            ]
        );
        assert_eq!(
            collapse(&lines("a\n", "a\n"), 3).len(),
            1,
            "one unchanged line stays a gap"
        );
    }

    #[test]
    fn side_by_side_pairs_deletions_with_insertions() {
        let rows = collapse(&lines("a\nb\nc\nd\n", "a\nB\nC\nX\nd\n"), 5);
        let pairs: Vec<(Option<String>, Option<String>)> = side_by_side(&rows)
            .into_iter()
            .map(|r| match r {
                SplitRow::Pair { left, right } => (left.map(|l| l.text), right.map(|l| l.text)),
                SplitRow::Gap { .. } => (None, None),
            })
            .collect();
        let s = |t: &str| Some(t.to_string());
        assert_eq!(
            pairs,
            [
                (s("a"), s("a")),
                (s("b"), s("B")),
                (s("c"), s("C")),
                (None, s("X")),
                (s("d"), s("d")),
            ]
        );
    }

    #[test]
    fn ignore_rules_by_pointer_match_group_kind_and_name() {
        let rule = IgnoreRule {
            group: "apps".into(),
            kind: "Deployment".into(),
            json_pointers: vec!["/spec/replicas".into(), "/metadata/annotations/a~1b".into()],
            ..Default::default()
        };
        let mut obj = json!({"metadata": {"annotations": {"a/b": "x", "c": "y"}}, "spec": {"replicas": 3, "paused": false}});
        let ignored = Ignored::for_resource(
            std::slice::from_ref(&rule),
            ("apps", "Deployment", "web", "api"),
            None,
        );
        ignored.apply(&mut obj);
        assert_eq!(
            obj,
            json!({"metadata": {"annotations": {"c": "y"}}, "spec": {"paused": false}})
        );
        for other in [
            ("", "Deployment", "web", "api"),
            ("apps", "StatefulSet", "web", "api"),
        ] {
            assert!(
                Ignored::for_resource(std::slice::from_ref(&rule), other, None).is_empty(),
                "{other:?}"
            );
        }
        let by_name = IgnoreRule {
            name: "other".into(),
            ..rule
        };
        assert!(
            Ignored::for_resource(&[by_name], ("apps", "Deployment", "web", "api"), None)
                .is_empty()
        );
    }

    #[test]
    fn ignore_rules_by_manager_drop_the_fields_it_owns_on_both_sides() {
        let live = json!({
            "metadata": {"name": "web", "managedFields": [
                {"manager": "hpa", "operation": "Update", "fieldsV1": {"f:spec": {"f:replicas": {}}}},
                {"manager": "kubectl-edit", "operation": "Update", "fieldsV1": {"f:spec": {"f:template": {"f:spec": {
                    "f:containers": {"k:{\"name\":\"web\"}": {".": {}, "f:image": {}}}}}}}},
                {"manager": "plumbline", "operation": "Apply", "fieldsV1": {"f:spec": {"f:paused": {}}}}
            ]},
            "spec": {"replicas": 7, "paused": false, "template": {"spec": {"containers": [
                {"name": "side", "image": "envoy:1"}, {"name": "web", "image": "nginx:edited"}]}}}
        });
        let rule = IgnoreRule {
            managed_fields_managers: vec!["hpa".into(), "kubectl-edit".into()],
            ..Default::default()
        };
        let ignored = Ignored::for_resource(
            &[rule],
            ("apps", "Deployment", "default", "web"),
            Some(&live),
        );
        let mut desired = json!({"spec": {"replicas": 2, "paused": false, "template": {"spec": {"containers": [
            {"name": "side", "image": "envoy:1"}, {"name": "web", "image": "nginx:1.27"}]}}}});
        let mut live = normalize(&live);
        ignored.apply(&mut live);
        ignored.apply(&mut desired);
        let expected = json!({"spec": {"paused": false, "template": {"spec": {"containers": [
            {"name": "side", "image": "envoy:1"}, {"name": "web"}]}}}});
        assert_eq!(desired, expected);
        assert_eq!(live["spec"], expected["spec"]);
    }
}
