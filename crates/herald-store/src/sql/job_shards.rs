//! Sharded and broadcast jobs across nodes: the nodes that run jobs (a heartbeat each), a
//! fire's shards as the claiming node writes them, a node taking one shard at a time under a
//! lease (its own broadcast shard, any other spread across the nodes seen lately, or one whose
//! holder's lease lapsed), and the end of a shard, where the node ending the last one is told
//! so. Locks are taken fire row first, so two nodes ending a fire's last two shards at once
//! are put in turn and exactly one of them sees none left.

use super::Backend;
use super::dialect::{FOR_UPDATE, SKIP_LOCKED, begin_write, db_time};
use crate::error::Result;
use crate::model::{ClaimedJobShard, JobShardEnd, ShardedFire, ShardedFireEnd};
use crate::repos::JobShardRepo;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use const_format::formatcp;
use herald_core::scheduled_job::Shard;
use sqlx::Row;

/// A node not seen for this long is forgotten.
const FORGET_NODES_AFTER: Duration = Duration::days(1);

/// A shard this node may take: its own broadcast shard; one for any node (or for a node no
/// longer seen) while it holds fewer of that fire's shards than its share; or one whose
/// holder's lease lapsed. $1 node, $2 now, $3 seen since, $4 nodes seen.
const TAKEABLE: &str = "SELECT s.id FROM job_shards s WHERE \
     (s.status = 'pending' AND (s.node = $1 OR ((s.node IS NULL \
        OR NOT EXISTS (SELECT 1 FROM cluster_nodes n WHERE n.name = s.node AND n.seen_at >= $3)) \
       AND (SELECT COUNT(*) FROM job_shards h WHERE h.fire_id = s.fire_id AND h.status = 'running' \
            AND h.lease_owner = $1) < (s.total + $4 - 1) / $4))) \
     OR (s.status = 'running' AND s.lease_until < $2) \
     ORDER BY s.id LIMIT 1";

