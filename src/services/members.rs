//! Changing who is in a workspace and with which role. A workspace always
//! keeps at least one owner, and nobody acts above their own role.

use blazz_domain::{Role, UserId};
use blazz_store::members::{self, Member};
use blazz_store::workspaces;
use serde_json::json;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

fn may_manage(caller: &Caller, target: &Member, new_role: Option<Role>) -> Result<(), ApiError> {
    caller.require(Role::Admin)?;
    if !caller.role.may_grant(target.role) {
        return Err(ApiError::forbidden(format!(
            "a {} cannot change a member who is {}",
            caller.role, target.role
        )));
    }
    if let Some(role) = new_role {
        if !caller.role.may_grant(role) {
            return Err(ApiError::forbidden(format!(
                "a {} cannot make someone {role}",
                caller.role
            )));
        }
    }
    Ok(())
}

pub async fn change_role(
    state: &AppState,
    caller: &Caller,
    user: UserId,
    role: Role,
) -> Result<Member, ApiError> {
    let ws = caller.workspace_id;
    let mut tx = state.db.begin().await?;
    workspaces::lock(&mut tx, ws).await?;
    let Some(member) = members::find(&mut tx, ws, user).await? else {
        return Err(ApiError::not_found("member_not_found", "member"));
    };
    may_manage(caller, &member, Some(role))?;
    if member.role == Role::Owner
        && role != Role::Owner
        && members::count_owners(&mut tx, ws).await? <= 1
    {
        return Err(ApiError::Conflict(
            "last_owner",
            "a workspace needs at least one owner; make someone else owner first".into(),
        ));
    }
    if member.role != role {
        members::set_role(&mut tx, ws, user, role).await?;
        super::record(
            &mut tx,
            ws,
            &caller.actor,
            "member.role_changed",
            ("user", user.to_string()),
            json!({"email": member.email, "from": member.role, "to": role}),
        )
        .await?;
    }
    tx.commit().await?;
    state.committed();
    Ok(Member { role, ..member })
}

pub async fn remove(state: &AppState, caller: &Caller, user: UserId) -> Result<(), ApiError> {
    let ws = caller.workspace_id;
    let mut tx = state.db.begin().await?;
    workspaces::lock(&mut tx, ws).await?;
    let Some(member) = members::find(&mut tx, ws, user).await? else {
        return Err(ApiError::not_found("member_not_found", "member"));
    };
    may_manage(caller, &member, None)?;
    if member.role == Role::Owner && members::count_owners(&mut tx, ws).await? <= 1 {
        return Err(ApiError::Conflict(
            "last_owner",
            "the last owner cannot be removed".into(),
        ));
    }
    members::remove(&mut tx, ws, user).await?;
    super::record(
        &mut tx,
        ws,
        &caller.actor,
        "member.removed",
        ("user", user.to_string()),
        json!({"email": member.email, "role": member.role}),
    )
    .await?;
    tx.commit().await?;
    state.committed();
    Ok(())
}
