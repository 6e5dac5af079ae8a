//! Which of a campaign's numbers sends next: smooth weighted round-robin
//! (each number gets its weight's share, spread evenly rather than in
//! bursts), skipping numbers that cannot send right now, so their share
//! moves to the others.

/// The numbers (`K`, e.g. an account id) and their weights.
#[derive(Debug, Clone)]
pub struct Rotation<K> {
    entries: Vec<Entry<K>>,
}

#[derive(Debug, Clone)]
struct Entry<K> {
    key: K,
    weight: i64,
    current: i64,
}

impl<K: Copy + PartialEq> Rotation<K> {
    /// Numbers with a weight of 0 or less never send.
    pub fn new(weights: impl IntoIterator<Item = (K, u32)>) -> Self {
        Rotation {
            entries: weights
                .into_iter()
                .filter(|(_, w)| *w > 0)
                .map(|(key, w)| Entry {
                    key,
                    weight: i64::from(w),
                    current: 0,
                })
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The next number among those `available` says can send, or `None`
    /// when none can.
    pub fn next(&mut self, available: impl Fn(K) -> bool) -> Option<K> {
        let mut total = 0;
        let mut best: Option<usize> = None;
        for i in 0..self.entries.len() {
            if !available(self.entries[i].key) {
                continue;
            }
            self.entries[i].current += self.entries[i].weight;
            total += self.entries[i].weight;
            if best.is_none_or(|b| self.entries[i].current > self.entries[b].current) {
                best = Some(i);
            }
        }
        let e = &mut self.entries[best?];
        e.current -= total;
        Some(e.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(r: &mut Rotation<char>, n: usize, available: impl Fn(char) -> bool) -> Vec<char> {
        (0..n).filter_map(|_| r.next(&available)).collect()
    }

    #[test]
    fn each_number_gets_its_weights_share_spread_evenly() {
        let mut r = Rotation::new([('a', 5), ('b', 1), ('c', 1)]);
        let seq = counts(&mut r, 7, |_| true);
        // nginx's example: a a b a c a a, never five a's in a row.
        assert_eq!(seq.iter().collect::<String>(), "aabacaa");
        let seq = counts(&mut r, 700, |_| true);
        let n = |k| seq.iter().filter(|c| **c == k).count();
        assert_eq!((n('a'), n('b'), n('c')), (500, 100, 100));
    }

    #[test]
    fn an_unavailable_number_s_share_moves_to_the_others() {
        let mut r = Rotation::new([('a', 1), ('b', 1), ('c', 2)]);
        let seq = counts(&mut r, 300, |k| k != 'c');
        let n = |k| seq.iter().filter(|c| **c == k).count();
        assert_eq!((n('a'), n('b'), n('c')), (150, 150, 0));
        // Back again, it takes its share at once, without a catch-up burst.
        let seq = counts(&mut r, 400, |_| true);
        let n = |k| seq.iter().filter(|c| **c == k).count();
        assert_eq!((n('a'), n('b'), n('c')), (100, 100, 200));
    }

    #[test]
    fn nothing_available_or_no_weight_gives_none() {
        let mut r = Rotation::new([('a', 0), ('b', 3)]);
        assert_eq!(r.next(|k| k == 'a'), None);
        assert_eq!(r.next(|_| true), Some('b'));
        assert!(Rotation::<char>::new([]).next(|_| true).is_none());
    }
}
