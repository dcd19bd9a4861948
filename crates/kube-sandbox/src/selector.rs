//! Label selectors as `kubectl -l` and client libraries send them.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector(Vec<Requirement>);

impl LabelSelector {
    /// Parses `app=web,tier!=db,env in (dev,prod),!legacy,team`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut reqs = Vec::new();
        for term in split_terms(text) {
            let term = term.trim();
            if term.is_empty() {
                continue;
            }
            reqs.push(parse_term(term)?);
        }
        Ok(Self(reqs))
    }

    /// The selector a `LabelSelector` object says (`matchLabels` and `matchExpressions`), or
    /// `None` when it is malformed.
    pub fn from_object(selector: &serde_json::Value) -> Option<Self> {
        let mut reqs = Vec::new();
        if let Some(labels) = selector.get("matchLabels") {
            for (k, v) in labels.as_object()? {
                reqs.push(Requirement::Equals(k.clone(), v.as_str()?.to_string()));
            }
        }
        for expression in selector
            .get("matchExpressions")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = expression.get("key")?.as_str()?.to_string();
            let values = || -> Option<Vec<String>> {
                expression
                    .get("values")?
                    .as_array()?
                    .iter()
                    .map(|v| v.as_str().map(str::to_string))
                    .collect()
            };
            reqs.push(match expression.get("operator")?.as_str()? {
                "In" => Requirement::In(key, values()?),
                "NotIn" => Requirement::NotIn(key, values()?),
                "Exists" => Requirement::Exists(key),
                "DoesNotExist" => Requirement::NotExists(key),
                _ => return None,
            });
        }
        Some(Self(reqs))
    }

    /// True when every requirement holds for the labels of `object`.
    pub fn matches_object(&self, object: &serde_json::Value) -> bool {
        // The empty selector (most lists and watches) needs no labels at all.
        self.0.is_empty() || self.matches(&crate::store::labels_of(object))
    }

    /// True when every requirement holds for `labels`.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|r| match r {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::In(k, vs) => labels.get(k).is_some_and(|v| vs.contains(v)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|v| !vs.contains(v)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::NotExists(k) => !labels.contains_key(k),
        })
    }
}

/// Splits on commas that are not inside a `(...)` value set.
fn split_terms(text: &str) -> Vec<&str> {
    let mut terms = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    terms.push(&text[start..]);
    terms
}

fn parse_term(term: &str) -> Result<Requirement, String> {
    if let Some(key) = term.strip_prefix('!') {
        return Ok(Requirement::NotExists(key.trim().to_string()));
    }
    if let Some((k, v)) = term.split_once("!=") {
        return Ok(Requirement::NotEquals(k.trim().into(), v.trim().into()));
    }
    if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
        return Ok(Requirement::Equals(k.trim().into(), v.trim().into()));
    }
    for (op, negate) in [(" notin ", true), (" in ", false)] {
        if let Some((k, rest)) = term.split_once(op) {
            let values = rest
                .trim()
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .ok_or_else(|| {
                    format!("unable to parse requirement: {term:?}: values must be in parentheses")
                })?
                .split(',')
                .map(|v| v.trim().to_string())
                .collect();
            let key = k.trim().to_string();
            return Ok(if negate {
                Requirement::NotIn(key, values)
            } else {
                Requirement::In(key, values)
            });
        }
    }
    if term.contains(char::is_whitespace) {
        return Err(format!("unable to parse requirement: {term:?}"));
    }
    Ok(Requirement::Exists(term.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn equality_and_sets() {
        let s = LabelSelector::parse("app=web,env in (dev, prod),tier!=db").unwrap();
        assert!(s.matches(&labels(&[("app", "web"), ("env", "dev")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("env", "test")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("env", "dev"), ("tier", "db")])));
    }

    #[test]
    fn existence() {
        let s = LabelSelector::parse("team,!legacy").unwrap();
        assert!(s.matches(&labels(&[("team", "a")])));
        assert!(!s.matches(&labels(&[("team", "a"), ("legacy", "1")])));
        assert!(!s.matches(&labels(&[])));
    }

    #[test]
    fn malformed_set_is_an_error() {
        assert!(LabelSelector::parse("env in dev").is_err());
    }
}
