//! Send API requests by business id: the message id that stands for each (template, bizId,
//! receiver) within the repeat window, so a client's retry gets the first request's ids.

use super::Backend;
use super::dialect::{Db, begin_write, db_time};
use crate::error::Result;
use crate::model::RequestedSend;
use crate::repos::SendRequestRepo;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;

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
        let mut tx = begin_write(self.writer()).await?;
        let mut standing = Vec::with_capacity(sends.len());
        for send in sends {
            // A record older than the window is forgotten: the request is new again.
            sqlx::query(
                "DELETE FROM send_requests WHERE template_id = $1 AND biz_id = $2 AND receiver = $3 AND created_at < $4",
            )
            .bind(send.template_id)
            .bind(&send.biz_id)
            .bind(&send.receiver)
            .bind(db_time(window_start))
            .execute(&mut *tx)
            .await?;
            let mut insert = QueryBuilder::<Db>::new(
                "INSERT INTO send_requests (template_id, biz_id, receiver, message_id, created_at) ",
            );
            insert.push_values([send], |mut b, s| {
                b.push_bind(s.template_id)
                    .push_bind(&s.biz_id)
                    .push_bind(&s.receiver)
                    .push_bind(&s.message_id)
                    .push_bind(db_time(now));
            });
            insert.push(
                " ON CONFLICT (template_id, biz_id, receiver) DO UPDATE SET message_id = send_requests.message_id \
                 RETURNING message_id",
            );
            standing.push(insert.build_query_scalar::<String>().fetch_one(&mut *tx).await?);
        }
        tx.commit().await?;
        Ok(standing)
    }
}
