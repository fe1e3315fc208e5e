//! Delivery receipts: each finds its sent message in the ledger (by herald's id, or by the
//! provider's id its send recorded) and lands in the trace once per message and state (the
//! `trace_receipt_once` index); one naming no sent message goes to `unmatched_receipts`.

use super::Backend;
use super::codec::time_of;
use super::dialect::{Tx, begin_write, db_time};
use crate::error::Result;
use crate::model::UnmatchedReceipt;
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
        let mut tx = begin_write(&self.pool).await?;
        for receipt in receipts {
            record_one(&mut tx, receipt, now, &mut tally).await?;
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
}
