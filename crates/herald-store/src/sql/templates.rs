//! Templates and the schedule row each scheduled template owns.
//!
//! Lock order is schedule row before template row wherever both are locked, the order a fire
//! claim takes them (it locks the schedule, then inserting the run key-share locks the
//! template). Template updates take only a no-key-update lock, which a claim's key-share does
//! not wait for.

use super::Backend;
use super::codec::{json_of, matches_search, opt_time_of, time_of};
use super::dialect::{Db, DbRow, FOR_NO_KEY_UPDATE, FOR_UPDATE, Tx, begin_write, db_time, push_in_list};
use crate::error::{Result, StoreError};
use crate::listing::{SearchTerms, TemplateFilter, TemplateName};
use crate::model::Template;
use crate::policy_json::{parse_policy, policy_json};
use crate::repos::TemplateRepo;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use const_format::formatcp;
use herald_core::{ChannelKind, MisfirePolicy, QuietHoursPolicy, ScheduleSpec, TemplateSpec, TemplateStatus};
use sqlx::types::Json;
use sqlx::{QueryBuilder, Row};

pub(super) const SELECT_TEMPLATE: &str = "SELECT t.policy_json, t.id, t.name, t.channel, t.channel_account, t.msg_type, \
     t.receiver_id_type, t.content_json, t.quiet_hours, t.crowd_id, t.status, t.created_at, t.updated_at, \
     s.cron, s.timezone, s.misfire, s.start_at, s.end_at, s.exclude_dates, s.exclude_windows, s.next_fire_at \
     FROM templates t LEFT JOIN schedules s ON s.template_id = t.id";

/// Deleted templates are kept (their runs, fires and messages refer to them) but are gone for
/// every reader.
const TEMPLATE_BY_ID: &str = formatcp!("{SELECT_TEMPLATE} WHERE t.id = $1 AND t.deleted_at IS NULL");

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("unknown {what} {value:?}"))
}

pub(super) fn template_from_row(row: &DbRow) -> Result<Template> {
    let channel: String = row.try_get("channel")?;
    let quiet: String = row.try_get("quiet_hours")?;
    let status: String = row.try_get("status")?;
    let cron: Option<String> = row.try_get("cron")?;
    let schedule = match cron {
        Some(cron) => {
            let misfire: String = row.try_get("misfire")?;
            Some(ScheduleSpec {
                cron,
                timezone: row.try_get("timezone")?,
                misfire: MisfirePolicy::parse(&misfire).ok_or_else(|| corrupt("misfire policy", &misfire))?,
                start_at: opt_time_of(row, "start_at")?,
                end_at: opt_time_of(row, "end_at")?,
                exclude_dates: excluded_dates_of(row)?,
                exclude_windows: excluded_windows_of(row)?,
            })
        }
        None => None,
    };
    let policy = parse_policy(row.try_get::<Option<String>, _>("policy_json")?.as_deref())?;
    let spec = TemplateSpec {
        name: row.try_get("name")?,
        channel: ChannelKind::parse(&channel).ok_or_else(|| corrupt("channel", &channel))?,
        channel_account: row.try_get("channel_account")?,
        msg_type: row.try_get("msg_type")?,
        receiver_id_type: row.try_get("receiver_id_type")?,
        content: json_of(row, "content_json")?,
        quiet_hours: QuietHoursPolicy::parse(&quiet).ok_or_else(|| corrupt("quiet-hours policy", &quiet))?,
        schedule,
        crowd_id: row.try_get("crowd_id")?,
        dedup: policy.dedup,
        test_mode: policy.test_mode,
        quiet_window: policy.quiet_window,
    };
    Ok(Template {
        id: row.try_get("id")?,
        spec,
        status: TemplateStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        next_fire_at: opt_time_of(row, "next_fire_at")?,
        created_at: time_of(row, "created_at")?,
        updated_at: time_of(row, "updated_at")?,
    })
}

/// The template as it stands inside `tx`.
pub(super) async fn template_in(tx: &mut Tx, id: i64) -> Result<Option<Template>> {
    let row = sqlx::query(TEMPLATE_BY_ID).bind(id).fetch_optional(&mut **tx).await?;
    row.as_ref().map(template_from_row).transpose()
}

/// A schedule's excluded days, from their JSON column (NULL for none).
pub(super) fn excluded_dates_of(row: &DbRow) -> Result<Vec<chrono::NaiveDate>> {
    excluded_dates(row.try_get("exclude_dates")?)
}

