//! Anti-ban enforcement, as WhatsApp does it to real numbers: a number that
//! messages contacts who never wrote to it faster than the limits is banned
//! for a while. The limits are those of Blazz's own pacer (DESIGN.md
//! "Pacing"), so a campaign that respects its pacing is never banned here.

use std::collections::VecDeque;
use std::time::Duration;

/// Windows in milliseconds of the network's clock (see `Clock`).
const MINUTE: i64 = 60_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;

/// The limits on messages to contacts who never wrote to the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pacing {
    /// Whether numbers are held to the limits (each can be switched).
    pub enforce: bool,
    pub per_minute: u32,
    pub per_hour: u32,
    pub per_day: u32,
    /// How long a number that crossed a limit stays banned.
    pub ban: Duration,
}

impl Default for Pacing {
    fn default() -> Self {
        Self {
            enforce: true,
            per_minute: 20,
            per_hour: 500,
            per_day: 5_000,
            ban: Duration::from_secs(3_600),
        }
    }
}

/// A limit crossed: how many cold messages went out in which window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Breach {
    pub count: usize,
    pub window: &'static str,
}

impl Breach {
    pub fn reason(&self) -> String {
        format!(
            "temporarily banned: sent {} messages to contacts who never wrote to this number in the last {}",
            self.count, self.window
        )
    }
}

/// When a number sent to contacts who never wrote, over the last day:
/// one timestamp per message, trimmed on use, so never more than
/// `per_day + 1` of them (a breach clears the lot).
#[derive(Debug, Default)]
pub(crate) struct ColdSends {
    at: VecDeque<i64>,
}

impl ColdSends {
    /// Records a cold message sent at `now`; the first window it pushes
    /// past its limit, if any.
    pub fn record(&mut self, now: i64, limits: &Pacing) -> Option<Breach> {
        let age = |t: &i64| now.saturating_sub(*t);
        while self.at.front().is_some_and(|t| age(t) >= DAY) {
            self.at.pop_front();
        }
        self.at.push_back(now);
        let windows = [
            (MINUTE, limits.per_minute, "minute"),
            (HOUR, limits.per_hour, "hour"),
            (DAY, limits.per_day, "day"),
        ];
        for (window, limit, name) in windows {
            // Oldest first, so the ones out of the window are a prefix.
            let count = self.at.len() - self.at.partition_point(|t| age(t) >= window);
            if count > limit as usize {
                return Some(Breach {
                    count,
                    window: name,
                });
            }
        }
        None
    }

    /// A ban wipes the slate: the number comes back with fresh windows.
    pub fn clear(&mut self) {
        self.at = VecDeque::new();
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.at.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_minute: u32, per_hour: u32, per_day: u32) -> Pacing {
        Pacing {
            per_minute,
            per_hour,
            per_day,
            ..Pacing::default()
        }
    }

    #[test]
    fn the_defaults_are_the_pacers() {
        let p = Pacing::default();
        assert_eq!((p.per_minute, p.per_hour, p.per_day), (20, 500, 5_000));
        assert!(p.enforce);
        assert_eq!(p.ban, Duration::from_secs(3_600));
    }

    #[test]
    fn the_message_past_the_per_minute_limit_is_a_breach() {
        let (mut sends, t0, l) = (ColdSends::default(), 1_000_000, limits(3, 500, 5_000));
        for i in 0..3 {
            assert_eq!(sends.record(t0 + i * 1_000, &l), None);
        }
        let breach = sends.record(t0 + 3_000, &l).unwrap();
        assert_eq!(
            breach,
            Breach {
                count: 4,
                window: "minute"
            }
        );
        assert!(breach
            .reason()
            .starts_with("temporarily banned: sent 4 messages"));
        assert!(breach.reason().ends_with("in the last minute"));
    }

    #[test]
    fn the_minute_window_slides() {
        let (mut sends, t0, l) = (ColdSends::default(), 1_000_000, limits(3, 500, 5_000));
        for i in 0..3 {
            assert_eq!(sends.record(t0 + i * 1_000, &l), None);
        }
        // 60 s after the first, it has left the window: 3 in the last minute.
        assert_eq!(sends.record(t0 + 60_000, &l), None);
        assert_eq!(sends.record(t0 + 61_000, &l), None);
        assert!(sends.record(t0 + 61_000, &l).is_some());
    }

    #[test]
    fn slow_senders_cross_the_hour_and_the_day_limits() {
        let t0 = 1_000_000;
        let mut sends = ColdSends::default();
        let l = limits(20, 5, 5_000);
        for i in 0..5 {
            assert_eq!(sends.record(t0 + MINUTE * i, &l), None);
        }
        let breach = sends.record(t0 + MINUTE * 5, &l).unwrap();
        assert_eq!((breach.count, breach.window), (6, "hour"));

        let mut sends = ColdSends::default();
        let l = limits(20, 500, 4);
        for i in 0..4 {
            assert_eq!(sends.record(t0 + HOUR * i, &l), None);
        }
        let breach = sends.record(t0 + HOUR * 4, &l).unwrap();
        assert_eq!((breach.count, breach.window), (5, "day"));
    }

    #[test]
    fn a_day_old_message_is_forgotten() {
        let t0 = 1_000_000;
        let mut sends = ColdSends::default();
        let l = limits(20, 500, 5_000);
        for i in 0..10 {
            sends.record(t0 + i * 10_000, &l);
        }
        assert_eq!(sends.len(), 10);
        sends.record(t0 + DAY + 45_000, &l);
        assert_eq!(sends.len(), 6, "only the ones within a day are kept");
        sends.clear();
        assert_eq!(sends.len(), 0);
    }
}
