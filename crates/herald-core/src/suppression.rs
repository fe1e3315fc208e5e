//! The suppression list's rules: who asked not to be sent to, on which channel (or all), for
//! which kinds of message (marketing unless the entry says more), how a receiver is compared,
//! and which SMS replies mean "stop".

use crate::field::FieldError;
use crate::listing::clip;
use crate::template::ChannelKind;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The longest receiver an entry holds (an email address's limit).
pub const MAX_RECEIVER_CHARS: usize = 320;
const MAX_NOTE_CHARS: usize = 500;

/// What a suppressed receiver's trace says.
pub const SUPPRESSED_REASON: &str = "the receiver is on the suppression list";

/// A message's kind, from austin's message type: 10 notice, 20 marketing, 30 verification code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    Notice,
    Marketing,
    Verification,
}

impl MessageKind {
    pub const ALL: [MessageKind; 3] = [Self::Notice, Self::Marketing, Self::Verification];

    /// The kind of a template's `msgType`; an unknown type reads as marketing, the kind an
    /// opt-out always covers.
    pub fn of_msg_type(msg_type: i32) -> Self {
        match msg_type {
            10 => Self::Notice,
            30 => Self::Verification,
            _ => Self::Marketing,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Notice => "notice",
            Self::Marketing => "marketing",
            Self::Verification => "verification",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }

    fn bit(self) -> u8 {
        match self {
            Self::Notice => 1,
            Self::Marketing => 2,
            Self::Verification => 4,
        }
    }
}

/// The kinds an entry covers: never empty, marketing by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Kinds(u8);

impl Kinds {
    pub const MARKETING: Kinds = Kinds(2);
    pub const EVERY: Kinds = Kinds(7);

    /// The kinds listed, or None when the list is empty.
    pub fn of(kinds: &[MessageKind]) -> Option<Kinds> {
        let bits = kinds.iter().fold(0, |bits, k| bits | k.bit());
        (bits != 0).then_some(Kinds(bits))
    }

    /// As stored: a bit per kind (1 notice, 2 marketing, 4 verification).
    pub fn bits(self) -> i64 {
        i64::from(self.0)
    }

    pub fn from_bits(bits: i64) -> Option<Kinds> {
        (1..=7).contains(&bits).then_some(Kinds(bits as u8))
    }

    pub fn covers(self, kind: MessageKind) -> bool {
        self.0 & kind.bit() != 0
    }

    pub fn list(self) -> Vec<MessageKind> {
        MessageKind::ALL.into_iter().filter(|k| self.covers(*k)).collect()
    }
}

impl Default for Kinds {
    fn default() -> Self {
        Self::MARKETING
    }
}

impl fmt::Display for Kinds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.list().into_iter().map(MessageKind::as_str).collect();
        f.write_str(&names.join(","))
    }
}

/// How an entry came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionSource {
    /// The admin API.
    Api,
    /// A CSV import.
    Import,
    /// The console.
    Console,
    /// An SMS reply such as `TD` or `退订`.
    SmsReply,
    /// An email's one-click unsubscribe (RFC 8058).
    Unsubscribe,
    /// A hard bounce: the address does not exist.
    Bounce,
}

impl SuppressionSource {
    pub const ALL: [SuppressionSource; 6] =
        [Self::Api, Self::Import, Self::Console, Self::SmsReply, Self::Unsubscribe, Self::Bounce];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Import => "import",
            Self::Console => "console",
            Self::SmsReply => "sms_reply",
            Self::Unsubscribe => "unsubscribe",
            Self::Bounce => "bounce",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One entry: `receiver` is not sent messages of `kinds` on `channel` (every channel when None).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// As [`receiver_key`] spells it.
    pub receiver: String,
    pub channel: Option<ChannelKind>,
    pub kinds: Kinds,
    pub source: SuppressionSource,
    pub note: Option<String>,
}

impl Suppression {
    /// Checks and normalises an entry as a user gave it; each problem names its field.
    pub fn new(
        receiver: &str,
        channel: Option<ChannelKind>,
        kinds: Option<&[MessageKind]>,
        source: SuppressionSource,
        note: Option<&str>,
    ) -> Result<Self, Vec<FieldError>> {
        let mut problems = Vec::new();
        let key = receiver_key(receiver);
        if key.is_empty() {
            problems.push(FieldError::new("receiver", "must not be blank"));
        } else if key.chars().count() > MAX_RECEIVER_CHARS {
            let message = format!("{:?} is longer than {MAX_RECEIVER_CHARS} characters", clip(&key, 40));
            problems.push(FieldError::new("receiver", message));
        } else if key.chars().any(char::is_control) {
            problems.push(FieldError::new("receiver", "must not hold control characters"));
        }
        let kinds = match kinds {
            None => Kinds::default(),
            Some(list) => Kinds::of(list).unwrap_or_else(|| {
                problems.push(FieldError::new("kinds", "must list at least one of notice, marketing, verification"));
                Kinds::default()
            }),
        };
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        if note.is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS) {
            problems.push(FieldError::new("note", format!("is longer than {MAX_NOTE_CHARS} characters")));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Self { receiver: key, channel, kinds, source, note: note.map(str::to_string) })
    }
}

