//! Run shards: a streamer leases a shard (SKIP LOCKED where many nodes stream at once), checkpoints
//! it together with its run's counters, and the last shard to finish publishes the run. Locks
//! are taken run row first wherever a transaction touches both, so finishing shards never
//! deadlock with each other, and the "last shard" check sees every other shard's commit.

use super::batch::insert_shards;
use super::codec::{json_of, opt_time_of};
use super::dialect::{DbPool, FOR_UPDATE, SKIP_LOCKED, begin_write, db_time};
use super::run_counts::publish_if_streamed;
use crate::error::Result;
use crate::model::{RunLease, ShardLease, ShardPlan, ShardRecord, StreamStep};
use chrono::{DateTime, Duration, Utc};
use const_format::formatcp;
use sqlx::Row;
use sqlx::types::Json;

pub(super) async fn plan(pool: &DbPool, lease: &RunLease, shards: &[ShardPlan]) -> Result<bool> {
    let mut tx = begin_write(pool).await?;
    let held: Option<i64> = sqlx::query_scalar(formatcp!(
        "SELECT id FROM runs WHERE id = $1 AND lease_owner = $2 AND status = 'pending'{FOR_UPDATE}"
    ))
    .bind(lease.run_id)
    .bind(&lease.owner)
    .fetch_optional(&mut *tx)
    .await?;
    if held.is_none() {
        return Ok(false);
    }
    insert_shards(&mut tx, lease.run_id, shards).await?;
    sqlx::query("UPDATE runs SET status = 'streaming', lease_owner = NULL, lease_until = NULL WHERE id = $1")
        .bind(lease.run_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

pub(super) async fn lease(
    pool: &DbPool,
    owner: &str,
    now: DateTime<Utc>,
    lease: Duration,
) -> Result<Option<ShardLease>> {
    // Only the shard row is locked: a run row held by a checkpoint does not hide its shards.
    let row = sqlx::query(formatcp!(
        "UPDATE run_shards SET status = 'streaming', lease_owner = $1, lease_until = $2 \
         WHERE (run_id, shard_no) = ( \
           SELECT s.run_id, s.shard_no FROM run_shards s \
           WHERE s.status <> 'done' AND (s.lease_until IS NULL OR s.lease_until < $3) \
           AND EXISTS (SELECT 1 FROM runs r WHERE r.id = s.run_id AND r.status = 'streaming' AND r.paused_at IS NULL) \
           ORDER BY s.run_id, s.shard_no LIMIT 1{SKIP_LOCKED}) \
         RETURNING run_id, shard_no, checkpoint_json, end_offset, \
           (SELECT template_id FROM runs WHERE id = run_id) AS template_id, \
           (SELECT crowd_id FROM runs WHERE id = run_id) AS crowd_id"
    ))
    .bind(owner)
    .bind(db_time(now + lease))
    .bind(db_time(now))
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let shard_no: i32 = row.try_get("shard_no")?;
    Ok(Some(ShardLease {
        run_id: row.try_get("run_id")?,
        shard_no: shard_no.into(),
        template_id: row.try_get("template_id")?,
        crowd_id: row.try_get("crowd_id")?,
        checkpoint: json_of(&row, "checkpoint_json")?,
        end_offset: row.try_get("end_offset")?,
        owner: owner.to_string(),
    }))
}

pub(super) async fn checkpoint(
    pool: &DbPool,
    lease: &ShardLease,
    step: &StreamStep,
    lease_until: DateTime<Utc>,
) -> Result<bool> {
    let mut tx = begin_write(pool).await?;
    // Run row first (see the module note). A run no longer streaming takes no progress, but for
    // a cancelled or paused one: the window was published, so its rows count (their messages
    // end as `cancelled`, or are held), and the shard is done (cancelled) or handed back where
    // it stands, for a streamer to go on from once the run is resumed (paused).
    let row = sqlx::query(formatcp!("SELECT status, paused_at FROM runs WHERE id = $1{FOR_UPDATE}"))
        .bind(lease.run_id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else { return Ok(false) };
    let paused = opt_time_of(&row, "paused_at")?.is_some();
    let stop = match row.try_get::<String, _>("status")?.as_str() {
        "streaming" if paused => Some("streaming"),
        "streaming" => None,
        "cancelled" => Some("done"),
        _ => return Ok(false),
    };
    let kept = sqlx::query(
        "UPDATE run_shards SET checkpoint_json = $1, rows_read = rows_read + $2, batches = batches + $3, \
         lease_until = $4 WHERE run_id = $5 AND shard_no = $6 AND lease_owner = $7 AND status = 'streaming'",
    )
    .bind(Json(&step.checkpoint))
    .bind(step.rows_read)
    .bind(step.batches)
    .bind(db_time(lease_until))
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
    if let Some(shard_status) = stop {
        sqlx::query(
            "UPDATE run_shards SET status = $1, lease_owner = NULL, lease_until = NULL \
             WHERE run_id = $2 AND shard_no = $3",
        )
        .bind(shard_status)
        .bind(lease.run_id)
        .bind(lease.shard_no as i32)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(stop.is_none())
}

pub(super) async fn finish(pool: &DbPool, lease: &ShardLease, now: DateTime<Utc>) -> Result<()> {
    let mut tx = begin_write(pool).await?;
    // Holding the run row serialises finishing shards: the last one sees every other done.
    sqlx::query(formatcp!("SELECT id FROM runs WHERE id = $1{FOR_UPDATE}"))
        .bind(lease.run_id)
        .fetch_optional(&mut *tx)
        .await?;
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
        publish_if_streamed(&mut tx, lease.run_id, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn release(pool: &DbPool, lease: &ShardLease) -> Result<()> {
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

pub(super) async fn list(pool: &DbPool, run_id: i64) -> Result<Vec<ShardRecord>> {
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
                lease_until: opt_time_of(r, "lease_until")?,
            })
        })
        .collect()
}
