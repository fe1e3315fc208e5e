//! SMS receipts pulled from the suppliers. Tencent Cloud's `PullSmsSendStatus` (2021-01-11,
//! `{Limit ≤ 100, SmsSdkAppId}`) hands over the app's receipts not pulled yet, each once, as
//! `Response.PullSmsSendStatusSet[]` of `{SerialNo, PhoneNumber, ReportStatus SUCCESS|FAIL,
//! Description, UserReceiveTime, ...}`, matched like the push by `SerialNo`. Aliyun's
//! `QuerySendDetails` (2017-05-25, `{PhoneNumber, SendDate yyyyMMdd, PageSize ≤ 50,
//! CurrentPage, BizId}`) answers for one sent message: `SmsSendDetailDTOs.SmsSendDetailDTO[]` of
//! `{SendStatus 1 waiting | 2 failed | 3 delivered, ErrCode, OutId, PhoneNum, ...}`; it is asked
//! about each message its supplier sent in the last day that has no receipt yet.

use super::aliyun::AliyunSms;
use super::tencent::TencentSms;
use super::{BuiltSupplier, snippet, supplier_names};
use crate::account::{BuildContext, BuildError, ChannelAccount};
use crate::receipts::{AskEach, Pass, PullError, ReceiptPull, ask_each};
use async_trait::async_trait;
use chrono::{DateTime, FixedOffset, Utc};
use herald_core::receipt::{Receipt, ReceiptKey, ReceiptState, provider_detail};
use herald_store::TraceRecord;
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The most receipts one `PullSmsSendStatus` answers.
const TENCENT_PAGE: usize = 100;
/// A `QuerySendDetails` page: one message's sends to one number on one day.
const ALIYUN_PAGE: u32 = 10;
/// Aliyun reads `SendDate` in Beijing time.
const BEIJING_SECS: i32 = 8 * 3600;
/// The longest id or code kept from an answer.
const MAX_FIELD_CHARS: usize = 128;

/// A pull per supplier of the account.
pub(crate) fn pulls(account: &ChannelAccount, ctx: &BuildContext) -> Result<Vec<Box<dyn ReceiptPull>>, BuildError> {
    let tencent_names = supplier_names(&account.config, "tencent");
    let pulls = super::suppliers(account, ctx)?
        .into_iter()
        .map(|supplier| -> Box<dyn ReceiptPull> {
            match supplier {
                BuiltSupplier::Tencent(supplier) => Box::new(TencentPull { supplier, names: tencent_names.clone() }),
                BuiltSupplier::Aliyun(supplier) => {
                    let key = format!("{}/{}", account.id, super::Supplier::name(supplier.as_ref()));
                    Box::new(AliyunPull { supplier, account: account.name.clone(), key })
                }
            }
        })
        .collect();
    Ok(pulls)
}

/// An id or code from an answer, bounded; an empty one is none.
fn field(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.chars().take(MAX_FIELD_CHARS).collect())
}

