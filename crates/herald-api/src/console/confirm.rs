//! The page a destructive button leads to before anything happens: what is about to go, what
//! stays, and a "yes" that repeats the request with `confirm=yes` (and the fields it carried).

use super::form::Form;
use super::language::filters;
use super::render::Chrome;
use askama::Template;

#[derive(Template)]
#[template(path = "console/confirm.html")]
pub(crate) struct Confirm {
    pub chrome: Chrome,
    /// The question, as the page's heading.
    pub title: String,
    /// What goes and what is kept.
    pub text: String,
    /// Where the "yes" posts.
    pub action: String,
    /// The fields the first request carried (bulk ids, say), posted again with the "yes".
    pub fields: Vec<(String, String)>,
    pub yes: String,
    /// Where "no" leads.
    pub back: String,
}

impl Confirm {
    /// Whether the request already carries the operator's "yes".
    pub fn given(form: &Form) -> bool {
        form.get("confirm") == Some("yes")
    }
}
