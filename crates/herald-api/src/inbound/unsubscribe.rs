//! One-click unsubscribe (RFC 8058) for the links marketing mail carries: `POST
//! /unsubscribe/{token}` with `List-Unsubscribe=One-Click` (form-encoded or multipart, as mail
//! readers send it) suppresses marketing mail to the address the token seals, and answers 200
//! however often it comes. `GET` only shows a page whose button posts: link scanners follow
//! GETs, and must not unsubscribe anyone.

use super::masked_receiver;
use crate::AppState;
use crate::extract::Path;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use herald_channels::email::unsubscribe::receiver_of;
use herald_core::{ChannelKind, Suppression, SuppressionSource};

const ONE_CLICK_KEY: &str = "List-Unsubscribe";
const ONE_CLICK_VALUE: &str = "One-Click";
/// The one-click form is a few hundred bytes, multipart included.
const MAX_BODY: usize = 8 * 1024;
/// The page's one inline style, and a form that posts back here; nothing else loads.
const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/unsubscribe/{token}", get(confirm_page).post(unsubscribe).layer(DefaultBodyLimit::max(MAX_BODY)))
}

/// Every page the link shows, in English and Chinese (the reader's language is unknown).
#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow"><title>{{ title }}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem;color:#222}button{font:inherit;padding:.5rem 1.5rem;cursor:pointer}</style>
</head><body><h1>{{ title }}</h1>
{% for line in lines %}<p>{{ line }}</p>
{% endfor %}{% if ask %}<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe · 退订</button></form>
{% endif %}</body></html>"#
)]
struct Page {
    title: &'static str,
    lines: Vec<String>,
    /// Shows the button that posts the one-click form.
    ask: bool,
}

impl Page {
    fn confirm(address: &str) -> Self {
        let lines = vec![
            format!("Stop marketing mail to {address}? Mail you need, such as notices and codes, still arrives."),
            format!("不再向 {address} 发送营销邮件？通知、验证码等邮件仍会送达。"),
        ];
        Self { title: "Unsubscribe · 退订", lines, ask: true }
    }

    fn done(address: &str) -> Self {
        let lines =
            vec![format!("{address} will get no more marketing mail."), format!("{address} 将不再收到营销邮件。")];
        Self { title: "Unsubscribed · 已退订", lines, ask: false }
    }

    fn not_valid() -> Self {
        let lines = vec![
            "This unsubscribe link is not valid: use the one in a mail you received.".to_string(),
            "此退订链接无效，请使用所收邮件中的链接。".to_string(),
        ];
        Self { title: "Link not valid · 链接无效", lines, ask: false }
    }

    fn not_asked() -> Self {
        let lines = vec![
            "Nothing changed: the request did not carry List-Unsubscribe=One-Click.".to_string(),
            "未做任何更改：请求中没有 List-Unsubscribe=One-Click。".to_string(),
        ];
        Self { title: "Nothing changed · 未做更改", lines, ask: false }
    }

    fn failed() -> Self {
        let lines = vec![
            "Your request could not be recorded just now; please try again in a minute.".to_string(),
            "暂时无法记录您的请求，请稍后重试。".to_string(),
        ];
        Self { title: "Please try again · 请稍后重试", lines, ask: false }
    }

    fn answer(&self, status: StatusCode) -> Response {
        let mut response = match self.render() {
            Ok(body) => (status, Html(body)).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "rendering the unsubscribe page");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        };
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
        headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        // The token in the URL goes nowhere else.
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert("x-robots-tag", HeaderValue::from_static("noindex, nofollow"));
        response
    }
}

/// Asks before unsubscribing; changes nothing.
async fn confirm_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match receiver_of(state.accounts.sealer(), &token) {
        Some(receiver) => Page::confirm(&masked_receiver(&receiver)).answer(StatusCode::OK),
        None => Page::not_valid().answer(StatusCode::NOT_FOUND),
    }
}

