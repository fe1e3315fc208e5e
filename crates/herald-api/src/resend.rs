//! Resend to failed: a run of the same template to only the receivers whose messages failed in
//! a run that has ended. The failed rows are marked in a bitset as the ledger streams them (a bit
//! a row: 125 KiB for a million), the run's crowd file is copied through that filter into a new
//! crowd file named after the run (streamed from file to file, never held in memory), and the
//! resend run is created over it. A run is resent once; what its resend fails is resent from
//! the resend.

use crate::AppState;
use crate::error::ApiError;
use fixedbitset::FixedBitSet;
use herald_core::RunProgress;
use herald_crowd::{CrowdFormat, CrowdStore, SavedCrowd, body_stream, write_subset};
use herald_store::Crowd;
use std::sync::Arc;
use tokio_util::io::{ReaderStream, SyncIoBridge};

/// Bytes buffered between the copying thread and crowd storage.
const COPY_BUFFER: usize = 64 * 1024;

/// Creates the resend run of `run_id`'s failed messages; answers it.
pub(crate) async fn resend_failed(state: &AppState, run_id: i64) -> Result<RunProgress, ApiError> {
    let parent = state.store.get_run(run_id).await?;
    if let Some(refusal) = parent.resend_refusal() {
        return Err(ApiError::Conflict(refusal));
    }
    let crowd = state.store.get_crowd(&parent.crowd_id).await.map_err(|_| {
        ApiError::Conflict(format!("run {run_id}'s crowd file was deleted; its failed receivers cannot be read back"))
    })?;
    let failed = failed_rows(state, &parent).await?;
    if failed.is_clear() {
        return Err(ApiError::Conflict(format!(
            "run {run_id}'s failed messages are no longer in the delivery ledger (it keeps them for its retention time)"
        )));
    }
    let saved = copy_rows(state.crowds.clone(), &crowd, failed, state.limits.max_upload_bytes).await?;
    let name = format!("failed of run {run_id}");
    let now = state.clock.now();
    let recorded = crate::record_crowd(state.store.as_ref(), &saved, name, now).await;
    let created = match recorded {
        Ok(_) => state.store.create_resend_run(run_id, &saved.crowd_id, saved.report.rows as i64, now).await,
        Err(e) => {
            discard_file(state, &saved.crowd_id).await;
            return Err(e);
        }
    };
    match created {
        Ok(id) => Ok(state.store.get_run(id).await?),
        Err(e) => {
            if let Err(gone) = crate::crowd_admin::delete_crowd(state, &saved.crowd_id).await {
                tracing::warn!(crowd_id = %saved.crowd_id, error = %gone, "an unused resend crowd could not be deleted");
            }
            Err(e.into())
        }
    }
}

/// The data rows (1-based) of the run's messages that failed.
async fn failed_rows(state: &AppState, run: &RunProgress) -> Result<FixedBitSet, ApiError> {
    let mut rows = FixedBitSet::with_capacity(run.rows_total.max(0) as usize + 1);
    let mut foreign = 0u64;
    let mut mark = |id: herald_core::MessageId| match id.row() {
        Some(row) => rows.grow_and_insert(row as usize),
        None => foreign += 1,
    };
    state.store.visit_failed_messages(run.id, &mut mark).await?;
    if foreign > 0 {
        tracing::warn!(run_id = run.id, foreign, "failed messages of the run without a row number were not resent");
    }
    Ok(rows)
}

/// Saves the rows of `crowd` marked in `rows` as a new crowd file, in the same format.
async fn copy_rows(
    crowds: Arc<dyn CrowdStore>,
    crowd: &Crowd,
    rows: FixedBitSet,
    max_bytes: u64,
) -> Result<SavedCrowd, ApiError> {
    let source = crowds.open(&crowd.id).await.map_err(|e| ApiError::Conflict(format!("crowd {}: {e}", crowd.id)))?;
    let format = CrowdFormat::with_receiver_column(&crowd.receiver_column);
    let (from_copy, to_store) = tokio::io::duplex(COPY_BUFFER);
    let sink = SyncIoBridge::new(to_store);
    let copy_format = format.clone();
    let copying = tokio::task::spawn_blocking(move || {
        write_subset(source, &copy_format, |row| rows.contains(row as usize), sink)
    });
    let (saved, copied) =
        tokio::join!(crowds.save(body_stream(ReaderStream::new(from_copy)), max_bytes, &format), copying);
    let copied = copied.map_err(|e| ApiError::Internal(format!("copying the failed rows: {e}")))?;
    match (saved, copied) {
        (Ok(saved), Ok(written)) => {
            tracing::info!(crowd_id = %saved.crowd_id, rows = written, "failed rows copied to a new crowd file");
            Ok(saved)
        }
        (saved, copied) => {
            if let Ok(saved) = &saved
                && let Err(e) = crowds.delete(&saved.crowd_id).await
            {
                tracing::warn!(crowd_id = %saved.crowd_id, error = %e, "a partial resend crowd file could not be removed");
            }
            let problem = copied.err().map(|e| e.to_string()).or(saved.err().map(|e| e.to_string()));
            Err(ApiError::Internal(format!("copying the failed rows: {}", problem.unwrap_or_default())))
        }
    }
}

/// Removes a saved file that no record refers to.
async fn discard_file(state: &AppState, crowd_id: &str) {
    if let Err(e) = state.crowds.delete(crowd_id).await {
        tracing::warn!(crowd_id, error = %e, "an unrecorded resend crowd file could not be removed");
    }
}
