//! The shared inbox over HTTP: chats (list with filters, status,
//! assignment, labels, notes, read, typing) and their messages.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use blazz_domain::{AccountId, ChatId, ChatStatus, MessageId, UserId};
use blazz_store::chats::{self, Change, Filter};
use blazz_store::messages::{self, Search};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::contacts::present;
use super::Page;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path, Query};
use crate::inbox::body::Body;
use crate::inbox::chats as service;
use crate::inbox::send::{self, SendRequest};
use crate::inbox::view::{ChatView, MessageView, NoteView};
use crate::state::AppState;

fn invalid_cursor() -> ApiError {
    ApiError::invalid("invalid_cursor", "not a cursor of this list")
}

/// `a:b` cursors: a number and an id or number.
fn split_cursor<A: std::str::FromStr, B: std::str::FromStr>(raw: &str) -> Result<(A, B), ApiError> {
    let (a, b) = raw.split_once(':').ok_or_else(invalid_cursor)?;
    Ok((
        a.parse().map_err(|_| invalid_cursor())?,
        b.parse().map_err(|_| invalid_cursor())?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChatsQuery {
    /// `open`, `pending` or `resolved`.
    pub status: Option<String>,
    /// Only chats with (true) or without (false) unread messages.
    pub unread: Option<bool>,
    /// `me`, `none` or a member's user id.
    pub assigned: Option<String>,
    /// Only chats of this linked number.
    pub account_id: Option<String>,
    pub label: Option<String>,
    /// Part of the contact's name (any case) or phone.
    pub q: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 200, default 50.
    pub limit: Option<i64>,
}

/// Chats, most recently active first.
#[utoipa::path(get, path = "/chats", tag = "inbox", params(ChatsQuery),
    responses((status = 200, body = Page<ChatView>), (status = 422, body = super::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ChatsQuery>,
) -> ApiResult<Json<Page<ChatView>>> {
    let limit = super::page_limit(q.limit);
    let filter = Filter {
        status: q
            .status
            .as_deref()
            .map(|s| {
                ChatStatus::parse(s).ok_or_else(|| {
                    ApiError::invalid("invalid_filter", "status is open, pending or resolved")
                })
            })
            .transpose()?,
        unread: q.unread,
        assigned: q
            .assigned
            .as_deref()
            .map(|a| service::assigned_filter(a, &caller))
            .transpose()?,
        account: q
            .account_id
            .as_deref()
            .map(|a| {
                a.parse::<AccountId>()
                    .map_err(|_| ApiError::invalid("invalid_filter", "account_id is not an id"))
            })
            .transpose()?,
        label: q.label.map(|l| l.trim().to_lowercase()),
        search: q.q.filter(|s| !s.trim().is_empty()),
        before: q.cursor.as_deref().map(split_cursor).transpose()?,
        limit,
    };
    let mut conn = state.db.pool.acquire().await?;
    let rows = chats::list(&mut conn, caller.workspace_id, &filter).await?;
    Ok(Json(Page::of(
        rows,
        limit,
        |c| format!("{}:{}", c.active_at, c.id),
        |c| ChatView::from(&c),
    )))
}

#[utoipa::path(get, path = "/chats/{id}", tag = "inbox", params(("id" = String, Path)),
    responses((status = 200, body = ChatView), (status = 404, body = super::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ChatId>,
) -> ApiResult<Json<ChatView>> {
    let mut conn = state.db.pool.acquire().await?;
    Ok(Json((&service::find(&mut conn, &caller, id).await?).into()))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ChatChange {
    /// `open`, `pending` or `resolved`.
    pub status: Option<String>,
    /// A member's user id; `null` unassigns.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub assignee_id: Option<Option<String>>,
    /// Replaces every label.
    pub labels: Option<Vec<String>>,
}

/// Changes status, assignee or labels.
#[utoipa::path(patch, path = "/chats/{id}", tag = "inbox", params(("id" = String, Path)),
    request_body = ChatChange,
    responses((status = 200, body = ChatView), (status = 404, body = super::ErrorBody),
              (status = 422, body = super::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ChatId>,
    Json(b): Json<ChatChange>,
) -> ApiResult<Json<ChatView>> {
    let change = Change {
        status: b
            .status
            .as_deref()
            .map(|s| {
                ChatStatus::parse(s).ok_or_else(|| {
                    ApiError::invalid("invalid_status", "status is open, pending or resolved")
                })
            })
            .transpose()?,
        assignee: b
            .assignee_id
            .map(|a| {
                a.map(|u| {
                    u.parse::<UserId>().map_err(|_| {
                        ApiError::invalid("not_a_member", "assignee_id is not a user id")
                    })
                })
                .transpose()
            })
            .transpose()?,
        labels: b.labels,
    };
    let chat = service::update(&state, &caller, id, change).await?;
    Ok(Json((&chat).into()))
}

#[derive(Serialize, ToSchema)]
pub struct ReadResult {
    pub chat: ChatView,
    /// Messages that became read.
    pub messages_read: usize,
    /// Whether read receipts reached the network (false while the number
    /// is offline; the chat is read in Blazz regardless).
    pub receipts_sent: bool,
}

/// Marks the chat read and sends read receipts to the contact.
#[utoipa::path(post, path = "/chats/{id}/read", tag = "inbox", params(("id" = String, Path)),
    responses((status = 200, body = ReadResult), (status = 404, body = super::ErrorBody)))]
pub async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ChatId>,
) -> ApiResult<Json<ReadResult>> {
    let m = service::mark_read(&state, &caller, id).await?;
    Ok(Json(ReadResult {
        chat: (&m.chat).into(),
        messages_read: m.messages,
        receipts_sent: m.receipts_sent,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TypingBody {
    /// true while the agent types; false when they stop.
    pub typing: bool,
}

/// Shows the contact that someone is typing (or stops it).
#[utoipa::path(post, path = "/chats/{id}/typing", tag = "inbox", params(("id" = String, Path)),
    request_body = TypingBody,
    responses((status = 204), (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody)))]
pub async fn typing(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ChatId>,
    Json(b): Json<TypingBody>,
) -> ApiResult<StatusCode> {
    service::typing(&state, &caller, id, b.typing).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    /// 1 to 10,000 characters, seen by the team only.
    pub body: String,
}

/// Internal notes, oldest first.
#[utoipa::path(get, path = "/chats/{id}/notes", tag = "inbox", params(("id" = String, Path)),
    responses((status = 200, body = Page<NoteView>), (status = 404, body = super::ErrorBody)))]
pub async fn notes(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ChatId>,
) -> ApiResult<Json<Page<NoteView>>> {
    let mut conn = state.db.pool.acquire().await?;
    service::find(&mut conn, &caller, id).await?;
    let notes = chats::notes(&mut conn, caller.workspace_id, id).await?;
    Ok(Json(Page::all(notes.iter().map(NoteView::from).collect())))
}

#[utoipa::path(post, path = "/chats/{id}/notes", tag = "inbox", params(("id" = String, Path)),
    request_body = NoteBody,
    responses((status = 201, body = NoteView), (status = 404, body = super::ErrorBody),
              (status = 422, body = super::ErrorBody)))]
pub async fn add_note(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ChatId>,
    Json(b): Json<NoteBody>,
) -> ApiResult<(StatusCode, Json<NoteView>)> {
    let note = service::add_note(&state, &caller, id, &b.body).await?;
    Ok((StatusCode::CREATED, Json((&note).into())))
}

/// A chat's messages, newest first.
#[utoipa::path(get, path = "/chats/{id}/messages", tag = "inbox", params(("id" = String, Path), super::PageQuery),
    responses((status = 200, body = Page<MessageView>), (status = 404, body = super::ErrorBody)))]
