//! Channel names: their kind (public, `private-`, `presence-`), what makes a
//! name valid, and which workspace resource a Blazz channel is about.

/// Pusher's limit on a channel name's length.
pub const MAX_NAME_LEN: usize = 164;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Public,
    Private,
    Presence,
}

pub fn kind(name: &str) -> Kind {
    if name.starts_with("presence-") {
        Kind::Presence
    } else if name.starts_with("private-") {
        Kind::Private
    } else {
        Kind::Public
    }
}

/// Pusher's rule: 1 to 164 characters of `A-Z a-z 0-9 _ - = @ , . ;`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-=@,.;".contains(&b))
}

/// What a Blazz channel is about (see `crate::events` for the names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope<'a> {
    /// `private-workspace.{id}` and `presence-workspace.{id}`.
    Workspace(&'a str),
    /// `private-chat.{id}`.
    Chat(&'a str),
    /// `private-account.{id}`.
    Account(&'a str),
    /// `private-campaign.{id}`.
    Campaign(&'a str),
    /// Anything else: no Blazz user is authorised on it through
    /// `/broadcasting/auth` (integrators may still use such channels with
    /// signatures of their own).
    Other,
}

pub fn scope(name: &str) -> Scope<'_> {
    let after = |prefix: &str| name.strip_prefix(prefix);
    if let Some(id) = after("private-workspace.").or_else(|| after("presence-workspace.")) {
        Scope::Workspace(id)
    } else if let Some(id) = after("private-chat.") {
        Scope::Chat(id)
    } else if let Some(id) = after("private-account.") {
        Scope::Account(id)
    } else if let Some(id) = after("private-campaign.") {
        Scope::Campaign(id)
    } else {
        Scope::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_the_prefix() {
        assert_eq!(kind("orders"), Kind::Public);
        assert_eq!(kind("private-chat.1"), Kind::Private);
        assert_eq!(kind("presence-workspace.1"), Kind::Presence);
        assert_eq!(kind("privatex"), Kind::Public);
    }

    #[test]
    fn names_are_checked_like_pusher_does() {
        assert!(valid_name("private-workspace.0190-abc"));
        assert!(valid_name("a=b@c,d;e_f"));
        assert!(!valid_name(""));
        assert!(!valid_name("has space"));
        assert!(!valid_name("ünï"));
        assert!(!valid_name(&"a".repeat(165)));
        assert!(valid_name(&"a".repeat(164)));
    }

    #[test]
    fn blazz_channels_name_their_resource() {
        assert_eq!(
            scope(&crate::events::workspace_channel("w1")),
            Scope::Workspace("w1")
        );
        assert_eq!(
            scope(&crate::events::presence_channel("w1")),
            Scope::Workspace("w1")
        );
        assert_eq!(scope(&crate::events::chat_channel("c1")), Scope::Chat("c1"));
        assert_eq!(
            scope(&crate::events::account_channel("a1")),
            Scope::Account("a1")
        );
        assert_eq!(
            scope(&crate::events::campaign_channel("k1")),
            Scope::Campaign("k1")
        );
        assert_eq!(scope("private-orders"), Scope::Other);
        assert_eq!(scope("workspace.w1"), Scope::Other);
    }
}
