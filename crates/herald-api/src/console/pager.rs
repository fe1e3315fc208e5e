//! Paging of the console's lists: a page number in the query, [`PAGE_SIZE`] rows a page read
//! from the store (one more, to know whether another page follows), and Previous / Next links
//! that keep the list's filter.

use herald_store::Window;

/// Rows on one page of a console list.
pub(crate) const PAGE_SIZE: i64 = 50;
/// The deepest page a link may ask for (the API's deepest offset, in pages).
const LAST_PAGE: i64 = 2_000;

/// Where a console list stands: its page, whether another follows, and the links to both sides.
pub(crate) struct Pager {
    pub page: i64,
    pub more: bool,
    /// The list's path and filter, which each link repeats.
    base: String,
}

impl Pager {
    /// The page a query asks for, kept in range.
    pub fn page_of(page: Option<i64>) -> i64 {
        page.unwrap_or(0).clamp(0, LAST_PAGE)
    }

    /// The store rows to read for `page`.
    pub fn window(page: i64) -> Window {
        Window { offset: page * PAGE_SIZE, limit: PAGE_SIZE + 1 }
    }

    /// The pager of `page` of the list at `path` filtered by `filter` (query pairs); trims
    /// `rows` (as read through [`Pager::window`]) to the page.
    pub fn of<T>(path: &str, filter: &[(&str, &str)], page: i64, rows: &mut Vec<T>) -> Self {
        let more = rows.len() as i64 > PAGE_SIZE;
        rows.truncate(PAGE_SIZE as usize);
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(filter.iter().filter(|(_, v)| !v.is_empty()))
            .finish();
        let base = if query.is_empty() { format!("{path}?") } else { format!("{path}?{query}&") };
        Self { page, more, base }
    }

    pub fn previous(&self) -> String {
        format!("{}page={}", self.base, self.page - 1)
    }

    pub fn next(&self) -> String {
        format!("{}page={}", self.base, self.page + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_filter_and_the_last_page_has_no_next() {
        let mut rows: Vec<i64> = (0..=PAGE_SIZE).collect();
        let pager = Pager::of("/crowds", &[("q", "a&b"), ("channel", "")], 1, &mut rows);
        assert_eq!(rows.len() as i64, PAGE_SIZE);
        assert!(pager.more);
        assert_eq!(pager.previous(), "/crowds?q=a%26b&page=0");
        assert_eq!(pager.next(), "/crowds?q=a%26b&page=2");
        let mut rows = vec![1];
        let pager = Pager::of("/runs", &[], 0, &mut rows);
        assert!(!pager.more);
        assert_eq!(pager.next(), "/runs?page=1");
        assert_eq!(Pager::page_of(Some(-3)), 0);
        assert_eq!(Pager::window(2), Window { offset: 100, limit: 51 });
    }
}
