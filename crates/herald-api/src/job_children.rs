//! The checks that keep jobs' children sound when a job is saved, renamed or deleted: every
//! child exists, no chain of children leads back to where it started, and a job another lists
//! as a child keeps its name and is not deleted from under it.

use crate::AppState;
use crate::error::ApiError;
use herald_core::field::FieldError;
use herald_core::scheduled_job::{JobSpec, children};
use herald_store::{JobRecord, Window};
use std::collections::BTreeMap;

/// Refuses `spec` (replacing `stored`, or new) when a child does not exist, when its children
/// would close a cycle, or when it renames a job another lists as a child.
pub(crate) async fn check_children(
    state: &AppState,
    stored: Option<&JobRecord>,
    spec: &JobSpec,
) -> Result<(), ApiError> {
    let id = stored.map(|j| j.id);
    let others: Vec<JobRecord> =
        state.store.list_jobs(Window::ALL).await?.into_iter().filter(|j| Some(j.id) != id).collect();
    let name = spec.name.trim();
    let mut errors = Vec::new();
    if let Some(old) = stored.map(|j| j.spec.name.as_str())
        && old != name
        && let Some(parent) = parent_of(&others, old)
    {
        errors.push(FieldError::new("name", format!("job {parent:?} lists {old:?} as a child; change it there first")));
    }
    for (i, child) in spec.children.iter().enumerate() {
        if !others.iter().any(|j| j.spec.name == child.job.trim()) {
            errors
                .push(FieldError::new(format!("children.{i}.job"), format!("no job is named {:?}", child.job.trim())));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let mut family: BTreeMap<String, Vec<String>> =
        others.iter().map(|j| (j.spec.name.clone(), names(&j.spec))).collect();
    family.insert(name.to_string(), names(spec));
    match children::cycle(&family) {
        Some(cycle) => Err(ApiError::field("children", format!("they would run in a circle: {}", cycle.join(" → ")))),
        None => Ok(()),
    }
}

/// Refuses to delete job `id` while another lists it as a child.
pub(crate) async fn check_unreferenced(state: &AppState, id: i64) -> Result<(), ApiError> {
    let jobs = state.store.list_jobs(Window::ALL).await?;
    let Some(name) = jobs.iter().find(|j| j.id == id).map(|j| j.spec.name.clone()) else { return Ok(()) };
    let others: Vec<JobRecord> = jobs.into_iter().filter(|j| j.id != id).collect();
    match parent_of(&others, &name) {
        Some(parent) => {
            Err(ApiError::Conflict(format!("job {parent:?} lists {name:?} as a child; change it there first")))
        }
        None => Ok(()),
    }
}

fn parent_of(jobs: &[JobRecord], name: &str) -> Option<String> {
    jobs.iter().find(|j| j.spec.children.iter().any(|c| c.job.trim() == name)).map(|j| j.spec.name.clone())
}

fn names(spec: &JobSpec) -> Vec<String> {
    spec.children.iter().map(|c| c.job.trim().to_string()).collect()
}
