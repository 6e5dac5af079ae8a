//! The team's work on a chat: status, assignment, labels, notes, marking
//! it read (with read receipts to the contact) and showing "typing…".

use blazz_domain::{ChatId, NoteId, Role, UserId};
use blazz_store::chats::{self, Change, Chat, Note};
use blazz_store::{members, messages, now_ms, outbox, Conn};

use super::view::{ChatView, NoteView};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::sessions::EngineError;
use crate::state::AppState;

pub async fn find(conn: &mut Conn, caller: &Caller, id: ChatId) -> Result<Chat, ApiError> {
    chats::find(conn, caller.workspace_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("chat_not_found", "chat"))
}

/// Labels are trimmed and lower-cased, like contact tags.
pub fn labels(raw: &[String]) -> Result<Vec<String>, ApiError> {
    let mut out: Vec<String> = Vec::new();
    for l in raw {
        let l = l.trim().to_lowercase();
        if l.is_empty() || l.chars().count() > 50 {
            return Err(ApiError::invalid(
                "invalid_label",
                "labels have 1 to 50 characters",
            ));
        }
        if !out.contains(&l) {
            out.push(l);
        }
    }
    if out.len() > 20 {
        return Err(ApiError::invalid(
            "invalid_label",
            "at most 20 labels per chat",
        ));
    }
    out.sort();
    Ok(out)
}

pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: ChatId,
    mut change: Change,
) -> Result<Chat, ApiError> {
    caller.require(Role::Agent)?;
    let ws = caller.workspace_id;
    if let Some(l) = &change.labels {
        change.labels = Some(labels(l)?);
    }
    let mut tx = state.db.begin().await?;
    if let Some(Some(user)) = change.assignee {
        if members::find(&mut tx, ws, user).await?.is_none() {
            return Err(ApiError::invalid(
                "not_a_member",
                "chats can only be assigned to members of the workspace",
            ));
        }
    }
    if !chats::update(&mut tx, ws, id, &change).await? {
        return Err(ApiError::not_found("chat_not_found", "chat"));
    }
    let chat = find(&mut tx, caller, id).await?;
    let event = serde_json::to_value(ChatView::from(&chat)).map_err(anyhow::Error::from)?;
    outbox::append(&mut tx, Some(ws), "chat.updated", &event).await?;
    tx.commit().await?;
    state.committed();
    Ok(chat)
}

/// What marking a chat read did.
pub struct Marked {
    pub chat: Chat,
    /// Messages that became read.
    pub messages: usize,
    /// Whether the read receipts reached the network (not if the number
    /// is offline: the messages are read in Blazz all the same).
    pub receipts_sent: bool,
}

pub async fn mark_read(state: &AppState, caller: &Caller, id: ChatId) -> Result<Marked, ApiError> {
    caller.require(Role::Agent)?;
    let ws = caller.workspace_id;
    let mut tx = state.db.begin().await?;
    let chat = find(&mut tx, caller, id).await?;
    let ids = messages::mark_chat_read(&mut tx, ws, id).await?;
    chats::clear_unread(&mut tx, ws, id).await?;
    let chat = Chat {
        unread_count: 0,
        ..chat
    };
    let event = serde_json::to_value(ChatView::from(&chat)).map_err(anyhow::Error::from)?;
    outbox::append(&mut tx, Some(ws), "chat.updated", &event).await?;
    tx.commit().await?;
    state.committed();
    let receipts_sent = if ids.is_empty() {
        true
    } else {
        match state
            .sessions
            .mark_read(chat.account_id, &chat.contact_phone, ids.clone())
            .await
        {
            Ok(()) => true,
            Err(e) => {
                tracing::info!(chat.id = %id, error = %e, "read receipts not sent");
                false
            }
        }
    };
    Ok(Marked {
        chat,
        messages: ids.len(),
        receipts_sent,
    })
}

pub async fn typing(
    state: &AppState,
    caller: &Caller,
    id: ChatId,
    typing: bool,
) -> Result<(), ApiError> {
    caller.require(Role::Agent)?;
    let chat = find(&mut *state.db.pool.acquire().await?, caller, id).await?;
    match state
        .sessions
        .typing(chat.account_id, &chat.contact_phone, typing)
        .await
    {
        Ok(()) => Ok(()),
        Err(
            EngineError::NotRunning
            | EngineError::Provider(blazz_provider::ProviderError::NotConnected),
        ) => Err(ApiError::Conflict(
            "number_not_connected",
            "the number is not connected right now".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

pub async fn add_note(
    state: &AppState,
    caller: &Caller,
    id: ChatId,
    body: &str,
) -> Result<Note, ApiError> {
    caller.require(Role::Agent)?;
    let body = body.trim();
    if body.is_empty() || body.chars().count() > 10_000 {
        return Err(ApiError::invalid(
            "invalid_note",
            "a note has 1 to 10,000 characters",
        ));
    }
    let ws = caller.workspace_id;
    let mut tx = state.db.begin().await?;
    find(&mut tx, caller, id).await?;
    let note = Note {
        id: NoteId::new(),
        chat_id: id,
        author_id: caller.user_id,
        author: caller.actor.name.clone(),
        body: body.to_string(),
        created_at: now_ms(),
    };
    chats::add_note(&mut tx, ws, &note).await?;
    let event = serde_json::to_value(NoteView::from(&note)).map_err(anyhow::Error::from)?;
    outbox::append(&mut tx, Some(ws), "chat.note_added", &event).await?;
    tx.commit().await?;
    state.committed();
    Ok(note)
}

/// `me`, `none` or a user id, as the chat list's `assigned` filter takes it.
pub fn assigned_filter(raw: &str, caller: &Caller) -> Result<chats::Assigned, ApiError> {
    match raw {
        "none" => Ok(chats::Assigned::Nobody),
        "me" => caller.user_id.map(chats::Assigned::To).ok_or_else(|| {
            ApiError::invalid(
                "invalid_filter",
                "assigned=me needs a signed-in person (an API token is not a member)",
            )
        }),
        other => other
            .parse::<UserId>()
            .map(chats::Assigned::To)
            .map_err(|_| ApiError::invalid("invalid_filter", "assigned is me, none or a user id")),
    }
}
