//! WeCom group robot (not built yet).

use crate::account::{BuildContext, BuildError, Built, ChannelAccount};

pub fn build(account: &ChannelAccount, _ctx: &BuildContext) -> Result<Built, BuildError> {
    Err(BuildError::Config { field: "channel".into(), message: format!("{} is not available yet", account.channel) })
}
