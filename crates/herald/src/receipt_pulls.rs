//! Receipt pulls as a housekeeping job: each pass asks the providers of every SMS, DingTalk
//! work-notice and Feishu app account for the receipts they hold (`herald_channels::receipts`),
//! at most `max_calls_per_account` calls per account, and records them through the store, so a
//! pass that fails half way loses nothing and the next one picks up the rest.

use herald_channels::receipts::{Cursors, PULLED_CHANNELS, Pass, pulls};
use herald_channels::registry::AccountChannels;
use herald_core::receipt::ReceiptTally;
use herald_core::settings::InvalidSetting;
use herald_core::{Clock, CronSchedule};
use herald_scheduler::{HousekeepingJob, JobError};
use herald_store::{AccountFilter, AccountRecord, ClaimedFire, Store, Window};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Accounts read from the store at a time.
const ACCOUNT_PAGE: i64 = 100;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReceiptPullsConfig {
    /// When a pass runs (Quartz cron, UTC): every minute by default.
    pub cron: String,
    /// Provider calls one pass makes per account, at most (a Tencent page holds 100 receipts;
    /// Aliyun and DingTalk answer for one message a call).
    pub max_calls_per_account: usize,
}

impl Default for ReceiptPullsConfig {
    fn default() -> Self {
        Self { cron: "0 * * * * ?".into(), max_calls_per_account: 20 }
    }
}

impl ReceiptPullsConfig {
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        CronSchedule::parse(&self.cron, "UTC").map_err(|e| InvalidSetting::new("cron", e.to_string()))?;
        InvalidSetting::check_range("max_calls_per_account", self.max_calls_per_account, 1, 1_000)
    }
}

/// The job: one pass per fire over every account that has pulls.
pub struct ReceiptPulls {
    pub store: Arc<dyn Store>,
    pub accounts: Arc<AccountChannels>,
    pub clock: Arc<dyn Clock>,
    pub max_calls_per_account: usize,
    /// Where each per-message pull left off, kept across passes.
    pub cursors: Cursors,
}

impl ReceiptPulls {
    /// One pass over every account that has pulls. Every account is tried; the failures, by
    /// account and provider, make the error.
    pub async fn pass(&self) -> Result<ReceiptTally, String> {
        let mut tally = ReceiptTally::default();
        let mut failures = Vec::new();
        for channel in PULLED_CHANNELS {
            let mut offset = 0;
            loop {
                let window = Window { offset, limit: ACCOUNT_PAGE };
                let filter = AccountFilter { search: None, channel: Some(channel), window };
                let page = self.store.list_accounts(&filter).await.map_err(|e| e.to_string())?;
                for record in &page {
                    self.pull_account(record, &mut tally, &mut failures).await;
                }
                if i64::try_from(page.len()).unwrap_or(0) < ACCOUNT_PAGE {
                    break;
                }
                offset += ACCOUNT_PAGE;
            }
        }
        if failures.is_empty() { Ok(tally) } else { Err(failures.join("; ")) }
    }

    async fn pull_account(&self, record: &AccountRecord, tally: &mut ReceiptTally, failures: &mut Vec<String>) {
        let built = self.accounts.unseal(record).map_err(|e| e.to_string()).and_then(|account| {
            pulls(&account, self.accounts.context()).map_err(|e| format!("account {:?}: {e}", record.name))
        });
        let pulls = match built {
            Ok(pulls) => pulls,
            Err(e) => return failures.push(e),
        };
        for pull in pulls {
            let mut pass = Pass {
                store: self.store.as_ref(),
                cursors: &self.cursors,
                now: self.clock.now(),
                calls_left: self.max_calls_per_account,
                tally: ReceiptTally::default(),
            };
            let result = pull.pull(&mut pass).await;
            let (provider, got) = (pull.name().to_string(), pass.tally);
            count(&provider, got);
            *tally += got;
            if let Err(e) = result {
                tracing::warn!(account_id = record.id, provider, error = %e, "receipt pull failed; the next pass asks again");
                failures.push(format!("account {:?} {provider}: {e}", record.name));
            } else if got != ReceiptTally::default() {
                tracing::info!(
                    account_id = record.id,
                    provider,
                    recorded = got.recorded,
                    repeated = got.repeated,
                    unmatched = got.unmatched,
                    "receipts pulled"
                );
            }
        }
    }
}

/// The receipt counter the pushes count in too.
fn count(provider: &str, tally: ReceiptTally) {
    let provider = provider.split('#').next().unwrap_or(provider).to_string();
    metrics::counter!("herald_receipts_total", "provider" => provider.clone(), "outcome" => "recorded")
        .increment(tally.recorded);
    metrics::counter!("herald_receipts_total", "provider" => provider, "outcome" => "unmatched")
        .increment(tally.unmatched);
}

#[async_trait::async_trait]
impl HousekeepingJob for ReceiptPulls {
    async fn run(&self, _fire: &ClaimedFire) -> Result<(), JobError> {
        self.pass().await.map(|_| ()).map_err(Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked() {
        assert!(ReceiptPullsConfig::default().validate().is_ok());
        let bad_cron = ReceiptPullsConfig { cron: "every minute".into(), ..Default::default() };
        assert!(bad_cron.validate().unwrap_err().to_string().contains("cron"));
        let no_calls = ReceiptPullsConfig { max_calls_per_account: 0, ..Default::default() };
        assert!(no_calls.validate().unwrap_err().to_string().contains("max_calls_per_account"));
    }
}
