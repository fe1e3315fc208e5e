//! Getui's receipt callback (消息回执, docs.getui.com/getui/server/receipt/): Getui POSTs text
//! whose every line is one receipt as JSON, `{appid, cid, taskid, msgid, code, desc, sign,
//! actionId, recvtime}`, signed `sign = md5_hex(appid + cid + taskid + msgid + masterSecret)`.
//! `code` 200 reports an event: `actionId` 0 (reached the Getui SDK), 10000 (notification
//! shown), 10030 (pass-through reached) and the vendor channels' sent or arrived codes (110000
//! Huawei, 120000 Xiaomi, 130000 Meizu, 140000 OPPO, 150000 vivo, ...) mean delivered; 10010,
//! 10019 (iOS), 120010 and 130010 are clicks, read; 90000 to 90999 are the app's own, ignored.
//! Any other `code` (400 APNs refused, 401 no such user, 402 inactive user, 500) is
//! undelivered with that code. A receipt names its message by the task and the cid.

use super::{GetuiConfig, SENT_STATUSES, sent_detail};
use herald_core::receipt::{Receipt, ReceiptKey, ReceiptState};
use md5::{Digest, Md5};
use secrecy::ExposeSecret;
use serde::Deserialize;

/// The most receipts one callback may carry.
pub const MAX_LINES: usize = 10_000;
/// The longest id or code kept from a receipt.
const MAX_FIELD_CHARS: usize = 128;

/// Click receipts: the user opened the notification.
const CLICKS: [&str; 4] = ["10010", "10019", "120010", "130010"];
/// `actionId`s the app defines for itself.
const CUSTOM_ACTIONS: std::ops::RangeInclusive<u32> = 90_000..=90_999;

/// Why a callback was refused; nothing of it is recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    /// A line is not a receipt as Getui documents it.
    #[error("line {line}: {problem}")]
    BadLine { line: usize, problem: String },
    /// A line names another app than the account's.
    #[error("line {line}: appid is not this account's appId")]
    OtherApp { line: usize },
    /// A line's sign is not what the account's masterSecret makes of it.
    #[error("line {line}: sign does not match")]
    BadSign { line: usize },
    #[error("the callback carries more than {MAX_LINES} receipts")]
    TooMany,
    /// The account's own config does not read as a Getui account's.
    #[error("the account's config: {0}")]
    Account(String),
}

/// One line as Getui sends it; `code`, `actionId` and `recvtime` come as strings or numbers.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Line {
    appid: String,
    cid: String,
    taskid: String,
    msgid: String,
    code: serde_json::Value,
    sign: String,
    #[serde(default)]
    action_id: Option<serde_json::Value>,
}

/// `md5_hex(appid + cid + taskid + msgid + masterSecret)`, as Getui signs a receipt.
pub fn sign(appid: &str, cid: &str, taskid: &str, msgid: &str, master_secret: &str) -> String {
    let mut hasher = Md5::new();
    for part in [appid, cid, taskid, msgid, master_secret] {
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// A string or number field as text.
fn text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.trim().to_string(),
        other => other.to_string(),
    }
}

/// Reads a callback to the account whose (unsealed) config is `config`.
pub fn read_for_account(body: &str, config: &serde_json::Value) -> Result<Vec<Receipt>, CallbackError> {
    let config: GetuiConfig =
        serde_json::from_value(config.clone()).map_err(|e| CallbackError::Account(e.to_string()))?;
    read_callback(body, config.app_id.trim(), config.master_secret.expose_secret())
}

