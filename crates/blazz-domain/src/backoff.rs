//! Exponential backoff with jitter, used by job retries (and later by session
//! reconnects). Pure: the caller supplies the random draw.

use std::time::Duration;

/// Delay before retry number `attempt` (1 = first retry): `base * 2^(attempt-1)`,
/// capped at `cap`, then "equal jitter": half fixed, half scaled by `unit`
/// (a random draw in `[0, 1)`), so retries of many jobs spread out but never
/// come back sooner than half the nominal delay.
pub fn delay(attempt: u32, base: Duration, cap: Duration, unit: f64) -> Duration {
    let exp = attempt.saturating_sub(1).min(30);
    let nominal = base.saturating_mul(1u32 << exp).min(cap);
    let unit = unit.clamp(0.0, 1.0);
    let half = nominal / 2;
    half + half.mul_f64(unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_secs(2);
    const CAP: Duration = Duration::from_secs(600);

    #[test]
    fn doubles_each_attempt() {
        assert_eq!(delay(1, BASE, CAP, 1.0), Duration::from_secs(2));
        assert_eq!(delay(2, BASE, CAP, 1.0), Duration::from_secs(4));
        assert_eq!(delay(5, BASE, CAP, 1.0), Duration::from_secs(32));
    }

    #[test]
    fn never_exceeds_the_cap() {
        assert_eq!(delay(40, BASE, CAP, 1.0), CAP);
        assert_eq!(delay(u32::MAX, BASE, CAP, 1.0), CAP);
    }

    #[test]
    fn jitter_keeps_at_least_half() {
        assert_eq!(delay(3, BASE, CAP, 0.0), Duration::from_secs(4));
        let mid = delay(3, BASE, CAP, 0.5);
        assert!(mid > Duration::from_secs(4) && mid < Duration::from_secs(8));
    }

    #[test]
    fn out_of_range_draws_are_clamped() {
        assert_eq!(delay(1, BASE, CAP, 7.0), Duration::from_secs(2));
        assert_eq!(delay(1, BASE, CAP, -1.0), Duration::from_secs(1));
    }
}
