//! Handing recipients to numbers: for each, in one transaction for the
//! batch, the recipient is claimed (queued → sending) and its message is
//! stored `pending` with the job that sends it. Both happen or neither, so
//! a crash leaves each recipient either queued (sent later) or with its
//! message and job (sent exactly once by the job: the message's network id
//! is fixed before the first attempt).

use std::collections::HashMap;

use blazz_domain::{template, AccountId, MessageId, Priority};
use blazz_store::campaigns::recipients::{self, Recipient};
use blazz_store::campaigns::Campaign;
use blazz_store::contacts::Contact;
use blazz_store::{chats, now_ms};

use crate::error::ApiError;
use crate::inbox::body::Body;
use crate::inbox::send::{store_pending, Pending};
use crate::state::AppState;

/// One recipient and the number that sends to them.
pub struct Pick {
    pub recipient: Recipient,
    pub account: AccountId,
    pub contact: Option<Contact>,
    /// How long the number shows "typing…" before the message goes.
    pub delay_ms: i64,
}

/// Claims and queues the picks; returns the messages stored (a recipient
/// claimed meanwhile by another runner is left out).
pub async fn commit(
    state: &AppState,
    c: &Campaign,
    body: &Body,
    picks: &[Pick],
    now: i64,
) -> Result<Vec<MessageId>, ApiError> {
    let ws = c.workspace_id;
    let mut out = Vec::with_capacity(picks.len());
    let mut tx = state.db.begin().await?;
    for p in picks {
        let id = MessageId::new();
        let contact = p.recipient.contact_id;
        if !recipients::claim(&mut tx, c.id, contact, p.account, id, now).await? {
            continue;
        }
        let (chat, _) = chats::find_or_create(&mut tx, ws, p.account, contact).await?;
        let personal = render(body, p.contact.as_ref());
        let pending = Pending {
            id,
            workspace: ws,
            account: p.account,
            chat,
            body: &personal,
            reply: None,
            source: "campaign",
            author: Some(c.name.clone()),
            // A second line of defence: one message per (campaign, contact).
            idempotency_key: Some(format!("campaign:{}:{contact}", c.id)),
            request_hash: None,
            priority: Priority::Campaign,
            delay_ms: p.delay_ms,
            campaign: Some(c.id),
            at: now_ms(),
        };
        if store_pending(&mut tx, pending).await?.is_some() {
            out.push(id);
        }
    }
    tx.commit().await?;
    state.committed();
    Ok(out)
}

/// The message for one contact: its variables filled from the contact
/// (`{{contact.name|there}}`, `{{contact.fields.city}}`) and the
/// campaign's own variables.
pub fn render(body: &Body, contact: Option<&Contact>) -> Body {
    let mut values: HashMap<String, String> = contact
        .map(crate::http::api::canned::contact_values)
        .unwrap_or_default();
    if let Body::Template { variables, .. } = body {
        for (k, v) in variables {
            values.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    let fill = |s: &str| template::render(s, &values);
    let fill_opt = |s: &Option<String>| s.as_deref().map(fill);
    match body {
        Body::Text { text } => Body::Text { text: fill(text) },
        Body::Image { media_id, caption } => Body::Image {
            media_id: media_id.clone(),
            caption: fill_opt(caption),
        },
        Body::Video { media_id, caption } => Body::Video {
            media_id: media_id.clone(),
            caption: fill_opt(caption),
        },
        Body::Document {
            media_id,
            filename,
            caption,
        } => Body::Document {
            media_id: media_id.clone(),
            filename: filename.clone(),
            caption: fill_opt(caption),
        },
        Body::Template {
            template,
            language,
            variables,
            text,
        } => Body::Template {
            template: template.clone(),
            language: language.clone(),
            variables: variables.clone(),
            text: fill_opt(text),
        },
        other => other.clone(),
    }
}

/// The length of what a recipient reads, for the typing time.
pub fn text_len(body: &Body) -> usize {
    body.text().map(|t| t.chars().count()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use blazz_domain::{ContactId, WorkspaceId};

    #[test]
    fn variables_come_from_the_contact_then_the_campaign_with_fallbacks() {
        let mut fields = serde_json::Map::new();
        fields.insert("city".into(), "Bandung".into());
        let c = Contact {
            id: ContactId::new(),
            workspace_id: WorkspaceId::new(),
            phone: "+6281200000001".into(),
            name: Some("Sari".into()),
            tags: vec![],
            fields,
            notes: None,
            opted_out_at: None,
            created_at: 0,
            updated_at: 0,
        };
        let body = Body::Text {
            text: "Hi {{contact.name|there}} in {{contact.fields.city}}!".into(),
        };
        assert_eq!(
            render(&body, Some(&c)),
            Body::Text {
                text: "Hi Sari in Bandung!".into()
            }
        );
        assert_eq!(
            render(&body, None),
            Body::Text {
                text: "Hi there in !".into()
            }
        );
        let t = Body::Template {
            template: "promo".into(),
            language: None,
            variables: [("offer".to_string(), "20%".to_string())].into(),
            text: Some("{{offer}} off, {{contact.name}}".into()),
        };
        let Body::Template { text, .. } = render(&t, Some(&c)) else {
            panic!("a template stays a template")
        };
        assert_eq!(text.as_deref(), Some("20% off, Sari"));
    }
}
