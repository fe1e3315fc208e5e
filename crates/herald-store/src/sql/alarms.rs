//! Raised alarm rules, per schedule (a job's or a housekeeping one's): whether a raise is the
//! one that sends (one alarm per rule per quiet window, across nodes: the conditional update
//! decides), whether a recovery is due, and the fires a failure rate counts.

use super::Backend;
use super::codec::opt_time_of;
use super::dialect::{TRUE, begin_write, db_time};
use crate::error::Result;
use crate::listing::Window;
use crate::model::{RaisedAlarm, RaisedAlarmRecord};
use crate::repos::AlarmRepo;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use const_format::formatcp;
use sqlx::Row;

#[async_trait]
impl AlarmRepo for Backend {
    async fn raise_alarm(&self, schedule_id: i64, rule: &str, now: DateTime<Utc>, quiet: Duration) -> Result<bool> {
        let mut tx = begin_write(self.writer()).await?;
        sqlx::query("INSERT INTO schedule_alarms (schedule_id, rule) VALUES ($1, $2) ON CONFLICT (schedule_id, rule) DO NOTHING")
            .bind(schedule_id)
            .bind(rule)
            .execute(&mut *tx)
            .await?;
        let sent = sqlx::query(formatcp!(
            "UPDATE schedule_alarms SET raised = {TRUE}, last_sent_at = $1, quieted = 0 \
             WHERE schedule_id = $2 AND rule = $3 AND (last_sent_at IS NULL OR last_sent_at <= $4)"
        ))
        .bind(db_time(now))
        .bind(schedule_id)
        .bind(rule)
        .bind(db_time(now - quiet))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if !sent {
            sqlx::query(formatcp!(
                "UPDATE schedule_alarms SET raised = {TRUE}, quieted = quieted + 1 WHERE schedule_id = $1 AND rule = $2"
            ))
            .bind(schedule_id)
            .bind(rule)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(sent)
    }

    async fn recover_alarm(&self, schedule_id: i64, rule: &str) -> Result<bool> {
        let recovered = sqlx::query(formatcp!(
            "UPDATE schedule_alarms SET raised = FALSE, last_sent_at = NULL, quieted = 0 \
             WHERE schedule_id = $1 AND rule = $2 AND raised = {TRUE}"
        ))
        .bind(schedule_id)
        .bind(rule)
        .execute(self.writer())
        .await?;
        Ok(recovered.rows_affected() > 0)
    }

    async fn fire_counts(&self, schedule_id: i64, since: DateTime<Utc>) -> Result<(u64, u64)> {
        let row = sqlx::query(
            "WITH RECURSIVE chain (id) AS ( \
             SELECT last_fire_id FROM schedules WHERE id = $1 AND last_fire_id IS NOT NULL \
             UNION ALL SELECT f.prev_fire_id FROM chain JOIN fires f ON f.id = chain.id \
             WHERE f.prev_fire_id IS NOT NULL AND f.fire_time >= $2) \
             SELECT COUNT(*) AS fires, COALESCE(SUM(CASE WHEN f.outcome = 'failed' THEN 1 ELSE 0 END), 0) AS failed \
             FROM chain JOIN fires f ON f.id = chain.id WHERE f.fire_time >= $2 AND f.outcome IN ('succeeded', 'failed')",
        )
        .bind(schedule_id)
        .bind(db_time(since))
        .fetch_one(&self.pool)
        .await?;
        let count = |name: &str| -> Result<u64> { Ok(u64::try_from(row.try_get::<i64, _>(name)?).unwrap_or(0)) };
        Ok((count("fires")?, count("failed")?))
    }

    async fn list_raised_alarms(&self, window: Window) -> Result<Vec<RaisedAlarmRecord>> {
        let rows = sqlx::query(formatcp!(
            "SELECT a.schedule_id, a.rule, a.last_sent_at, a.quieted, s.kind, s.job_id, j.name AS job_name, \
             s.account_id, c.name AS account_name FROM schedule_alarms a JOIN schedules s ON s.id = a.schedule_id \
             LEFT JOIN jobs j ON j.id = s.job_id LEFT JOIN channel_accounts c ON c.id = s.account_id \
             WHERE a.raised = {TRUE} ORDER BY a.schedule_id, a.rule LIMIT $1 OFFSET $2"
        ))
        .bind(window.limit)
        .bind(window.offset)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RaisedAlarmRecord {
                    schedule_id: r.try_get("schedule_id")?,
                    kind: r.try_get("kind")?,
                    job_id: r.try_get("job_id")?,
                    job_name: r.try_get("job_name")?,
                    account_id: r.try_get("account_id")?,
                    account_name: r.try_get("account_name")?,
                    rule: r.try_get("rule")?,
                    last_sent_at: opt_time_of(r, "last_sent_at")?,
                    quieted: r.try_get("quieted")?,
                })
            })
            .collect()
    }

    async fn raised_alarms(&self, schedule_id: i64) -> Result<Vec<RaisedAlarm>> {
        let rows = sqlx::query(formatcp!(
            "SELECT rule, last_sent_at, quieted FROM schedule_alarms WHERE schedule_id = $1 AND raised = {TRUE} ORDER BY rule"
        ))
        .bind(schedule_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RaisedAlarm {
                    rule: r.try_get("rule")?,
                    last_sent_at: opt_time_of(r, "last_sent_at")?,
                    quieted: r.try_get("quieted")?,
                })
            })
            .collect()
    }
}
