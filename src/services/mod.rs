//! Domain services: each one a transaction that makes a change, records it
//! in the audit log and writes the event others must hear about, so that
//! the three commit together or not at all.

pub mod accounts;
pub mod contacts;
pub mod contacts_io;
pub mod invitations;
pub mod members;
pub mod numbers;
pub mod tokens;
pub mod workspace;

use blazz_domain::WorkspaceId;
use blazz_store::audit::{self, Actor, Record};
use blazz_store::{outbox, Conn};
use serde_json::{json, Value};

/// Writes the audit entry and the outbox event for `action` (the event's
/// kind is the action's name, e.g. `member.role_changed`).
pub async fn record(
    conn: &mut Conn,
    ws: WorkspaceId,
    actor: &Actor,
    action: &str,
    target: (&str, String),
    details: Value,
) -> anyhow::Result<()> {
    let (target_kind, target_id) = target;
    outbox::append(
        conn,
        Some(ws),
        action,
        &json!({
            "actor": {"kind": actor.kind, "id": actor.id, "name": actor.name},
            "target": {"kind": target_kind, "id": target_id},
            "details": details,
        }),
    )
    .await?;
    audit::record(
        conn,
        ws,
        actor,
        Record {
            action,
            target_kind: Some(target_kind),
            target_id: Some(target_id),
            details,
        },
    )
    .await
}

/// The actor for changes a signed-in person makes.
pub fn user_actor(user: &blazz_store::users::User) -> Actor {
    Actor {
        kind: "user",
        id: Some(user.id.to_string()),
        name: user.name.clone(),
    }
}

/// The actor for changes made from the command line by the operator.
pub fn cli_actor() -> Actor {
    Actor {
        kind: "cli",
        id: None,
        name: "command line".into(),
    }
}
