//! How fast one number may send a campaign: sliding windows per minute,
//! hour and day (DESIGN.md "Pacing"; defaults for WhatsApp Web 20/500/
//! 5,000), a warm-up curve for new numbers, a random gap between sends,
//! and the typing time shown before a message.
//!
//! Pure: the caller passes the time (milliseconds on its clock, which tests
//! can drive) and the random source, so hours of a campaign can be
//! simulated in milliseconds.

use std::collections::VecDeque;

use rand::Rng;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;

/// The most messages a number sends per sliding minute, hour and day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub per_minute: u32,
    pub per_hour: u32,
    pub per_day: u32,
}

impl Limits {
    /// A WhatsApp Web number's defaults.
    pub const WEB: Limits = Limits {
        per_minute: 20,
        per_hour: 500,
        per_day: 5_000,
    };

    /// No limit at all (benchmarks, or a number the operator vouches for).
    pub const NONE: Limits = Limits {
        per_minute: u32::MAX,
        per_hour: u32::MAX,
        per_day: u32::MAX,
    };

    /// The limits a number linked `age_days` ago starts with: 50 a day on
    /// its first two days, doubling every two days until it reaches the
    /// full limits (day 14 for the defaults); the hour allows a fifth of
    /// the day (at least 20), the minute no more than the hour.
    pub fn warmed_up(self, age_days: u32) -> Limits {
        let day = 50u64.saturating_mul(1u64 << (age_days / 2).min(30));
        let per_day = day.min(u64::from(self.per_day)) as u32;
        let per_hour = (per_day / 5).max(20).min(self.per_hour).min(per_day);
        Limits {
            per_minute: self.per_minute.min(per_hour),
            per_hour,
            per_day,
        }
    }
}

/// The random wait between two sends of one number, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    pub min_ms: i64,
    pub max_ms: i64,
}

impl Gap {
    /// A "think time" of 3 to 9 seconds between messages.
    pub const WEB: Gap = Gap {
        min_ms: 3_000,
        max_ms: 9_000,
    };
    pub const NONE: Gap = Gap {
        min_ms: 0,
        max_ms: 0,
    };

    pub fn draw(self, rng: &mut impl Rng) -> i64 {
        if self.max_ms <= self.min_ms {
            self.min_ms.max(0)
        } else {
            rng.gen_range(self.min_ms..=self.max_ms)
        }
    }
}

/// One number's sends over the last day and when it may send next.
#[derive(Debug, Clone)]
pub struct Pacer {
    limits: Limits,
    gap: Gap,
    /// When each send of the last day went out, oldest first.
    sent: VecDeque<i64>,
    /// The earliest time of the next send the random gap allows.
    not_before: i64,
}

impl Pacer {
    pub fn new(limits: Limits, gap: Gap) -> Self {
        Pacer {
            limits,
            gap,
            sent: VecDeque::new(),
            not_before: i64::MIN,
        }
    }

