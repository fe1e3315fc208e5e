//! Receipts that named no sent message (an unknown `out_id` or `sid`, a message whose send
//! herald recorded as failed): kept and listed here, newest first, so none is dropped silently.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::Query;
use crate::paging::{PageOf, PageQuery};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use herald_store::UnmatchedReceipt;
use serde_json::Value;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/receipts/unmatched", get(unmatched))
}

#[utoipa::path(get, path = "/api/receipts/unmatched", tag = "messages", params(PageQuery),
    responses((status = 200, description = "a page of the receipts that named no sent message, newest first",
        body = PageOf<UnmatchedReceipt>)))]
async fn unmatched(State(state): State<AppState>, Query(page): Query<PageQuery>) -> Result<Json<Value>, ApiError> {
    let page = page.check()?;
    let window = page.window();
    let (items, next) = page.take_fetched(state.store.unmatched_receipts(window.offset, window.limit).await?);
    Ok(Json(page.wrap(&items, next)))
}
