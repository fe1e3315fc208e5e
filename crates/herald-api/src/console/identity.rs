//! Who a console request is: the logged-in session, put in the request by the login check, and
//! the CSRF token derived from its cookie. A leaf module: pages, the layout, the CSRF check and
//! the login check all read it.

use sha2::{Digest, Sha256};

/// The logged-in user of a request, put in its extensions by `session::require_login`.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub user_id: i64,
    pub name: String,
    /// The zone the user reads times in.
    pub zone: chrono_tz::Tz,
    /// The language the user picked; None to follow the browser.
    pub language: Option<super::language::Language>,
    pub token_hash: String,
    /// The CSRF token every write of this session must carry.
    pub csrf: String,
}

/// The CSRF token of the session whose cookie holds `session_token`.
pub(crate) fn csrf_token_for(session_token: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"herald-console-csrf\0");
    hasher.update(session_token.as_bytes());
    hex::encode(hasher.finalize())
}
