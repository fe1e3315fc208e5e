//! Sealing channel-account configs at rest: AES-256-GCM with a random nonce per seal, stored
//! as base64(nonce || ciphertext). The key comes from configuration, the environment, or a
//! key file created at first start with owner-only permissions. The same key makes the tokens
//! of herald's public links (SMS reply callbacks, one-click unsubscribes): each bound to its
//! [`TokenPurpose`], so none opens for another purpose or as a sealed config.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::Path;

const NONCE_LEN: usize = 12;
/// The longest token [`Sealer::unseal_token`] and [`Sealer::verify_token`] read.
const MAX_TOKEN_CHARS: usize = 2048;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("the sealing key must be 32 bytes in base64 ({0})")]
    BadKey(String),
    #[error("cannot read or create the key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
    #[error("sealed data is damaged or was sealed with another key")]
    Unseal,
}

#[derive(Clone)]
pub struct Sealer {
    cipher: Aes256Gcm,
    /// Signs link tokens, keyed with a key derived from the sealing key.
    signer: Hmac<Sha256>,
}

/// What a link token is for: a token made for one purpose opens for no other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    /// The path an SMS account's provider posts replies to; names the account.
    SmsReplyCallback,
    /// The one-click unsubscribe link of a marketing mail; names the receiver.
    EmailUnsubscribe,
}

impl TokenPurpose {
    fn label(self) -> &'static [u8] {
        match self {
            Self::SmsReplyCallback => b"herald/link-token/sms-reply-callback/v1",
            Self::EmailUnsubscribe => b"herald/link-token/email-unsubscribe/v1",
        }
    }
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(<key>)")
    }
}

impl Sealer {
    pub fn from_base64(key: &str) -> Result<Self, SealError> {
        let bytes = STANDARD.decode(key.trim()).map_err(|e| SealError::BadKey(e.to_string()))?;
        if bytes.len() != 32 {
            return Err(SealError::BadKey(format!("got {} bytes", bytes.len())));
        }
        Ok(Self { cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&bytes)), signer: token_signer(&bytes) })
    }

    /// Reads the key file, creating it with a fresh random key (mode 0600) when missing.
    pub fn from_key_file(path: &Path) -> Result<Self, SealError> {
        let fail = |reason: String| SealError::KeyFile { path: path.display().to_string(), reason };
        if !path.exists() {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
            }
            let key = Aes256Gcm::generate_key(OsRng);
            write_private(path, STANDARD.encode(key).as_bytes()).map_err(|e| fail(e.to_string()))?;
            tracing::info!(path = %path.display(), "created a new key for sealing channel-account secrets; back it up");
        }
        let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        Self::from_base64(&text)
    }

    pub fn seal(&self, plain: &[u8]) -> String {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self.cipher.encrypt(&nonce, plain).expect("AES-GCM encryption of an in-memory buffer");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        STANDARD.encode(out)
    }

    pub fn unseal(&self, sealed: &str) -> Result<Vec<u8>, SealError> {
        let bytes = STANDARD.decode(sealed).map_err(|_| SealError::Unseal)?;
        if bytes.len() < NONCE_LEN {
            return Err(SealError::Unseal);
        }
        let (nonce, data) = bytes.split_at(NONCE_LEN);
        self.cipher.decrypt(Nonce::from_slice(nonce), data).map_err(|_| SealError::Unseal)
    }

    pub fn seal_json(&self, value: &serde_json::Value) -> String {
        self.seal(value.to_string().as_bytes())
    }

    pub fn unseal_json(&self, sealed: &str) -> Result<serde_json::Value, SealError> {
        serde_json::from_slice(&self.unseal(sealed)?).map_err(|_| SealError::Unseal)
    }

    /// A URL-safe token that hides `plain` and opens only with this key and `purpose` (AES-GCM
    /// with the purpose as associated data). Each call makes a different token.
    pub fn seal_token(&self, purpose: TokenPurpose, plain: &[u8]) -> String {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let payload = Payload { msg: plain, aad: purpose.label() };
        let sealed = self.cipher.encrypt(&nonce, payload).expect("AES-GCM encryption of an in-memory buffer");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// What a [`Sealer::seal_token`] token for `purpose` holds; an error for any other token.
    pub fn unseal_token(&self, purpose: TokenPurpose, token: &str) -> Result<Vec<u8>, SealError> {
        if token.len() > MAX_TOKEN_CHARS {
            return Err(SealError::Unseal);
        }
        let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| SealError::Unseal)?;
        if bytes.len() < NONCE_LEN {
            return Err(SealError::Unseal);
        }
        let (nonce, data) = bytes.split_at(NONCE_LEN);
        let payload = Payload { msg: data, aad: purpose.label() };
        self.cipher.decrypt(Nonce::from_slice(nonce), payload).map_err(|_| SealError::Unseal)
    }

    /// A URL-safe token that shows `data` and that only this key makes for `purpose`:
    /// `data.signature` (HMAC-SHA256). The same data always gives the same token, so a link
    /// an operator copied once stays valid. `data` must be URL-safe itself.
    pub fn sign_token(&self, purpose: TokenPurpose, data: &str) -> String {
        format!("{data}.{}", URL_SAFE_NO_PAD.encode(self.token_mac(purpose, data).finalize().into_bytes()))
    }

    /// The data of a [`Sealer::sign_token`] token for `purpose`; None for any other token.
    pub fn verify_token<'t>(&self, purpose: TokenPurpose, token: &'t str) -> Option<&'t str> {
        if token.len() > MAX_TOKEN_CHARS {
            return None;
        }
        let (data, signature) = token.rsplit_once('.')?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        // Compared in constant time.
        self.token_mac(purpose, data).verify_slice(&signature).ok().map(|()| data)
    }

    fn token_mac(&self, purpose: TokenPurpose, data: &str) -> Hmac<Sha256> {
        let mut mac = self.signer.clone();
        mac.update(purpose.label());
        mac.update(&[0]);
        mac.update(data.as_bytes());
        mac
    }
}

