//! Paging for the list endpoints: `?limit=` (default [`DEFAULT_LIMIT`], at most
//! [`MAX_LIMIT`]) and `?offset=` (the items to skip, at most [`MAX_OFFSET`]). A page answers
//! `{"items", "limit", "offset", "nextOffset"}`, `nextOffset` null on the last page, so an
//! answer's size is bounded whatever the table holds.

use crate::error::ApiError;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 500;
/// Deep offsets cost a scan of everything before them; a client needing more filters instead.
pub const MAX_OFFSET: i64 = 100_000;

#[derive(Debug, Default, Clone, Copy, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page: 1 to 500, 100 when absent.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// Items to skip: 0 to 100,000.
    #[param(minimum = 0, maximum = 100_000)]
    offset: Option<i64>,
}

/// A short list answered whole (its length is bounded by what it lists).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
}

/// One page of a list: `nextOffset` is null on the last page.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageOf<T> {
    pub items: Vec<T>,
    pub limit: usize,
    pub offset: usize,
    pub next_offset: Option<usize>,
}

/// A checked page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: usize,
    pub offset: usize,
}

impl PageQuery {
    pub fn new(limit: i64, offset: Option<i64>) -> Self {
        Self { limit: Some(limit), offset }
    }

    /// Refuses a limit or offset out of range, naming it.
    pub fn check(self) -> Result<Page, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::field("limit", format!("{limit} is out of range: give 1 to {MAX_LIMIT}")));
        }
        let offset = self.offset.unwrap_or(0);
        if !(0..=MAX_OFFSET).contains(&offset) {
            return Err(ApiError::field("offset", format!("{offset} is out of range: give 0 to {MAX_OFFSET}")));
        }
        Ok(Page { limit: limit as usize, offset: offset as usize })
    }
}

impl Page {
    /// How many items to fetch so that [`Page::answer`] can tell whether a next page exists.
    pub fn fetch(&self) -> i64 {
        (self.offset + self.limit + 1) as i64
    }

    /// The page's part of `all` (everything from the first item on, or at least
    /// [`Page::fetch`] items), as the page answer.
    pub fn answer<T: Serialize>(&self, all: Vec<T>) -> Value {
        let (items, next) = self.take(all);
        self.wrap(&items, next)
    }

    /// The rows to read for this page: from its offset, one more than its limit, so that
    /// [`Page::take_fetched`] can tell whether a next page exists.
    pub fn window(&self) -> herald_store::Window {
        herald_store::Window { offset: self.offset as i64, limit: self.limit as i64 + 1 }
    }

    /// The page's items out of `all`, and the next page's offset if there is one.
    pub fn take<T>(&self, all: Vec<T>) -> (Vec<T>, Option<usize>) {
        let seen = all.len();
        let items = all.into_iter().skip(self.offset).take(self.limit).collect();
        (items, (seen > self.offset + self.limit).then_some(self.offset + self.limit))
    }

    /// The page's items out of `fetched` (read from the page's offset on, at most one more than
    /// the limit), and the next page's offset if there is one.
    pub fn take_fetched<T>(&self, mut fetched: Vec<T>) -> (Vec<T>, Option<usize>) {
        let more = fetched.len() > self.limit;
        fetched.truncate(self.limit);
        (fetched, more.then_some(self.offset + self.limit))
    }

    /// The page answer around items already taken.
    pub fn wrap<T: Serialize>(&self, items: &[T], next: Option<usize>) -> Value {
        json!(PageOf {
            items: items.iter().collect::<Vec<_>>(),
            limit: self.limit,
            offset: self.offset,
            next_offset: next
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(limit: Option<i64>, offset: Option<i64>) -> Result<Page, ApiError> {
        PageQuery { limit, offset }.check()
    }

    #[test]
    fn pages_walk_the_list() {
        let p = page(Some(2), None).unwrap();
        assert_eq!(p.answer(vec![1, 2, 3]), json!({"items": [1, 2], "limit": 2, "offset": 0, "nextOffset": 2}));
        let p = page(Some(2), Some(2)).unwrap();
        assert_eq!(p.answer(vec![1, 2, 3]), json!({"items": [3], "limit": 2, "offset": 2, "nextOffset": null}));
        assert_eq!(page(None, None).unwrap(), Page { limit: DEFAULT_LIMIT as usize, offset: 0 });
        let p = page(Some(2), Some(4)).unwrap();
        assert_eq!(p.take_fetched(vec![5, 6, 7]), (vec![5, 6], Some(6)), "read from the offset on");
        assert_eq!(p.take_fetched(vec![5, 6]), (vec![5, 6], None));
    }

    #[test]
    fn out_of_range_is_refused_naming_the_parameter() {
        for (limit, offset, field) in
            [(Some(0), None, "limit"), (Some(MAX_LIMIT + 1), None, "limit"), (None, Some(-1), "offset")]
        {
            let err = page(limit, offset).unwrap_err().to_string();
            assert!(err.starts_with(field), "{err}");
        }
    }
}
