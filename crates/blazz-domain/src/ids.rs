//! Typed identifiers. Each entity gets its own id type so a `ChatId` can never
//! be passed where a `WorkspaceId` is expected; all are UUIDv7 (time ordered).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The string could not be read as an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid id")]
pub struct InvalidId;

macro_rules! typed_id {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self).map_err(|_| InvalidId)
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }
    )*};
}

typed_id!(
    /// A tenant: every customer-visible record belongs to exactly one.
    WorkspaceId,
    /// A person who can sign in.
    UserId,
    /// A pending or used invitation to join a workspace.
    InvitationId,
    /// An API token of a workspace.
    TokenId,
    /// An entry of a workspace's audit log.
    AuditId,
    /// A linked WhatsApp number (a sandbox, web or cloud account).
    AccountId,
    /// A person a workspace talks to.
    ContactId,
    /// A canned reply (a shared snippet).
    CannedReplyId,
    /// A conversation between one linked number and one contact.
    ChatId,
    /// A message in a chat, either direction.
    MessageId,
    /// An internal note on a chat.
    NoteId,
    /// A message sent to an audience from a set of numbers.
    CampaignId,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_strings() {
        let id = WorkspaceId::new();
        let parsed: WorkspaceId = id.to_string().parse().unwrap();
        assert_eq!(id, parsed);
    }

    #[test]
    fn garbage_is_not_an_id() {
        assert_eq!("not-a-uuid".parse::<UserId>(), Err(InvalidId));
        assert_eq!("".parse::<UserId>(), Err(InvalidId));
    }

    #[test]
    fn ids_are_time_ordered() {
        let a = TokenId::new();
        let b = TokenId::new();
        assert!(a < b);
    }
}
