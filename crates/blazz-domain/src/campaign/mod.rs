//! Campaigns: their life ([`state`]), how fast one number sends
//! ([`pacer`]), which number sends next ([`rotation`]), when a number stops
//! sending ([`health`]) and what became of each recipient.

pub mod health;
pub mod pacer;
pub mod rotation;
pub mod state;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use health::{NumberPause, Outcomes, Thresholds};
pub use pacer::{Gap, Limits, Pacer};
pub use rotation::Rotation;
pub use state::{transition, CampaignAction, CampaignStatus};

/// What became of one recipient of a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientStatus {
    /// Planned, not sent yet.
    Queued,
    /// Handed to a number's send path (its message exists).
    Sending,
    Sent,
    Delivered,
    Read,
    /// The contact wrote back.
    Replied,
    Failed,
    /// Not sent, on purpose (see [`SkipReason`]).
    Skipped,
}

impl RecipientStatus {
    pub const ALL: [RecipientStatus; 8] = [
        RecipientStatus::Queued,
        RecipientStatus::Sending,
        RecipientStatus::Sent,
        RecipientStatus::Delivered,
        RecipientStatus::Read,
        RecipientStatus::Replied,
        RecipientStatus::Failed,
        RecipientStatus::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecipientStatus::Queued => "queued",
            RecipientStatus::Sending => "sending",
            RecipientStatus::Sent => "sent",
            RecipientStatus::Delivered => "delivered",
            RecipientStatus::Read => "read",
            RecipientStatus::Replied => "replied",
            RecipientStatus::Failed => "failed",
            RecipientStatus::Skipped => "skipped",
        }
    }

    /// Nothing more will be sent to this recipient.
    pub fn is_settled(self) -> bool {
        !matches!(self, RecipientStatus::Queued | RecipientStatus::Sending)
    }

    fn rank(self) -> u8 {
        match self {
            RecipientStatus::Queued => 0,
            RecipientStatus::Sending => 1,
            RecipientStatus::Sent => 2,
            RecipientStatus::Delivered => 3,
            RecipientStatus::Read => 4,
            RecipientStatus::Replied => 5,
            // A failure may follow a send; a skip is decided before one.
            RecipientStatus::Failed => 2,
            RecipientStatus::Skipped => 1,
        }
    }

    /// Whether a recipient may move from `self` to `next`: forward only,
    /// so a late `delivered` never undoes `read`, and nothing leaves
    /// `skipped` or `failed` except a failed send that was in fact read.
    pub fn can_become(self, next: RecipientStatus) -> bool {
        use RecipientStatus as R;
        match (self, next) {
            (a, b) if a == b => false,
            (R::Skipped, _) => false,
            (R::Failed, R::Delivered | R::Read | R::Replied) => true,
            (R::Failed, _) => false,
            (_, R::Skipped) => matches!(self, R::Queued),
            (_, R::Failed) => matches!(self, R::Queued | R::Sending | R::Sent),
            (a, b) => b.rank() > a.rank(),
        }
    }
}

impl fmt::Display for RecipientStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for RecipientStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RecipientStatus::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown recipient status {s:?}"))
    }
}

/// Why a recipient was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The contact asked not to be messaged (STOP).
    OptedOut,
    /// Another campaign messaged the contact within the cooldown.
    RecentlyMessaged,
    /// The contact has no number WhatsApp can reach.
    InvalidPhone,
    /// The campaign was cancelled before this recipient's turn.
    Cancelled,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::OptedOut => "opted_out",
            SkipReason::RecentlyMessaged => "recently_messaged",
            SkipReason::InvalidPhone => "invalid_phone",
            SkipReason::Cancelled => "cancelled",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RecipientStatus as R;

    /// Every pair, written out as the rows that are allowed.
    #[test]
    fn recipient_statuses_move_forward_only() {
        let allowed: &[(R, &[R])] = &[
            (
                R::Queued,
                &[
                    R::Sending,
                    R::Sent,
                    R::Delivered,
                    R::Read,
                    R::Replied,
                    R::Failed,
                    R::Skipped,
                ],
            ),
            (
                R::Sending,
                &[R::Sent, R::Delivered, R::Read, R::Replied, R::Failed],
            ),
            (R::Sent, &[R::Delivered, R::Read, R::Replied, R::Failed]),
            (R::Delivered, &[R::Read, R::Replied]),
            (R::Read, &[R::Replied]),
            (R::Replied, &[]),
            (R::Failed, &[R::Delivered, R::Read, R::Replied]),
            (R::Skipped, &[]),
        ];
        for (from, to) in allowed {
            for next in R::ALL {
                assert_eq!(from.can_become(next), to.contains(&next), "{from} → {next}");
            }
        }
    }
}
