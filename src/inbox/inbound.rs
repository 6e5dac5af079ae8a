//! What arrives from the network: messages (deduplicated by the provider's
//! id, their chat and contact created if new) and receipts (applied forward
//! only, or kept until their message is known). Both run inside the
//! session writer's transaction, so a batch of them commits together with
//! its outbox events.

use blazz_domain::{AccountId, ContactId, Direction, MessageId, MessageStatus, WorkspaceId};
use blazz_provider::{InboundMessage, MessageBody};
use blazz_store::contacts::{self, Contact};
use blazz_store::messages::{self, EarlyReceipt, Message};
use blazz_store::{chats, now_ms, outbox, Conn};
use serde_json::json;

use super::body::Body;
use super::view::MessageView;

/// A message from a contact, as the session hands it over.
#[derive(Debug, Clone)]
pub struct Inbound {
    pub workspace: WorkspaceId,
    pub account: AccountId,
    pub message: InboundMessage,
    /// Where Blazz stored the message's media, if it had any.
    pub media_id: Option<String>,
    /// The number's owner wrote it from the phone itself, to `message.from`:
    /// stored as an outbound message marked `source: phone`.
    pub from_phone: bool,
}

/// Stores one inbound message with its `message.received` event; false if
/// the network delivered it before (same provider id on this number).
/// `opt_out` are the keywords that opt a contact out of campaigns.
pub async fn record(
    conn: &mut Conn,
    inbound: &Inbound,
    opt_out: &[String],
) -> anyhow::Result<bool> {
    let (ws, account, msg) = (inbound.workspace, inbound.account, &inbound.message);
    // A repeat is caught by the insert below (unique provider id); its
    // contact and chat are the first delivery's, so finding them is harmless.
    let (contact_id, contact_name) = match contacts::id_by_phone(conn, ws, &msg.from).await? {
        Some(found) => found,
        None => {
            let c = contact_for(conn, ws, &msg.from, msg.push_name.as_deref()).await?;
            (c.id, c.name)
        }
    };
    let (chat, _) = chats::find_or_create(conn, ws, account, contact_id).await?;
    let mut body = Body::from_provider(&msg.body, inbound.media_id.clone());
    if let (
        Body::Reaction { message_id, .. },
        MessageBody::Reaction {
            to_provider_message_id,
            ..
        },
    ) = (&mut body, &msg.body)
    {
        *message_id = messages::by_provider_id(conn, account, to_provider_message_id)
            .await?
            .map(|m| m.id.to_string());
    }
    let reply_to_id = match &msg.reply_to {
        Some(r) => messages::by_provider_id(conn, account, r)
            .await?
            .map(|m| m.id.to_string()),
        None => None,
    };
    let now = now_ms();
    let (direction, status, source) = if inbound.from_phone {
        (Direction::Out, MessageStatus::Sent, "phone")
    } else {
        (Direction::In, MessageStatus::Received, "contact")
    };
    let sent_at = if msg.timestamp_ms > 0 {
        msg.timestamp_ms
    } else {
        now
    };
    let m = Message {
        seq: 0,
        id: MessageId::new(),
        workspace_id: ws,
        account_id: account,
        chat_id: chat,
        direction,
        provider_message_id: Some(msg.provider_message_id.clone()),
        kind: body.kind().into(),
        body: serde_json::to_value(&body)?,
        text: body.text(),
        media_id: inbound.media_id.clone(),
        reply_to_id,
        reply_to_provider_id: msg.reply_to.clone(),
        status,
        error: None,
        source: source.into(),
        author: None,
        idempotency_key: None,
        request_hash: None,
        sent_at,
        delivered_at: None,
        read_at: None,
        failed_at: None,
        created_at: now,
        updated_at: now,
        campaign_id: None,
    };
    if !messages::insert(conn, &m).await? {
        return Ok(false);
    }
    chats::record_message(
        conn,
        chat,
        &m.id.to_string(),
        &body.preview(),
        direction,
        sent_at,
    )
    .await?;
    if inbound.from_phone {
        outbox::append(conn, Some(ws), "message.created", &MessageView::json(&m)).await?;
        return Ok(true);
    }
    let mut m = m;
    m.campaign_id = crate::campaigns::replies::after_inbound(
        conn,
        ws,
        contact_id,
        m.id,
        m.text.as_deref(),
        opt_out,
        now,
    )
    .await?
    .map(|c| c.to_string());
    let mut event = MessageView::json(&m);
    event["contact"] =
        json!({"id": contact_id.to_string(), "phone": msg.from, "name": contact_name});
    outbox::append(conn, Some(ws), "message.received", &event).await?;
    Ok(true)
}

