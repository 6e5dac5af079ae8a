//! How messages and chats look in the API and in the events published for
//! them (the same shape in both, so a webhook consumer and an API client
//! read one format).

use blazz_store::chats::{Chat, Note};
use blazz_store::messages::Message;
use serde::Serialize;
use utoipa::ToSchema;

use super::body::Body;
use crate::http::api::rfc3339;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageView {
    pub id: String,
    pub chat_id: String,
    pub account_id: String,
    /// `in` (from the contact) or `out`.
    pub direction: String,
    /// The type of the body (`text`, `image`, ...).
    pub r#type: String,
    #[schema(value_type = Object)]
    pub body: serde_json::Value,
    /// `pending`, `sent`, `delivered`, `read`, `failed` (outbound) or
    /// `received`, `read` (inbound).
    pub status: String,
    /// The provider's reason for a failure.
    pub error: Option<String>,
    /// The network's id for the message (outbound: once sent).
    pub provider_message_id: Option<String>,
    /// The Blazz id of the message this one quotes.
    pub reply_to: Option<String>,
    /// `contact`, `agent`, `api`, `campaign` or `phone`.
    pub source: String,
    /// The campaign that sent it, or that it replies to.
    pub campaign_id: Option<String>,
    pub author: Option<String>,
    pub idempotency_key: Option<String>,
    /// When it was sent (the provider's time for inbound messages).
    pub sent_at: String,
    pub delivered_at: Option<String>,
    pub read_at: Option<String>,
    pub failed_at: Option<String>,
    pub created_at: String,
}

impl From<&Message> for MessageView {
    fn from(m: &Message) -> Self {
        Self {
            id: m.id.to_string(),
            chat_id: m.chat_id.to_string(),
            account_id: m.account_id.to_string(),
            direction: m.direction.as_str().into(),
            r#type: m.kind.clone(),
            body: m.body.clone(),
            status: m.status.as_str().into(),
            error: m.error.clone(),
            provider_message_id: m.provider_message_id.clone(),
            reply_to: m.reply_to_id.clone(),
            source: m.source.clone(),
            campaign_id: m.campaign_id.clone(),
            author: m.author.clone(),
            idempotency_key: m.idempotency_key.clone(),
            sent_at: rfc3339(m.sent_at),
            delivered_at: m.delivered_at.map(rfc3339),
            read_at: m.read_at.map(rfc3339),
            failed_at: m.failed_at.map(rfc3339),
            created_at: rfc3339(m.created_at),
        }
    }
}

impl MessageView {
    pub fn json(m: &Message) -> serde_json::Value {
        serde_json::to_value(MessageView::from(m)).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChatContact {
    pub id: String,
    pub phone: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChatView {
    pub id: String,
    pub account_id: String,
    pub contact: ChatContact,
    /// `open`, `pending` or `resolved`.
    pub status: String,
    /// The member (user id) the chat is assigned to.
    pub assignee_id: Option<String>,
    pub unread_count: i64,
    pub labels: Vec<String>,
    pub last_message_id: Option<String>,
    pub last_message_preview: Option<String>,
    pub last_direction: Option<String>,
    /// Time of the newest message (or of the chat's creation).
    pub active_at: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Chat> for ChatView {
    fn from(c: &Chat) -> Self {
        Self {
            id: c.id.to_string(),
            account_id: c.account_id.to_string(),
            contact: ChatContact {
                id: c.contact_id.to_string(),
                phone: c.contact_phone.clone(),
                name: c.contact_name.clone(),
            },
            status: c.status.as_str().into(),
            assignee_id: c.assignee_id.map(|u| u.to_string()),
            unread_count: c.unread_count,
            labels: c.labels.clone(),
            last_message_id: c.last_message_id.clone(),
            last_message_preview: c.last_message_preview.clone(),
            last_direction: c.last_direction.clone(),
            active_at: rfc3339(c.active_at),
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NoteView {
    pub id: String,
    pub chat_id: String,
    pub author_id: Option<String>,
    pub author: String,
    pub body: String,
    pub created_at: String,
}

impl From<&Note> for NoteView {
    fn from(n: &Note) -> Self {
        Self {
            id: n.id.to_string(),
            chat_id: n.chat_id.to_string(),
            author_id: n.author_id.map(|u| u.to_string()),
            author: n.author.clone(),
            body: n.body.clone(),
            created_at: rfc3339(n.created_at),
        }
    }
}

/// The stored body of a message, read back as a `Body` (None for a row
/// written by a newer Blazz with a type this one does not know).
pub fn body_of(m: &Message) -> Option<Body> {
    serde_json::from_value(m.body.clone()).ok()
}
