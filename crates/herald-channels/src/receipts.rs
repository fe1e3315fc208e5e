//! Pulling delivery receipts from providers that answer for them when asked: Tencent Cloud's
//! `PullSmsSendStatus` (the receipts not pulled yet, a page at a time), Aliyun's
//! `QuerySendDetails`, DingTalk's `getsendresult` and Feishu's `read_users` (one sent message
//! per call). An account builds its pulls here; a housekeeping pass runs each within a budget
//! of calls and records what it learns through the store's receipt repository, so a receipt
//! pulled twice, or pulled after it was pushed, lands once.

use crate::account::{BuildContext, BuildError, ChannelAccount};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use herald_core::ChannelKind;
use herald_core::receipt::{Receipt, ReceiptTally};
use herald_store::{AwaitingReceipts, ReceiptRepo, StoreError, TraceRecord};
use std::collections::HashMap;
use std::sync::Mutex;

/// How far back a per-message pull asks: the providers answer for a day's sends at least, and
/// a receipt that has not come in a day is not coming.
pub const PULL_WINDOW: Duration = Duration::days(1);

/// The channels whose accounts may have pulls.
pub const PULLED_CHANNELS: [ChannelKind; 3] =
    [ChannelKind::Sms, ChannelKind::DingTalkWorkNotice, ChannelKind::FeishuApp];

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// The provider did not answer as documented, refused the call or was unreachable; the
    /// receipts it holds wait for the next pass.
    #[error("{0}")]
    Provider(String),
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

/// Where each per-message pull left off (by its key: account and supplier), so that messages
/// that keep waiting (a phone switched off) do not starve those sent after them: a pass goes on
/// after the last message the previous one asked about, and starts over once it reached the end.
#[derive(Default)]
pub struct Cursors(Mutex<HashMap<String, Cursor>>);

#[derive(Default, Clone)]
struct Cursor {
    /// The last message asked about: (sent at, message id).
    after: Option<(DateTime<Utc>, String)>,
    /// The message whose question failed last, if the next one asked again.
    failed: Option<String>,
}

impl Cursors {
    fn get(&self, key: &str) -> Option<(DateTime<Utc>, String)> {
        self.lock().get(key).and_then(|c| c.after.clone())
    }

    fn set(&self, key: &str, at: Option<(DateTime<Utc>, String)>) {
        self.lock().insert(key.to_string(), Cursor { after: at, failed: None });
    }

    /// Notes a failed question about `message`; true when it failed the time before too.
    fn failed_again(&self, key: &str, message: &str) -> bool {
        let mut cursors = self.lock();
        let cursor = cursors.entry(key.to_string()).or_default();
        let again = cursor.failed.as_deref() == Some(message);
        cursor.failed = (!again).then(|| message.to_string());
        again
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cursor>> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One pass of one account's pulls.
pub struct Pass<'a> {
    pub store: &'a dyn ReceiptRepo,
    pub cursors: &'a Cursors,
    pub now: DateTime<Utc>,
    /// Provider calls this pass may still make.
    pub calls_left: usize,
    /// What the receipts recorded so far came to.
    pub tally: ReceiptTally,
}

impl Pass<'_> {
    /// Takes one call from the budget; false when it is spent.
    pub(crate) fn take_call(&mut self) -> bool {
        let left = self.calls_left > 0;
        self.calls_left = self.calls_left.saturating_sub(1);
        left
    }

    /// Records receipts: each lands once per message and state, or in the unmatched list.
    pub(crate) async fn record(&mut self, receipts: &[Receipt]) -> Result<(), PullError> {
        if receipts.is_empty() {
            return Ok(());
        }
        self.tally += self.store.record_receipts(receipts, self.now).await?;
        Ok(())
    }

    /// The sent messages of the account whose send recorded `detail_prefix` and that still wait
    /// for a receipt, oldest first after where `key` left off, at most one per call left.
    async fn waiting(
        &self,
        key: &str,
        account: &str,
        detail_prefix: &str,
        read_follows: bool,
    ) -> Result<Waiting, PullError> {
        let limit = i64::try_from(self.calls_left).unwrap_or(i64::MAX);
        if limit == 0 {
            return Ok(Waiting { messages: Vec::new(), reaches_end: false });
        }
        let mut query = AwaitingReceipts {
            account: account.to_string(),
            detail_prefix: detail_prefix.to_string(),
            since: self.now - PULL_WINDOW,
            read_follows,
            after: self.cursors.get(key),
            limit,
        };
        let mut messages = self.store.awaiting_receipts(&query).await?;
        if messages.is_empty() && query.after.is_some() {
            // Nothing waits after where the last pass left off: start over now rather than
            // spend this pass asking nothing.
            query.after = None;
            messages = self.store.awaiting_receipts(&query).await?;
        }
        let reaches_end = i64::try_from(messages.len()).unwrap_or(i64::MAX) < limit;
        Ok(Waiting { messages, reaches_end })
    }

