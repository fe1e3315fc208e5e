//! Run shards on a cluster: any node's streamer leases a shard with `FOR UPDATE SKIP LOCKED`,
//! checkpoints it together with its run's counters, and the last shard to finish publishes
//! the run. Locks are taken run row first wherever a statement touches both, so finishing
//! shards never deadlock with each other.

use crate::error::{Result, StoreError};
use crate::model::{RunLease, ShardLease, ShardPlan, ShardRecord, StreamStep};
use chrono::{DateTime, Duration, Utc};
use sqlx::{PgPool, Row};

pub(super) async fn plan(pool: &PgPool, lease: &RunLease, shards: &[ShardPlan]) -> Result<bool> {
    let mut tx = pool.begin().await?;
    let held: Option<i64> =
        sqlx::query_scalar("SELECT id FROM runs WHERE id = $1 AND lease_owner = $2 AND status = 'pending' FOR UPDATE")
            .bind(lease.run_id)
            .bind(&lease.owner)
            .fetch_optional(&mut *tx)
            .await?;
    if held.is_none() {
        return Ok(false);
    }
    let numbers: Vec<i32> = (0..shards.len() as i32).collect();
    let checkpoints: Vec<String> = shards.iter().map(|s| s.checkpoint.to_string()).collect();
    let ends: Vec<Option<i64>> = shards.iter().map(|s| s.end_offset).collect();
    sqlx::query(
        "INSERT INTO run_shards (run_id, shard_no, checkpoint_json, end_offset) \
         SELECT $1, n, c::jsonb, e FROM UNNEST($2::int[], $3::text[], $4::bigint[]) AS u (n, c, e)",
    )
    .bind(lease.run_id)
    .bind(&numbers)
    .bind(&checkpoints)
    .bind(&ends)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE runs SET status = 'streaming', lease_owner = NULL, lease_until = NULL WHERE id = $1")
        .bind(lease.run_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

pub(super) async fn lease(
    pool: &PgPool,
    owner: &str,
    now: DateTime<Utc>,
    lease: Duration,
) -> Result<Option<ShardLease>> {
    let row = sqlx::query(
        "UPDATE run_shards s SET status = 'streaming', lease_owner = $1, lease_until = $2 FROM runs r \
         WHERE r.id = s.run_id AND (s.run_id, s.shard_no) = ( \
           SELECT o.run_id, o.shard_no FROM run_shards o JOIN runs ro ON ro.id = o.run_id \
           WHERE ro.status = 'streaming' AND o.status <> 'done' AND (o.lease_until IS NULL OR o.lease_until < $3) \
           ORDER BY o.run_id, o.shard_no LIMIT 1 FOR UPDATE OF o SKIP LOCKED) \
         RETURNING s.run_id, s.shard_no, r.template_id, r.crowd_id, s.checkpoint_json::text AS checkpoint_json, \
           s.end_offset",
    )
    .bind(owner)
    .bind(now + lease)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let checkpoint: String = row.try_get("checkpoint_json")?;
    let shard_no: i32 = row.try_get("shard_no")?;
    Ok(Some(ShardLease {
        run_id: row.try_get("run_id")?,
        shard_no: shard_no.into(),
        template_id: row.try_get("template_id")?,
        crowd_id: row.try_get("crowd_id")?,
        checkpoint: serde_json::from_str(&checkpoint).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        end_offset: row.try_get("end_offset")?,
        owner: owner.to_string(),
    }))
}

pub(super) async fn checkpoint(
    pool: &PgPool,
    lease: &ShardLease,
    step: &StreamStep,
    lease_until: DateTime<Utc>,
) -> Result<bool> {
    let mut tx = pool.begin().await?;
    // Run row first (see the module note); a run no longer streaming takes no progress.
    let streaming: Option<i64> =
        sqlx::query_scalar("SELECT id FROM runs WHERE id = $1 AND status = 'streaming' FOR UPDATE")
            .bind(lease.run_id)
            .fetch_optional(&mut *tx)
            .await?;
    if streaming.is_none() {
        return Ok(false);
    }
    let kept = sqlx::query(
        "UPDATE run_shards SET checkpoint_json = $1::jsonb, rows_read = rows_read + $2, batches = batches + $3, \
         lease_until = $4 WHERE run_id = $5 AND shard_no = $6 AND lease_owner = $7 AND status = 'streaming'",
    )
    .bind(step.checkpoint.to_string())
    .bind(step.rows_read)
    .bind(step.batches)
    .bind(lease_until)
    .bind(lease.run_id)
    .bind(lease.shard_no as i32)
    .bind(&lease.owner)
    .execute(&mut *tx)
    .await?;
    if kept.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE runs SET rows_read = rows_read + $1, rows_invalid = rows_invalid + $2, batches = batches + $3 \
         WHERE id = $4",
    )
    .bind(step.rows_read)
    .bind(step.rows_invalid)
    .bind(step.batches)
    .bind(lease.run_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

pub(super) async fn finish(pool: &PgPool, lease: &ShardLease, now: DateTime<Utc>) -> Result<()> {
    let mut tx = pool.begin().await?;
    // Holding the run row serialises finishing shards: the last one sees every other done.
    sqlx::query("SELECT id FROM runs WHERE id = $1 FOR UPDATE").bind(lease.run_id).fetch_optional(&mut *tx).await?;
    let done = sqlx::query(
        "UPDATE run_shards SET status = 'done', lease_owner = NULL, lease_until = NULL \
         WHERE run_id = $1 AND shard_no = $2 AND lease_owner = $3 AND status = 'streaming'",
    )
    .bind(lease.run_id)
    .bind(lease.shard_no as i32)
    .bind(&lease.owner)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() > 0 {
        sqlx::query(
            "UPDATE runs SET status = 'published', rows_total = rows_read WHERE id = $1 AND status = 'streaming' \
             AND NOT EXISTS (SELECT 1 FROM run_shards WHERE run_id = $1 AND status <> 'done')",
        )
        .bind(lease.run_id)
        .execute(&mut *tx)
        .await?;
        super::runs::complete_if_done(&mut tx, lease.run_id, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn release(pool: &PgPool, lease: &ShardLease) -> Result<()> {
    sqlx::query(
        "UPDATE run_shards SET lease_owner = NULL, lease_until = NULL \
         WHERE run_id = $1 AND shard_no = $2 AND lease_owner = $3 AND status = 'streaming'",
    )
    .bind(lease.run_id)
    .bind(lease.shard_no as i32)
    .bind(&lease.owner)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn list(pool: &PgPool, run_id: i64) -> Result<Vec<ShardRecord>> {
    let rows = sqlx::query(
        "SELECT shard_no, status, rows_read, batches, lease_owner, lease_until FROM run_shards \
         WHERE run_id = $1 ORDER BY shard_no",
    )
    .bind(run_id)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            let shard_no: i32 = r.try_get("shard_no")?;
            Ok(ShardRecord {
                shard_no: shard_no.into(),
                status: r.try_get("status")?,
                rows_read: r.try_get("rows_read")?,
                batches: r.try_get("batches")?,
                lease_owner: r.try_get("lease_owner")?,
                lease_until: r.try_get("lease_until")?,
            })
        })
        .collect()
}