/// Suppresses marketing mail to the token's address (once; a repeat changes nothing).
async fn unsubscribe(State(state): State<AppState>, Path(token): Path<String>, request: Request) -> Response {
    let Some(receiver) = receiver_of(state.accounts.sealer(), &token) else {
        return Page::not_valid().answer(StatusCode::NOT_FOUND);
    };
    match asks_one_click(request).await {
        Ok(true) => {}
        Ok(false) => return Page::not_asked().answer(StatusCode::BAD_REQUEST),
        Err(status) => return Page::not_asked().answer(status),
    }
    let note = "one-click unsubscribe (RFC 8058)";
    let entry =
        match Suppression::new(&receiver, Some(ChannelKind::Email), None, SuppressionSource::Unsubscribe, Some(note)) {
            Ok(entry) => entry,
            Err(_) => return Page::not_valid().answer(StatusCode::NOT_FOUND),
        };
    if let Err(e) = state.store.suppress(&[entry], state.clock.now()).await {
        tracing::error!(error = %e, "recording a one-click unsubscribe");
        return Page::failed().answer(StatusCode::SERVICE_UNAVAILABLE);
    }
    let address = masked_receiver(&receiver);
    metrics::counter!("herald_email_unsubscribes_total").increment(1);
    tracing::info!(receiver = %address, "one-click unsubscribe: no more marketing mail to this address");
    Page::done(&address).answer(StatusCode::OK)
}

/// Whether the body is RFC 8058's `List-Unsubscribe=One-Click`, as `multipart/form-data` or
/// `application/x-www-form-urlencoded`; an unreadable body answers its status.
async fn asks_one_click(request: Request) -> Result<bool, StatusCode> {
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if content_type.trim_start().to_ascii_lowercase().starts_with("multipart/form-data") {
        let mut form = Multipart::from_request(request, &()).await.map_err(|e| e.status())?;
        while let Some(field) = form.next_field().await.map_err(|e| e.status())? {
            if field.name() == Some(ONE_CLICK_KEY) {
                return Ok(field.text().await.map_err(|e| e.status())?.trim() == ONE_CLICK_VALUE);
            }
        }
        return Ok(false);
    }
    let body = Bytes::from_request(request, &()).await.map_err(|e| e.status())?;
    Ok(url::form_urlencoded::parse(&body).any(|(key, value)| key == ONE_CLICK_KEY && value.trim() == ONE_CLICK_VALUE))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn post(content_type: &str, body: &'static str) -> Request {
        Request::post("/").header(header::CONTENT_TYPE, content_type).body(Body::from(body)).unwrap()
    }

    #[tokio::test]
    async fn the_one_click_form_is_read_in_both_encodings() {
        let form = "application/x-www-form-urlencoded";
        assert_eq!(asks_one_click(post(form, "List-Unsubscribe=One-Click")).await, Ok(true));
        assert_eq!(asks_one_click(post(form, "a=b&List-Unsubscribe=One-Click")).await, Ok(true));
        assert_eq!(asks_one_click(post(form, "List-Unsubscribe=Later")).await, Ok(false));
        assert_eq!(asks_one_click(post(form, "")).await, Ok(false));
        let multipart = "multipart/form-data; boundary=XyZ";
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--XyZ--\r\n";
        assert_eq!(asks_one_click(post(multipart, body)).await, Ok(true));
        let other = "--XyZ\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nOne-Click\r\n--XyZ--\r\n";
        assert_eq!(asks_one_click(post(multipart, other)).await, Ok(false));
    }

    #[test]
    fn pages_escape_what_they_show() {
        let html = Page::done("<b>@x").render().unwrap();
        assert!(html.contains("&#60;b&#62;@x") || html.contains("&lt;b&gt;@x"), "{html}");
        assert!(Page::confirm("a***@x").render().unwrap().contains(r#"name="List-Unsubscribe" value="One-Click""#));
    }
}