#[async_trait]
impl JobShardRepo for Backend {
    async fn heartbeat_node(&self, node: &str, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "INSERT INTO cluster_nodes (name, started_at, seen_at) VALUES ($1, $2, $2) \
             ON CONFLICT (name) DO UPDATE SET seen_at = excluded.seen_at",
        )
        .bind(node)
        .bind(db_time(now))
        .execute(self.writer())
        .await?;
        sqlx::query("DELETE FROM cluster_nodes WHERE seen_at < $1")
            .bind(db_time(now - FORGET_NODES_AFTER))
            .execute(self.writer())
            .await?;
        Ok(())
    }

    async fn live_nodes(&self, since: DateTime<Utc>) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT name FROM cluster_nodes WHERE seen_at >= $1 ORDER BY name")
            .bind(db_time(since))
            .fetch_all(&self.pool)
            .await?)
    }

    async fn plan_job_shards(&self, fire: &ShardedFire<'_>) -> Result<()> {
        let total = i32::try_from(fire.nodes.len()).unwrap_or(i32::MAX);
        let mut tx = begin_write(self.writer()).await?;
        for (shard, node) in (0..total).zip(&fire.nodes) {
            sqlx::query(
                "INSERT INTO job_shards (fire_id, job_id, schedule_id, shard, total, node, param, planned_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (fire_id, shard) DO NOTHING",
            )
            .bind(fire.fire_id)
            .bind(fire.job_id)
            .bind(fire.schedule_id)
            .bind(shard)
            .bind(total)
            .bind(node.as_deref())
            .bind(fire.param)
            .bind(db_time(fire.at))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn claim_job_shard(
        &self,
        node: &str,
        now: DateTime<Utc>,
        lease: Duration,
        seen_since: DateTime<Utc>,
    ) -> Result<Option<ClaimedJobShard>> {
        // Most polls find no shard open: a read says so without taking the write lock.
        let open: Option<i64> =
            sqlx::query_scalar("SELECT id FROM job_shards WHERE status IN ('pending', 'running') LIMIT 1")
                .fetch_optional(&self.pool)
                .await?;
        if open.is_none() {
            return Ok(None);
        }
        let mut tx = begin_write(self.writer()).await?;
        let live: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cluster_nodes WHERE seen_at >= $1")
            .bind(db_time(seen_since))
            .fetch_one(&mut *tx)
            .await?;
        let id: Option<i64> = sqlx::query_scalar(formatcp!("{TAKEABLE}{FOR_UPDATE}{SKIP_LOCKED}"))
            .bind(node)
            .bind(db_time(now))
            .bind(db_time(seen_since))
            .bind(live.max(1))
            .fetch_optional(&mut *tx)
            .await?;
        let Some(id) = id else { return Ok(None) };
        let row = sqlx::query(
            "UPDATE job_shards SET takeovers = takeovers + CASE WHEN status = 'running' THEN 1 ELSE 0 END, \
             status = 'running', lease_owner = $1, lease_until = $2 WHERE id = $3 \
             RETURNING fire_id, job_id, schedule_id, shard, total, param, takeovers",
        )
        .bind(node)
        .bind(db_time(now + lease))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let claimed = ClaimedJobShard {
            id,
            fire_id: row.try_get("fire_id")?,
            job_id: row.try_get("job_id")?,
            schedule_id: row.try_get("schedule_id")?,
            shard: Shard { index: shard_number(&row, "shard")?, total: shard_number(&row, "total")? },
            param: row.try_get("param")?,
            takeovers: row.try_get("takeovers")?,
        };
        if claimed.takeovers > 0 {
            // The attempt its last holder left running ends here: that node stopped answering.
            sqlx::query(
                "UPDATE job_runs SET outcome = 'abandoned', ended_at = $1, \
                 error = 'its node stopped answering; the shard was taken over' \
                 WHERE fire_id = $2 AND shard = $3 AND outcome = 'running'",
            )
            .bind(db_time(now))
            .bind(claimed.fire_id)
            .bind(claimed.shard.index as i32)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Some(claimed))
    }

    async fn renew_job_shard(&self, id: i64, node: &str, until: DateTime<Utc>) -> Result<bool> {
        let renewed = sqlx::query(
            "UPDATE job_shards SET lease_until = $1 WHERE id = $2 AND lease_owner = $3 AND status = 'running'",
        )
        .bind(db_time(until))
        .bind(id)
        .bind(node)
        .execute(self.writer())
        .await?;
        Ok(renewed.rows_affected() > 0)
    }

    async fn end_job_shard(&self, id: i64, node: &str, end: &JobShardEnd<'_>) -> Result<Option<ShardedFireEnd>> {
        let mut tx = begin_write(self.writer()).await?;
        let fire_id: Option<i64> = sqlx::query_scalar("SELECT fire_id FROM job_shards WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(fire_id) = fire_id else { return Ok(None) };
        sqlx::query(formatcp!("SELECT id FROM fires WHERE id = $1{FOR_UPDATE}"))
            .bind(fire_id)
            .fetch_optional(&mut *tx)
            .await?;
        let status = if end.succeeded { "succeeded" } else { "failed" };
        let ended = sqlx::query(
            "UPDATE job_shards SET status = $1, output = $2, error = $3, lease_owner = NULL, lease_until = NULL \
             WHERE id = $4 AND lease_owner = $5 AND status = 'running'",
        )
        .bind(status)
        .bind(end.output)
        .bind(end.error)
        .bind(id)
        .bind(node)
        .execute(&mut *tx)
        .await?;
        if ended.rows_affected() == 0 {
            // Its lease was lost: another node holds the shard now, and its end counts.
            return Ok(None);
        }
        let counts = sqlx::query(
            "SELECT COUNT(*) AS total, \
             COALESCE(SUM(CASE WHEN status IN ('pending', 'running') THEN 1 ELSE 0 END), 0) AS open, \
             COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0) AS failed \
             FROM job_shards WHERE fire_id = $1",
        )
        .bind(fire_id)
        .fetch_one(&mut *tx)
        .await?;
        let open: i64 = counts.try_get("open")?;
        let last = if open == 0 {
            let first_failed = sqlx::query(
                "SELECT shard, total, error FROM job_shards WHERE fire_id = $1 AND status = 'failed' ORDER BY shard LIMIT 1",
            )
            .bind(fire_id)
            .fetch_optional(&mut *tx)
            .await?;
            let error = match first_failed {
                Some(row) => {
                    let shard = Shard { index: shard_number(&row, "shard")?, total: shard_number(&row, "total")? };
                    let error: Option<String> = row.try_get("error")?;
                    Some(format!("shard {}: {}", shard.label(), error.unwrap_or_else(|| "failed".to_string())))
                }
                None => None,
            };
            Some(ShardedFireEnd {
                total: i32::try_from(counts.try_get::<i64, _>("total")?).unwrap_or(i32::MAX),
                failed: i32::try_from(counts.try_get::<i64, _>("failed")?).unwrap_or(i32::MAX),
                error,
                output: end.output.map(str::to_string),
            })
        } else {
            None
        };
        tx.commit().await?;
        Ok(last)
    }
}

fn shard_number(row: &super::dialect::DbRow, column: &str) -> Result<u32> {
    let n: i32 = row.try_get(column)?;
    Ok(u32::try_from(n).unwrap_or_default())
}
