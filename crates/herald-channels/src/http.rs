//! Outbound HTTP for every provider channel: one client with a timeout and no redirects, a URL
//! policy (http/https only; the address policy of [`crate::address_policy`] unless private
//! networks are allowed, applied to IP literals here and to every resolved address at connect
//! time by [`crate::resolver`]), and response bodies read with a size cap.

use crate::address_policy::forbidden;
use crate::resolver::{AddressRefused, PolicyResolver, SystemResolver};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::Value;
use std::net::IpAddr;
use std::sync::Arc;
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
    /// No connection was made: the request never left.
    #[error("connection failed: {0}")]
    Connect(String),
    /// The request went out, but no whole answer came back: it may have arrived.
    #[error("no complete answer: {0}")]
    Unanswered(String),
    #[error("response larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("response is not JSON: {0}")]
    NotJson(String),
}

impl HttpError {
    /// Whether trying again later could help.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Timeout | Self::Connect(_) | Self::Unanswered(_))
    }

    /// Whether the request may have reached the provider (so sending it again may repeat it).
    pub fn may_have_arrived(&self) -> bool {
        matches!(self, Self::Timeout | Self::Unanswered(_))
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
        Self::with_resolver(settings, Arc::new(SystemResolver))
    }

    /// As [`OutboundHttp::new`], asking `resolver` for addresses instead of the system.
    pub fn with_resolver(
        settings: HttpSettings,
        resolver: Arc<dyn reqwest::dns::Resolve>,
    ) -> Result<Self, reqwest::Error> {
        let resolver = Arc::new(PolicyResolver { inner: resolver, open: settings.allow_private_networks });
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms))
            .connect_timeout(Duration::from_millis(settings.timeout_ms.min(5_000)))
            .redirect(reqwest::redirect::Policy::none())
            // A proxy from the environment (HTTP_PROXY) would resolve and connect for us, past
            // the address policy.
            .no_proxy()
            .dns_resolver(resolver)
            .build()?;
        Ok(Self { client, settings })
    }

    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// Checks `url` against the policy: its scheme, and an IP literal host against the address
    /// policy (a host name's addresses are checked as it is connected to).
    pub async fn check_url(&self, url: &str) -> Result<reqwest::Url, HttpError> {
        let refused = |reason: &str| HttpError::Refused { url: redact_url(url), reason: reason.to_string() };
        let parsed = reqwest::Url::parse(url).map_err(|e| refused(&e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(refused("only http and https are allowed"));
        }
        if self.settings.allow_private_networks {
            return Ok(parsed);
        }
        let literal = match parsed.host().ok_or_else(|| refused("no host"))? {
            url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
            url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
            url::Host::Domain(_) => None,
        };
        if let Some(ip) = literal.filter(|ip| forbidden(*ip)) {
            return Err(refused(&format!("{ip} is a loopback, private or reserved address")));
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
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(&e);
    while let Some(inner) = cause {
        if let Some(refused) = inner.downcast_ref::<AddressRefused>() {
            let url = e.url().map(|u| redact_url(u.as_str())).unwrap_or_default();
            return HttpError::Refused { url, reason: refused.to_string() };
        }
        cause = inner.source();
    }
    if e.is_timeout() {
        HttpError::Timeout
    } else {
        // reqwest prints the URL, whose query may carry a token or signature.
        let mut text = e.to_string();
        if let Some(url) = e.url() {
            text = text.replace(url.as_str(), &redact_url(url.as_str()));
        }
        if e.is_connect() { HttpError::Connect(text) } else { HttpError::Unanswered(text) }
    }
}

/// The URL as it may be shown in an error or a log: without its query string (tokens,
/// signatures) and without any user name or password before its host.
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, _)) => (base, "?…"),
        None => (url, ""),
    };
    // `scheme://userinfo@host…`: the userinfo ends at the last '@' before the path.
    let base = match base.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) => format!("{scheme}://…@{}", &rest[at + 1..]),
                None => base.to_string(),
            }
        }
        None => base.to_string(),
    };
    format!("{base}{query}")
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
            "http://198.18.0.1/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::10.0.0.1]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[2002:c0a8:101::1]/",
            "http://0x7f.1/",
            "ftp://example.com/",
        ] {
            assert!(matches!(strict.check_url(url).await, Err(HttpError::Refused { .. })), "{url}");
        }
        let open = OutboundHttp::new(HttpSettings { allow_private_networks: true, ..HttpSettings::default() }).unwrap();
        assert!(open.check_url("http://127.0.0.1:9/x").await.is_ok());
        assert!(open.check_url("file:///etc/passwd").await.is_err());
    }

    /// A resolver that answers one address for every name, as a rebinding DNS server would once
    /// a check has passed.
    struct Answers(std::net::IpAddr);

    impl reqwest::dns::Resolve for Answers {
        fn resolve(&self, _: reqwest::dns::Name) -> reqwest::dns::Resolving {
            let addr = std::net::SocketAddr::new(self.0, 0);
            Box::pin(async move { Ok(Box::new(std::iter::once(addr)) as reqwest::dns::Addrs) })
        }
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_a_private_address_is_refused_where_it_is_connected() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let arrived = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = arrived.clone();
        tokio::spawn(async move {
            while let Ok((_socket, _)) = listener.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        });
        let loopback = Arc::new(Answers("127.0.0.1".parse().unwrap()));
        let strict = OutboundHttp::with_resolver(HttpSettings::default(), loopback.clone()).unwrap();
        let url = format!("http://rebind.example:{port}/hook?token=secret");
        match strict.send(Method::POST, &url, |r| r).await {
            Err(HttpError::Refused { url, reason }) => {
                assert!(reason.contains("rebind.example") && reason.contains("127.0.0.1"), "{reason}");
                assert!(!url.contains("secret"), "{url}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(arrived.load(std::sync::atomic::Ordering::SeqCst), 0, "no connection was made");
        // Allowed, the same name reaches the local server: the refusal above was the policy's.
        let open = HttpSettings { allow_private_networks: true, timeout_ms: 300, ..HttpSettings::default() };
        let _ = OutboundHttp::with_resolver(open, loopback).unwrap().send(Method::POST, &url, |r| r).await;
        assert_eq!(arrived.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[test]
    fn queries_and_credentials_are_redacted() {
        assert_eq!(redact_url("https://x/robot/send?access_token=abc"), "https://x/robot/send?…");
        assert_eq!(redact_url("https://bob:s3cret@hooks.example/p?sig=1"), "https://…@hooks.example/p?…");
        assert_eq!(redact_url("http://user@h:8080"), "http://…@h:8080");
        assert_eq!(redact_url("https://h/a@b"), "https://h/a@b");
    }
}
