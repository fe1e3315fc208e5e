//! The outbox channel: "delivers" by writing the rendered message to herald's own store,
//! once per message id. It lets a newcomer see sends without any provider account.

use crate::{Channel, OutgoingMessage, SendResult};
use async_trait::async_trait;
use herald_core::{ChannelKind, Clock};
use herald_store::{DeliveryRepo, OutboxEntry};
use std::sync::Arc;

pub struct OutboxChannel {
    store: Arc<dyn DeliveryRepo>,
    clock: Arc<dyn Clock>,
}

impl OutboxChannel {
    pub fn new(store: Arc<dyn DeliveryRepo>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }
}

#[async_trait]
impl Channel for OutboxChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Outbox
    }

    async fn send(&self, message: &OutgoingMessage) -> SendResult {
        let entry = OutboxEntry {
            id: 0,
            message_id: message.message_id.to_string(),
            template_id: message.template_id,
            run_id: message.run_id,
            receiver: message.receiver.clone(),
            content: message.content.clone(),
            delivered_at: self.clock.now(),
        };
        match self.store.insert_outbox(&entry).await {
            Ok(()) => SendResult::Sent { detail: None },
            Err(e) => SendResult::Retryable { reason: format!("outbox write failed: {e}"), after: None },
        }
    }
}
