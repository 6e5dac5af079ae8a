//! Numbers and message ids between Blazz's terms and WhatsApp's.

use whatsapp_rust::Jid;

/// The chat address of a number in E.164 (`+15551234567`).
pub fn jid_for_phone(phone: &str) -> Option<Jid> {
    let digits = phone.strip_prefix('+').unwrap_or(phone);
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(Jid::pn(digits))
}

/// The E.164 number behind a phone-number address (any device of it);
/// `None` for groups, LIDs and other non-phone addresses.
pub fn phone_for_jid(jid: &Jid) -> Option<String> {
    if !jid.is_pn() || jid.user.is_empty() || !jid.user.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(format!("+{}", jid.user))
}

/// The WhatsApp message id Blazz sends a message under, derived from
/// Blazz's own id so that a resend after a crash is the same message to
/// WhatsApp (whose ids are upper-case hex, "3EB0" for web clients).
pub fn network_message_id(blazz_id: &str) -> String {
    let hex: String = blazz_id
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if hex.len() >= 16 {
        // UUIDv7 ids start with the time: take their random tail.
        format!("3EB0{}", &hex[hex.len() - 16..])
    } else {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        blazz_id.hash(&mut h);
        format!("3EB0{:016X}", h.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_round_trip_through_addresses() {
        let jid = jid_for_phone("+628123456789").unwrap();
        assert_eq!(jid.to_string(), "628123456789@s.whatsapp.net");
        assert_eq!(phone_for_jid(&jid).as_deref(), Some("+628123456789"));
        assert!(jid_for_phone("+62-812").is_none());
        assert!(jid_for_phone("").is_none());
        assert_eq!(phone_for_jid(&Jid::lid("123456")), None);
    }

    #[test]
    fn message_ids_are_stable_and_distinct() {
        let a = network_message_id("0192f0c4-7b1e-7cc2-9a55-3d1f00aa12bc");
        assert_eq!(
            a,
            network_message_id("0192f0c4-7b1e-7cc2-9a55-3d1f00aa12bc")
        );
        assert_eq!(a, "3EB09A553D1F00AA12BC");
        assert_ne!(
            a,
            network_message_id("0192f0c4-7b1e-7cc2-9a55-3d1f00aa12bd")
        );
        assert!(network_message_id("short").starts_with("3EB0"));
        assert_eq!(network_message_id("short").len(), 20);
    }
}