/// A schedule's excluded daily windows, from their JSON column (NULL for none).
pub(super) fn excluded_windows_of(row: &DbRow) -> Result<Vec<herald_core::cron::DailyWindow>> {
    excluded_windows(row.try_get("exclude_windows")?)
}

/// Excluded days as their column holds them.
pub(super) fn excluded_dates(json: Option<&str>) -> Result<Vec<chrono::NaiveDate>> {
    json.map_or(Ok(Vec::new()), |json| serde_json::from_str(json).map_err(|_| corrupt("excluded dates", json)))
}

/// Excluded daily windows as their column holds them.
pub(super) fn excluded_windows(json: Option<&str>) -> Result<Vec<herald_core::cron::DailyWindow>> {
    json.map_or(Ok(Vec::new()), |json| serde_json::from_str(json).map_err(|_| corrupt("excluded windows", json)))
}

/// A list as its JSON column holds it: NULL when empty.
pub(super) fn json_list<T: serde::Serialize>(items: &[T]) -> Option<String> {
    (!items.is_empty()).then(|| serde_json::json!(items).to_string())
}

/// The first fire after `now` within the schedule's dates, or None for a stopped template, an
/// ended schedule or an exhausted expression.
fn next_fire(spec: &ScheduleSpec, running: bool, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
    if !running {
        return Ok(None);
    }
    spec.first_fire_after(now).map_err(|e| StoreError::Conflict(e.to_string()))
}

