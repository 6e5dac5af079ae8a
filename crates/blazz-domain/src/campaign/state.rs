//! A campaign's life, as a pure state machine.
//!
//! ```text
//! draft → scheduled → running ⇄ paused
//!   ↘________________↗   ↘        ↓
//!                      completed   cancelled (from any state but the ends)
//! ```
//!
//! `start` runs a draft at once, or schedules it when it has a start time
//! in the future; the scheduler's `due` moves it to running then. Once
//! every recipient is settled, `finish` completes a running campaign.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    Draft,
    Scheduled,
    Running,
    Paused,
    Completed,
    Cancelled,
}

impl CampaignStatus {
    pub const ALL: [CampaignStatus; 6] = [
        CampaignStatus::Draft,
        CampaignStatus::Scheduled,
        CampaignStatus::Running,
        CampaignStatus::Paused,
        CampaignStatus::Completed,
        CampaignStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CampaignStatus::Draft => "draft",
            CampaignStatus::Scheduled => "scheduled",
            CampaignStatus::Running => "running",
            CampaignStatus::Paused => "paused",
            CampaignStatus::Completed => "completed",
            CampaignStatus::Cancelled => "cancelled",
        }
    }

    /// Completed or cancelled: nothing more happens to it.
    pub fn is_final(self) -> bool {
        matches!(self, CampaignStatus::Completed | CampaignStatus::Cancelled)
    }

    /// Whether its audience, message and numbers may still be edited.
    pub fn editable(self) -> bool {
        self == CampaignStatus::Draft
    }
}

impl fmt::Display for CampaignStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CampaignStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CampaignStatus::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("unknown campaign status {s:?}"))
    }
}

/// What a member, or the scheduler, asks of a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CampaignAction {
    /// Start now, or at the start time when it is in the future.
    Start {
        later: bool,
    },
    /// The scheduled start time came.
    Due,
    Pause,
    Resume,
    Cancel,
    /// Every recipient is settled (sent, failed or skipped).
    Finish,
}

impl CampaignAction {
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignAction::Start { .. } => "start",
            CampaignAction::Due => "due",
            CampaignAction::Pause => "pause",
            CampaignAction::Resume => "resume",
            CampaignAction::Cancel => "cancel",
            CampaignAction::Finish => "finish",
        }
    }
}

/// Where `action` takes a campaign that is `from`; `None` when it does not
/// apply (the API answers 409 `campaign_state` with both names).
pub fn transition(from: CampaignStatus, action: CampaignAction) -> Option<CampaignStatus> {
    use CampaignAction as A;
    use CampaignStatus as S;
    match (from, action) {
        (S::Draft, A::Start { later: true }) => Some(S::Scheduled),
        (S::Draft, A::Start { later: false }) => Some(S::Running),
        (S::Scheduled, A::Due) => Some(S::Running),
        (S::Running, A::Pause) | (S::Scheduled, A::Pause) => Some(S::Paused),
        (S::Paused, A::Resume) => Some(S::Running),
        (S::Running, A::Finish) => Some(S::Completed),
        (from, A::Cancel) if !from.is_final() => Some(S::Cancelled),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CampaignAction as A;
    use CampaignStatus as S;

    /// Every (state, action) pair, written out: a change to the machine
    /// must change this table.
    #[test]
    fn every_state_and_action() {
        let actions = [
            A::Start { later: false },
            A::Start { later: true },
            A::Due,
            A::Pause,
            A::Resume,
            A::Cancel,
            A::Finish,
        ];
        #[rustfmt::skip]
        let table: [(S, [Option<S>; 7]); 6] = [
            //               start          start later       due              pause            resume           cancel              finish
            (S::Draft,     [Some(S::Running), Some(S::Scheduled), None,           None,            None,            Some(S::Cancelled), None]),
            (S::Scheduled, [None,             None,               Some(S::Running), Some(S::Paused), None,            Some(S::Cancelled), None]),
            (S::Running,   [None,             None,               None,           Some(S::Paused), None,            Some(S::Cancelled), Some(S::Completed)]),
            (S::Paused,    [None,             None,               None,           None,            Some(S::Running), Some(S::Cancelled), None]),
            (S::Completed, [None,             None,               None,           None,            None,            None,               None]),
            (S::Cancelled, [None,             None,               None,           None,            None,            None,               None]),
        ];
        for (from, expected) in table {
            for (action, want) in actions.iter().zip(expected) {
                assert_eq!(transition(from, *action), want, "{from} + {action:?}");
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for s in CampaignStatus::ALL {
            assert_eq!(s.as_str().parse::<CampaignStatus>(), Ok(s));
        }
        assert!("done".parse::<CampaignStatus>().is_err());
    }
}