pub async fn messages(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ChatId>,
    Query(q): Query<super::PageQuery>,
) -> ApiResult<Json<Page<MessageView>>> {
    let limit = q.limit();
    let before = q.cursor.as_deref().map(split_cursor).transpose()?;
    let mut conn = state.db.pool.acquire().await?;
    service::find(&mut conn, &caller, id).await?;
    let rows = messages::in_chat(&mut conn, caller.workspace_id, id, before, limit).await?;
    Ok(Json(Page::of(
        rows,
        limit,
        |m| format!("{}:{}", m.sent_at, m.seq),
        |m| MessageView::from(&m),
    )))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyBody {
    /// Shortcut for `{"type": "text", "text": ...}`.
    pub text: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub body: Option<Body>,
    /// Quote this message of the chat.
    pub reply_to: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendBody {
    /// Reply in this chat...
    pub chat_id: Option<String>,
    /// ...or write to `to` from this linked number...
    pub account_id: Option<String>,
    /// ...or from this account group (its primary number when connected,
    /// else its fallback; see docs/cloud.md).
    pub account_group_id: Option<String>,
    /// E.164 (or national, with `contacts.default_country`).
    pub to: Option<String>,
    /// Shortcut for `{"type": "text", "text": ...}`.
    pub text: Option<String>,
    /// `text`, `image`, `video`, `audio`, `document`, `sticker`,
    /// `location`, `contact`, `reaction` or `template`; see docs/inbox.md.
    #[schema(value_type = Option<Object>)]
    pub body: Option<Body>,
    /// Quote this message of the chat.
    pub reply_to: Option<String>,
}

fn body_of(text: Option<String>, body: Option<Body>) -> Result<Body, ApiError> {
    match (text, body) {
        (Some(text), None) => Ok(Body::Text { text }),
        (None, Some(body)) => Ok(body),
        _ => Err(ApiError::invalid(
            "invalid_body",
            "give exactly one of text and body",
        )),
    }
}

fn parse_id<T: std::str::FromStr>(raw: Option<String>, what: &str) -> Result<Option<T>, ApiError> {
    raw.map(|r| {
        r.parse()
            .map_err(|_| ApiError::invalid("invalid_id", format!("{what} is not an id")))
    })
    .transpose()
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str().map(str::to_string).map_err(|_| {
                ApiError::invalid("invalid_idempotency_key", "Idempotency-Key must be ASCII")
            })
        })
        .transpose()
}

