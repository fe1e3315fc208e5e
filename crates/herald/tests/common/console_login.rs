//! A console session over plain HTTP for the in-process node: a user added straight to the store,
//! the login form posted with its pre-login token, and the session's cookie and CSRF token.

use super::TestNode;
use herald_core::Clock;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};

/// A console user's password in these tests (the console asks for 10 characters or more).
pub const PASSWORD: &str = "correct horse battery";

/// A client that shows redirects instead of following them.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

pub async fn add_user(node: &TestNode, name: &str) {
    let hash = herald_api::console::hash_password(PASSWORD.into()).await.unwrap();
    node.node.context.store.create_user(name, &hash, node.clock.now()).await.unwrap();
}

/// The value of cookie `name` set by a response, and the whole `Set-Cookie` line.
pub fn set_cookie(headers: &HeaderMap, name: &str) -> Option<(String, String)> {
    headers.get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|line| {
        let value = line.strip_prefix(&format!("{name}="))?.split(';').next()?.to_string();
        Some((value, line.to_string()))
    })
}

pub fn location(r: &reqwest::Response) -> String {
    r.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

/// The hidden `csrf` field of a page.
pub fn csrf_field(html: &str) -> String {
    let at = html.find(r#"name="csrf" value=""#).expect("a csrf field") + r#"name="csrf" value=""#.len();
    html[at..].split('"').next().unwrap().to_string()
}

/// A logged-in console session: its cookie header and CSRF token.
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

pub async fn log_in(node: &TestNode, name: &str) -> Session {
    let http = client();
    let page = http.get(node.url("/login")).send().await.unwrap();
    let (pre, _) = set_cookie(page.headers(), "herald_login_csrf").expect("a pre-login token cookie");
    let r = http
        .post(node.url("/login"))
        .header("Cookie", format!("herald_login_csrf={pre}"))
        .form(&[("csrf", pre.as_str()), ("name", name), ("password", PASSWORD), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let (token, _) = set_cookie(r.headers(), "herald_session").expect("a session cookie");
    let cookie = format!("herald_session={token}");
    let home = http.get(node.url("/")).header("Cookie", &cookie).send().await.unwrap();
    assert_eq!(home.status(), 200);
    let csrf = csrf_field(&home.text().await.unwrap());
    Session { cookie, csrf }
}
