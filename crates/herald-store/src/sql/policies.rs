//! Send-time policy settings: the discard list and per-channel rates.

use super::Backend;
use super::codec::time_of;
use super::dialect::{BYTE_ORDER, db_time};
use crate::error::{Result, StoreError};
use crate::model::{ChannelRate, DiscardEntry};
use crate::repos::PolicyRepo;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use const_format::formatcp;
use herald_core::ChannelKind;
use sqlx::Row;

#[async_trait]
impl PolicyRepo for Backend {
    async fn discard_template(&self, template_id: i64, reason: Option<&str>, now: DateTime<Utc>) -> Result<()> {
        // Discarding again keeps the first `since` and takes the new reason.
        let done = sqlx::query(
            "INSERT INTO discarded_templates (template_id, reason, since) SELECT id, $2, $3 FROM templates \
             WHERE id = $1 ON CONFLICT (template_id) DO UPDATE SET reason = excluded.reason",
        )
        .bind(template_id)
        .bind(reason)
        .bind(db_time(now))
        .execute(self.writer())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("template", template_id));
        }
        Ok(())
    }

    async fn undiscard_template(&self, template_id: i64) -> Result<()> {
        sqlx::query("DELETE FROM discarded_templates WHERE template_id = $1")
            .bind(template_id)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    async fn discarded(&self) -> Result<Vec<DiscardEntry>> {
        let rows = sqlx::query("SELECT template_id, reason, since FROM discarded_templates ORDER BY template_id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(DiscardEntry {
                    template_id: r.try_get("template_id")?,
                    reason: r.try_get("reason")?,
                    since: time_of(r, "since")?,
                })
            })
            .collect()
    }

    async fn is_discarded(&self, template_id: i64) -> Result<bool> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT template_id FROM discarded_templates WHERE template_id = $1")
                .bind(template_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(found.is_some())
    }

    async fn set_channel_rate(&self, channel: ChannelKind, rate: Option<f64>, now: DateTime<Utc>) -> Result<()> {
        match rate {
            Some(rate) => {
                sqlx::query(
                    "INSERT INTO channel_rates (channel, rate_per_second, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (channel) DO UPDATE SET rate_per_second = excluded.rate_per_second, \
                     updated_at = excluded.updated_at",
                )
                .bind(channel.as_str())
                .bind(rate)
                .bind(db_time(now))
                .execute(self.writer())
                .await?
            }
            None => {
                sqlx::query("DELETE FROM channel_rates WHERE channel = $1")
                    .bind(channel.as_str())
                    .execute(self.writer())
                    .await?
            }
        };
        Ok(())
    }

    async fn channel_rates(&self) -> Result<Vec<ChannelRate>> {
        let rows = sqlx::query(formatcp!(
            "SELECT channel, rate_per_second, updated_at FROM channel_rates ORDER BY channel{BYTE_ORDER}"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let channel: String = r.try_get("channel")?;
                Ok(ChannelRate {
                    channel: ChannelKind::parse(&channel)
                        .ok_or_else(|| StoreError::Corrupt(format!("channel {channel:?}")))?,
                    rate_per_second: r.try_get("rate_per_second")?,
                    updated_at: time_of(r, "updated_at")?,
                })
            })
            .collect()
    }
}
