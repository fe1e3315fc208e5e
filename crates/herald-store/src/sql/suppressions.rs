//! The suppression list: receivers not to be sent to, per channel and kind of message, read by
//! the worker once per batch and written by the API, imports and inbound replies.

use super::Backend;
use super::codec::time_of;
use super::dialect::{Db, DbRow, begin_write, db_time, push_in_list};
use crate::error::{Result, StoreError};
use crate::listing::{SearchTerms, SuppressionFilter};
use crate::model::SuppressionEntry;
use crate::repos::SuppressionRepo;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use const_format::formatcp;
use herald_core::{ChannelKind, Kinds, MessageKind, Suppression, SuppressionSource, shaped_chunks};
use sqlx::{QueryBuilder, Row};
use std::collections::HashMap;

/// Rows per INSERT statement at most (six values each, well under either backend's bind
/// limit); fewer come in the few sizes of [`shaped_chunks`].
const ROWS_PER_STATEMENT: usize = 256;

/// Every channel, as the `channel` column spells it.
const EVERY_CHANNEL: &str = "";

fn channel_column(channel: Option<ChannelKind>) -> &'static str {
    channel.map_or(EVERY_CHANNEL, ChannelKind::as_str)
}

#[async_trait]
impl SuppressionRepo for Backend {
    async fn suppress(&self, entries: &[Suppression], now: DateTime<Utc>) -> Result<u64> {
        // One row per key within a statement (PostgreSQL refuses to upsert a row twice in
        // one): entries for the same key are merged first, the later note winning.
        let mut merged: HashMap<(&str, &str), Suppression> = HashMap::with_capacity(entries.len());
        for e in entries {
            merged
                .entry((e.receiver.as_str(), channel_column(e.channel)))
                .and_modify(|m| {
                    m.kinds = Kinds::from_bits(m.kinds.bits() | e.kinds.bits()).unwrap_or(m.kinds);
                    if e.note.is_some() {
                        m.note.clone_from(&e.note);
                    }
                })
                .or_insert_with(|| e.clone());
        }
        let rows: Vec<Suppression> = merged.into_values().collect();
        let mut tx = begin_write(self.writer()).await?;
        for chunk in shaped_chunks(&rows, ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<Db>::new(
                "INSERT INTO suppressions (receiver, channel, kinds, source, note, created_at) ",
            );
            query.push_values(chunk, |mut row, e| {
                row.push_bind(e.receiver.as_str())
                    .push_bind(channel_column(e.channel))
                    .push_bind(e.kinds.bits() as i32)
                    .push_bind(e.source.as_str())
                    .push_bind(e.note.as_deref())
                    .push_bind(db_time(now));
            });
            query.push(
                " ON CONFLICT (receiver, channel) DO UPDATE SET kinds = suppressions.kinds | excluded.kinds, \
                 note = COALESCE(excluded.note, suppressions.note)",
            );
            query.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(rows.len() as u64)
    }

    async fn unsuppress(&self, receiver: &str, channel: Option<ChannelKind>) -> Result<()> {
        let done = sqlx::query("DELETE FROM suppressions WHERE receiver = $1 AND channel = $2")
            .bind(receiver)
            .bind(channel_column(channel))
            .execute(self.writer())
            .await?;
        if done.rows_affected() == 0 {
            return Err(not_found(receiver, channel));
        }
        Ok(())
    }

    async fn get_suppression(&self, receiver: &str, channel: Option<ChannelKind>) -> Result<SuppressionEntry> {
        let row = sqlx::query(formatcp!("{SELECT_ENTRY} WHERE receiver = $1 AND channel = $2"))
            .bind(receiver)
            .bind(channel_column(channel))
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => entry_of(&row),
            None => Err(not_found(receiver, channel)),
        }
    }

    async fn list_suppressions(&self, filter: &SuppressionFilter) -> Result<Vec<SuppressionEntry>> {
        let search = SearchTerms::of(filter.search.as_deref());
        let rows = sqlx::query(formatcp!(
            "{SELECT_ENTRY} WHERE ($1 IS NULL OR LOWER(receiver) LIKE $1 ESCAPE '\\') AND ($2 IS NULL OR channel = $2) \
             AND ($3 IS NULL OR source = $3) ORDER BY created_at DESC, receiver, channel LIMIT $4 OFFSET $5"
        ))
        .bind(search.pattern)
        .bind(filter.channel.map(channel_column))
        .bind(filter.source.map(SuppressionSource::as_str))
        .bind(filter.window.limit)
        .bind(filter.window.offset)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entry_of).collect()
    }

    async fn suppressed_among(
        &self,
        receivers: &[String],
        channel: ChannelKind,
        kind: MessageKind,
    ) -> Result<Vec<String>> {
        if receivers.is_empty() {
            return Ok(Vec::new());
        }
        let bit = Kinds::of(&[kind]).map_or(0, Kinds::bits) as i32;
        let mut query = QueryBuilder::<Db>::new("SELECT DISTINCT receiver FROM suppressions WHERE (channel = ");
        query.push_bind(channel.as_str());
        query.push(" OR channel = '') AND (kinds & ");
        query.push_bind(bit);
        query.push(") <> 0 AND receiver");
        push_in_list(&mut query, receivers.iter().map(String::as_str));
        Ok(query.build_query_scalar().fetch_all(&self.pool).await?)
    }
}

const SELECT_ENTRY: &str = "SELECT receiver, channel, kinds, source, note, created_at FROM suppressions";

fn not_found(receiver: &str, channel: Option<ChannelKind>) -> StoreError {
    StoreError::not_found(
        "suppression",
        format!("{receiver} on {}", channel.map_or("every channel", ChannelKind::as_str)),
    )
}

fn entry_of(row: &DbRow) -> Result<SuppressionEntry> {
    let corrupt = |what: String| StoreError::Corrupt(format!("suppression {what}"));
    let channel: String = row.try_get("channel")?;
    let channel = match channel.as_str() {
        EVERY_CHANNEL => None,
        name => Some(ChannelKind::parse(name).ok_or_else(|| corrupt(format!("channel {name:?}")))?),
    };
    let bits: i32 = row.try_get("kinds")?;
    let source: String = row.try_get("source")?;
    Ok(SuppressionEntry {
        entry: Suppression {
            receiver: row.try_get("receiver")?,
            channel,
            kinds: Kinds::from_bits(i64::from(bits)).ok_or_else(|| corrupt(format!("kinds {bits}")))?,
            source: SuppressionSource::parse(&source).ok_or_else(|| corrupt(format!("source {source:?}")))?,
            note: row.try_get("note")?,
        },
        created_at: time_of(row, "created_at")?,
    })
}
