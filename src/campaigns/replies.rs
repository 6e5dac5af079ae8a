//! What an inbound message means for campaigns: a contact who writes back
//! after a campaign message has replied to it (the message is attributed
//! to the campaign), and a contact who writes an opt-out keyword ("STOP",
//! "BERHENTI") is opted out, so no campaign sends to them again.

use blazz_domain::{CampaignId, ContactId, MessageId, WorkspaceId};
use blazz_store::campaigns::recipients;
use blazz_store::{contacts, messages, outbox, Conn};
use serde_json::json;

/// A reply counts for the campaign message sent in the week before it.
const REPLY_WINDOW_MS: i64 = 7 * 86_400_000;

/// Runs in the transaction that stores the inbound message; answers the
/// campaign it replies to, if any.
pub async fn after_inbound(
    conn: &mut Conn,
    ws: WorkspaceId,
    contact: ContactId,
    message: MessageId,
    text: Option<&str>,
    keywords: &[String],
    now: i64,
) -> anyhow::Result<Option<CampaignId>> {
    let campaign = recipients::mark_replied(conn, ws, contact, now - REPLY_WINDOW_MS, now).await?;
    if let Some(campaign) = campaign {
        messages::set_campaign(conn, message, campaign).await?;
    }
    if text.is_some_and(|t| is_opt_out(t, keywords))
        && contacts::opt_out(conn, ws, contact, now).await?
    {
        outbox::append(
            conn,
            Some(ws),
            "contact.updated",
            &json!({"contact_id": contact.to_string(), "opted_out": true, "reason": "keyword"}),
        )
        .await?;
    }
    Ok(campaign)
}

/// Whether `text` is one of the keywords, ignoring case, surrounding space
/// and trailing punctuation ("Stop!" is "STOP").
pub fn is_opt_out(text: &str, keywords: &[String]) -> bool {
    let t = text
        .trim()
        .trim_end_matches(|c: char| c.is_ascii_punctuation())
        .trim();
    !t.is_empty() && keywords.iter().any(|k| k.trim().eq_ignore_ascii_case(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_match_whole_messages_in_any_case() {
        let k = vec!["STOP".to_string(), "BERHENTI".to_string()];
        assert!(is_opt_out("stop", &k));
        assert!(is_opt_out("  Berhenti! ", &k));
        assert!(!is_opt_out("please don't stop", &k));
        assert!(!is_opt_out("", &k));
        assert!(!is_opt_out("!!!", &k));
    }
}
