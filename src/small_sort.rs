//! A stable sort for the app's short lists (conversations, appointments, pending messages).
//!
//! The standard library's stable sort is a driftsort of a few kilobytes of wasm, compiled again
//! for every element type and key: four uses cost about 14 KB of the bundle. An insertion sort
//! is a few dozen bytes and just as fast for lists of a few hundred items; same result, since
//! both are stable.

/// Sorts `items` by `key`, keeping the order of equal keys (like `slice::sort_by_key`).
pub fn sort_by_key<T, K: Ord>(items: &mut [T], mut key: impl FnMut(&T) -> K) {
    sort_by(items, |a, b| key(a) < key(b));
}

/// Sorts `items` so that no item comes after one it is `less` than, keeping the order of
/// equal items (like `slice::sort_by` with `less` as `Ordering::Less`).
pub fn sort_by<T>(items: &mut [T], mut less: impl FnMut(&T, &T) -> bool) {
    for i in 1..items.len() {
        let mut j = i;
        while j > 0 && less(&items[j], &items[j - 1]) {
            items.swap(j, j - 1);
            j -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_like_the_standard_stable_sort() {
        // (key, original position): equal keys must keep their order.
        let mut seed = 7u32;
        for len in 0..40 {
            let items: Vec<(u32, usize)> = (0..len)
                .map(|i| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    ((seed >> 16) % 5, i)
                })
                .collect();
            let mut ours = items.clone();
            sort_by_key(&mut ours, |item| item.0);
            let mut std = items;
            std.sort_by_key(|item| item.0);
            assert_eq!(ours, std);
        }
    }

    #[test]
    fn a_comparator_can_sort_descending() {
        let mut items = [3, 1, 2];
        sort_by(&mut items, |a, b| a > b);
        assert_eq!(items, [3, 2, 1]);
    }
}
