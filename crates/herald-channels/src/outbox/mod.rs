//! The outbox channel: "delivers" by writing the rendered message to herald's own store,
//! once per message id. It lets a newcomer see sends without any provider account.

use crate::{Channel, OutgoingMessage, SendResult};
use async_trait::async_trait;
use herald_core::{ChannelKind, Clock};
use herald_store::{LedgerRepo, OutboxEntry};
use std::sync::Arc;

pub struct OutboxChannel {
    store: Arc<dyn LedgerRepo>,
    clock: Arc<dyn Clock>,
}

impl OutboxChannel {
    pub fn new(store: Arc<dyn LedgerRepo>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }
}

#[async_trait]
impl Channel for OutboxChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Outbox
    }

    async fn send(&self, message: &OutgoingMessage) -> SendResult {
        self.send_batch(std::slice::from_ref(message)).await.pop().expect("one result per message")
    }

    fn prefers_batch(&self) -> bool {
        true
    }

    /// One transaction for the whole batch: a 100-row insert costs about what one row does.
    async fn send_batch(&self, messages: &[OutgoingMessage]) -> Vec<SendResult> {
        let now = self.clock.now();
        let entries: Vec<OutboxEntry> = messages
            .iter()
            .map(|m| OutboxEntry {
                id: 0,
                message_id: m.message_id.to_string(),
                template_id: m.template_id,
                run_id: m.run_id,
                receiver: m.receiver.clone(),
                content: m.content.clone(),
                delivered_at: now,
            })
            .collect();
        let result = match self.store.insert_outbox(&entries).await {
            Ok(()) => SendResult::Sent { detail: None },
            Err(e) => SendResult::Retryable { reason: format!("outbox write failed: {e}"), after: None },
        };
        vec![result; messages.len()]
    }
}