struct TencentPull {
    supplier: Arc<TencentSms>,
    /// Every Tencent supplier's name in the account: a `SerialNo` is matched under these.
    names: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TencentEnvelope {
    response: TencentAnswer,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TencentAnswer {
    #[serde(default)]
    error: Option<TencentError>,
    #[serde(default)]
    pull_sms_send_status_set: Vec<TencentStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TencentError {
    code: String,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TencentStatus {
    #[serde(default)]
    serial_no: String,
    #[serde(default)]
    report_status: String,
    #[serde(default)]
    description: String,
}

/// The receipts of a `PullSmsSendStatus` answer, and how many entries it held; an entry
/// without a serial number or with a status other than SUCCESS or FAIL is skipped.
fn tencent_receipts(
    name: &str,
    names: &[String],
    status: StatusCode,
    body: &[u8],
) -> Result<(Vec<Receipt>, usize), PullError> {
    let envelope: TencentEnvelope = serde_json::from_slice(body)
        .map_err(|_| PullError::Provider(format!("{name}: HTTP {}: {}", status.as_u16(), snippet(body))))?;
    if let Some(error) = envelope.response.error {
        return Err(PullError::Provider(format!("{name}: {}: {}", error.code, error.message)));
    }
    let set = envelope.response.pull_sms_send_status_set;
    let entries = set.len();
    let receipts = set
        .into_iter()
        .filter_map(|entry| {
            let state = match entry.report_status.as_str() {
                "SUCCESS" => ReceiptState::Delivered,
                "FAIL" => ReceiptState::Undelivered,
                _ => return None,
            };
            let key = ReceiptKey::Provider { suppliers: names.to_vec(), id: field(&entry.serial_no)? };
            Some(Receipt { provider: "tencent".into(), key, state, code: field(&entry.description) })
        })
        .collect();
    Ok((receipts, entries))
}

#[async_trait]
impl ReceiptPull for TencentPull {
    fn name(&self) -> &str {
        super::Supplier::name(self.supplier.as_ref())
    }

    /// Pages until Tencent has no more, or the budget is spent.
    async fn pull(&self, pass: &mut Pass<'_>) -> Result<(), PullError> {
        while pass.take_call() {
            let body = json!({"Limit": TENCENT_PAGE, "SmsSdkAppId": self.supplier.sdk_app_id()});
            let response = self
                .supplier
                .call("PullSmsSendStatus", &body)
                .await
                .map_err(|e| PullError::Provider(format!("{}: {e}", self.name())))?;
            let (receipts, entries) = tencent_receipts(self.name(), &self.names, response.status, &response.body)?;
            pass.record(&receipts).await?;
            if entries < TENCENT_PAGE {
                break;
            }
        }
        Ok(())
    }
}

struct AliyunPull {
    supplier: Arc<AliyunSms>,
    /// The account's name: its templates' sends are the ones asked about.
    account: String,
    /// The cursor's key: account and supplier.
    key: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AliyunAnswer {
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default, rename = "SmsSendDetailDTOs")]
    details: Option<AliyunDetails>,
}

#[derive(Deserialize)]
struct AliyunDetails {
    #[serde(default, rename = "SmsSendDetailDTO")]
    list: Vec<AliyunDetail>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AliyunDetail {
    send_status: i64,
    #[serde(default)]
    err_code: String,
}

/// What a `QuerySendDetails` answer says of the message asked about: its receipt's state and
/// code, or None while it waits (status 1) or no send is listed.
fn aliyun_state(name: &str, status: StatusCode, body: &[u8]) -> Result<Option<(ReceiptState, String)>, PullError> {
    let answer: AliyunAnswer = serde_json::from_slice(body)
        .map_err(|_| PullError::Provider(format!("{name}: HTTP {}: {}", status.as_u16(), snippet(body))))?;
    if answer.code != "OK" {
        return Err(PullError::Provider(format!("{name}: {}: {}", answer.code, answer.message)));
    }
    let details = answer.details.map(|d| d.list).unwrap_or_default();
    // A delivery or failure outweighs a waiting entry of a resend on the same day.
    let decided = details.into_iter().find_map(|d| match d.send_status {
        3 => Some((ReceiptState::Delivered, d.err_code)),
        2 => Some((ReceiptState::Undelivered, d.err_code)),
        _ => None,
    });
    Ok(decided)
}

/// `SendDate`: the day a message was sent, in Beijing time, as `yyyyMMdd`.
fn send_date(at: DateTime<Utc>) -> String {
    let beijing = FixedOffset::east_opt(BEIJING_SECS).expect("a valid offset");
    at.with_timezone(&beijing).format("%Y%m%d").to_string()
}

#[async_trait]
impl AskEach for AliyunPull {
    fn cursor(&self) -> &str {
        &self.key
    }

    fn account(&self) -> &str {
        &self.account
    }

    fn detail_prefix(&self) -> String {
        provider_detail(self.name(), "")
    }

    fn read_follows(&self) -> bool {
        false
    }

    fn askable(&self, message: &TraceRecord) -> bool {
        self.biz_id(message).is_some()
    }

    /// `QuerySendDetails` for one sent message: its receipt, or None while it waits.
    async fn ask(&self, message: &TraceRecord) -> Result<Option<Receipt>, PullError> {
        let mut params = BTreeMap::new();
        let mut put = |k: &str, v: &str| params.insert(k.to_string(), v.to_string());
        put("Action", "QuerySendDetails");
        put("PhoneNumber", &message.receiver);
        put("SendDate", &send_date(message.at));
        put("BizId", self.biz_id(message).unwrap_or_default());
        put("PageSize", &ALIYUN_PAGE.to_string());
        put("CurrentPage", "1");
        let response =
            self.supplier.call(params).await.map_err(|e| PullError::Provider(format!("{}: {e}", self.name())))?;
        let decided = aliyun_state(self.name(), response.status, &response.body)?;
        Ok(decided.map(|(state, code)| Receipt {
            provider: "aliyun".into(),
            key: ReceiptKey::Message(message.message_id.clone()),
            state,
            code: field(&code),
        }))
    }
}

impl AliyunPull {
    /// The `BizId` the message's send recorded.
    fn biz_id<'m>(&self, message: &'m TraceRecord) -> Option<&'m str> {
        message.detail.as_deref()?.strip_prefix(&provider_detail(self.name(), ""))
    }
}

#[async_trait]
impl ReceiptPull for AliyunPull {
    fn name(&self) -> &str {
        super::Supplier::name(self.supplier.as_ref())
    }

    /// Asks about each message this supplier sent that waits for a receipt, oldest first.
    async fn pull(&self, pass: &mut Pass<'_>) -> Result<(), PullError> {
        ask_each(self, pass).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn tencent_pulls_read_as_receipts_by_serial() {
        let body = json!({"Response": {"PullSmsSendStatusSet": [
            {"UserReceiveTime": "2026-05-01 11:00:05", "CountryCode": "86", "SubscriberNumber": "13800000000",
             "PhoneNumber": "+8613800000000", "SerialNo": "5000:1", "ReportStatus": "SUCCESS",
             "Description": "DELIVRD", "SessionContext": "m1"},
            {"SerialNo": "5000:2", "ReportStatus": "FAIL", "Description": "MK:0001"},
            {"SerialNo": "", "ReportStatus": "FAIL"},
            {"SerialNo": "5000:3", "ReportStatus": "MAYBE"}], "RequestId": "r"}});
        let names = vec!["tencent".to_string()];
        let (receipts, entries) =
            tencent_receipts("tencent", &names, StatusCode::OK, body.to_string().as_bytes()).ok().unwrap();
        assert_eq!(entries, 4);
        let read: Vec<(String, ReceiptState, Option<String>)> =
            receipts.iter().map(|r| (r.reference().to_string(), r.state, r.code.clone())).collect();
        assert_eq!(
            read,
            [
                ("5000:1".into(), ReceiptState::Delivered, Some("DELIVRD".into())),
                ("5000:2".into(), ReceiptState::Undelivered, Some("MK:0001".into()))
            ]
        );
        let error = json!({"Response": {"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "m"}}});
        let Err(PullError::Provider(reason)) =
            tencent_receipts("tencent", &names, StatusCode::OK, error.to_string().as_bytes())
        else {
            panic!("an error answer is an error")
        };
        assert_eq!(reason, "tencent: AuthFailure.SignatureFailure: m");
        assert!(tencent_receipts("tencent", &names, StatusCode::BAD_GATEWAY, b"<html>").is_err());
    }

    #[test]
    fn aliyun_details_say_delivered_failed_or_waiting() {
        let answer = |status: i64, code: &str| {
            json!({"Code": "OK", "Message": "OK", "TotalCount": 1, "RequestId": "r", "SmsSendDetailDTOs":
                {"SmsSendDetailDTO": [{"ErrCode": code, "TemplateCode": "SMS_1", "OutId": "m1", "SendDate":
                "2026-05-01 11:00:00", "ReceiveDate": "2026-05-01 11:00:04", "PhoneNum": "13800000000",
                "Content": "c", "SendStatus": status}]}})
            .to_string()
        };
        let state = |body: String| aliyun_state("aliyun", StatusCode::OK, body.as_bytes()).ok().unwrap();
        assert_eq!(state(answer(3, "DELIVERED")), Some((ReceiptState::Delivered, "DELIVERED".into())));
        assert_eq!(state(answer(2, "IC_BLACK")), Some((ReceiptState::Undelivered, "IC_BLACK".into())));
        assert_eq!(state(answer(1, "")), None);
        assert_eq!(state(json!({"Code": "OK", "TotalCount": 0}).to_string()), None);
        let refused = json!({"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "m"}).to_string();
        assert!(aliyun_state("aliyun", StatusCode::OK, refused.as_bytes()).is_err());
        assert!(aliyun_state("aliyun", StatusCode::INTERNAL_SERVER_ERROR, b"oops").is_err());
    }

    #[test]
    fn the_send_date_is_beijings() {
        assert_eq!(send_date(Utc.with_ymd_and_hms(2026, 5, 1, 15, 59, 59).unwrap()), "20260501");
        assert_eq!(send_date(Utc.with_ymd_and_hms(2026, 5, 1, 16, 0, 0).unwrap()), "20260502");
    }
}
