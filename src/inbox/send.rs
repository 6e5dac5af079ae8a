//! Outbound messages: accepting a send (stored `pending` with its job in
//! one transaction, idempotent by key) and the job that hands it to the
//! session owning the number.
//!
//! Exactly once: the message's network id is fixed before the first
//! attempt (`OutboundMessage::id`). If Blazz dies after the network took the
//! message but before `sent` was recorded, the job runs again and sends the
//! same id, which the network treats as the same message. Networks that
//! choose ids themselves (the Cloud API) cannot offer this; see docs.
//!
//! In order: a chat's pending messages go out oldest first. The job for a
//! message sends every older pending message of its chat before it, under
//! a per-chat lock, and stops at the first that cannot go yet.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use blazz_domain::{
    template, AccountId, ChatId, Direction, MessageId, MessageStatus, Priority, Role, SessionState,
    WorkspaceId,
};
use blazz_provider::{OutboundMessage, ProviderError};
use blazz_store::messages::{self, Message};
use blazz_store::{accounts, canned, chats, contacts, now_ms, outbox};
use serde::{Deserialize, Serialize};
use sha2::Digest;

use super::body::Body;
use super::inbound;
use super::view::MessageView;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::jobs::{self, Enqueue, Job, JobError};
use crate::sessions::EngineError;
use crate::state::AppState;

/// What a client asks to send.
#[derive(Debug, Clone, Serialize)]
pub struct SendRequest {
    /// Reply in this chat...
    pub chat_id: Option<ChatId>,
    /// ...or write to `to` (E.164, or national with the default country)
    /// from this number...
    pub account_id: Option<AccountId>,
    /// ...or from this account group's primary (or fallback) number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_group: Option<uuid::Uuid>,
    pub to: Option<String>,
    pub body: Body,
    /// Quote this message of the chat.
    pub reply_to: Option<MessageId>,
}

