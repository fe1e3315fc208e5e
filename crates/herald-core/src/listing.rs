//! Naming a few items of a list, then a count, and clipping long text: so that a message about
//! input (a crowd's columns, a template's placeholders, a refused value) stays small whatever
//! the size of that input.

use std::fmt::Display;

/// How many items a message names before it counts the rest.
pub const NAMED_IN_A_MESSAGE: usize = 5;

/// The most characters of one item (a column name, a value) quoted in a message.
pub const QUOTED_CHARS: usize = 64;

/// `a, b, c, d, e and 995 more`: at most [`NAMED_IN_A_MESSAGE`] items, each clipped to
/// [`QUOTED_CHARS`], then how many were left out.
pub fn name_some<T: Display>(items: impl IntoIterator<Item = T>) -> String {
    let mut named = Vec::with_capacity(NAMED_IN_A_MESSAGE);
    let mut left_out = 0usize;
    for item in items {
        if named.len() < NAMED_IN_A_MESSAGE {
            named.push(clip(&item.to_string(), QUOTED_CHARS));
        } else {
            left_out += 1;
        }
    }
    let mut text = named.join(", ");
    if left_out > 0 {
        text.push_str(&format!(" and {left_out} more"));
    }
    text
}

/// `text` cut to at most `max_chars` characters, with `…` where it was cut.
pub fn clip(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        None => text.to_string(),
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_a_few_then_counts() {
        assert_eq!(name_some(["a", "b"]), "a, b");
        assert_eq!(name_some(0..1000), "0, 1, 2, 3, 4 and 995 more");
        assert_eq!(name_some(Vec::<String>::new()), "");
        let long = "x".repeat(1000);
        assert_eq!(name_some([long]).chars().count(), QUOTED_CHARS + 1);
    }

    #[test]
    fn clips_on_character_boundaries() {
        assert_eq!(clip("héllo", 2), "hé…");
        assert_eq!(clip("短い", 5), "短い");
    }
}
