//! Inviting people. There is no mail server: the one-time link is shown to
//! the inviter (and logged) for them to pass on.

use blazz_domain::{Email, InvitationId, Role};
use blazz_store::invitations::{self, Invitation, NewInvitation};
use blazz_store::users::User;
use blazz_store::{is_unique_violation, members, now_ms, users};
use serde_json::json;

use crate::auth::{password, secrets, Caller};
use crate::error::ApiError;
use crate::services::accounts::validate_name;
use crate::state::AppState;

/// Creates an invitation; returns it with its link (shown once).
pub async fn create(
    state: &AppState,
    caller: &Caller,
    email: &str,
    role: Role,
) -> Result<(Invitation, String), ApiError> {
    caller.require(Role::Admin)?;
    if !caller.role.may_grant(role) {
        return Err(ApiError::forbidden(format!(
            "a {} cannot invite someone as {role}",
            caller.role
        )));
    }
    let email =
        Email::parse(email).map_err(|e| ApiError::invalid("invalid_email", e.to_string()))?;
    let ws = caller.workspace_id;
    let secret = secrets::random_string(43);
    let mut tx = state.db.begin().await?;
    if let Some(user) = users::find_by_email(&mut tx, &email).await? {
        if members::find(&mut tx, ws, user.id).await?.is_some() {
            return Err(ApiError::Conflict(
                "already_member",
                format!("{email} is a member of this workspace already"),
            ));
        }
    }
    let inv = invitations::create(
        &mut tx,
        ws,
        NewInvitation {
            email: email.as_str(),
            role,
            invited_by: caller.user_id,
            secret: &secret,
            ttl_ms: state.config.http.invitation_hours * 3_600_000,
        },
    )
    .await?;
    super::record(
        &mut tx,
        ws,
        &caller.actor,
        "invitation.created",
        ("invitation", inv.id.to_string()),
        json!({"email": inv.email, "role": role}),
    )
    .await?;
    tx.commit().await?;
    state.committed();
    let link = format!("{}/invite/{secret}", state.config.public_url());
    tracing::info!(workspace.id = %ws, invitation.id = %inv.id, email = %inv.email, %link, "invitation created");
    Ok((inv, link))
}

pub async fn revoke(state: &AppState, caller: &Caller, id: InvitationId) -> Result<(), ApiError> {
    caller.require(Role::Admin)?;
    let ws = caller.workspace_id;
    let mut tx = state.db.begin().await?;
    let Some(inv) = invitations::find(&mut tx, ws, id).await? else {
        return Err(ApiError::not_found("invitation_not_found", "invitation"));
    };
    if !caller.role.may_grant(inv.role) {
        return Err(ApiError::forbidden(format!(
            "a {} cannot revoke an invitation as {}",
            caller.role, inv.role
        )));
    }
    if invitations::revoke(&mut tx, ws, id).await? {
        super::record(
            &mut tx,
            ws,
            &caller.actor,
            "invitation.revoked",
            ("invitation", id.to_string()),
            json!({"email": inv.email}),
        )
        .await?;
    }
    tx.commit().await?;
    state.committed();
    Ok(())
}

/// A pending invitation found by its link's secret.
pub async fn pending(state: &AppState, secret: &str) -> Result<Invitation, ApiError> {
    let mut conn = state.db.pool.acquire().await?;
    match invitations::find_by_secret(&mut conn, secret).await? {
        Some(inv) if inv.status(now_ms()) == "pending" => Ok(inv),
        _ => Err(ApiError::not_found(
            "invitation_not_found",
            "invitation (it may have been used, revoked or expired)",
        )),
    }
}

/// How the person following the link proves who they are.
pub enum Acceptor<'a> {
    /// No account with the invited e-mail yet: create one.
    NewUser { name: &'a str, password: &'a str },
    /// An account exists: its password.
    ExistingUser { password: &'a str },
}

/// Redeems the link once and adds the membership.
pub async fn accept(state: &AppState, secret: &str, who: Acceptor<'_>) -> Result<User, ApiError> {
    let inv = pending(state, secret).await?;
    let email = Email::parse(&inv.email).map_err(|e| ApiError::Internal(e.into()))?;
    let new_hash = match &who {
        Acceptor::NewUser { password: pw, .. } => {
            password::validate(pw)?;
            Some(password::hash(pw)?)
        }
        Acceptor::ExistingUser { .. } => None,
    };
    let mut tx = state.db.begin().await?;
    let existing = users::find_by_email(&mut tx, &email).await?;
    let user = match (who, existing) {
        (Acceptor::ExistingUser { password: pw }, Some(user)) => {
            if !password::verify(pw, &user.password_hash) {
                return Err(ApiError::invalid(
                    "wrong_password",
                    "the password is not right",
                ));
            }
            user
        }
        (Acceptor::NewUser { name, .. }, None) => {
            let name = validate_name("name", name)?;
            let hash = new_hash.unwrap_or_default();
            match users::create(&mut tx, &email, &name, &hash).await {
                Ok(u) => u,
                Err(e) if is_unique_violation(&e) => {
                    return Err(ApiError::Conflict(
                        "email_taken",
                        "sign in to accept".into(),
                    ))
                }
                Err(e) => return Err(e.into()),
            }
        }
        (Acceptor::NewUser { .. }, Some(_)) => {
            return Err(ApiError::Conflict(
                "email_taken",
                "an account with this e-mail exists; accept with its password".into(),
            ))
        }
        (Acceptor::ExistingUser { .. }, None) => {
            return Err(ApiError::invalid(
                "no_account",
                "no account has this e-mail yet",
            ))
        }
    };
    if !invitations::mark_accepted(&mut tx, inv.id).await? {
        return Err(ApiError::not_found("invitation_not_found", "invitation"));
    }
    if members::find(&mut tx, inv.workspace_id, user.id)
        .await?
        .is_none()
    {
        members::add(&mut tx, inv.workspace_id, user.id, inv.role).await?;
    }
    let actor = super::user_actor(&user);
    super::record(
        &mut tx,
        inv.workspace_id,
        &actor,
        "member.added",
        ("user", user.id.to_string()),
        json!({"email": user.email, "role": inv.role, "invitation": inv.id}),
    )
    .await?;
    tx.commit().await?;
    state.committed();
    Ok(user)
}
