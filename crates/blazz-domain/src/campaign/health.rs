//! The closed loop: a number whose recent campaign sends fail or get
//! blocked too often stops sending for the campaign (its share moves to
//! the others) with the reason shown, before WhatsApp bans it.

/// A number's recent campaign outcomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcomes {
    pub sent: u32,
    pub failed: u32,
    /// Sends the recipient's side refused (blocked, not on WhatsApp).
    pub blocked: u32,
}

/// When outcomes are bad enough to pause a number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Fewer attempts than this say nothing yet.
    pub min_attempts: u32,
    pub max_failed_share: f64,
    pub max_blocked_share: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            min_attempts: 20,
            max_failed_share: 0.2,
            max_blocked_share: 0.05,
        }
    }
}

/// Why a number stopped sending for a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberPause {
    Disconnected,
    Banned,
    TooManyFailures,
    TooManyBlocks,
    /// The owner is chatting from the phone itself right now.
    OwnerActive,
}

impl NumberPause {
    pub fn as_str(self) -> &'static str {
        match self {
            NumberPause::Disconnected => "disconnected",
            NumberPause::Banned => "banned",
            NumberPause::TooManyFailures => "too_many_failures",
            NumberPause::TooManyBlocks => "too_many_blocks",
            NumberPause::OwnerActive => "owner_active",
        }
    }
}

/// Whether `o` should pause the number, and why.
pub fn verdict(o: Outcomes, t: Thresholds) -> Option<NumberPause> {
    let attempts = o.sent + o.failed + o.blocked;
    if attempts < t.min_attempts.max(1) {
        return None;
    }
    let share = |n: u32| f64::from(n) / f64::from(attempts);
    if share(o.blocked) > t.max_blocked_share {
        Some(NumberPause::TooManyBlocks)
    } else if share(o.failed + o.blocked) > t.max_failed_share {
        Some(NumberPause::TooManyFailures)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(sent: u32, failed: u32, blocked: u32) -> Outcomes {
        Outcomes {
            sent,
            failed,
            blocked,
        }
    }

    #[test]
    fn bad_shares_pause_and_small_samples_do_not() {
        let t = Thresholds::default();
        assert_eq!(verdict(o(0, 10, 5), t), None, "15 attempts say nothing yet");
        assert_eq!(verdict(o(80, 20, 0), t), None, "20% failed is the limit");
        assert_eq!(verdict(o(79, 21, 0), t), Some(NumberPause::TooManyFailures));
        assert_eq!(verdict(o(94, 0, 6), t), Some(NumberPause::TooManyBlocks));
        assert_eq!(verdict(o(95, 0, 5), t), None);
        assert_eq!(verdict(o(0, 0, 0), t), None);
    }
}