/// Reads a callback of the app `app_id`: every receipt it carries that herald tracks, after
/// checking every line's sign. One bad line refuses the whole callback.
pub fn read_callback(body: &str, app_id: &str, master_secret: &str) -> Result<Vec<Receipt>, CallbackError> {
    let lines: Vec<(usize, &str)> =
        body.lines().enumerate().map(|(i, l)| (i + 1, l.trim())).filter(|(_, l)| !l.is_empty()).collect();
    if lines.len() > MAX_LINES {
        return Err(CallbackError::TooMany);
    }
    let mut receipts = Vec::with_capacity(lines.len());
    for (line, raw) in lines {
        let bad = |problem: String| CallbackError::BadLine { line, problem };
        let parsed: Line = serde_json::from_str(raw).map_err(|e| bad(e.to_string()))?;
        if parsed.appid != app_id {
            return Err(CallbackError::OtherApp { line });
        }
        let expected = sign(&parsed.appid, &parsed.cid, &parsed.taskid, &parsed.msgid, master_secret);
        let given = parsed.sign.trim().to_ascii_lowercase();
        if !bool::from(subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), given.as_bytes())) {
            return Err(CallbackError::BadSign { line });
        }
        let (taskid, cid) = (parsed.taskid.trim(), parsed.cid.trim());
        if taskid.is_empty() || cid.is_empty() || taskid.chars().count() > MAX_FIELD_CHARS {
            return Err(bad(format!("taskid and cid must be given, at most {MAX_FIELD_CHARS} characters")));
        }
        let code = text(&parsed.code);
        let action = parsed.action_id.as_ref().map(text).unwrap_or_default();
        let (state, code) = if code != "200" {
            (ReceiptState::Undelivered, Some(code.chars().take(MAX_FIELD_CHARS).collect()))
        } else if CLICKS.contains(&action.as_str()) {
            (ReceiptState::Read, Some(action))
        } else if action.parse::<u32>().is_ok_and(|a| CUSTOM_ACTIONS.contains(&a)) {
            continue;
        } else {
            (ReceiptState::Delivered, Some(action).filter(|a| !a.is_empty()))
        };
        let key = ReceiptKey::Task {
            details: SENT_STATUSES.iter().map(|status| sent_detail(taskid, status)).collect(),
            receiver: cid.to_string(),
            id: taskid.to_string(),
        };
        receipts.push(Receipt { provider: "getui".into(), key, state, code });
    }
    Ok(receipts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn line(cid: &str, code: &str, action: &str, secret: &str) -> String {
        json!({"code": code, "recvtime": 1559252242250u64, "appid": "app1", "msgid": "m9", "actionId": action,
               "taskid": "RASS_1", "desc": "ok", "cid": cid, "sign": sign("app1", cid, "RASS_1", "m9", secret)})
        .to_string()
    }

    #[test]
    fn the_sign_is_md5_of_the_ids_and_the_secret() {
        // echo -n 'app1cid1RASS_1m9secret' | md5sum
        assert_eq!(sign("app1", "cid1", "RASS_1", "m9", "secret"), "cd03c0f7de9d75f36f36ef30ebb15847");
        assert_eq!(sign("", "", "", "", ""), "d41d8cd98f00b204e9800998ecf8427e");
    }

    #[test]
    fn each_line_becomes_a_receipt_by_task_and_cid() {
        let body = [
            line("c1", "200", "0", "s"),
            line("c2", "200", "10010", "s"),
            line("c3", "401", "0", "s"),
            line("c4", "200", "90001", "s"),
            String::new(),
        ]
        .join("\n");
        let receipts = read_callback(&body, "app1", "s").unwrap();
        let read: Vec<(&str, ReceiptState, Option<&str>)> =
            receipts.iter().map(|r| (r.reference(), r.state, r.code.as_deref())).collect();
        assert_eq!(
            read,
            [
                ("RASS_1", ReceiptState::Delivered, Some("0")),
                ("RASS_1", ReceiptState::Read, Some("10010")),
                ("RASS_1", ReceiptState::Undelivered, Some("401"))
            ]
        );
        let ReceiptKey::Task { details, receiver, .. } = &receipts[0].key else { panic!("by task") };
        assert_eq!((details[0].as_str(), receiver.as_str()), ("task RASS_1: successed_online", "c1"));
    }

    #[test]
    fn one_bad_line_refuses_the_callback() {
        let good = line("c1", "200", "0", "s");
        let forged = line("c2", "200", "0", "not the secret");
        assert_eq!(read_callback(&format!("{good}\n{forged}"), "app1", "s"), Err(CallbackError::BadSign { line: 2 }));
        assert_eq!(read_callback(&good, "app2", "s"), Err(CallbackError::OtherApp { line: 1 }));
        assert!(matches!(read_callback("{not json", "app1", "s"), Err(CallbackError::BadLine { line: 1, .. })));
    }
}
