//! Message and chat rules: which way a message went, the statuses it moves
//! through (forward only), and a chat's working status.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// From a contact to the linked number.
    In,
    /// From the linked number to a contact.
    Out,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "in" => Some(Direction::In),
            "out" => Some(Direction::Out),
            _ => None,
        }
    }
}

/// Where a message stands. Outbound: `pending → sent → delivered → read`,
/// or `failed`. Inbound: `received → read` (read once the team marks the
/// chat read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    Pending,
    Sent,
    Delivered,
    Read,
    Failed,
    Received,
}

impl MessageStatus {
    pub const ALL: [MessageStatus; 6] = [
        MessageStatus::Pending,
        MessageStatus::Sent,
        MessageStatus::Delivered,
        MessageStatus::Read,
        MessageStatus::Failed,
        MessageStatus::Received,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Pending => "pending",
            MessageStatus::Sent => "sent",
            MessageStatus::Delivered => "delivered",
            MessageStatus::Read => "read",
            MessageStatus::Failed => "failed",
            MessageStatus::Received => "received",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// The statuses a message may be in for it to move to `self`: status
    /// only moves forward, so a late `delivered` never overwrites `read`.
    /// A failure overrides anything short of `read` (the provider says the
    /// message did not make it after all); nothing leaves `failed` or `read`.
    pub fn comes_after(self) -> &'static [MessageStatus] {
        use MessageStatus::*;
        match self {
            Pending | Received => &[],
            Sent => &[Pending],
            Delivered => &[Pending, Sent],
            Read => &[Pending, Sent, Delivered, Received],
            Failed => &[Pending, Sent, Delivered],
        }
    }

    /// Whether a message in `self` may move to `to`.
    pub fn can_become(self, to: MessageStatus) -> bool {
        to.comes_after().contains(&self)
    }
}

impl fmt::Display for MessageStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a conversation stands for the team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatStatus {
    Open,
    Pending,
    Resolved,
}

impl ChatStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ChatStatus::Open => "open",
            ChatStatus::Pending => "pending",
            ChatStatus::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(ChatStatus::Open),
            "pending" => Some(ChatStatus::Pending),
            "resolved" => Some(ChatStatus::Resolved),
            _ => None,
        }
    }
}

/// A short one-line preview of a message for chat lists.
pub fn preview(text: &str, max_chars: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max_chars {
        return line;
    }
    let mut out: String = line.chars().take(max_chars.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::MessageStatus::*;
    use super::*;

    /// Every (from, to) pair, written out: the table is the specification.
    #[test]
    fn status_moves_forward_only() {
        let allowed = [
            (Pending, Sent),
            (Pending, Delivered),
            (Pending, Read),
            (Pending, Failed),
            (Sent, Delivered),
            (Sent, Read),
            (Sent, Failed),
            (Delivered, Read),
            (Delivered, Failed),
            (Received, Read),
        ];
        for from in MessageStatus::ALL {
            for to in MessageStatus::ALL {
                assert_eq!(
                    from.can_become(to),
                    allowed.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn statuses_round_trip() {
        for s in MessageStatus::ALL {
            assert_eq!(MessageStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(MessageStatus::parse("nope"), None);
        for c in [ChatStatus::Open, ChatStatus::Pending, ChatStatus::Resolved] {
            assert_eq!(ChatStatus::parse(c.as_str()), Some(c));
        }
    }

    #[test]
    fn previews_are_one_short_line() {
        assert_eq!(preview("hello\n  there", 20), "hello there");
        assert_eq!(preview("abcdefghij", 5), "abcd…");
        assert_eq!(preview("ééééé", 5), "ééééé");
    }
}
