//! Token refresh as a housekeeping job: one of the jobs the scheduler cannot hold itself, since
//! it must not know providers (receipt pulls, in `receipt_pulls`, are the other). The release
//! and retention jobs live in herald-scheduler.

use herald_channels::registry::AccountChannels;
use herald_scheduler::{HousekeepingJob, JobError};
use herald_store::ClaimedFire;
use std::sync::Arc;

/// Refreshes one channel account's access token.
pub struct TokenRefresh {
    pub accounts: Arc<AccountChannels>,
}

#[async_trait::async_trait]
impl HousekeepingJob for TokenRefresh {
    async fn run(&self, fire: &ClaimedFire) -> Result<(), JobError> {
        let account_id = fire.account_id.ok_or("a token refresh schedule without an account")?;
        match self.accounts.refresh_token(account_id).await? {
            Some(_) => Ok(()),
            None => Err(format!("channel account {account_id} does not use access tokens").into()),
        }
    }
}
