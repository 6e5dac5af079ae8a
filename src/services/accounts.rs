//! Creating people and their first workspace: first-run setup, open
//! sign-up, and `blazz user create`.

use blazz_domain::{slug, Email, Role};
use blazz_store::users::User;
use blazz_store::workspaces::Workspace;
use blazz_store::{is_unique_violation, members, users, workspaces, Db};
use serde_json::json;

use crate::auth::password;
use crate::error::ApiError;

pub struct NewAccount<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password: &'a str,
    /// A new workspace of which the user becomes owner.
    pub workspace_name: &'a str,
}

pub fn validate_name(field: &'static str, name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(ApiError::invalid(
            "invalid_name",
            format!("{field} must have 1 to 120 characters"),
        ));
    }
    Ok(name.to_string())
}

/// Creates a user and a workspace they own. With `only_if_first`, refuses
/// once any user exists (the first-run page).
pub async fn create(
    db: &Db,
    new: NewAccount<'_>,
    only_if_first: bool,
) -> Result<(User, Workspace), ApiError> {
    let email =
        Email::parse(new.email).map_err(|e| ApiError::invalid("invalid_email", e.to_string()))?;
    let name = validate_name("name", new.name)?;
    let ws_name = validate_name("workspace name", new.workspace_name)?;
    password::validate(new.password)?;
    let hash = password::hash(new.password)?;

    let mut tx = db.begin().await?;
    if only_if_first && tx.backend_name() == "PostgreSQL" {
        // Two first-run forms at once must not both see "no users yet".
        // (SQLite write transactions are serial already.)
        sqlx::query("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await?;
    }
    if only_if_first && users::count(&mut tx).await? > 0 {
        return Err(ApiError::Conflict(
            "already_set_up",
            "this Blazz is set up already; sign in instead".into(),
        ));
    }
    let user = match users::create(&mut tx, &email, &name, &hash).await {
        Ok(u) => u,
        Err(e) if is_unique_violation(&e) => {
            return Err(ApiError::Conflict(
                "email_taken",
                "an account with this e-mail exists already".into(),
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let ws = workspaces::create(&mut tx, &slug::slugify(&ws_name), &ws_name).await?;
    members::add(&mut tx, ws.id, user.id, Role::Owner).await?;
    let actor = super::user_actor(&user);
    super::record(
        &mut tx,
        ws.id,
        &actor,
        "workspace.created",
        ("workspace", ws.id.to_string()),
        json!({"name": ws.name, "slug": ws.slug, "owner": user.email}),
    )
    .await?;
    tx.commit().await?;
    Ok((user, ws))
}
