//! Send API requests by business id: the message id that stands for each (template, bizId,
//! receiver) within the repeat window, so a client's retry gets the first request's ids.
//! Written as sets: the sends of many requests cost two statements per 256 keys, not two each.

use super::Backend;
use super::dialect::{Db, Tx, begin_write, db_time};
use crate::error::Result;
use crate::model::RequestedSend;
use crate::repos::SendRequestRepo;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_core::shaped_chunks;
use sqlx::{QueryBuilder, Row};
use std::collections::HashMap;

/// Keys per statement at most (five bound values each, well inside SQLite's limit of 32,766);
/// fewer come in the few sizes of [`shaped_chunks`].
const KEYS_PER_STATEMENT: usize = 256;

/// What a record is found by.
type Key<'a> = (i64, &'a str, &'a str);

fn key_of(send: &RequestedSend) -> Key<'_> {
    (send.template_id, &send.biz_id, &send.receiver)
}

#[async_trait]
impl SendRequestRepo for Backend {
    async fn remember_sends(
        &self,
        sends: &[RequestedSend],
        window_start: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>> {
        if sends.is_empty() {
            return Ok(Vec::new());
        }
        // The first send of a key speaks for the repeats of it in the same call.
        let mut firsts: Vec<&RequestedSend> = Vec::new();
        let mut first_of: HashMap<Key<'_>, usize> = HashMap::with_capacity(sends.len());
        for send in sends {
            first_of.entry(key_of(send)).or_insert_with(|| {
                firsts.push(send);
                firsts.len() - 1
            });
        }
        let mut standing: Vec<Option<String>> = vec![None; firsts.len()];
        let mut tx = begin_write(self.writer()).await?;
        for chunk in shaped_chunks(&firsts, KEYS_PER_STATEMENT) {
            forget_expired(&mut tx, chunk, window_start).await?;
            for row in record(chunk, now).build().fetch_all(&mut *tx).await? {
                let (biz_id, receiver): (String, String) = (row.try_get("biz_id")?, row.try_get("receiver")?);
                if let Some(&i) = first_of.get(&(row.try_get("template_id")?, biz_id.as_str(), receiver.as_str())) {
                    standing[i] = Some(row.try_get("message_id")?);
                }
            }
        }
        tx.commit().await?;
        // Every key answers a row (inserted, or a conflict's no-op update); its own id otherwise.
        Ok(sends
            .iter()
            .map(|s| standing[first_of[&key_of(s)]].clone().unwrap_or_else(|| s.message_id.clone()))
            .collect())
    }
}

/// A record older than the window is forgotten: its request is new again.
async fn forget_expired(tx: &mut Tx, sends: &[&RequestedSend], window_start: DateTime<Utc>) -> Result<()> {
    let mut delete = QueryBuilder::<Db>::new("DELETE FROM send_requests WHERE created_at < ");
    delete.push_bind(db_time(window_start)).push(" AND (template_id, biz_id, receiver) IN (");
    let mut keys = delete.separated(", ");
    for send in sends {
        keys.push("(")
            .push_bind_unseparated(send.template_id)
            .push_unseparated(", ")
            .push_bind_unseparated(&send.biz_id)
            .push_unseparated(", ")
            .push_bind_unseparated(&send.receiver)
            .push_unseparated(")");
    }
    delete.push(")");
    delete.build().execute(&mut **tx).await?;
    Ok(())
}

/// Records each send whose key has no record; answers every key's standing record (a
/// conflict's no-op update makes `RETURNING` name the record already there).
fn record<'a>(sends: &[&'a RequestedSend], now: DateTime<Utc>) -> QueryBuilder<'a, Db> {
    let mut insert =
        QueryBuilder::<Db>::new("INSERT INTO send_requests (template_id, biz_id, receiver, message_id, created_at) ");
    insert.push_values(sends, |mut b, s| {
        b.push_bind(s.template_id)
            .push_bind(&s.biz_id)
            .push_bind(&s.receiver)
            .push_bind(&s.message_id)
            .push_bind(db_time(now));
    });
    insert.push(
        " ON CONFLICT (template_id, biz_id, receiver) DO UPDATE SET message_id = send_requests.message_id \
         RETURNING template_id, biz_id, receiver, message_id",
    );
    insert
}