/// Accepts a send: the stored message (pending) and whether it is new. With
/// an idempotency key, a repeat of the same request answers the message the
/// first one created and sends nothing more.
pub async fn accept(
    state: &AppState,
    caller: &Caller,
    req: SendRequest,
    key: Option<String>,
) -> Result<(Message, bool), ApiError> {
    caller.require(Role::Agent)?;
    let ws = caller.workspace_id;
    if let Some(k) = &key {
        let ok = !k.is_empty() && k.len() <= 255 && k.chars().all(|c| c.is_ascii_graphic());
        if !ok {
            return Err(ApiError::invalid(
                "invalid_idempotency_key",
                "an Idempotency-Key is 1 to 255 visible ASCII characters",
            ));
        }
    }
    let hash = hex::encode(sha2::Sha256::digest(
        serde_json::to_vec(&req).unwrap_or_default(),
    ));
    if let Some(k) = &key {
        if let Some(existing) = repeat_of(state, ws, k, &hash).await? {
            return Ok((existing, false));
        }
    }
    req.body.validate()?;

    let mut conn = state.db.pool.acquire().await?;
    // Where it goes: an existing chat, or a number and a phone.
    let mut group = None;
    let (account, contact_id, contact_phone) = match (req.chat_id, req.account_id, &req.to) {
        (None, None, Some(to)) if req.account_group.is_some() => {
            let id = req.account_group.unwrap_or_default();
            let (g, account) = crate::cloud::groups::pick(state, &mut conn, ws, id).await?;
            group = Some(g.id);
            let phone = crate::services::contacts::phone(state, to)?;
            (account, None, phone.as_str().to_string())
        }
        (_, _, _) if req.account_group.is_some() => {
            return Err(ApiError::invalid(
                "invalid_recipient",
                "with account_group_id, give to (not chat_id or account_id)",
            ))
        }
        (Some(chat), None, None) => {
            let chat = chats::find(&mut conn, ws, chat)
                .await?
                .ok_or_else(|| ApiError::not_found("chat_not_found", "chat"))?;
            let account = accounts::find(&mut conn, ws, chat.account_id)
                .await?
                .ok_or_else(|| ApiError::not_found("account_not_found", "account"))?;
            (account, Some(chat.contact_id), chat.contact_phone)
        }
        (None, Some(account), Some(to)) => {
            let account = accounts::find(&mut conn, ws, account)
                .await?
                .ok_or_else(|| ApiError::not_found("account_not_found", "account"))?;
            let phone = crate::services::contacts::phone(state, to)?;
            (account, None, phone.as_str().to_string())
        }
        _ => {
            return Err(ApiError::invalid(
                "invalid_recipient",
                "give either chat_id, or account_id and to",
            ))
        }
    };
    if matches!(
        account.status,
        SessionState::LoggedOut | SessionState::Banned | SessionState::QrRequired
    ) || account.phone.is_none()
    {
        return Err(ApiError::Conflict(
            "number_not_linked",
            format!("the number is {}; link it before sending", account.status),
        ));
    }
    let mut body = req.body.clone();
    // Cloud numbers: paused, the 24-hour window, Meta templates.
    crate::cloud::sending::check(&mut conn, &account, &contact_phone, &mut body).await?;
    let contact = match contact_id {
        Some(id) => contacts::find(&mut conn, ws, id).await?,
        None => contacts::by_phones(&mut conn, ws, std::slice::from_ref(&contact_phone))
            .await?
            .pop(),
    };
    if let Body::Template {
        template: shortcut,
        variables,
        text,
        language: None,
    } = &mut body
    {
        *text = Some(render_template(&mut conn, ws, shortcut, variables, contact.as_ref()).await?);
    }
    let reply = match req.reply_to {
        Some(id) => Some(
            messages::find(&mut conn, ws, id)
                .await?
                .ok_or_else(|| ApiError::not_found("message_not_found", "reply_to message"))?,
        ),
        None => None,
    };
    if let Body::Reaction {
        message_id: Some(target),
        ..
    } = &body
    {
        let target: MessageId = target
            .parse()
            .map_err(|_| ApiError::invalid("invalid_body", "message_id is not a message id"))?;
        messages::find(&mut conn, ws, target)
            .await?
            .ok_or_else(|| ApiError::not_found("message_not_found", "reacted-to message"))?;
    }
    if let Some(media) = body.media_id() {
        super::media::check(state, ws, media, body.kind()).await?;
    }
    drop(conn);

    let (source, priority) = if caller.token_id.is_some() {
        ("api", Priority::High)
    } else {
        ("agent", Priority::Urgent)
    };
    let now = now_ms();
    let mut tx = state.db.begin().await?;
    let contact_id = match contact {
        Some(c) => c.id,
        None => {
            inbound::contact_for(&mut tx, ws, &contact_phone, None)
                .await?
                .id
        }
    };
    let (chat, _) = chats::find_or_create(&mut tx, ws, account.id, contact_id).await?;
    if reply.as_ref().is_some_and(|r| r.chat_id != chat) {
        return Err(ApiError::invalid(
            "invalid_reply_to",
            "reply_to must be a message of the same chat",
        ));
    }
    let pending = Pending {
        id: MessageId::new(),
        workspace: ws,
        account: account.id,
        chat,
        body: &body,
        reply: reply.as_ref(),
        source,
        author: Some(caller.actor.name.clone()),
        idempotency_key: key.clone(),
        request_hash: Some(hash.clone()),
        priority,
        delay_ms: 0,
        campaign: None,
        at: now,
    };
    let stored = store_pending(&mut tx, pending).await?;
    if let (Some(m), Some(g)) = (&stored, group) {
        blazz_store::cloud::groups::route_message(
            &mut tx,
            ws,
            m.id,
            g,
            account.id,
            &account.provider,
        )
        .await?;
    }
    let Some(m) = stored else {
        // The same key won a race with this request.
        drop(tx);
        if let Some(k) = &key {
            if let Some(existing) = repeat_of(state, ws, k, &hash).await? {
                return Ok((existing, false));
            }
        }
        return Err(ApiError::Internal(anyhow::anyhow!(
            "a message could not be stored and no other holds its key"
        )));
    };
    tx.commit().await?;
    state.committed();
    // What was inserted is what the API shows: no need to read it back.
    Ok((m, true))
}

