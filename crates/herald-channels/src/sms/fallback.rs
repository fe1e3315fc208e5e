//! Trying SMS suppliers in order: the next one takes over when one is busy or cannot send for
//! reasons of its own, never when the receiver's number is at fault (the rule is spelled out in
//! the module doc of [`crate::sms`]).

use super::{Attempt, Sms, Supplier};
use crate::SendResult;
use std::sync::Arc;
use std::time::Duration;

pub struct SupplierChain {
    suppliers: Vec<Arc<dyn Supplier>>,
}

impl SupplierChain {
    pub fn new(suppliers: Vec<Arc<dyn Supplier>>) -> Self {
        Self { suppliers }
    }

    pub async fn send(&self, sms: Sms<'_>) -> SendResult {
        let mut failures: Vec<String> = Vec::new();
        let mut any_retryable = false;
        let mut after: Option<Duration> = None;
        for (index, supplier) in self.suppliers.iter().enumerate() {
            let attempt = supplier.send(sms).await;
            let reason = match attempt {
                Attempt::Sent { id } => {
                    if index > 0 {
                        tracing::info!(message_id = %sms.message_id, supplier = supplier.name(), "sms sent by a fallback supplier");
                    }
                    let detail = herald_core::receipt::provider_detail(supplier.name(), &id);
                    return SendResult::Sent { detail: Some(detail) };
                }
                Attempt::ReceiverFault { reason } => {
                    failures.push(reason);
                    return SendResult::Permanent { reason: failures.join("; ") };
                }
                Attempt::Retryable { reason, after: hint } => {
                    // The earliest time any supplier may take it again; no hint means "any time".
                    after = match (any_retryable, after, hint) {
                        (false, _, hint) => hint,
                        (true, Some(a), Some(b)) => Some(a.min(b)),
                        _ => None,
                    };
                    any_retryable = true;
                    reason
                }
                Attempt::SupplierFault { reason } => reason,
            };
            if index + 1 < self.suppliers.len() {
                tracing::warn!(message_id = %sms.message_id, supplier = supplier.name(), %reason, "sms supplier failed; trying the next");
            }
            failures.push(reason);
        }
        let reason = failures.join("; ");
        if any_retryable { SendResult::Retryable { reason, after } } else { SendResult::Permanent { reason } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use serde_json::Map;
    use std::sync::Mutex;

    struct Scripted {
        name: String,
        answer: Attempt,
        calls: Mutex<u32>,
    }

    #[async_trait]
    impl Supplier for Scripted {
        fn name(&self) -> &str {
            &self.name
        }
        fn endpoint(&self) -> &str {
            "http://unused"
        }
        async fn send(&self, _sms: Sms<'_>) -> Attempt {
            *self.calls.lock().unwrap() += 1;
            self.answer.clone()
        }
    }

    fn supplier(name: &str, answer: Attempt) -> Arc<Scripted> {
        Arc::new(Scripted { name: name.into(), answer, calls: Mutex::new(0) })
    }

    async fn run(suppliers: &[Arc<Scripted>]) -> SendResult {
        let chain = SupplierChain::new(suppliers.iter().map(|s| s.clone() as Arc<dyn Supplier>).collect());
        let params = Map::new();
        let template = Default::default();
        chain.send(Sms { message_id: "m1", phone: "+8613800000000", params: &params, template: &template }).await
    }

    fn retry(reason: &str, after: Option<u64>) -> Attempt {
        Attempt::Retryable { reason: reason.into(), after: after.map(Duration::from_secs) }
    }

    #[tokio::test]
    async fn next_supplier_takes_over_after_a_supplier_fault_or_retry() {
        for first in [retry("a busy", None), Attempt::SupplierFault { reason: "a balance".into() }] {
            let a = supplier("a", first);
            let b = supplier("b", Attempt::Sent { id: "B-1".into() });
            assert_eq!(run(&[a.clone(), b.clone()]).await, SendResult::Sent { detail: Some("b: B-1".into()) });
            assert_eq!((*a.calls.lock().unwrap(), *b.calls.lock().unwrap()), (1, 1));
        }
    }

    #[tokio::test]
    async fn receiver_fault_stops_the_chain() {
        let a = supplier("a", Attempt::ReceiverFault { reason: "a: bad number".into() });
        let b = supplier("b", Attempt::Sent { id: "B-1".into() });
        assert_eq!(run(&[a, b.clone()]).await, SendResult::Permanent { reason: "a: bad number".into() });
        assert_eq!(*b.calls.lock().unwrap(), 0);
    }

    #[tokio::test]
    async fn all_failed_is_retryable_if_any_was() {
        let a = supplier("a", retry("a: busy", Some(30)));
        let b = supplier("b", Attempt::SupplierFault { reason: "b: template".into() });
        let c = supplier("c", retry("c: busy", Some(10)));
        assert_eq!(
            run(&[a.clone(), b.clone(), c]).await,
            SendResult::Retryable {
                reason: "a: busy; b: template; c: busy".into(),
                after: Some(Duration::from_secs(10))
            }
        );
        assert_eq!(run(&[b.clone(), b]).await, SendResult::Permanent { reason: "b: template; b: template".into() });
        let d = supplier("d", retry("d: busy", None));
        assert!(matches!(run(&[a, d]).await, SendResult::Retryable { after: None, .. }));
    }
}
