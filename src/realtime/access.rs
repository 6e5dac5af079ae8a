//! Who may use which channel: the rules behind `/broadcasting/auth`. A
//! member of a workspace (any role, or an API token) may use its workspace
//! channels and the channels of its chats and linked numbers; nothing of
//! another workspace.

use blazz_domain::{AccountId, ChatId};
use blazz_store::realtime::{self as store, Owned};
use serde_json::json;

use super::channel::{self, Kind, Scope};
use crate::auth::Caller;
use crate::state::AppState;

/// Whether `caller` may subscribe to the private or presence `name`.
pub async fn may_subscribe(state: &AppState, caller: &Caller, name: &str) -> anyhow::Result<bool> {
    if channel::kind(name) == Kind::Public {
        return Ok(false);
    }
    let ws = caller.workspace_id;
    let owned = match channel::scope(name) {
        Scope::Workspace(id) => return Ok(id == ws.to_string()),
        Scope::Chat(id) => id.parse::<ChatId>().ok().map(Owned::Chat),
        Scope::Account(id) => id.parse::<AccountId>().ok().map(Owned::Account),
        Scope::Campaign(id) => id.parse().ok().map(Owned::Campaign),
        Scope::Other => None,
    };
    let Some(owned) = owned else {
        return Ok(false);
    };
    let mut conn = state.db.pool.acquire().await?;
    store::owns(&mut conn, ws, owned).await
}

/// The presence member a caller is: people by their user id, API tokens
/// as `token:<id>`.
pub fn channel_data(caller: &Caller) -> String {
    let user_id = match (caller.user_id, caller.token_id) {
        (Some(u), _) => u.to_string(),
        (None, Some(t)) => format!("token:{t}"),
        (None, None) => caller.actor.id.clone().unwrap_or_default(),
    };
    json!({
        "user_id": user_id,
        "user_info": {"name": caller.actor.name, "kind": caller.actor.kind},
    })
    .to_string()
}