/// An outbound message to store `pending`, with its send job.
pub struct Pending<'a> {
    /// The new message's id (chosen by the caller, who may need it first).
    pub id: MessageId,
    pub workspace: WorkspaceId,
    pub account: AccountId,
    pub chat: ChatId,
    pub body: &'a Body,
    pub reply: Option<&'a Message>,
    /// Who sent it: `agent`, `api`, `campaign`.
    pub source: &'static str,
    pub author: Option<String>,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
    pub priority: Priority,
    /// How long the send job waits first (a campaign's typing time).
    pub delay_ms: i64,
    /// The campaign sending it.
    pub campaign: Option<blazz_domain::CampaignId>,
    pub at: i64,
}

/// Stores a pending outbound message in the caller's transaction, with the
/// chat's preview, the job that sends it and its `message.created` event.
/// `None` when a message with the same idempotency key exists already.
pub async fn store_pending(
    tx: &mut blazz_store::Conn,
    p: Pending<'_>,
) -> Result<Option<Message>, ApiError> {
    let m = Message {
        seq: 0,
        id: p.id,
        workspace_id: p.workspace,
        account_id: p.account,
        chat_id: p.chat,
        direction: Direction::Out,
        provider_message_id: None,
        kind: p.body.kind().into(),
        body: serde_json::to_value(p.body).map_err(anyhow::Error::from)?,
        text: p.body.text(),
        media_id: p.body.media_id().map(str::to_string),
        reply_to_id: p.reply.map(|r| r.id.to_string()),
        reply_to_provider_id: p.reply.and_then(|r| r.provider_message_id.clone()),
        status: MessageStatus::Pending,
        error: None,
        source: p.source.into(),
        author: p.author,
        idempotency_key: p.idempotency_key,
        request_hash: p.request_hash,
        sent_at: p.at,
        delivered_at: None,
        read_at: None,
        failed_at: None,
        created_at: p.at,
        updated_at: p.at,
        campaign_id: p.campaign.map(|c| c.to_string()),
    };
    if !messages::insert(tx, &m).await? {
        return Ok(None);
    }
    chats::record_message(
        tx,
        p.chat,
        &m.id.to_string(),
        &p.body.preview(),
        Direction::Out,
        p.at,
    )
    .await?;
    let job = SendMessage {
        workspace_id: p.workspace.to_string(),
        message_id: m.id.to_string(),
    };
    let opts = Enqueue {
        workspace: Some(p.workspace),
        idempotency_key: Some(format!("message.send:{}", m.id)),
        priority: Some(p.priority),
        delay_ms: p.delay_ms,
    };
    jobs::enqueue(tx, &job, opts).await?;
    outbox::append(
        tx,
        Some(p.workspace),
        "message.created",
        &MessageView::json(&m),
    )
    .await?;
    Ok(Some(m))
}

/// The message an earlier request with this key created; an error if that
/// request asked for something else.
async fn repeat_of(
    state: &AppState,
    ws: WorkspaceId,
    key: &str,
    hash: &str,
) -> Result<Option<Message>, ApiError> {
    let mut conn = state.db.pool.acquire().await?;
    match messages::by_idempotency_key(&mut conn, ws, key).await? {
        Some(m) if m.request_hash.as_deref() == Some(hash) => Ok(Some(m)),
        Some(_) => Err(ApiError::invalid(
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request",
        )),
        None => Ok(None),
    }
}