/// A receiver as the list compares it: without surrounding space; an email address (anything
/// with `@`) in lower case; a phone number (digits with an optional leading `+`, spaces and
/// dashes) without its spaces and dashes, and a mainland mobile number without `+86`. Entries are stored this way and sends looked up this way.
pub fn receiver_key(receiver: &str) -> String {
    let trimmed = receiver.trim();
    if trimmed.contains('@') {
        return trimmed.to_lowercase();
    }
    let phone_like =
        trimmed.chars().enumerate().all(|(i, c)| c.is_ascii_digit() || c == ' ' || c == '-' || (i == 0 && c == '+'));
    if !phone_like || !trimmed.chars().any(|c| c.is_ascii_digit()) {
        return trimmed.to_string();
    }
    let digits: String = trimmed.chars().filter(|c| *c != ' ' && *c != '-').collect();
    match digits.strip_prefix("+86") {
        // A mainland mobile number is kept bare, as crowds and Chinese providers write it.
        Some(national) if national.len() == 11 && national.starts_with('1') => national.to_string(),
        _ => digits,
    }
}

/// The phone number an SMS provider reports (a national number and its country code): a
/// mainland number bare, as crowds hold them; any other as `+<code><number>`.
pub fn phone_key(country_code: Option<&str>, number: &str) -> String {
    let code = country_code.map(|c| c.trim().trim_start_matches('+')).filter(|c| !c.is_empty());
    match code {
        None => receiver_key(number),
        Some(code) => receiver_key(&format!("+{code}{}", number.trim())),
    }
}

/// The replies that mean "send me no more", compared without case, space or closing
/// punctuation: the carriers' `T`, `TD`, `N`, `R`, `0000`, the Chinese 退订 and 取消, and `STOP`,
/// `UNSUBSCRIBE`, `QUIT`, `CANCEL`, `END` (CTIA's keywords).
pub fn is_opt_out_reply(text: &str) -> bool {
    const WORDS: [&str; 13] =
        ["t", "td", "n", "r", "0000", "退订", "取消", "stop", "unsubscribe", "quit", "cancel", "end", "stopall"];
    let word: String =
        text.trim().trim_end_matches(|c: char| c.is_ascii_punctuation() || "。！".contains(c)).trim().to_lowercase();
    WORDS.contains(&word.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_types_map_to_kinds_and_unknown_ones_read_as_marketing() {
        assert_eq!(MessageKind::of_msg_type(10), MessageKind::Notice);
        assert_eq!(MessageKind::of_msg_type(20), MessageKind::Marketing);
        assert_eq!(MessageKind::of_msg_type(30), MessageKind::Verification);
        assert_eq!(MessageKind::of_msg_type(99), MessageKind::Marketing);
    }

    #[test]
    fn an_entry_covers_marketing_unless_it_says_more() {
        let entry = Suppression::new(" A@Example.com ", None, None, SuppressionSource::Api, None).unwrap();
        assert_eq!(entry.receiver, "a@example.com");
        assert!(entry.kinds.covers(MessageKind::Marketing));
        assert!(!entry.kinds.covers(MessageKind::Notice));
        assert!(!entry.kinds.covers(MessageKind::Verification));
        let all = [MessageKind::Notice, MessageKind::Verification];
        let entry = Suppression::new("1", None, Some(&all), SuppressionSource::Api, None).unwrap();
        assert_eq!(entry.kinds.to_string(), "notice,verification");
        assert_eq!(Kinds::from_bits(entry.kinds.bits()), Some(entry.kinds));
        assert_eq!(Kinds::from_bits(0), None);
        assert_eq!(Kinds::from_bits(8), None);
    }

    #[test]
    fn a_bad_entry_names_each_field() {
        let long = "x".repeat(MAX_RECEIVER_CHARS + 1);
        let problems =
            Suppression::new(&long, None, Some(&[]), SuppressionSource::Api, Some(&"n".repeat(501))).unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["receiver", "kinds", "note"]);
        assert!(Suppression::new("  ", None, None, SuppressionSource::Api, None).is_err());
        assert!(Suppression::new("a\u{7}b", None, None, SuppressionSource::Api, None).is_err());
    }

    #[test]
    fn receivers_compare_as_the_list_stores_them() {
        assert_eq!(receiver_key("+86 138-0000-0000"), "13800000000");
        assert_eq!(receiver_key("+86 10 1234 5678"), "+861012345678", "a landline keeps its code");
        assert_eq!(receiver_key("+1 202-555-0100"), "+12025550100");
        assert_eq!(receiver_key(" 13800000000 "), "13800000000");
        assert_eq!(receiver_key("Bob@Mail.COM"), "bob@mail.com");
        assert_eq!(receiver_key("user-42"), "user-42", "an id is kept as given");
        assert_eq!(receiver_key("-"), "-");
        assert_eq!(phone_key(Some("86"), "13800000000"), "13800000000");
        assert_eq!(phone_key(None, "+8613800000000"), "13800000000");
        assert_eq!(phone_key(Some("+1"), "2025550100"), "+12025550100");
    }

    #[test]
    fn stop_words_are_read_without_case_space_or_closing_punctuation() {
        for reply in ["TD", "td", " T ", "退订", "退订。", "Unsubscribe!", "STOP", "R", "0000"] {
            assert!(is_opt_out_reply(reply), "{reply:?}");
        }
        for reply in ["thanks", "TDX", "please stop sending", "", "退"] {
            assert!(!is_opt_out_reply(reply), "{reply:?}");
        }
    }
}
