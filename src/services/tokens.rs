//! Issuing and revoking API tokens.

use blazz_domain::{Role, TokenId, UserId, WorkspaceId};
use blazz_store::audit::Actor;
use blazz_store::tokens::{self, ApiToken};
use blazz_store::Db;
use serde_json::json;

use crate::auth::secrets;
use crate::error::ApiError;
use crate::services::accounts::validate_name;

/// Creates a token; the secret is returned here and never again.
pub async fn create(
    db: &Db,
    ws: WorkspaceId,
    actor: &Actor,
    granter: Option<Role>,
    name: &str,
    role: Role,
    created_by: Option<UserId>,
) -> Result<(ApiToken, String), ApiError> {
    if let Some(granter) = granter {
        if !granter.may_grant(role) {
            return Err(ApiError::forbidden(format!(
                "a {granter} cannot create a token with the {role} role"
            )));
        }
    }
    let name = validate_name("name", name)?;
    let secret = secrets::api_token();
    let mut tx = db.begin().await?;
    let token = tokens::create(&mut tx, ws, &name, role, &secret, created_by).await?;
    super::record(
        &mut tx,
        ws,
        actor,
        "token.created",
        ("token", token.id.to_string()),
        json!({"name": token.name, "role": role}),
    )
    .await?;
    tx.commit().await?;
    Ok((token, secret))
}

/// Revokes a token; `revoker` (the caller's role) must be allowed to grant
/// the token's role, so an admin cannot revoke an owner's token.
pub async fn revoke(
    db: &Db,
    ws: WorkspaceId,
    actor: &Actor,
    revoker: Role,
    id: TokenId,
) -> Result<(), ApiError> {
    let mut tx = db.begin().await?;
    let Some(token) = tokens::find(&mut tx, ws, id).await? else {
        return Err(ApiError::not_found("token_not_found", "token"));
    };
    if !revoker.may_grant(token.role) {
        return Err(ApiError::forbidden(format!(
            "a {revoker} cannot revoke a token with the {} role",
            token.role
        )));
    }
    if tokens::revoke(&mut tx, ws, id).await? {
        super::record(
            &mut tx,
            ws,
            actor,
            "token.revoked",
            ("token", id.to_string()),
            json!({"name": token.name}),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
