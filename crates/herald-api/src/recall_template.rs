//! austin's recall of a whole template (`/recall` without `recallMessageIds`): every run of the
//! template that has not ended is cancelled (no send of it starts once the answer is given), its
//! send API messages not yet sent are stopped one by one as a single recall stops them, and,
//! when its channel recalls, its messages sent within the providers' 24 hours are recalled.
//! Messages are handled at most [`PAGE`] a request in message id order; `more` tells the caller
//! to ask again, and a message recalled before is not asked about twice.

use crate::AppState;
use crate::error::ApiError;
use crate::recall::{Recalled, recall_through, stop_unsent};
use chrono::Duration;
use herald_channels::recall::LONGEST_RECALL_WINDOW;
use herald_core::recall::RecallOutcome;
use herald_store::{RunFilter, Template};

/// The most messages one request handles.
const PAGE: usize = 1_000;
/// How far back a send API message not yet sent is looked for: past its longest wait (quiet
/// hours, a pause) it would have been sent or ended.
const UNSENT_LOOKBACK: Duration = Duration::days(7);
/// Open runs listed per status asked.
const RUNS_PER_STATUS: i64 = 500;

/// What a whole template's recall did.
pub(crate) struct TemplateRecall {
    pub messages: Vec<Recalled>,
    pub cancelled_runs: Vec<i64>,
    pub more: bool,
}

pub(crate) async fn recall_template(state: &AppState, template: &Template) -> Result<TemplateRecall, ApiError> {
    let cancelled_runs = cancel_open_runs(state, template.id).await?;
    let mut messages = Vec::new();
    let more = stop_unsent_requests(state, template.id, &mut messages).await?
        || recall_sent(state, template, &mut messages).await?;
    tracing::info!(
        template_id = template.id,
        runs = cancelled_runs.len(),
        messages = messages.len(),
        more,
        "template recalled"
    );
    Ok(TemplateRecall { messages, cancelled_runs, more })
}

/// Cancels every run of the template that has not ended; answers once every node has seen it.
async fn cancel_open_runs(state: &AppState, template_id: i64) -> Result<Vec<i64>, ApiError> {
    let mut cancelled = Vec::new();
    let started = std::time::Instant::now();
    for status in ["pending", "streaming", "published", "paused"] {
        let filter =
            RunFilter { status: Some(status.into()), ..RunFilter::newest(RUNS_PER_STATUS).of_template(template_id) };
        for run in state.store.list_runs(&filter).await? {
            match state.store.cancel_run(run.id, state.clock.now()).await {
                Ok(()) => cancelled.push(run.id),
                // It ended meanwhile.
                Err(herald_store::StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    if !cancelled.is_empty() {
        crate::runs::until_every_node_has_seen(cancelled[0], "cancelled by a recall", started).await;
    }
    Ok(cancelled)
}

/// Stops the template's send API messages not yet sent; true when the page filled.
async fn stop_unsent_requests(state: &AppState, template_id: i64, into: &mut Vec<Recalled>) -> Result<bool, ApiError> {
    let since = state.clock.now() - UNSENT_LOOKBACK;
    let mut after = String::new();
    loop {
        let room = PAGE - into.len();
        let page = state.store.unsent_requests(template_id, since, &after, room as i64).await?;
        let Some(last) = page.last() else { return Ok(false) };
        after = last.message_id.clone();
        for accepted in &page {
            let answer = match stop_unsent(state, accepted).await? {
                Some(answer) => answer,
                None => (RecallOutcome::NotRecallable, Some("it was sent meanwhile".into())),
            };
            into.push(Recalled::new(accepted.message_id.clone(), answer));
        }
        if into.len() >= PAGE {
            return Ok(true);
        }
    }
}

/// Recalls the template's messages sent within the providers' window, when its channel recalls;
/// true when the page filled.
async fn recall_sent(state: &AppState, template: &Template, into: &mut Vec<Recalled>) -> Result<bool, ApiError> {
    let spec = &template.spec;
    let channel = match state.channels.resolve(spec.channel, spec.channel_account.as_deref()).await {
        Ok(channel) if channel.recalls() => channel,
        _ => return Ok(false),
    };
    let since = state.clock.now() - LONGEST_RECALL_WINDOW;
    // A message whose recall does not work stays "not recalled": the page goes on after it.
    let mut after = String::new();
    loop {
        let room = PAGE - into.len();
        let page = state.store.sent_not_recalled(template.id, since, &after, room as i64).await?;
        let Some(last) = page.last() else { return Ok(false) };
        after = last.message_id.clone();
        for sent in &page {
            let answer = recall_through(state, channel.as_ref(), sent).await?;
            into.push(Recalled::new(sent.message_id.clone(), answer));
        }
        if into.len() >= PAGE {
            return Ok(true);
        }
    }
}
