//! Building a channel from an account: the provider module its channel names builds the
//! channel, its healthcheck and, for token-based providers, the token source that housekeeping
//! refreshes.

use crate::account::{BuildContext, BuildError, Built, ChannelAccount};
use crate::email::UnsubscribeLinks;
use herald_core::ChannelKind;
use herald_store::SuppressionRepo;
use std::sync::Arc;

/// What the email channel takes from the node beyond the build context; the default takes
/// nothing (no unsubscribe links, hard bounces only reported).
#[derive(Clone, Default)]
pub struct BuildExtras {
    /// Makes the one-click unsubscribe links marketing mail carries.
    pub unsubscribe: Option<UnsubscribeLinks>,
    /// Where hard bounces are suppressed.
    pub suppressions: Option<Arc<dyn SuppressionRepo>>,
}

/// The account's channel, built by its provider module.
pub fn build(account: &ChannelAccount, ctx: &BuildContext) -> Result<Built, BuildError> {
    build_with(account, ctx, &BuildExtras::default())
}

/// As [`build`], with the node's extras for email accounts.
pub fn build_with(account: &ChannelAccount, ctx: &BuildContext, extras: &BuildExtras) -> Result<Built, BuildError> {
    match account.channel {
        ChannelKind::Outbox | ChannelKind::Webhook => Err(BuildError::NotAccountBased(account.channel)),
        ChannelKind::Email => crate::email::build_with(account, ctx, extras),
        ChannelKind::Sms => crate::sms::build(account, ctx),
        ChannelKind::DingTalkRobot => crate::dingtalk::robot::build(account, ctx),
        ChannelKind::DingTalkWorkNotice => crate::dingtalk::work_notice::build(account, ctx),
        ChannelKind::WeComRobot => crate::wecom::robot::build(account, ctx),
        ChannelKind::WeComApp => crate::wecom::app::build(account, ctx),
        ChannelKind::FeishuBot => crate::feishu::build(account, ctx),
        ChannelKind::FeishuApp => crate::feishu::app::build(account, ctx),
        ChannelKind::GetuiPush => crate::getui::build(account, ctx),
    }
}
