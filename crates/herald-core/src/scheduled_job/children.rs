//! Child jobs: the jobs a job's fire triggers when it ends (on success, or always), each given
//! the parent's output as its parameter; the checks on the list, the cycle that is refused
//! when a job is saved, and how a parameter goes into an HTTP body.

use crate::field::FieldError;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Children of one job.
pub const MAX_CHILDREN: usize = 20;
/// The most of a parameter a fire keeps (a parent's output is at most 4 KiB).
pub const MAX_PARAM_BYTES: usize = 16 * 1024;
/// Where an HTTP job's body takes its fire's parameter.
pub const PARAM_PLACEHOLDER: &str = "{$param}";

/// A job to trigger when this one's fire ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChildJob {
    /// The child's name.
    pub job: String,
    /// `success` (the default) or `always`.
    #[serde(default)]
    pub on: ChildWhen,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChildWhen {
    /// When the parent's fire succeeded.
    #[default]
    Success,
    /// However the parent's fire ended (not when it was discarded).
    Always,
}

impl ChildWhen {
    pub fn holds(self, succeeded: bool) -> bool {
        self == Self::Always || succeeded
    }
}

/// Faults of a job's own list of children, each naming its field.
pub fn problems(parent: &str, children: &[ChildJob]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if children.len() > MAX_CHILDREN {
        errors.push(FieldError::new("children", format!("{} children; at most {MAX_CHILDREN}", children.len())));
    }
    let mut seen = BTreeSet::new();
    for (i, child) in children.iter().enumerate().take(MAX_CHILDREN) {
        let field = format!("children.{i}.job");
        let name = child.job.trim();
        if name.is_empty() {
            errors.push(FieldError::new(field, "must not be empty"));
        } else if name == parent.trim() {
            errors.push(FieldError::new(field, "a job cannot be its own child"));
        } else if !seen.insert(name) {
            errors.push(FieldError::new(field, format!("{name:?} is listed twice")));
        }
    }
    errors
}

/// A cycle through the children of `jobs` (name to its children's names), as the names along
/// it with the first repeated at the end; None when there is none.
pub fn cycle(jobs: &BTreeMap<String, Vec<String>>) -> Option<Vec<String>> {
    let mut done = BTreeSet::new();
    for start in jobs.keys() {
        let mut path = Vec::new();
        if let Some(found) = walk(jobs, start, &mut path, &mut done) {
            return Some(found);
        }
    }
    None
}

/// Depth-first from `name`, with `path` the names on the way to it.
fn walk<'a>(
    jobs: &'a BTreeMap<String, Vec<String>>,
    name: &'a str,
    path: &mut Vec<&'a str>,
    done: &mut BTreeSet<&'a str>,
) -> Option<Vec<String>> {
    if let Some(at) = path.iter().position(|n| *n == name) {
        let mut found: Vec<String> = path[at..].iter().map(|n| n.to_string()).collect();
        found.push(name.to_string());
        return Some(found);
    }
    if done.contains(name) {
        return None;
    }
    path.push(name);
    for child in jobs.get(name).into_iter().flatten() {
        if let Some(found) = walk(jobs, child, path, done) {
            return Some(found);
        }
    }
    path.pop();
    done.insert(name);
    None
}

/// An HTTP body with its `{$param}` replaced by the parameter written as the inside of a JSON
/// string (quotes, backslashes and control characters escaped), so `"{$param}"` in a JSON body
/// stays valid JSON whatever the parameter holds.
pub fn with_param(body: &str, param: Option<&str>) -> String {
    if !body.contains(PARAM_PLACEHOLDER) {
        return body.to_string();
    }
    let quoted = serde_json::Value::String(param.unwrap_or_default().to_string()).to_string();
    body.replace(PARAM_PLACEHOLDER, &quoted[1..quoted.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        edges.iter().map(|(n, c)| (n.to_string(), c.iter().map(|c| c.to_string()).collect())).collect()
    }

    #[test]
    fn a_cycle_through_children_is_found_and_named() {
        assert_eq!(cycle(&graph(&[("a", &["b", "c"]), ("b", &["c"]), ("c", &[])])), None);
        let found = cycle(&graph(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"])])).unwrap();
        assert_eq!(found, ["a", "b", "c", "a"]);
        let found = cycle(&graph(&[("a", &["b"]), ("b", &["c"]), ("c", &["b"]), ("d", &[])])).unwrap();
        assert_eq!(found, ["b", "c", "b"]);
    }

    #[test]
    fn a_list_of_children_names_each_fault_and_a_param_stays_valid_json() {
        let child = |job: &str| ChildJob { job: job.into(), on: ChildWhen::Success };
        let fields: Vec<String> =
            problems("a", &[child("b"), child(""), child("a"), child("b")]).into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["children.1.job", "children.2.job", "children.3.job"]);
        let body = with_param(r#"{"from": "{$param}"}"#, Some("line \"1\"\n"));
        let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["from"], "line \"1\"\n");
        assert_eq!(with_param("no placeholder", Some("x")), "no placeholder");
        assert!(ChildWhen::Always.holds(false) && !ChildWhen::Success.holds(false));
    }
}