/// The HMAC that signs link tokens, keyed with HMAC-SHA256(sealing key, a fixed label): a
/// key of its own, so signatures and sealed data never share one.
fn token_signer(sealing_key: &[u8]) -> Hmac<Sha256> {
    let mut derive = <Hmac<Sha256> as Mac>::new_from_slice(sealing_key).expect("HMAC takes any key length");
    derive.update(b"herald/link-token-signing-key/v1");
    let key = derive.finalize().into_bytes();
    <Hmac<Sha256> as Mac>::new_from_slice(&key).expect("HMAC takes any key length")
}

fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(data)
}

/// Field names whose values are secrets: masked in every API answer.
pub fn is_secret_field(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.contains("secret")
        || lower.contains("password")
        || lower.contains("token")
        || lower == "key"
        || name.ends_with("Key")
        // Feishu's bot webhook URL carries the bot's token: it is the credential.
        || lower == "webhookurl"
}

/// The mask shown for a secret: its last four characters when long enough to keep it safe.
pub fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() >= 16 {
        format!("****{}", chars[chars.len() - 4..].iter().collect::<String>())
    } else {
        "****".into()
    }
}

/// A copy of `config` with every secret field masked, at any depth.
pub fn masked(config: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match config {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) if is_secret_field(k) => Value::String(mask(s)),
                        other => masked(other),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(masked).collect()),
        other => other.clone(),
    }
}

/// Field names that decide where an account's secrets go: a masked secret is kept only while
/// none of these (at its level or above) changes, or the stored secret would follow a new
/// host (an SMTP password sent to another server, a token to another base URL).
pub fn is_destination_field(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "host"
            | "port"
            | "security"
            | "username"
            | "user"
            | "from"
            | "baseurl"
            | "endpoint"
            | "url"
            | "webhookurl"
            | "region"
            | "provider"
            | "corpid"
            | "appid"
            | "accesskeyid"
            | "secretid"
            | "sdkappid"
    ) || (is_secret_field(name) && name.ends_with("Key") && name != "key")
}

/// A masked secret sent back while where it goes changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: give the secret again: the stored one is kept only while {changed} stays the same")]
pub struct SecretWouldMove {
    /// The masked secret's path, e.g. `password` or `suppliers[0].accessKeySecret`.
    pub field: String,
    /// The destination field that changed.
    pub changed: String,
}

