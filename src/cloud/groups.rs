//! Account groups: a primary number and a fallback (say a WhatsApp Web
//! number and a Cloud API number of the same business). A message sent to
//! the group goes from the primary when it is connected, else from the
//! fallback; a message waiting on a number that dropped, or whose send
//! failed for now, moves to the other number if that one is connected; new
//! messages go back to the primary once it is connected again. Every such
//! message records which number and network it went through
//! (`message_routes`; the message's `account_id` is the number that sent
//! it, in that number's chat with the contact).

use blazz_domain::{AccountId, Role, SessionState, WorkspaceId};
use blazz_store::accounts::{self, Account};
use blazz_store::cloud::groups::{self as store, AccountGroup};
use blazz_store::messages::Message;
use blazz_store::{chats, Conn};
use serde_json::json;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

fn connected(state: &AppState, id: AccountId) -> bool {
    state
        .sessions
        .shared(id)
        .is_some_and(|s| s.state() == SessionState::Connected)
}

pub async fn create(
    state: &AppState,
    caller: &Caller,
    name: &str,
    primary: AccountId,
    fallback: AccountId,
) -> Result<AccountGroup, ApiError> {
    caller.require(Role::Admin)?;
    let name = crate::services::accounts::validate_name("name", name)?;
    if primary == fallback {
        return Err(ApiError::invalid(
            "invalid_account_group",
            "the primary and the fallback must be two different numbers",
        ));
    }
    let mut tx = state.db.begin().await?;
    for id in [primary, fallback] {
        accounts::find(&mut tx, caller.workspace_id, id)
            .await?
            .ok_or_else(|| ApiError::not_found("account_not_found", "account"))?;
    }
    let g = store::create(&mut tx, caller.workspace_id, &name, primary, fallback).await?;
    crate::services::record(
        &mut tx,
        caller.workspace_id,
        &caller.actor,
        "account_group.created",
        ("account_group", g.id.to_string()),
        json!({"name": name, "primary_account_id": primary.to_string(),
               "fallback_account_id": fallback.to_string()}),
    )
    .await?;
    tx.commit().await?;
    state.committed();
    Ok(g)
}

pub async fn find(state: &AppState, caller: &Caller, id: Uuid) -> Result<AccountGroup, ApiError> {
    let mut conn = state.db.pool.acquire().await?;
    store::find(&mut conn, caller.workspace_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("account_group_not_found", "account group"))
}

pub async fn list(state: &AppState, caller: &Caller) -> Result<Vec<AccountGroup>, ApiError> {
    let mut conn = state.db.pool.acquire().await?;
    Ok(store::list(&mut conn, caller.workspace_id).await?)
}

pub async fn delete(state: &AppState, caller: &Caller, id: Uuid) -> Result<(), ApiError> {
    caller.require(Role::Admin)?;
    find(state, caller, id).await?;
    let mut tx = state.db.begin().await?;
    store::delete(&mut tx, caller.workspace_id, id).await?;
    crate::services::record(
        &mut tx,
        caller.workspace_id,
        &caller.actor,
        "account_group.deleted",
        ("account_group", id.to_string()),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    state.committed();
    Ok(())
}

/// The number a new message to the group goes from: the primary when it
/// is connected, else the fallback when it is, else the primary (the
/// message waits for it like any other).
pub async fn pick(
    state: &AppState,
    conn: &mut Conn,
    ws: WorkspaceId,
    group: Uuid,
) -> Result<(AccountGroup, Account), ApiError> {
    let g = store::find(conn, ws, group)
        .await?
        .ok_or_else(|| ApiError::not_found("account_group_not_found", "account group"))?;
    let chosen =
        if connected(state, g.primary_account_id) || !connected(state, g.fallback_account_id) {
            g.primary_account_id
        } else {
            g.fallback_account_id
        };
    let account = accounts::find(conn, ws, chosen)
        .await?
        .ok_or_else(|| ApiError::not_found("account_not_found", "account"))?;
    Ok((g, account))
}

/// Before a send (or after one failed for now, `failed`): moves a message
/// addressed to a group to the group's other number when the one it waits
/// on is not connected (or just failed) and the other is. The message as
/// it now is, if it moved.
pub async fn reroute(
    state: &AppState,
    ws: WorkspaceId,
    m: &Message,
    failed: bool,
) -> anyhow::Result<Option<Message>> {
    // Most sends go from a connected number: spare them any query.
    if !failed && connected(state, m.account_id) {
        return Ok(None);
    }
    let mut conn = state.db.pool.acquire().await?;
    let Some(route) = store::route_of(&mut conn, ws, m.id).await? else {
        return Ok(None);
    };
    let Some(g) = store::find(&mut conn, ws, route.account_group_id).await? else {
        return Ok(None);
    };
    let other = if m.account_id == g.primary_account_id {
        g.fallback_account_id
    } else {
        g.primary_account_id
    };
    if !connected(state, other) {
        return Ok(None);
    }
    let Some(chat) = chats::find(&mut conn, ws, m.chat_id).await? else {
        return Ok(None);
    };
    let Some(target) = accounts::find(&mut conn, ws, other).await? else {
        return Ok(None);
    };
    drop(conn);
    let mut tx = state.db.begin().await?;
    let (to_chat, _) = chats::find_or_create(&mut tx, ws, other, chat.contact_id).await?;
    store::assign(&mut tx, ws, m.id, other, to_chat, &target.provider).await?;
    let preview = m.text.clone().unwrap_or_else(|| format!("[{}]", m.kind));
    chats::record_message(
        &mut tx,
        to_chat,
        &m.id.to_string(),
        &blazz_domain::message::preview(&preview, 120),
        blazz_domain::Direction::Out,
        m.sent_at,
    )
    .await?;
    let moved = blazz_store::messages::find(&mut tx, ws, m.id).await?;
    tx.commit().await?;
    state.committed();
    tracing::info!(message.id = %m.id, from = %m.account_id, to = %other, "a group's message moved to its other number");
    Ok(moved.filter(|n| n.status == blazz_domain::MessageStatus::Pending))
}
