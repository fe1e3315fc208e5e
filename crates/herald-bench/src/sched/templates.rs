//! The plan's schedules as herald templates, written through herald's own store (the API's
//! path minus HTTP): each a running template with the staggered cron and no crowd, so every
//! fire is the scheduler's work alone (the ledger records it as `no_crowd`).

use super::plan::Plan;
use anyhow::Context;
use chrono::Utc;
use futures::{StreamExt, TryStreamExt};
use herald_core::{TemplateSpec, TemplateStatus};
use herald_store::TemplateRepo;
use serde_json::json;

/// Templates written at once (PostgreSQL takes them in parallel; SQLite queues them on its one
/// writer).
const IN_FLIGHT: usize = 16;

fn spec(plan: &Plan, i: usize) -> anyhow::Result<TemplateSpec> {
    let spec = json!({
        "name": format!("scheduler bench {i}"),
        "channel": "outbox",
        "content": {"title": "tick", "body": "tick"},
        "schedule": {"cron": plan.quartz_cron(plan.offset_of(i)), "timezone": "UTC"},
    });
    serde_json::from_value(spec).context("a bench template")
}

async fn create_one(store: &dyn TemplateRepo, plan: &Plan, i: usize) -> anyhow::Result<()> {
    let template = store.create_template(&spec(plan, i)?, Utc::now()).await.context("creating a template")?;
    store.set_template_status(template.id, TemplateStatus::Running, Utc::now()).await.context("starting a template")?;
    Ok(())
}

/// Creates and starts the plan's templates.
pub async fn create(store: &dyn TemplateRepo, plan: &Plan) -> anyhow::Result<()> {
    futures::stream::iter(0..plan.schedules)
        .map(|i| create_one(store, plan, i))
        .buffer_unordered(IN_FLIGHT)
        .try_collect::<()>()
        .await
}