/// `update` with every masked secret (a value starting with `****`) replaced by the stored
/// one at the same place, so an admin can edit an account without re-entering its secrets;
/// refused when a field that decides where the secret goes changed beside or above it.
pub fn merge_masked(
    update: &serde_json::Value,
    stored: &serde_json::Value,
) -> Result<serde_json::Value, SecretWouldMove> {
    merge_at(update, stored, "", None)
}

fn path_of(parent: &str, key: &str) -> String {
    if parent.is_empty() { key.to_string() } else { format!("{parent}.{key}") }
}

/// The first destination field of this object whose value differs from the stored one.
fn moved_destination(
    new: &serde_json::Map<String, serde_json::Value>,
    old: &serde_json::Map<String, serde_json::Value>,
    at: &str,
) -> Option<String> {
    let keys = new.keys().chain(old.keys()).filter(|k| is_destination_field(k));
    keys.into_iter().find(|k| new.get(*k) != old.get(*k) && !is_kept_mask(new.get(*k))).map(|k| path_of(at, k))
}

fn is_kept_mask(value: Option<&serde_json::Value>) -> bool {
    value.and_then(serde_json::Value::as_str).is_some_and(|s| s.starts_with("****"))
}

fn merge_at(
    update: &serde_json::Value,
    stored: &serde_json::Value,
    at: &str,
    moved_above: Option<&str>,
) -> Result<serde_json::Value, SecretWouldMove> {
    use serde_json::Value;
    match (update, stored) {
        (Value::Object(new), Value::Object(old)) => {
            let moved = moved_above.map(str::to_string).or_else(|| moved_destination(new, old, at));
            let mut merged = serde_json::Map::new();
            for (k, v) in new {
                let path = path_of(at, k);
                let v = match (v, old.get(k)) {
                    (Value::String(s), Some(previous)) if s.starts_with("****") && is_secret_field(k) => {
                        if let Some(changed) = &moved {
                            return Err(SecretWouldMove { field: path, changed: changed.clone() });
                        }
                        previous.clone()
                    }
                    (v, Some(previous)) => merge_at(v, previous, &path, moved.as_deref())?,
                    (v, None) => v.clone(),
                };
                merged.insert(k.clone(), v);
            }
            Ok(Value::Object(merged))
        }
        (Value::Array(new), Value::Array(old)) => new
            .iter()
            .enumerate()
            .map(|(i, v)| match old.get(i) {
                Some(o) => merge_at(v, o, &format!("{at}[{i}]"), moved_above),
                None => Ok(v.clone()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        (v, _) => Ok(v.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn seal_round_trip_and_tamper_detection() {
        let key = STANDARD.encode([7u8; 32]);
        let sealer = Sealer::from_base64(&key).unwrap();
        let sealed = sealer.seal_json(&json!({"appSecret": "s3cr3t-value"}));
        assert!(!sealed.contains("s3cr3t"));
        assert_eq!(sealer.unseal_json(&sealed).unwrap()["appSecret"], "s3cr3t-value");
        let other = Sealer::from_base64(&STANDARD.encode([8u8; 32])).unwrap();
        assert!(other.unseal_json(&sealed).is_err());
        assert!(Sealer::from_base64("c2hvcnQ=").is_err());
    }

    #[test]
    fn link_tokens_open_only_with_their_key_and_purpose() {
        let sealer = Sealer::from_base64(&STANDARD.encode([7u8; 32])).unwrap();
        let other = Sealer::from_base64(&STANDARD.encode([8u8; 32])).unwrap();
        let (unsubscribe, callback) = (TokenPurpose::EmailUnsubscribe, TokenPurpose::SmsReplyCallback);

        let sealed = sealer.seal_token(unsubscribe, b"li.lei@example.com");
        assert!(sealed.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{sealed}");
        assert!(!sealed.contains("example"));
        assert_eq!(sealer.unseal_token(unsubscribe, &sealed).unwrap(), b"li.lei@example.com");
        assert_ne!(sealer.seal_token(unsubscribe, b"li.lei@example.com"), sealed, "a fresh nonce each time");
        assert!(sealer.unseal_token(callback, &sealed).is_err(), "another purpose");
        assert!(other.unseal_token(unsubscribe, &sealed).is_err(), "another key");
        assert!(sealer.unseal(&sealed).is_err(), "not a sealed config");
        assert!(sealer.unseal_token(unsubscribe, &sealer.seal(b"x").replace('+', "-")).is_err());
        let mut tampered = sealed.clone().into_bytes();
        tampered[20] = if tampered[20] == b'A' { b'B' } else { b'A' };
        assert!(sealer.unseal_token(unsubscribe, std::str::from_utf8(&tampered).unwrap()).is_err());

        let signed = sealer.sign_token(callback, "42");
        assert!(signed.starts_with("42."), "{signed}");
        assert_eq!(sealer.sign_token(callback, "42"), signed, "stable");
        assert_eq!(sealer.verify_token(callback, &signed), Some("42"));
        assert_eq!(sealer.verify_token(unsubscribe, &signed), None, "another purpose");
        assert_eq!(other.verify_token(callback, &signed), None, "another key");
        assert_eq!(sealer.verify_token(callback, &signed.replacen("42", "43", 1)), None, "another account");
        assert_eq!(sealer.verify_token(callback, "42"), None);
        assert!(sealer.unseal_token(unsubscribe, &signed).is_err(), "a signed token does not open as a sealed one");
        assert_eq!(sealer.verify_token(callback, &"4".repeat(MAX_TOKEN_CHARS + 1)), None);
    }

    #[test]
    fn masking_hides_secrets_at_any_depth_and_merging_restores_them() {
        let stored = json!({"appKey": "dingabcdefgh12345678", "appSecret": "verysecretvalue-123456", "agentId": 7,
                            "suppliers": [{"provider": "aliyun", "accessKeySecret": "zzzzzzzzzzzzzzzz9999"}]});
        let shown = masked(&stored);
        assert_eq!(shown["appSecret"], "****3456");
        assert_eq!(shown["agentId"], 7);
        assert_eq!(shown["suppliers"][0]["accessKeySecret"], "****9999");
        assert_eq!(shown["suppliers"][0]["provider"], "aliyun");
        let mut edit = shown.clone();
        edit["agentId"] = json!(8);
        let merged = merge_masked(&edit, &stored).unwrap();
        assert_eq!(merged["appSecret"], "verysecretvalue-123456");
        assert_eq!(merged["suppliers"][0]["accessKeySecret"], "zzzzzzzzzzzzzzzz9999");
        assert_eq!(merged["agentId"], 8);
    }

    #[test]
    fn a_masked_secret_does_not_follow_a_changed_destination() {
        let stored = json!({"host": "smtp.example.com", "port": 465, "username": "ops", "password": "p4ssw0rd-long-enough",
                            "baseUrl": "https://oapi.dingtalk.com", "suppliers": [{"endpoint": "https://sms", "secretKey": "k"}]});
        let shown = masked(&stored);
        for (field, value, secret) in [
            ("host", json!("evil.example"), "password"),
            ("port", json!(2525), "password"),
            ("username", json!("other"), "password"),
            ("baseUrl", json!("http://evil.example"), "password"),
        ] {
            let mut edit = shown.clone();
            edit[field] = value;
            let refused = merge_masked(&edit, &stored).unwrap_err();
            assert_eq!((refused.field.as_str(), refused.changed.as_str()), (secret, field));
        }
        let mut edit = shown.clone();
        edit["suppliers"][0]["endpoint"] = json!("https://evil.example");
        let refused = merge_masked(&edit, &stored).unwrap_err();
        assert_eq!(refused.field, "suppliers[0].secretKey");
        // Given again, the new secret goes with the new host; a change above a nested secret
        // counts for it too.
        let mut edit = shown.clone();
        edit["host"] = json!("smtp2.example.com");
        edit["password"] = json!("a-new-password");
        assert_eq!(merge_masked(&edit, &stored).unwrap_err().field, "suppliers[0].secretKey");
        edit["suppliers"][0]["secretKey"] = json!("k2");
        assert_eq!(merge_masked(&edit, &stored).unwrap()["password"], "a-new-password");
        // Feishu's webhook URL is the credential: masked.
        assert!(
            masked(&json!({"webhookUrl": "https://open.feishu.cn/open-apis/bot/v2/hook/abcdef123456"}))["webhookUrl"]
                .as_str()
                .unwrap()
                .starts_with("****")
        );
    }
}