async fn render_template(
    conn: &mut blazz_store::Conn,
    ws: WorkspaceId,
    shortcut: &str,
    variables: &BTreeMap<String, String>,
    contact: Option<&contacts::Contact>,
) -> Result<String, ApiError> {
    let wanted = shortcut.trim().trim_start_matches('/').to_lowercase();
    let reply = canned::list(conn, ws, Some(&wanted))
        .await?
        .into_iter()
        .find(|r| r.shortcut == wanted)
        .ok_or_else(|| ApiError::not_found("template_not_found", "canned reply"))?;
    let mut values: HashMap<String, String> = contact
        .map(crate::http::api::canned::contact_values)
        .unwrap_or_default();
    values.extend(variables.clone());
    let text = template::render(&reply.body, &values);
    if text.trim().is_empty() {
        return Err(ApiError::invalid(
            "invalid_body",
            "the template renders to an empty message",
        ));
    }
    Ok(text)
}

/// Hands a pending message (and any older pending one of its chat) to the
/// session of its number.
#[derive(Debug, Serialize, Deserialize)]
pub struct SendMessage {
    pub workspace_id: String,
    pub message_id: String,
}

impl Job for SendMessage {
    const NAME: &'static str = "message.send";
    const PRIORITY: Priority = Priority::High;
    /// Retries are bounded by `messages.send_timeout_secs`, not by count.
    const MAX_ATTEMPTS: i64 = 1_000_000;

    async fn run(self, state: AppState) -> Result<(), JobError> {
        let ws: WorkspaceId = self
            .workspace_id
            .parse()
            .map_err(|_| JobError::Permanent("bad workspace id".into()))?;
        let id: MessageId = self
            .message_id
            .parse()
            .map_err(|_| JobError::Permanent("bad message id".into()))?;
        let mut conn = state.db.pool.acquire().await.map_err(anyhow::Error::from)?;
        let Some(m) = messages::find(&mut conn, ws, id).await? else {
            return Ok(()); // Deleted with its chat or workspace.
        };
        if m.status != MessageStatus::Pending {
            return Ok(());
        }
        drop(conn);
        let lock = state.inbox.chat_lock(m.chat_id);
        let _held = lock.lock().await;
        let mut conn = state.db.pool.acquire().await.map_err(anyhow::Error::from)?;
        let queue = messages::pending_in_chat(&mut conn, ws, m.chat_id, m.seq).await?;
        drop(conn);
        for p in queue {
            send_one(&state, ws, &p).await?;
        }
        Ok(())
    }
}

/// Sends one pending message; a transient failure is returned (the job is
/// retried), a permanent one fails the message.
async fn send_one(state: &AppState, ws: WorkspaceId, m: &Message) -> Result<(), JobError> {
    let timeout_ms = state.config.messages.send_timeout_secs as i64 * 1000;
    if now_ms() - m.created_at > timeout_ms {
        let why = format!(
            "not sent within {} s (the number stayed unreachable)",
            state.config.messages.send_timeout_secs
        );
        return fail(state, ws, m, &why).await;
    }
    let outbound = match outbound_of(state, ws, m).await {
        Ok(o) => o,
        Err(why) => return fail(state, ws, m, &why).await,
    };
    // A group's message waiting on a number that dropped moves to the
    // group's other number (and is sent from there).
    let moved = crate::cloud::groups::reroute(state, ws, m, false).await?;
    let m = moved.as_ref().unwrap_or(m);
    let outbound = if moved.is_some() {
        match outbound_of(state, ws, m).await {
            Ok(o) => o,
            Err(why) => return fail(state, ws, m, &why).await,
        }
    } else {
        outbound
    };
    if let Some(why) = crate::cloud::sending::paused_by_id(state, ws, m.account_id).await? {
        let why = format!("sending from this number is paused: {why}");
        return fail(state, ws, m, &why).await;
    }
    let result = state.sessions.send(m.account_id, outbound).await;
    if let Err(EngineError::Provider(e)) = &result {
        // Meta's error codes act on the number or the contact (Cloud only).
        crate::cloud::sending::after_failure_by_id(state, ws, m, e).await?;
    }
    if let Err(e) = &result {
        let transient = !matches!(
            e,
            EngineError::Provider(
                ProviderError::Permanent(_)
                    | ProviderError::LoggedOut(_)
                    | ProviderError::Unsupported(_)
            )
        );
        // A group's message that failed for now is retried from the
        // group's other number.
        if transient
            && crate::cloud::groups::reroute(state, ws, m, true)
                .await?
                .is_some()
        {
            return Err(JobError::Transient(format!(
                "{e}; moved to the group's other number"
            )));
        }
    }
    match result {
        Ok(sent) => {
            // Recorded in the session writer's group commit with the other
            // sends and receipts of the moment. If it fails, the job runs
            // again: the same id is the same message to the network.
            let write = crate::sessions::writer::Write::Sent {
                workspace: ws,
                message: Box::new(m.clone()),
                provider_message_id: sent.provider_message_id,
            };
            if state.sessions.write(write).await {
                Ok(())
            } else {
                Err(JobError::Transient("could not record the send".into()))
            }
        }
        Err(EngineError::Provider(
            ProviderError::Permanent(why) | ProviderError::LoggedOut(why),
        )) => fail(state, ws, m, &why).await,
        Err(EngineError::Provider(ProviderError::Unsupported(what))) => {
            fail(
                state,
                ws,
                m,
                &format!("the number's network does not support {what}"),
            )
            .await
        }
        Err(other) => Err(JobError::Transient(other.to_string())),
    }
}

