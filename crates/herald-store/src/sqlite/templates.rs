//! Templates and the schedule row each scheduled template owns.

use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::model::Template;
use crate::policy_json::{parse_policy, policy_json};
use crate::repos::TemplateRepo;
use crate::time::{from_ms, to_ms};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_core::{
    ChannelKind, CronSchedule, MisfirePolicy, QuietHoursPolicy, ScheduleSpec, TemplateSpec, TemplateStatus,
};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, Transaction};

pub(super) const SELECT_TEMPLATE: &str = "SELECT t.*, s.cron, s.timezone, s.misfire, s.next_fire_at \
     FROM templates t LEFT JOIN schedules s ON s.template_id = t.id";

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("unknown {what} {value:?}"))
}

pub(super) fn template_from_row(row: &SqliteRow) -> Result<Template> {
    let channel: String = row.try_get("channel")?;
    let quiet: String = row.try_get("quiet_hours")?;
    let status: String = row.try_get("status")?;
    let content: String = row.try_get("content_json")?;
    let cron: Option<String> = row.try_get("cron")?;
    let policy = parse_policy(row.try_get::<Option<String>, _>("policy_json")?.as_deref())?;
    let schedule = match cron {
        Some(cron) => {
            let misfire: String = row.try_get("misfire")?;
            Some(ScheduleSpec {
                cron,
                timezone: row.try_get("timezone")?,
                misfire: MisfirePolicy::parse(&misfire).ok_or_else(|| corrupt("misfire policy", &misfire))?,
            })
        }
        None => None,
    };
    let spec = TemplateSpec {
        name: row.try_get("name")?,
        channel: ChannelKind::parse(&channel).ok_or_else(|| corrupt("channel", &channel))?,
        channel_account: row.try_get("channel_account")?,
        msg_type: row.try_get("msg_type")?,
        receiver_id_type: row.try_get("receiver_id_type")?,
        content: serde_json::from_str(&content).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        quiet_hours: QuietHoursPolicy::parse(&quiet).ok_or_else(|| corrupt("quiet-hours policy", &quiet))?,
        schedule,
        crowd_id: row.try_get("crowd_id")?,
        dedup: policy.dedup,
        quiet_window: policy.quiet_window,
    };
    let next: Option<i64> = row.try_get("next_fire_at")?;
    Ok(Template {
        id: row.try_get("id")?,
        spec,
        status: TemplateStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        next_fire_at: next.map(from_ms),
        created_at: from_ms(row.try_get("created_at")?),
        updated_at: from_ms(row.try_get("updated_at")?),
    })
}

/// The first fire after `now`, or None for a stopped template or an exhausted expression.
fn next_fire(spec: &ScheduleSpec, running: bool, now: DateTime<Utc>) -> Result<Option<i64>> {
    if !running {
        return Ok(None);
    }
    let cron = CronSchedule::parse(&spec.cron, &spec.timezone).map_err(|e| StoreError::Conflict(e.to_string()))?;
    Ok(cron.next_after(now).map(to_ms))
}

async fn write_schedule(
    tx: &mut Transaction<'_, Sqlite>,
    template_id: i64,
    spec: &TemplateSpec,
    running: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    let Some(schedule) = &spec.schedule else {
        sqlx::query("DELETE FROM schedules WHERE template_id = ?").bind(template_id).execute(&mut **tx).await?;
        return Ok(());
    };
    sqlx::query(
        "INSERT INTO schedules (kind, template_id, cron, timezone, misfire, enabled, next_fire_at, updated_at) \
         VALUES ('template', ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (template_id) DO UPDATE SET cron = excluded.cron, timezone = excluded.timezone, \
         misfire = excluded.misfire, enabled = excluded.enabled, next_fire_at = excluded.next_fire_at, \
         updated_at = excluded.updated_at",
    )
    .bind(template_id)
    .bind(&schedule.cron)
    .bind(&schedule.timezone)
    .bind(schedule.misfire.as_str())
    .bind(running)
    .bind(next_fire(schedule, running, now)?)
    .bind(to_ms(now))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[async_trait]
impl TemplateRepo for SqliteStore {
    async fn create_template(&self, spec: &TemplateSpec, now: DateTime<Utc>) -> Result<Template> {
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO templates (name, channel, channel_account, msg_type, receiver_id_type, content_json, \
             quiet_hours, crowd_id, status, created_at, updated_at, policy_json) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(spec.name.trim())
        .bind(spec.channel.as_str())
        .bind(&spec.channel_account)
        .bind(spec.msg_type)
        .bind(&spec.receiver_id_type)
        .bind(spec.content.to_string())
        .bind(spec.quiet_hours.as_str())
        .bind(&spec.crowd_id)
        .bind(TemplateStatus::Stopped.as_str())
        .bind(to_ms(now))
        .bind(to_ms(now))
        .bind(policy_json(spec))
        .fetch_one(&mut *tx)
        .await?;
        write_schedule(&mut tx, id, spec, false, now).await?;
        tx.commit().await?;
        self.get_template(id).await
    }

    async fn get_template(&self, id: i64) -> Result<Template> {
        let row = sqlx::query(&format!("{SELECT_TEMPLATE} WHERE t.id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("template", id))?;
        template_from_row(&row)
    }

    async fn list_templates(&self) -> Result<Vec<Template>> {
        let rows = sqlx::query(&format!("{SELECT_TEMPLATE} ORDER BY t.id")).fetch_all(&self.pool).await?;
        rows.iter().map(template_from_row).collect()
    }

    async fn update_template(&self, id: i64, spec: &TemplateSpec, now: DateTime<Utc>) -> Result<Template> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let status: Option<String> = sqlx::query_scalar(
            "UPDATE templates SET name = ?, channel = ?, channel_account = ?, msg_type = ?, receiver_id_type = ?, \
             content_json = ?, quiet_hours = ?, crowd_id = ?, updated_at = ?, policy_json = ? WHERE id = ? \
             RETURNING status",
        )
        .bind(spec.name.trim())
        .bind(spec.channel.as_str())
        .bind(&spec.channel_account)
        .bind(spec.msg_type)
        .bind(&spec.receiver_id_type)
        .bind(spec.content.to_string())
        .bind(spec.quiet_hours.as_str())
        .bind(&spec.crowd_id)
        .bind(to_ms(now))
        .bind(policy_json(spec))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let status = status.ok_or_else(|| StoreError::not_found("template", id))?;
        write_schedule(&mut tx, id, spec, status == TemplateStatus::Running.as_str(), now).await?;
        tx.commit().await?;
        self.get_template(id).await
    }

    async fn delete_template(&self, id: i64) -> Result<()> {
        let done = sqlx::query("DELETE FROM templates WHERE id = ?").bind(id).execute(&self.pool).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("template", id));
        }
        Ok(())
    }

    async fn set_template_status(&self, id: i64, status: TemplateStatus, now: DateTime<Utc>) -> Result<Template> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let row = sqlx::query(&format!("{SELECT_TEMPLATE} WHERE t.id = ?"))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found("template", id))?;
        let template = template_from_row(&row)?;
        sqlx::query("UPDATE templates SET status = ?, updated_at = ? WHERE id = ?")
            .bind(status.as_str())
            .bind(to_ms(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        write_schedule(&mut tx, id, &template.spec, status == TemplateStatus::Running, now).await?;
        tx.commit().await?;
        self.get_template(id).await
    }
}
