//! Cutting many rows into multi-row statements whose sizes come from a small fixed set. A
//! database driver prepares each distinct statement text once and keeps it per connection
//! (sqlx caches up to 100); a statement with one `VALUES` row or `IN` item per bind changes
//! its text with every row count, so cutting at arbitrary sizes fills that cache with large
//! statements used once. Cut here, each statement has at most `log2(max) + 1` shapes.

/// `items` in pieces of `max` while at least `max` remain, then the rest in pieces of the
/// powers of two that make it up, largest first (the rest's binary expansion). Every piece's
/// length is `max` or a power of two below it; `max` is at least 1.
pub fn shaped_chunks<T>(items: &[T], max: usize) -> impl Iterator<Item = &[T]> {
    let max = max.max(1);
    let mut rest = items;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let len = if rest.len() >= max { max } else { largest_power_of_two_at_most(rest.len()) };
        let (piece, after) = rest.split_at(len);
        rest = after;
        Some(piece)
    })
}

fn largest_power_of_two_at_most(n: usize) -> usize {
    1 << (usize::BITS - 1 - n.leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn lengths(len: usize, max: usize) -> Vec<usize> {
        let items = vec![0u8; len];
        shaped_chunks(&items, max).map(<[u8]>::len).collect()
    }

    #[test]
    fn full_pieces_then_the_rest_by_powers_of_two() {
        assert_eq!(lengths(0, 256), Vec::<usize>::new());
        assert_eq!(lengths(1, 256), [1]);
        assert_eq!(lengths(256, 256), [256]);
        assert_eq!(lengths(800, 256), [256, 256, 256, 32]);
        assert_eq!(lengths(300, 1000), [256, 32, 8, 4]);
        assert_eq!(lengths(2_000, 1000), [1000, 1000]);
        assert_eq!(lengths(7, 0), [1; 7]);
    }

    #[test]
    fn pieces_keep_order_and_cover_every_item() {
        let items: Vec<usize> = (0..1_234).collect();
        let joined: Vec<usize> = shaped_chunks(&items, 100).flatten().copied().collect();
        assert_eq!(joined, items);
    }

    #[test]
    fn every_length_up_to_a_limit_uses_few_shapes() {
        let max = 256;
        let shapes: BTreeSet<usize> = (0..=3 * max).flat_map(|len| lengths(len, max)).collect();
        assert_eq!(shapes, (0..=8).map(|k| 1 << k).collect());
    }
}
