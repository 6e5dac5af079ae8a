//! The life of a linked number's session, as a pure state machine.
//!
//! ```text
//! initializing → qr_required ⇄ (pair code) → authenticating → connected ⇄ reconnecting
//! ends: logged_out, failed (reason kept), banned
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// Starting: restoring stored credentials, or about to ask for a link.
    Initializing,
    /// Waiting for the phone to scan the QR code (or type the pair code).
    QrRequired,
    /// The phone approved; keys are being exchanged.
    Authenticating,
    Connected,
    /// The connection dropped; trying again with backoff.
    Reconnecting,
    /// Unlinked (from the phone or by us). Linking again needs a new scan.
    LoggedOut,
    /// Gave up (reason kept); an operator can retry.
    Failed,
    /// WhatsApp banned the number.
    Banned,
}

impl SessionState {
    pub const ALL: [SessionState; 8] = [
        SessionState::Initializing,
        SessionState::QrRequired,
        SessionState::Authenticating,
        SessionState::Connected,
        SessionState::Reconnecting,
        SessionState::LoggedOut,
        SessionState::Failed,
        SessionState::Banned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::Initializing => "initializing",
            SessionState::QrRequired => "qr_required",
            SessionState::Authenticating => "authenticating",
            SessionState::Connected => "connected",
            SessionState::Reconnecting => "reconnecting",
            SessionState::LoggedOut => "logged_out",
            SessionState::Failed => "failed",
            SessionState::Banned => "banned",
        }
    }

    /// An end state: no session task runs for it.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            SessionState::LoggedOut | SessionState::Failed | SessionState::Banned
        )
    }

    /// Whether a restart of Blazz should bring this session back: it was
    /// linked (or linking) when the process stopped.
    pub fn restores(self) -> bool {
        matches!(
            self,
            SessionState::Initializing | SessionState::Connected | SessionState::Reconnecting
        )
    }
}

impl fmt::Display for SessionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SessionState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown session state {s:?}"))
    }
}

/// What can happen to a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEvent {
    /// The provider needs a link: it shows a QR code or a pair code.
    LinkRequired,
    /// The phone scanned the code or typed the pair code.
    LinkApproved,
    /// The connection is up and authenticated.
    Connected,
    /// The connection dropped (or a health probe went unanswered).
    Disconnected,
    /// We give up: retries exhausted, link timed out, provider refused.
    GaveUp,
    /// Unlinked from the phone, or logged out by us.
    LoggedOut,
    Banned,
    /// An operator starts the session again (retry, relink).
    Restart,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a session cannot go from {from} on {event:?}")]
pub struct IllegalTransition {
    pub from: SessionState,
    pub event: SessionEvent,
}

/// The state after `event` in state `from`, or why that cannot happen.
pub fn transition(
    from: SessionState,
    event: SessionEvent,
) -> Result<SessionState, IllegalTransition> {
    use SessionEvent as E;
    use SessionState as S;
    let to = match (from, event) {
        // Banned is final until an operator restarts it; so are the other ends.
        (S::LoggedOut | S::Failed | S::Banned, E::Restart) => S::Initializing,
        (S::LoggedOut | S::Failed | S::Banned, _) => return Err(IllegalTransition { from, event }),

        (S::Initializing | S::QrRequired, E::LinkRequired) => S::QrRequired,
        (S::QrRequired, E::LinkApproved) => S::Authenticating,
        (S::Initializing | S::Authenticating | S::Reconnecting, E::Connected) => S::Connected,
        (S::Connected, E::Connected) => S::Connected,
        (S::Initializing | S::Connected | S::Authenticating | S::Reconnecting, E::Disconnected) => {
            S::Reconnecting
        }
        (_, E::GaveUp) => S::Failed,
        (_, E::LoggedOut) => S::LoggedOut,
        (_, E::Banned) => S::Banned,
        (
            S::Initializing | S::QrRequired | S::Authenticating | S::Connected | S::Reconnecting,
            E::Restart,
        ) => S::Initializing,
        _ => return Err(IllegalTransition { from, event }),
    };
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use SessionEvent as E;
    use SessionState as S;

    const EVENTS: [SessionEvent; 8] = [
        E::LinkRequired,
        E::LinkApproved,
        E::Connected,
        E::Disconnected,
        E::GaveUp,
        E::LoggedOut,
        E::Banned,
        E::Restart,
    ];

    /// Every (state, event) pair and its expected outcome: the whole table.
    fn expected(from: S, event: E) -> Option<S> {
        Some(match (from, event) {
            (S::Initializing, E::LinkRequired) => S::QrRequired,
            (S::Initializing, E::Connected) => S::Connected,
            (S::Initializing, E::Disconnected) => S::Reconnecting,
            (S::QrRequired, E::LinkRequired) => S::QrRequired,
            (S::QrRequired, E::LinkApproved) => S::Authenticating,
            (S::Authenticating, E::Connected) => S::Connected,
            (S::Authenticating, E::Disconnected) => S::Reconnecting,
            (S::Connected, E::Connected) => S::Connected,
            (S::Connected, E::Disconnected) => S::Reconnecting,
            (S::Reconnecting, E::Connected) => S::Connected,
            (S::Reconnecting, E::Disconnected) => S::Reconnecting,
            (S::LoggedOut | S::Failed | S::Banned, E::Restart) => S::Initializing,
            (S::LoggedOut | S::Failed | S::Banned, _) => return None,
            (_, E::GaveUp) => S::Failed,
            (_, E::LoggedOut) => S::LoggedOut,
            (_, E::Banned) => S::Banned,
            (_, E::Restart) => S::Initializing,
            _ => return None,
        })
    }

    #[test]
    fn every_transition_matches_the_table() {
        for from in S::ALL {
            for event in EVENTS {
                assert_eq!(
                    transition(from, event).ok(),
                    expected(from, event),
                    "{from} on {event:?}"
                );
            }
        }
    }

    #[test]
    fn the_happy_path_links_by_qr() {
        let mut s = S::Initializing;
        for e in [
            E::LinkRequired,
            E::LinkRequired,
            E::LinkApproved,
            E::Connected,
        ] {
            s = transition(s, e).unwrap();
        }
        assert_eq!(s, S::Connected);
    }

    #[test]
    fn a_drop_reconnects_and_comes_back() {
        let s = transition(S::Connected, E::Disconnected).unwrap();
        assert_eq!(s, S::Reconnecting);
        assert_eq!(transition(s, E::Connected).unwrap(), S::Connected);
    }

    #[test]
    fn ends_only_leave_by_restart() {
        for end in [S::LoggedOut, S::Failed, S::Banned] {
            assert!(end.is_terminal());
            for e in EVENTS.into_iter().filter(|e| *e != E::Restart) {
                assert_eq!(
                    transition(end, e),
                    Err(IllegalTransition {
                        from: end,
                        event: e
                    })
                );
            }
            assert_eq!(transition(end, E::Restart).unwrap(), S::Initializing);
        }
    }

    #[test]
    fn illegal_shortcuts_are_refused() {
        assert!(transition(S::Initializing, E::LinkApproved).is_err());
        assert!(
            transition(S::QrRequired, E::Connected).is_err(),
            "no connection without approval"
        );
        assert!(transition(S::Connected, E::LinkRequired).is_err());
        assert!(transition(S::Reconnecting, E::LinkApproved).is_err());
    }

    #[test]
    fn states_parse_from_their_names() {
        for s in S::ALL {
            assert_eq!(s.as_str().parse::<S>(), Ok(s));
        }
        assert!(S::Connected.restores() && !S::QrRequired.restores() && !S::Banned.restores());
    }
}
