//! Building a channel from an account: the provider module its channel names builds the
//! channel, its healthcheck and, for token-based providers, the token source that housekeeping
//! refreshes.

use crate::account::{BuildContext, BuildError, Built, ChannelAccount};
use herald_core::ChannelKind;

/// The account's channel, built by its provider module.
pub fn build(account: &ChannelAccount, ctx: &BuildContext) -> Result<Built, BuildError> {
    match account.channel {
        ChannelKind::Outbox | ChannelKind::Webhook => Err(BuildError::NotAccountBased(account.channel)),
        ChannelKind::Email => crate::email::build(account, ctx),
        ChannelKind::Sms => crate::sms::build(account, ctx),
        ChannelKind::DingTalkRobot => crate::dingtalk::robot::build(account, ctx),
        ChannelKind::DingTalkWorkNotice => crate::dingtalk::work_notice::build(account, ctx),
        ChannelKind::WeComRobot => crate::wecom::robot::build(account, ctx),
        ChannelKind::WeComApp => crate::wecom::app::build(account, ctx),
        ChannelKind::FeishuBot => crate::feishu::build(account, ctx),
        ChannelKind::GetuiPush => crate::getui::build(account, ctx),
    }
}
