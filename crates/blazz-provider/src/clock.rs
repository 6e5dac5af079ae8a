//! The clock that campaign pacing and the sandbox's ban model both read.
//! In production it is the system's. A simulated clock lets a test run the
//! hours a paced campaign takes in seconds: it stands still until someone
//! sleeps, and a sleep jumps it to the wake-up time at once.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub type Sleep<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

pub trait Clock: Send + Sync + Debug {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;

    /// Waits until `at_ms` on this clock.
    fn sleep_until(&self, at_ms: i64) -> Sleep<'_>;

    /// Whether time moves only when slept through (a test's simulation).
    /// Whoever sleeps on such a clock first lets the work it started
    /// finish, so that work is stamped with the time it was started at.
    fn is_simulated(&self) -> bool {
        false
    }
}

/// The system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

pub fn system_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        system_now_ms()
    }

    fn sleep_until(&self, at_ms: i64) -> Sleep<'_> {
        let wait = at_ms.saturating_sub(self.now_ms()).max(0) as u64;
        Box::pin(tokio::time::sleep(std::time::Duration::from_millis(wait)))
    }
}

/// A clock that stands still until slept on; see the module's notes.
#[derive(Debug)]
pub struct SimulatedClock {
    now: AtomicI64,
}

impl SimulatedClock {
    /// Starts at the system's time, so stored times still look current.
    pub fn new() -> Self {
        SimulatedClock {
            now: AtomicI64::new(system_now_ms()),
        }
    }

    /// Moves the clock forward by `ms` (never back).
    pub fn advance(&self, ms: i64) {
        self.now.fetch_add(ms.max(0), Ordering::SeqCst);
    }
}

impl Default for SimulatedClock {
    fn default() -> Self {
        SimulatedClock::new()
    }
}

impl Clock for SimulatedClock {
    fn now_ms(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }

    fn sleep_until(&self, at_ms: i64) -> Sleep<'_> {
        self.now.fetch_max(at_ms, Ordering::SeqCst);
        Box::pin(tokio::task::yield_now())
    }

    fn is_simulated(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_simulated_clock_jumps_to_the_wake_up_time_and_never_back() {
        let c = SimulatedClock::new();
        let t0 = c.now_ms();
        c.sleep_until(t0 + 3_600_000).await;
        assert_eq!(c.now_ms(), t0 + 3_600_000);
        c.sleep_until(t0).await;
        assert_eq!(c.now_ms(), t0 + 3_600_000);
        c.advance(5);
        assert_eq!(c.now_ms(), t0 + 3_600_005);
    }

    #[tokio::test]
    async fn the_system_clock_sleeps_for_real() {
        let c = SystemClock;
        let t0 = c.now_ms();
        c.sleep_until(t0 + 20).await;
        assert!(c.now_ms() >= t0 + 20);
    }
}
