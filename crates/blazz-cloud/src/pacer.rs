//! Throughput per phone number (contracts A6): Meta takes 80 messages a
//! second per number by default and answers 130429 past it. Sends are
//! spaced evenly, each booked into the next free slot, so no second ever
//! holds more than the limit; a 130429 holds the number back a while.
//! Decisions are pure functions of the time given, so tests check them
//! without waiting.

use std::time::Duration;

/// How long a number rests after Meta said it sent too fast.
pub const BACK_OFF: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pacer {
    /// Microseconds between two sends.
    interval_us: u64,
    /// The earliest time (µs on the caller's clock) the next send may go.
    next_us: u64,
}

impl Pacer {
    pub fn new(messages_per_second: u32) -> Pacer {
        Pacer {
            interval_us: 1_000_000 / u64::from(messages_per_second.max(1)),
            next_us: 0,
        }
    }

    /// Books the next slot for a send asked for at `now_us`; how long it
    /// must wait first (zero: go now).
    pub fn reserve(&mut self, now_us: u64) -> Duration {
        let slot = self.next_us.max(now_us);
        self.next_us = slot + self.interval_us;
        Duration::from_micros(slot - now_us)
    }

    /// How long a send asked for at `now_us` would wait, booking nothing.
    pub fn peek(&self, now_us: u64) -> Duration {
        Duration::from_micros(self.next_us.saturating_sub(now_us))
    }

    /// Nothing goes before `now_us + pause` (Meta answered 130429).
    pub fn hold(&mut self, now_us: u64, pause: Duration) {
        let until = now_us.saturating_add(pause.as_micros() as u64);
        self.next_us = self.next_us.max(until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(d: Duration) -> u64 {
        d.as_millis() as u64
    }

    #[test]
    fn eighty_sends_asked_at_once_spread_over_one_second() {
        let mut p = Pacer::new(80);
        let waits: Vec<Duration> = (0..80).map(|_| p.reserve(0)).collect();
        assert_eq!(waits[0], Duration::ZERO);
        assert_eq!(waits[1], Duration::from_micros(12_500));
        assert_eq!(ms(waits[79]), 987);
        // The 81st goes a full second after the first: never 81 in a second.
        assert_eq!(p.reserve(0), Duration::from_secs(1));
    }

    #[test]
    fn an_idle_number_sends_at_once_without_saving_up_a_burst() {
        let mut p = Pacer::new(80);
        assert_eq!(p.reserve(0), Duration::ZERO);
        // Ten seconds of silence earn no burst: the next two are spaced.
        assert_eq!(p.reserve(10_000_000), Duration::ZERO);
        assert_eq!(p.reserve(10_000_000), Duration::from_micros(12_500));
    }

    #[test]
    fn the_configured_rate_sets_the_spacing() {
        let mut p = Pacer::new(20);
        p.reserve(0);
        assert_eq!(p.reserve(0), Duration::from_millis(50));
        let mut fast = Pacer::new(1000);
        fast.reserve(0);
        assert_eq!(fast.reserve(0), Duration::from_millis(1));
        // Zero is taken as one a second rather than dividing by zero.
        let mut slow = Pacer::new(0);
        slow.reserve(0);
        assert_eq!(slow.reserve(0), Duration::from_secs(1));
    }

    #[test]
    fn a_throughput_error_holds_the_number_back() {
        let mut p = Pacer::new(80);
        p.reserve(0);
        p.hold(5_000, BACK_OFF);
        assert_eq!(p.peek(5_000), BACK_OFF);
        assert_eq!(
            p.peek(5_000 + 400_000),
            BACK_OFF - Duration::from_millis(400)
        );
        assert_eq!(p.reserve(5_000), BACK_OFF);
        // A hold never shortens a wait already booked.
        p.hold(0, Duration::ZERO);
        assert_eq!(p.reserve(5_000), BACK_OFF + Duration::from_micros(12_500));
    }
}
