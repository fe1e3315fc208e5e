//! Run shards in the embedded store: a streamer leases a shard, checkpoints it together with
//! its run's counters, and the last shard to finish publishes the run. Every write runs under
//! `BEGIN IMMEDIATE`, so the "last shard" check sees every other shard's commit.

use super::runs::complete_if_done;
use crate::error::{Result, StoreError};
use crate::model::{RunLease, ShardLease, ShardPlan, ShardRecord, StreamStep};
use crate::time::{from_ms, to_ms};
use chrono::{DateTime, Duration, Utc};
use sqlx::{Row, SqlitePool};

pub(super) async fn plan(pool: &SqlitePool, lease: &RunLease, shards: &[ShardPlan]) -> Result<bool> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let held: Option<i64> =
        sqlx::query_scalar("SELECT id FROM runs WHERE id = ? AND lease_owner = ? AND status = 'pending'")
            .bind(lease.run_id)
            .bind(&lease.owner)
            .fetch_optional(&mut *tx)
            .await?;
    if held.is_none() {
        return Ok(false);
    }
    for (n, shard) in shards.iter().enumerate() {
        sqlx::query("INSERT INTO run_shards (run_id, shard_no, checkpoint_json, end_offset) VALUES (?, ?, ?, ?)")
            .bind(lease.run_id)
            .bind(n as i64)
            .bind(shard.checkpoint.to_string())
            .bind(shard.end_offset)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("UPDATE runs SET status = 'streaming', lease_owner = NULL, lease_until = NULL WHERE id = ?")
        .bind(lease.run_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

pub(super) async fn lease(
    pool: &SqlitePool,
    owner: &str,
    now: DateTime<Utc>,
    lease: Duration,
) -> Result<Option<ShardLease>> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let row = sqlx::query(
        "UPDATE run_shards SET status = 'streaming', lease_owner = ?1, lease_until = ?2 \
         WHERE (run_id, shard_no) = ( \
           SELECT s.run_id, s.shard_no FROM run_shards s JOIN runs r ON r.id = s.run_id \
           WHERE r.status = 'streaming' AND s.status <> 'done' AND (s.lease_until IS NULL OR s.lease_until < ?3) \
           ORDER BY s.run_id, s.shard_no LIMIT 1) \
         RETURNING run_id, shard_no, checkpoint_json, end_offset",
    )
    .bind(owner)
    .bind(to_ms(now + lease))
    .bind(to_ms(now))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let run_id: i64 = row.try_get("run_id")?;
    let run =
        sqlx::query("SELECT template_id, crowd_id FROM runs WHERE id = ?").bind(run_id).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    let checkpoint: String = row.try_get("checkpoint_json")?;
    Ok(Some(ShardLease {
        run_id,
        shard_no: row.try_get("shard_no")?,
        template_id: run.try_get("template_id")?,
        crowd_id: run.try_get("crowd_id")?,
        checkpoint: serde_json::from_str(&checkpoint).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        end_offset: row.try_get("end_offset")?,
        owner: owner.to_string(),
    }))
}

pub(super) async fn checkpoint(
    pool: &SqlitePool,
    lease: &ShardLease,
    step: &StreamStep,
    lease_until: DateTime<Utc>,
) -> Result<bool> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let kept = sqlx::query(
        "UPDATE run_shards SET checkpoint_json = ?, rows_read = rows_read + ?, batches = batches + ?, \
         lease_until = ? WHERE run_id = ? AND shard_no = ? AND lease_owner = ? AND status = 'streaming' \
         AND EXISTS (SELECT 1 FROM runs WHERE id = run_shards.run_id AND status = 'streaming')",
    )
    .bind(step.checkpoint.to_string())
    .bind(step.rows_read)
    .bind(step.batches)
    .bind(to_ms(lease_until))
    .bind(lease.run_id)
    .bind(lease.shard_no)
    .bind(&lease.owner)
    .execute(&mut *tx)
    .await?;
    if kept.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE runs SET rows_read = rows_read + ?, rows_invalid = rows_invalid + ?, batches = batches + ? \
         WHERE id = ?",
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

pub(super) async fn finish(pool: &SqlitePool, lease: &ShardLease, now: DateTime<Utc>) -> Result<()> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let done = sqlx::query(
        "UPDATE run_shards SET status = 'done', lease_owner = NULL, lease_until = NULL \
         WHERE run_id = ? AND shard_no = ? AND lease_owner = ? AND status = 'streaming'",
    )
    .bind(lease.run_id)
    .bind(lease.shard_no)
    .bind(&lease.owner)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() > 0 {
        sqlx::query(
            "UPDATE runs SET status = 'published', rows_total = rows_read WHERE id = ?1 AND status = 'streaming' \
             AND NOT EXISTS (SELECT 1 FROM run_shards WHERE run_id = ?1 AND status <> 'done')",
        )
        .bind(lease.run_id)
        .execute(&mut *tx)
        .await?;
        complete_if_done(&mut tx, lease.run_id, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn release(pool: &SqlitePool, lease: &ShardLease) -> Result<()> {
    sqlx::query(
        "UPDATE run_shards SET lease_owner = NULL, lease_until = NULL \
         WHERE run_id = ? AND shard_no = ? AND lease_owner = ? AND status = 'streaming'",
    )
    .bind(lease.run_id)
    .bind(lease.shard_no)
    .bind(&lease.owner)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn list(pool: &SqlitePool, run_id: i64) -> Result<Vec<ShardRecord>> {
    let rows = sqlx::query(
        "SELECT shard_no, status, rows_read, batches, lease_owner, lease_until FROM run_shards \
         WHERE run_id = ? ORDER BY shard_no",
    )
    .bind(run_id)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            let until: Option<i64> = r.try_get("lease_until")?;
            Ok(ShardRecord {
                shard_no: r.try_get("shard_no")?,
                status: r.try_get("status")?,
                rows_read: r.try_get("rows_read")?,
                batches: r.try_get("batches")?,
                lease_owner: r.try_get("lease_owner")?,
                lease_until: until.map(from_ms),
            })
        })
        .collect()
}