    /// A pacer that remembers sends already made (read back from the store
    /// after a restart, so a restart is no reason to burst).
    pub fn with_history(limits: Limits, gap: Gap, mut sent_at: Vec<i64>) -> Self {
        sent_at.sort_unstable();
        let mut p = Pacer::new(limits, gap);
        p.not_before = sent_at.last().map_or(i64::MIN, |t| t + gap.min_ms);
        p.sent = sent_at.into();
        p
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    pub fn gap(&self) -> Gap {
        self.gap
    }

    /// New limits and gap (a campaign with other settings, a number that
    /// grew older); the record of sends stays.
    pub fn set_pacing(&mut self, limits: Limits, gap: Gap) {
        self.limits = limits;
        self.gap = gap;
    }

    /// Sends in the sliding window of `len` ms ending at `now`.
    fn in_window(&self, now: i64, len: i64) -> usize {
        let from = now - len;
        self.sent.len() - self.sent.partition_point(|t| *t <= from)
    }

    /// The earliest time at or after `now` when a send keeps every window
    /// within its limit and the gap since the last send.
    pub fn next_at(&self, now: i64) -> i64 {
        let mut at = now.max(self.not_before);
        for (len, limit) in [
            (MINUTE, self.limits.per_minute),
            (HOUR, self.limits.per_hour),
            (DAY, self.limits.per_day),
        ] {
            let limit = limit as usize;
            if limit == 0 {
                return i64::MAX;
            }
            if self.in_window(at, len) >= limit {
                // Wait until the send `limit` places back leaves the window.
                let idx = self.sent.len() - limit;
                at = at.max(self.sent[idx] + len + 1);
            }
        }
        at
    }

    /// Whether a send may go out at `now`.
    pub fn ready(&self, now: i64) -> bool {
        self.next_at(now) <= now
    }

    /// Records a send at `now` and draws the gap before the next one.
    pub fn record(&mut self, now: i64, rng: &mut impl Rng) {
        self.sent.push_back(now);
        let from = now - DAY;
        while self.sent.front().is_some_and(|t| *t <= from) {
            self.sent.pop_front();
        }
        self.not_before = now + self.gap.draw(rng);
    }

    pub fn sent_last_day(&self, now: i64) -> usize {
        self.in_window(now, DAY)
    }
}

/// How long to show "typing…" before a text of `chars` characters: about
/// 3.3 characters a second, 1 to 12 seconds, times a jitter of 0.7–1.3.
pub fn typing_ms(chars: usize, rng: &mut impl Rng) -> i64 {
    let base = (chars as f64 / 3.3).clamp(1.0, 12.0);
    let jitter: f64 = rng.gen_range(0.7..=1.3);
    (base * jitter * 1000.0).round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    /// Sends as fast as the pacer allows for `span` ms and returns the
    /// send times.
    fn run(p: &mut Pacer, span: i64, rng: &mut StdRng) -> Vec<i64> {
        let mut now = 0;
        let mut out = Vec::new();
        loop {
            now = p.next_at(now);
            if now >= span {
                return out;
            }
            p.record(now, rng);
            out.push(now);
        }
    }

    fn max_in_any_window(times: &[i64], len: i64) -> usize {
        let mut best = 0;
        let mut start = 0;
        for end in 0..times.len() {
            while times[end] - times[start] >= len {
                start += 1;
            }
            best = best.max(end - start + 1);
        }
        best
    }

    #[test]
    fn no_window_ever_holds_more_than_its_limit() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut p = Pacer::new(Limits::WEB, Gap::NONE);
        let times = run(&mut p, 2 * DAY, &mut rng);
        assert_eq!(max_in_any_window(&times, MINUTE), 20);
        assert_eq!(max_in_any_window(&times, HOUR), 500);
        assert_eq!(max_in_any_window(&times, DAY), 5_000);
        // And it does use what it may: two days, two days' worth.
        assert!(times.len() >= 9_990, "{}", times.len());
    }

    #[test]
    fn the_gap_spaces_sends_at_random() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut p = Pacer::new(Limits::WEB, Gap::WEB);
        let times = run(&mut p, HOUR, &mut rng);
        let gaps: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps.iter().all(|g| *g >= 3_000), "a gap under 3 s");
        let distinct: std::collections::HashSet<_> = gaps.iter().collect();
        assert!(distinct.len() > gaps.len() / 2, "gaps are not random");
        // 3-9 s apart: 400 to 1,200 an hour, capped by the hour's 500.
        assert!((400..=500).contains(&times.len()), "{}", times.len());
    }

    #[test]
    fn history_read_back_keeps_the_limits_after_a_restart() {
        let mut rng = StdRng::seed_from_u64(3);
        let mut p = Pacer::new(Limits::WEB, Gap::NONE);
        let before = run(&mut p, 10 * MINUTE, &mut rng);
        let mut again = Pacer::with_history(Limits::WEB, Gap::NONE, before.clone());
        let next = again.next_at(10 * MINUTE);
        again.record(next, &mut rng);
        let mut all = before;
        all.push(next);
        assert!(max_in_any_window(&all, MINUTE) <= 20);
        assert!(max_in_any_window(&all, HOUR) <= 500);
    }

    #[test]
    fn warm_up_grows_from_fifty_a_day_to_the_full_limits() {
        let day = |d| Limits::WEB.warmed_up(d).per_day;
        assert_eq!(
            (day(0), day(1), day(2), day(4), day(6)),
            (50, 50, 100, 200, 400)
        );
        assert_eq!(day(14), 5_000);
        assert_eq!(Limits::WEB.warmed_up(1000), Limits::WEB);
        let young = Limits::WEB.warmed_up(0);
        assert_eq!((young.per_minute, young.per_hour), (20, 20));
        for d in 0..40 {
            let l = Limits::WEB.warmed_up(d);
            assert!(
                l.per_minute <= l.per_hour && l.per_hour <= l.per_day,
                "day {d}: {l:?}"
            );
        }
    }

    #[test]
    fn no_limits_means_no_waiting() {
        let mut rng = StdRng::seed_from_u64(0);
        let mut p = Pacer::new(Limits::NONE, Gap::NONE);
        for _ in 0..10_000 {
            assert!(p.ready(5));
            p.record(5, &mut rng);
        }
    }

    #[test]
    fn typing_time_follows_the_length_within_bounds() {
        let mut rng = StdRng::seed_from_u64(9);
        for _ in 0..1000 {
            let short = typing_ms(1, &mut rng);
            let long = typing_ms(10_000, &mut rng);
            assert!((700..=1_300).contains(&short), "{short}");
            assert!((8_400..=15_600).contains(&long), "{long}");
        }
    }
}