async fn write_schedule(
    tx: &mut Tx,
    template_id: i64,
    spec: &TemplateSpec,
    running: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    let Some(schedule) = &spec.schedule else {
        sqlx::query("DELETE FROM schedules WHERE template_id = $1").bind(template_id).execute(&mut **tx).await?;
        return Ok(());
    };
    sqlx::query(
        "INSERT INTO schedules (kind, template_id, cron, timezone, misfire, enabled, next_fire_at, updated_at, \
         start_at, end_at, exclude_dates, exclude_windows) \
         VALUES ('template', $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (template_id) DO UPDATE SET cron = excluded.cron, timezone = excluded.timezone, \
         misfire = excluded.misfire, enabled = excluded.enabled, next_fire_at = excluded.next_fire_at, \
         updated_at = excluded.updated_at, start_at = excluded.start_at, end_at = excluded.end_at, \
         exclude_dates = excluded.exclude_dates, exclude_windows = excluded.exclude_windows",
    )
    .bind(template_id)
    .bind(&schedule.cron)
    .bind(&schedule.timezone)
    .bind(schedule.misfire.to_string())
    .bind(running)
    .bind(next_fire(schedule, running, now)?.map(db_time))
    .bind(db_time(now))
    .bind(schedule.start_at.map(db_time))
    .bind(schedule.end_at.map(db_time))
    .bind(json_list(&schedule.exclude_dates))
    .bind(json_list(&schedule.exclude_windows))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Locks the template's schedule row, if any, so the lock order matches a fire claim's.
async fn lock_schedule(tx: &mut Tx, template_id: i64) -> Result<()> {
    sqlx::query(formatcp!("SELECT id FROM schedules WHERE template_id = $1{FOR_UPDATE}"))
        .bind(template_id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(())
}

#[async_trait]
impl TemplateRepo for Backend {
    async fn create_template(&self, spec: &TemplateSpec, now: DateTime<Utc>) -> Result<Template> {
        let mut tx = begin_write(self.writer()).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO templates (name, channel, channel_account, msg_type, receiver_id_type, content_json, \
             quiet_hours, crowd_id, status, created_at, updated_at, policy_json) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11) RETURNING id",
        )
        .bind(spec.name.trim())
        .bind(spec.channel.as_str())
        .bind(&spec.channel_account)
        .bind(spec.msg_type)
        .bind(&spec.receiver_id_type)
        .bind(Json(&spec.content))
        .bind(spec.quiet_hours.as_str())
        .bind(&spec.crowd_id)
        .bind(TemplateStatus::Stopped.as_str())
        .bind(db_time(now))
        .bind(policy_json(spec))
        .fetch_one(&mut *tx)
        .await?;
        write_schedule(&mut tx, id, spec, false, now).await?;
        tx.commit().await?;
        self.get_template(id).await
    }

    async fn get_template(&self, id: i64) -> Result<Template> {
        let row = sqlx::query(TEMPLATE_BY_ID)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("template", id))?;
        template_from_row(&row)
    }

    async fn list_templates(&self, filter: &TemplateFilter) -> Result<Vec<Template>> {
        let search = SearchTerms::of(filter.search.as_deref());
        let sql = format!(
            "{SELECT_TEMPLATE} WHERE t.deleted_at IS NULL AND {} AND ($3 IS NULL OR t.status = $3) \
             AND ($4 IS NULL OR t.channel = $4) AND ($5 IS NULL OR t.crowd_id = $5) \
             ORDER BY t.id LIMIT $6 OFFSET $7",
            matches_search("t.name", "t.id")
        );
        let rows = sqlx::query(&sql)
            .bind(search.pattern)
            .bind(search.exact)
            .bind(filter.status.map(|s| s.as_str()))
            .bind(filter.channel.map(|c| c.as_str()))
            .bind(filter.crowd_id.as_deref())
            .bind(filter.window.limit)
            .bind(filter.window.offset)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(template_from_row).collect()
    }

    async fn template_names(&self, ids: &[i64]) -> Result<Vec<TemplateName>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut query =
            QueryBuilder::<Db>::new("SELECT id, name, deleted_at IS NOT NULL AS deleted FROM templates WHERE id");
        push_in_list(&mut query, ids.iter().copied());
        let rows = query.build().fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(TemplateName { id: r.try_get("id")?, name: r.try_get("name")?, deleted: r.try_get("deleted")? })
            })
            .collect()
    }

    async fn count_templates_by_status(&self) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT status, COUNT(*) FROM templates WHERE deleted_at IS NULL GROUP BY status ORDER BY status",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    async fn update_template(&self, id: i64, spec: &TemplateSpec, now: DateTime<Utc>) -> Result<Template> {
        let mut tx = begin_write(self.writer()).await?;
        lock_schedule(&mut tx, id).await?;
        let status: Option<String> = sqlx::query_scalar(
            "UPDATE templates SET name = $1, channel = $2, channel_account = $3, msg_type = $4, \
             receiver_id_type = $5, content_json = $6, quiet_hours = $7, crowd_id = $8, updated_at = $9, \
             policy_json = $10 WHERE id = $11 AND deleted_at IS NULL RETURNING status",
        )
        .bind(spec.name.trim())
        .bind(spec.channel.as_str())
        .bind(&spec.channel_account)
        .bind(spec.msg_type)
        .bind(&spec.receiver_id_type)
        .bind(Json(&spec.content))
        .bind(spec.quiet_hours.as_str())
        .bind(&spec.crowd_id)
        .bind(db_time(now))
        .bind(policy_json(spec))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let status = status.ok_or_else(|| StoreError::not_found("template", id))?;
        write_schedule(&mut tx, id, spec, status == TemplateStatus::Running.as_str(), now).await?;
        tx.commit().await?;
        self.get_template(id).await
    }

    async fn delete_template(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        let mut tx = begin_write(self.writer()).await?;
        // The schedule first (waiting for a claim that holds it): disarmed, its fires kept.
        lock_schedule(&mut tx, id).await?;
        let done = sqlx::query(
            "UPDATE templates SET deleted_at = $1, status = 'stopped', updated_at = $1              WHERE id = $2 AND deleted_at IS NULL",
        )
        .bind(db_time(now))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("template", id));
        }
        // Off the discard list too: the list names templates an operator can act on.
        sqlx::query("DELETE FROM discarded_templates WHERE template_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("UPDATE schedules SET enabled = $1, next_fire_at = NULL WHERE template_id = $2")
            .bind(false)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_template_status(&self, id: i64, status: TemplateStatus, now: DateTime<Utc>) -> Result<Template> {
        let mut tx = begin_write(self.writer()).await?;
        lock_schedule(&mut tx, id).await?;
        sqlx::query(formatcp!("SELECT id FROM templates WHERE id = $1{FOR_NO_KEY_UPDATE}"))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let template = template_in(&mut tx, id).await?.ok_or_else(|| StoreError::not_found("template", id))?;
        sqlx::query("UPDATE templates SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status.as_str())
            .bind(db_time(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        write_schedule(&mut tx, id, &template.spec, status == TemplateStatus::Running, now).await?;
        tx.commit().await?;
        self.get_template(id).await
    }
}