/// 202 for a new message, 200 when an `Idempotency-Key` repeats.
fn accepted(
    (m, created): (blazz_store::messages::Message, bool),
) -> (StatusCode, Json<MessageView>) {
    let status = if created {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    (status, Json(MessageView::from(&m)))
}

/// Sends a message. It is stored `pending` and sent by the number's session
/// (statuses follow in `message.status_changed` events). With an
/// `Idempotency-Key` header, repeating the request never sends twice.
#[utoipa::path(post, path = "/messages", tag = "inbox", request_body = SendBody,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 202, body = MessageView), (status = 200, body = MessageView),
              (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody),
              (status = 422, body = super::ErrorBody)))]
pub async fn send(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(b): Json<SendBody>,
) -> ApiResult<(StatusCode, Json<MessageView>)> {
    let req = SendRequest {
        chat_id: parse_id(b.chat_id, "chat_id")?,
        account_id: parse_id(b.account_id, "account_id")?,
        account_group: parse_id(b.account_group_id, "account_group_id")?,
        to: b.to,
        body: body_of(b.text, b.body)?,
        reply_to: parse_id(b.reply_to, "reply_to")?,
    };
    Ok(accepted(
        send::accept(&state, &caller, req, idempotency_key(&headers)?).await?,
    ))
}

/// Replies in the chat (like `POST /messages` with its `chat_id`).
#[utoipa::path(post, path = "/chats/{id}/messages", tag = "inbox", params(("id" = String, Path),
    ("Idempotency-Key" = Option<String>, Header)), request_body = ReplyBody,
    responses((status = 202, body = MessageView), (status = 200, body = MessageView),
              (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody),
              (status = 422, body = super::ErrorBody)))]
pub async fn reply(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ChatId>,
    headers: HeaderMap,
    Json(b): Json<ReplyBody>,
) -> ApiResult<(StatusCode, Json<MessageView>)> {
    let req = SendRequest {
        chat_id: Some(id),
        account_id: None,
        account_group: None,
        to: None,
        body: body_of(b.text, b.body)?,
        reply_to: parse_id(b.reply_to, "reply_to")?,
    };
    Ok(accepted(
        send::accept(&state, &caller, req, idempotency_key(&headers)?).await?,
    ))
}

#[utoipa::path(get, path = "/messages/{id}", tag = "inbox", params(("id" = String, Path)),
    responses((status = 200, body = MessageView), (status = 404, body = super::ErrorBody)))]
pub async fn get_message(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<MessageId>,
) -> ApiResult<Json<MessageView>> {
    let mut conn = state.db.pool.acquire().await?;
    let m = messages::find(&mut conn, caller.workspace_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("message_not_found", "message"))?;
    Ok(Json((&m).into()))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words that must all appear in the message (text, caption, file name).
    pub q: String,
    pub chat_id: Option<String>,
    pub account_id: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 200, default 50.
    pub limit: Option<i64>,
}

/// Full-text search over the workspace's messages, newest first.
#[utoipa::path(get, path = "/messages", tag = "inbox", params(SearchQuery),
    responses((status = 200, body = Page<MessageView>), (status = 422, body = super::ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Json<Page<MessageView>>> {
    if q.q.trim().is_empty() || q.q.len() > 500 {
        return Err(ApiError::invalid(
            "invalid_query",
            "q has 1 to 500 characters",
        ));
    }
    let limit = super::page_limit(q.limit);
    let s = Search {
        query: q.q,
        chat: parse_id(q.chat_id, "chat_id")?,
        account: parse_id(q.account_id, "account_id")?,
        before: q
            .cursor
            .as_deref()
            .map(|c| c.parse().map_err(|_| invalid_cursor()))
            .transpose()?,
        limit,
    };
    let mut conn = state.db.pool.acquire().await?;
    let rows = messages::search(&mut conn, state.db.dialect, caller.workspace_id, &s).await?;
    Ok(Json(Page::of(
        rows,
        limit,
        |m| m.seq.to_string(),
        |m| MessageView::from(&m),
    )))
}
