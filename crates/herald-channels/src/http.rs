//! Outbound HTTP for every provider channel: one client with a timeout and no redirects, a URL
//! policy (http/https only; loopback, link-local and private ranges refused unless allowed),
//! and response bodies read with a size cap.

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::Value;
use std::net::IpAddr;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// Per request, connect to last byte.
    pub timeout_ms: u64,
    /// Largest response body read, in bytes.
    pub max_response_bytes: usize,
    /// Allow loopback, link-local and private addresses (tests and on-premise providers).
    pub allow_private_networks: bool,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self { timeout_ms: 10_000, max_response_bytes: 1024 * 1024, allow_private_networks: false }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("refused URL {url}: {reason}")]
    Refused { url: String, reason: String },
    #[error("timed out")]
    Timeout,
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("response larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("response is not JSON: {0}")]
    NotJson(String),
}

impl HttpError {
    /// Whether trying again later could help.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Timeout | Self::Connect(_))
    }
}

/// A response read whole (up to the cap).
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: StatusCode,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn json(&self) -> Result<Value, HttpError> {
        serde_json::from_slice(&self.body).map_err(|e| HttpError::NotJson(e.to_string()))
    }
}

#[derive(Clone)]
pub struct OutboundHttp {
    client: reqwest::Client,
    settings: HttpSettings,
}

impl OutboundHttp {
    pub fn new(settings: HttpSettings) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms))
            .connect_timeout(Duration::from_millis(settings.timeout_ms.min(5_000)))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { client, settings })
    }

    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// Checks `url` against the policy, resolving its host.
    pub async fn check_url(&self, url: &str) -> Result<reqwest::Url, HttpError> {
        let refused = |reason: &str| HttpError::Refused { url: redact_query(url), reason: reason.to_string() };
        let parsed = reqwest::Url::parse(url).map_err(|e| refused(&e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(refused("only http and https are allowed"));
        }
        if self.settings.allow_private_networks {
            return Ok(parsed);
        }
        let host = parsed.host_str().ok_or_else(|| refused("no host"))?.to_string();
        let port = parsed.port_or_known_default().unwrap_or(443);
        let addrs = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
            .await
            .map_err(|e| HttpError::Connect(format!("cannot resolve {host}: {e}")))?;
        for addr in addrs {
            if is_private(addr.ip()) {
                return Err(refused(&format!("{} is a loopback, link-local or private address", addr.ip())));
            }
        }
        Ok(parsed)
    }

    /// Sends a request built by `build` after checking the URL; reads the body up to the cap.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Result<HttpResponse, HttpError> {
        let url = self.check_url(url).await?;
        let request = build(self.client.request(method, url));
        let mut response = request.send().await.map_err(classify_error)?;
        let status = response.status();
        let limit = self.settings.max_response_bytes;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify_error)? {
            if body.len() + chunk.len() > limit {
                return Err(HttpError::TooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse { status, body })
    }

    pub async fn post_json(&self, url: &str, body: &Value) -> Result<HttpResponse, HttpError> {
        self.send(Method::POST, url, |r| r.json(body)).await
    }
}

fn classify_error(e: reqwest::Error) -> HttpError {
    if e.is_timeout() {
        HttpError::Timeout
    } else {
        // reqwest prints the URL, whose query may carry a token or signature.
        let mut text = e.to_string();
        if let Some(url) = e.url() {
            text = text.replace(url.as_str(), &redact_query(url.as_str()));
        }
        HttpError::Connect(text)
    }
}

/// The URL without its query string, which often holds tokens and signatures.
pub fn redact_query(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?…"),
        None => url.to_string(),
    }
}

fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xC0) == 64) // CGNAT 100.64/10
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00 // unique local
                || (v6.segments()[0] & 0xffc0) == 0xfe80 // link-local
                || v6.to_ipv4_mapped().is_some_and(|v4| is_private(IpAddr::V4(v4)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn private_targets_are_refused_unless_allowed() {
        let strict = OutboundHttp::new(HttpSettings::default()).unwrap();
        for url in [
            "http://127.0.0.1:9/x",
            "http://10.1.2.3/",
            "http://[::1]/",
            "http://169.254.169.254/latest",
            "ftp://example.com/",
        ] {
            assert!(matches!(strict.check_url(url).await, Err(HttpError::Refused { .. })), "{url}");
        }
        let open = OutboundHttp::new(HttpSettings { allow_private_networks: true, ..HttpSettings::default() }).unwrap();
        assert!(open.check_url("http://127.0.0.1:9/x").await.is_ok());
        assert!(open.check_url("file:///etc/passwd").await.is_err());
    }

    #[test]
    fn queries_are_redacted() {
        assert_eq!(redact_query("https://x/robot/send?access_token=abc"), "https://x/robot/send?…");
    }
}