/// The workspace's contact with this phone, created (named after the
/// sender's WhatsApp name) if there is none.
pub(crate) async fn contact_for(
    conn: &mut Conn,
    ws: WorkspaceId,
    phone: &str,
    push_name: Option<&str>,
) -> anyhow::Result<Contact> {
    if let Some(c) = contacts::by_phones(conn, ws, &[phone.to_string()])
        .await?
        .pop()
    {
        return Ok(c);
    }
    let now = now_ms();
    let c = Contact {
        id: ContactId::new(),
        workspace_id: ws,
        phone: phone.to_string(),
        name: push_name
            .map(str::to_string)
            .filter(|n| !n.trim().is_empty()),
        tags: Vec::new(),
        fields: Default::default(),
        notes: None,
        opted_out_at: None,
        created_at: now,
        updated_at: now,
    };
    if contacts::insert_if_absent(conn, &c).await? {
        return Ok(c);
    }
    // Created meanwhile (an inbound message and a send racing).
    contacts::by_phones(conn, ws, &[phone.to_string()])
        .await?
        .pop()
        .ok_or_else(|| anyhow::anyhow!("a contact vanished while it was being created"))
}

/// A status the network reports for a message this number sent.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub workspace: WorkspaceId,
    pub account: AccountId,
    pub provider_message_id: String,
    pub status: MessageStatus,
    pub at: i64,
    pub error: Option<String>,
}

/// Applies a receipt if it moves its message forward; a receipt for a
/// message not known by that id yet is kept and applied when it is.
pub async fn apply_receipt(conn: &mut Conn, r: &Receipt) -> anyhow::Result<()> {
    messages::lock_network_id(conn, r.account, &r.provider_message_id).await?;
    match messages::by_provider_id(conn, r.account, &r.provider_message_id).await? {
        Some(m) => advance(conn, r.workspace, m.id, r.status, r.at, r.error.as_deref()).await,
        None => {
            let early = EarlyReceipt {
                status: r.status,
                error: r.error.clone(),
                at: r.at,
            };
            messages::keep_early_receipt(conn, r.account, &r.provider_message_id, &early).await?;
            Ok(())
        }
    }
}

/// Moves a message forward and publishes `message.status_changed` if it
/// moved.
pub async fn advance(
    conn: &mut Conn,
    ws: WorkspaceId,
    id: MessageId,
    to: MessageStatus,
    at: i64,
    error: Option<&str>,
) -> anyhow::Result<()> {
    if messages::advance(conn, id, to, at, error).await? {
        publish_status(conn, ws, id).await?;
    }
    Ok(())
}

/// Publishes a message's current state as `message.status_changed`.
pub async fn publish_status(conn: &mut Conn, ws: WorkspaceId, id: MessageId) -> anyhow::Result<()> {
    if let Some(m) = messages::find(conn, ws, id).await? {
        if m.source == "campaign" {
            follow_campaign(conn, &m).await?;
        }
        outbox::append(
            conn,
            Some(ws),
            "message.status_changed",
            &MessageView::json(&m),
        )
        .await?;
    }
    Ok(())
}

/// A campaign's recipient follows the status of the message sent to them.
async fn follow_campaign(conn: &mut Conn, m: &Message) -> anyhow::Result<()> {
    use blazz_domain::campaign::RecipientStatus as R;
    let next = match m.status {
        MessageStatus::Sent => R::Sent,
        MessageStatus::Delivered => R::Delivered,
        MessageStatus::Read => R::Read,
        MessageStatus::Failed => R::Failed,
        MessageStatus::Pending | MessageStatus::Received => return Ok(()),
    };
    let now = now_ms();
    blazz_store::campaigns::recipients::follow_message(conn, m.id, next, m.error.as_deref(), now)
        .await?;
    Ok(())
}

/// A message was handed to the network under `provider_message_id`:
/// record it and apply any receipt that beat it here.
pub async fn sent(
    conn: &mut Conn,
    ws: WorkspaceId,
    m: &Message,
    provider_message_id: &str,
) -> anyhow::Result<()> {
    messages::lock_network_id(conn, m.account_id, provider_message_id).await?;
    if !messages::mark_sent(conn, m.id, provider_message_id).await? {
        return Ok(());
    }
    publish_status(conn, ws, m.id).await?;
    for r in messages::take_early_receipts(conn, m.account_id, provider_message_id).await? {
        advance(conn, ws, m.id, r.status, r.at, r.error.as_deref()).await?;
    }
    Ok(())
}