    /// Notes that `message` was asked about, so the next pass goes on after it.
    fn asked(&self, key: &str, message: &TraceRecord) {
        self.cursors.set(key, Some((message.at, message.message_id.clone())));
    }

    /// Notes that asking about `message` failed: the next pass asks about it again, unless this
    /// was its second failure running; then it is passed over until the pull starts over, so a
    /// message the provider will not answer for cannot hold up the others.
    fn failed(&self, key: &str, message: &TraceRecord) {
        if self.cursors.failed_again(key, &message.message_id) {
            self.asked(key, message);
        }
    }

    /// Notes that a pull asked about every waiting message: the next pass starts over.
    fn start_over(&self, key: &str) {
        self.cursors.set(key, None);
    }
}

/// A page of messages waiting for receipts.
struct Waiting {
    messages: Vec<TraceRecord>,
    /// No message waits after these.
    reaches_end: bool,
}

/// A pull that asks the provider about one sent message a call (Aliyun, DingTalk, Feishu).
#[async_trait]
pub(crate) trait AskEach: Send + Sync {
    /// The cursor's key: account and provider.
    fn cursor(&self) -> &str;
    /// The account's name: its templates' sends are the ones asked about.
    fn account(&self) -> &str;
    /// How what the provider's sends recorded starts.
    fn detail_prefix(&self) -> String;
    /// The provider reports reading after delivery, so delivered is not the end of the wait.
    fn read_follows(&self) -> bool;
    /// Whether there is anything to ask about `message` (else it is passed over, no call made).
    fn askable(&self, message: &TraceRecord) -> bool;
    /// One call about `message`: its receipt, or None while there is none yet.
    async fn ask(&self, message: &TraceRecord) -> Result<Option<Receipt>, PullError>;
}

/// Asks about each waiting message in turn, oldest first after where the last pass left off,
/// within the pass's budget, recording each receipt as it comes.
pub(crate) async fn ask_each(pull: &dyn AskEach, pass: &mut Pass<'_>) -> Result<(), PullError> {
    let key = pull.cursor();
    let waiting = pass.waiting(key, pull.account(), &pull.detail_prefix(), pull.read_follows()).await?;
    for message in &waiting.messages {
        if !pull.askable(message) {
            pass.asked(key, message);
            continue;
        }
        if !pass.take_call() {
            return Ok(());
        }
        match pull.ask(message).await {
            Ok(found) => {
                if let Some(receipt) = found {
                    pass.record(&[receipt]).await?;
                }
                pass.asked(key, message);
            }
            Err(e) => {
                pass.failed(key, message);
                return Err(e);
            }
        }
    }
    if waiting.reaches_end {
        pass.start_over(key);
    }
    Ok(())
}

/// One way of asking one provider account for receipts.
#[async_trait]
pub trait ReceiptPull: Send + Sync {
    /// Who is asked, for logs and metrics: `tencent`, `aliyun#2`, `dingtalk`.
    fn name(&self) -> &str;
    /// Asks the provider within the pass's budget, recording each answer as it comes, so a
    /// failed call loses nothing recorded before it.
    async fn pull(&self, pass: &mut Pass<'_>) -> Result<(), PullError>;
}

/// The account's pulls: one per SMS supplier, one for a DingTalk work-notice app, one for a
/// Feishu app bot that sends to users, none for a channel whose provider answers no such
/// question (a Feishu custom bot's send gets no message id to ask about).
pub fn pulls(account: &ChannelAccount, ctx: &BuildContext) -> Result<Vec<Box<dyn ReceiptPull>>, BuildError> {
    match account.channel {
        ChannelKind::Sms => crate::sms::receipts::pulls(account, ctx),
        ChannelKind::DingTalkWorkNotice => Ok(vec![crate::dingtalk::receipts::pull(account, ctx)?]),
        ChannelKind::FeishuApp => Ok(crate::feishu::receipts::pull(account, ctx)?.into_iter().collect()),
        _ => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_moves_on_and_starts_over() {
        let cursors = Cursors::default();
        assert_eq!(cursors.get("7/aliyun"), None);
        cursors.set("7/aliyun", Some((DateTime::UNIX_EPOCH, "m1".into())));
        assert_eq!(cursors.get("7/aliyun"), Some((DateTime::UNIX_EPOCH, "m1".into())));
        assert_eq!(cursors.get("8/aliyun"), None, "each pull has its own");
        cursors.set("7/aliyun", None);
        assert_eq!(cursors.get("7/aliyun"), None);
    }

    #[test]
    fn a_second_failure_running_is_noted_as_such() {
        let cursors = Cursors::default();
        assert!(!cursors.failed_again("k", "m1"));
        assert!(cursors.failed_again("k", "m1"));
        assert!(!cursors.failed_again("k", "m1"), "counted afresh once passed over");
        assert!(!cursors.failed_again("k", "m2"));
        cursors.set("k", Some((DateTime::UNIX_EPOCH, "m2".into())));
        assert!(!cursors.failed_again("k", "m2"), "an answer in between clears it");
    }
}
