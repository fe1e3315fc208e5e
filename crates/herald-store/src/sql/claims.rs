//! Send claims in the delivery ledger: before a channel is called for a batch, every message of
//! it is claimed at once (holder, fencing token, until). Another handling of the same messages
//! skips those a live holder has, until they are final or the claim lapses; the holder extends
//! its claims while it works and releases those it hands back for a retry. Recording a final
//! outcome ends the claim (`ledger.rs`), so what a claim takes is checked against the final
//! messages again after it is written: an outcome committed between the first look and the
//! claim (PostgreSQL reads each statement afresh) must not pass its message on to be sent again.

use super::Backend;
use super::codec::time_of;
use super::dialect::{CLAIMS_AMONG, Db, LOCKED_IN_KEY_ORDER, Tx, begin_write, db_time, push_in_list};
use crate::error::Result;
use crate::model::{ClaimOutcome, HeldMessage, SendClaim};
use crate::repos::ClaimRepo;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_core::{MessageId, shaped_chunks};
use sqlx::{QueryBuilder, Row};
use std::collections::HashSet;

/// Claims one statement writes at most (four binds each); fewer come in the few sizes of
/// [`shaped_chunks`].
const CLAIMS_PER_STATEMENT: usize = 256;

#[async_trait]
impl ClaimRepo for Backend {
    async fn claim_sends(&self, ids: &[MessageId], claim: &SendClaim, now: DateTime<Utc>) -> Result<ClaimOutcome> {
        let mut sorted: Vec<&str> = ids.iter().map(MessageId::as_str).collect();
        // One key order for every claimer, so two claiming overlapping batches never deadlock;
        // ending, extending and releasing claims lock theirs in it too (`CLAIMS_AMONG`).
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.is_empty() {
            return Ok(ClaimOutcome::default());
        }
        let mut tx = begin_write(self.writer()).await?;
        let mut look = QueryBuilder::<Db>::new("SELECT message_id FROM deliveries WHERE message_id");
        push_in_list(&mut look, sorted.iter().copied());
        let mut finished: HashSet<String> = look.build_query_scalar().fetch_all(&mut *tx).await?.into_iter().collect();
        let open: Vec<&str> = sorted.iter().copied().filter(|id| !finished.contains(*id)).collect();
        let mut claimed = HashSet::new();
        for chunk in shaped_chunks(&open, CLAIMS_PER_STATEMENT) {
            let mut upsert = QueryBuilder::<Db>::new("INSERT INTO send_claims (message_id, holder, token, until) ");
            upsert.push_values(chunk, |mut b, id| {
                b.push_bind(*id).push_bind(&claim.holder).push_bind(claim.token).push_bind(db_time(claim.until));
            });
            // A live claim stands; a lapsed one passes to this holder.
            upsert.push(
                " ON CONFLICT (message_id) DO UPDATE SET holder = excluded.holder, token = excluded.token, \
                 until = excluded.until WHERE send_claims.until <= ",
            );
            upsert.push_bind(db_time(now));
            let taken = upsert.build().execute(&mut *tx).await?.rows_affected();
            if taken == chunk.len() as u64 {
                claimed.extend(chunk.iter().map(|id| (*id).to_owned()));
            } else if taken > 0 {
                claimed.extend(taken_by(&mut tx, chunk, claim.token).await?);
            }
        }
        for id in finished_meanwhile(&mut tx, &claimed, claim.token).await? {
            claimed.remove(&id);
            finished.insert(id);
        }
        let held_ids: Vec<&str> =
            open.iter().copied().filter(|id| !claimed.contains(*id) && !finished.contains(*id)).collect();
        let held = holders_of(&mut tx, &held_ids).await?;
        tx.commit().await?;
        let in_input_order = |set: &HashSet<String>| -> Vec<MessageId> {
            ids.iter().filter(|id| set.contains(id.as_str())).cloned().collect()
        };
        Ok(ClaimOutcome { claimed: in_input_order(&claimed), finished: in_input_order(&finished), held })
    }

    async fn extend_sends(&self, ids: &[MessageId], token: i64, until: DateTime<Utc>) -> Result<Vec<MessageId>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = QueryBuilder::<Db>::new("UPDATE send_claims SET until = ");
        query.push_bind(db_time(until));
        query.push(" WHERE token = ");
        query.push_bind(token);
        query.push(format!(" AND {CLAIMS_AMONG}"));
        push_in_list(&mut query, ids.iter().map(MessageId::as_str));
        query.push(LOCKED_IN_KEY_ORDER);
        query.push(" RETURNING message_id");
        let kept: Vec<String> = query.build_query_scalar().fetch_all(self.writer()).await?;
        Ok(kept.into_iter().map(MessageId).collect())
    }

    async fn release_sends(&self, ids: &[MessageId], token: i64) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut query = QueryBuilder::<Db>::new("DELETE FROM send_claims WHERE token = ");
        query.push_bind(token);
        query.push(format!(" AND {CLAIMS_AMONG}"));
        push_in_list(&mut query, ids.iter().map(MessageId::as_str));
        query.push(LOCKED_IN_KEY_ORDER);
        query.build().execute(self.writer()).await?;
        Ok(())
    }
}

/// Of `ids`, those the claim statement just took under `token` (inserted, or passed on from a
/// lapsed claim). Read only when it took some but not all: the claim's statement writes no
/// RETURNING rows, which sqlx-sqlite hands over one at a time (a thread hand-off each), and a
/// claim meeting no live holder takes all. No id of `ids` was under `token` before: a handling
/// claims again only the messages another holder had.
async fn taken_by(tx: &mut Tx, ids: &[&str], token: i64) -> Result<Vec<String>> {
    let mut query = QueryBuilder::<Db>::new("SELECT message_id FROM send_claims WHERE token = ");
    query.push_bind(token);
    query.push(" AND message_id");
    push_in_list(&mut query, ids.iter().copied());
    Ok(query.build_query_scalar().fetch_all(&mut **tx).await?)
}

/// Of the ids just `claimed` under `token`, those whose outcome was committed since the claim's
/// first look at the final messages; their new claims are dropped again.
async fn finished_meanwhile(tx: &mut Tx, claimed: &HashSet<String>, token: i64) -> Result<Vec<String>> {
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = QueryBuilder::<Db>::new("SELECT message_id FROM deliveries WHERE message_id");
    push_in_list(&mut query, claimed.iter().map(String::as_str));
    let finished: Vec<String> = query.build_query_scalar().fetch_all(&mut **tx).await?;
    if !finished.is_empty() {
        let mut drop = QueryBuilder::<Db>::new("DELETE FROM send_claims WHERE token = ");
        drop.push_bind(token);
        drop.push(" AND message_id");
        push_in_list(&mut drop, finished.iter().map(String::as_str));
        drop.build().execute(&mut **tx).await?;
    }
    Ok(finished)
}

/// Who holds the claims on `ids`, and until when.
async fn holders_of(tx: &mut Tx, ids: &[&str]) -> Result<Vec<HeldMessage>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = QueryBuilder::<Db>::new("SELECT message_id, holder, until FROM send_claims WHERE message_id");
    push_in_list(&mut query, ids.iter().copied());
    let rows = query.build().fetch_all(&mut **tx).await?;
    rows.iter()
        .map(|row| {
            Ok(HeldMessage {
                message_id: MessageId(row.try_get("message_id")?),
                holder: row.try_get("holder")?,
                until: time_of(row, "until")?,
            })
        })
        .collect()
}
