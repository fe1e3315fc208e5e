//! Loading sample-data at first start: a crowd CSV in austin's layout and a template that
//! sends it to the outbox every 30 seconds, so a newcomer sees deliveries within a minute.
//! Nothing is loaded when the database already has a template.

use crate::context::Context;
use anyhow::Context as _;
use herald_core::{TemplateSpec, TemplateStatus};
use herald_crowd::{CrowdFormat, body_stream};
use std::path::Path;
use tokio_util::io::ReaderStream;

pub const SAMPLE_CROWD: &str = "crowd.csv";
pub const SAMPLE_TEMPLATE: &str = "template.json";

pub async fn load_sample_data(state: &Context, dir: &Path, max_upload_bytes: u64) -> anyhow::Result<()> {
    if !state
        .store
        .list_templates(&herald_store::TemplateFilter { window: herald_store::Window::first(1), ..Default::default() })
        .await?
        .is_empty()
    {
        return Ok(());
    }
    let template_path = dir.join(SAMPLE_TEMPLATE);
    let text = tokio::fs::read_to_string(&template_path)
        .await
        .with_context(|| format!("reading sample template {}", template_path.display()))?;
    let mut spec: TemplateSpec =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", template_path.display()))?;

    let crowd_path = dir.join(SAMPLE_CROWD);
    let file = tokio::fs::File::open(&crowd_path).await.with_context(|| format!("opening {}", crowd_path.display()))?;
    let saved = state
        .crowds
        .save(body_stream(ReaderStream::new(file)), max_upload_bytes, &CrowdFormat::default())
        .await
        .with_context(|| format!("loading {}", crowd_path.display()))?;
    let crowd = herald_api::record_crowd(&*state.store, &saved, SAMPLE_CROWD.into(), state.clock.now()).await?;
    spec.crowd_id = Some(crowd.id.clone());
    let problems = spec.validate(Some(&crowd.columns));
    anyhow::ensure!(problems.is_empty(), "sample template is invalid: {problems:?}");
    let template = state.store.create_template(&spec, state.clock.now()).await?;
    let template = state.store.set_template_status(template.id, TemplateStatus::Running, state.clock.now()).await?;
    tracing::info!(
        template_id = template.id,
        rows = crowd.rows,
        next_fire_at = ?template.next_fire_at,
        "loaded sample data: template {:?} sends {} rows to the outbox on {:?}",
        template.spec.name,
        crowd.rows,
        template.spec.schedule.as_ref().map(|s| s.cron.as_str()).unwrap_or("-"),
    );
    Ok(())
}
