//! Delivery receipts: each finds its sent message in the ledger (by herald's id, or by the
//! provider's id its send recorded) and lands in the trace once per message and state (the
//! `trace_receipt_once` index); one naming no sent message goes to `unmatched_receipts`. A pull
//! asks here which sent messages still wait for theirs.

use super::Backend;
use super::batch::{newest_trace_id, queue_status_events};
use super::codec::time_of;
use super::dialect::{Tx, begin_write, db_time};
use crate::error::Result;
use crate::model::{AwaitingReceipts, TraceRecord, UnmatchedReceipt};
use crate::repos::ReceiptRepo;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use const_format::formatcp;
use herald_core::receipt::{Receipt, ReceiptKey, ReceiptTally, provider_detail};
use sqlx::Row;

/// The sent message a receipt names: id, template, run, receiver.
type SentRow = (String, i64, Option<i64>, String);

/// `state = 'sent'` written out, not bound, so that both databases see that the partial index
/// `deliveries_provider_ref` applies.
const SENT: &str = "SELECT message_id, template_id, run_id, receiver FROM deliveries WHERE state = 'sent' AND ";

async fn sent_message(tx: &mut Tx, key: &ReceiptKey) -> Result<Option<SentRow>> {
    match key {
        ReceiptKey::Message(id) => {
            Ok(sqlx::query_as(formatcp!("{SENT}message_id = $1")).bind(id).fetch_optional(&mut **tx).await?)
        }
        ReceiptKey::Provider { suppliers, id } => {
            for supplier in suppliers {
                let found = sqlx::query_as(formatcp!("{SENT}detail = $1 LIMIT 1"))
                    .bind(provider_detail(supplier, id))
                    .fetch_optional(&mut **tx)
                    .await?;
                if found.is_some() {
                    return Ok(found);
                }
            }
            Ok(None)
        }
        ReceiptKey::Task { details, receiver, .. } => {
            for detail in details {
                let found = sqlx::query_as(formatcp!("{SENT}detail = $1 AND receiver = $2 LIMIT 1"))
                    .bind(detail)
                    .bind(receiver)
                    .fetch_optional(&mut **tx)
                    .await?;
                if found.is_some() {
                    return Ok(found);
                }
            }
            Ok(None)
        }
    }
}

async fn record_one(tx: &mut Tx, receipt: &Receipt, now: DateTime<Utc>, tally: &mut ReceiptTally) -> Result<()> {
    let Some((message_id, template_id, run_id, receiver)) = sent_message(tx, &receipt.key).await? else {
        sqlx::query(
            "INSERT INTO unmatched_receipts (provider, reference, state, code, received_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&receipt.provider)
        .bind(receipt.reference())
        .bind(receipt.state.as_str())
        .bind(&receipt.code)
        .bind(db_time(now))
        .execute(&mut **tx)
        .await?;
        tally.unmatched += 1;
        return Ok(());
    };
    let inserted = sqlx::query(
        "INSERT INTO trace (message_id, template_id, run_id, receiver, event, detail, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
    )
    .bind(message_id)
    .bind(template_id)
    .bind(run_id)
    .bind(receiver)
    .bind(receipt.state.as_str())
    .bind(&receipt.code)
    .bind(db_time(now))
    .execute(&mut **tx)
    .await?;
    if inserted.rows_affected() > 0 {
        tally.recorded += 1;
    } else {
        tally.repeated += 1;
    }
    Ok(())
}

#[async_trait]
impl ReceiptRepo for Backend {
    async fn record_receipts(&self, receipts: &[Receipt], now: DateTime<Utc>) -> Result<ReceiptTally> {
        let mut tally = ReceiptTally::default();
        let mut tx = begin_write(self.writer()).await?;
        let traced_after = newest_trace_id(&mut tx).await?;
        for receipt in receipts {
            record_one(&mut tx, receipt, now, &mut tally).await?;
        }
        if tally.recorded > 0 {
            queue_status_events(&mut tx, traced_after).await?;
        }
        tx.commit().await?;
        Ok(tally)
    }

    async fn unmatched_receipts(&self, offset: i64, limit: i64) -> Result<Vec<UnmatchedReceipt>> {
        let rows = sqlx::query("SELECT * FROM unmatched_receipts ORDER BY id DESC LIMIT $1 OFFSET $2")
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(UnmatchedReceipt {
                    id: row.try_get("id")?,
                    provider: row.try_get("provider")?,
                    reference: row.try_get("reference")?,
                    state: row.try_get("state")?,
                    code: row.try_get("code")?,
                    received_at: time_of(row, "received_at")?,
                })
            })
            .collect()
    }

    async fn awaiting_receipts(&self, query: &AwaitingReceipts) -> Result<Vec<TraceRecord>> {
        let (after_at, after_id) = match &query.after {
            Some((at, id)) => (*at, id.as_str()),
            None => (query.since, ""),
        };
        let prefix_chars = i32::try_from(query.detail_prefix.chars().count()).unwrap_or(i32::MAX);
        // A message waits until it has a final receipt: undelivered or read, and delivered
        // unless the provider reports reading after delivery.
        let rows = sqlx::query(
            "SELECT d.message_id, d.template_id, d.run_id, d.receiver, d.state AS event, d.detail, d.at \
             FROM deliveries d JOIN templates t ON t.id = d.template_id \
             WHERE t.channel_account = $1 AND d.state = 'sent' AND substr(d.detail, 1, $2) = $3 AND d.at >= $4 \
             AND (d.at > $5 OR (d.at = $5 AND d.message_id > $6)) \
             AND NOT EXISTS (SELECT 1 FROM trace r WHERE r.message_id = d.message_id \
                 AND (r.event IN ('undelivered', 'read') OR (r.event = 'delivered' AND NOT $7))) \
             ORDER BY d.at, d.message_id LIMIT $8",
        )
        .bind(&query.account)
        .bind(prefix_chars)
        .bind(&query.detail_prefix)
        .bind(db_time(query.since))
        .bind(db_time(after_at))
        .bind(after_id)
        .bind(query.read_follows)
        .bind(query.limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(super::ledger::trace_record_of).collect()
    }
}