async fn fail(state: &AppState, ws: WorkspaceId, m: &Message, why: &str) -> Result<(), JobError> {
    let mut tx = state.db.begin().await.map_err(anyhow::Error::from)?;
    inbound::advance(
        &mut tx,
        ws,
        m.id,
        MessageStatus::Failed,
        now_ms(),
        Some(why),
    )
    .await?;
    tx.commit().await.map_err(anyhow::Error::from)?;
    state.committed();
    Ok(())
}

/// The message as the provider takes it; an error names why it cannot be
/// sent at all.
async fn outbound_of(
    state: &AppState,
    ws: WorkspaceId,
    m: &Message,
) -> Result<OutboundMessage, String> {
    let body: Body = super::view::body_of(m).ok_or("the stored body cannot be read")?;
    let mut conn = state
        .db
        .pool
        .acquire()
        .await
        .map_err(|e| format!("database: {e}"))?;
    let chat = chats::find(&mut conn, ws, m.chat_id)
        .await
        .map_err(|e| format!("{e:#}"))?
        .ok_or("the chat is gone")?;
    let reaction_target = match &body {
        Body::Reaction {
            message_id: Some(target),
            ..
        } => {
            let id: MessageId = target.parse().map_err(|_| "bad reaction target")?;
            let target = messages::find(&mut conn, ws, id)
                .await
                .map_err(|e| format!("{e:#}"))?
                .ok_or("the reacted-to message is gone")?;
            Some(
                target
                    .provider_message_id
                    .ok_or("the reacted-to message was never sent")?,
            )
        }
        _ => None,
    };
    drop(conn);
    let media = match body.media_id() {
        Some(media_id) => Some(super::media::load(state, ws, media_id).await?),
        None => None,
    };
    Ok(OutboundMessage {
        id: network_id(m.id),
        to: chat.contact_phone,
        body: body.to_provider(reaction_target),
        reply_to: m.reply_to_provider_id.clone(),
        media,
    })
}

/// The id a message is sent under, fixed by its Blazz id (upper-case hex,
/// like the ids WhatsApp clients choose).
pub fn network_id(id: MessageId) -> String {
    id.to_string().replace('-', "").to_uppercase()
}

/// Per-chat locks: one sender per chat at a time in this process.
#[derive(Default)]
pub struct ChatLocks {
    locks: Mutex<HashMap<ChatId, Arc<tokio::sync::Mutex<()>>>>,
}

impl ChatLocks {
    pub fn chat_lock(&self, chat: ChatId) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        // Drop locks nobody holds, so the map stays as small as the number
        // of chats being sent to right now.
        if locks.len() > 1024 {
            locks.retain(|_, l| Arc::strong_count(l) > 1);
        }
        locks.entry(chat).or_default().clone()
    }
}
