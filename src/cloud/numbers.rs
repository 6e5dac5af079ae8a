//! Cloud numbers: created with Meta credentials (checked, sealed at rest,
//! never shown again), their access token replaced, and "test connection".
//!
//! The credentials are sealed twice under the account: as the session's
//! `credentials` (what the engine hands the provider, and forgets when the
//! number ends logged out) and as `cloud` (kept until the number is
//! deleted), so that a number whose token Meta refused only needs a new
//! token, not every secret again.

use blazz_cloud::{CloudCredentials, ErrorAction};
use blazz_domain::{AccountId, Role, SessionState, WorkspaceId};
use blazz_store::accounts::{self, Account};
use blazz_store::cloud::numbers::{self as store, CloudNumber};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::secrets::{self, owner, SecretRef};
use crate::services::accounts::validate_name;
use crate::sessions::Start;
use crate::state::AppState;

/// A Cloud number's credentials as a client gives them. On creation every
/// field is needed; an update (`PATCH`) gives only what changes.
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloudInput {
    pub phone_number_id: Option<String>,
    /// The WhatsApp Business Account id (templates live there).
    pub business_account_id: Option<String>,
    pub access_token: Option<String>,
    /// The Meta app's secret: webhook calls are signed with it.
    pub app_secret: Option<String>,
    /// What Meta sends in the webhook verification handshake.
    pub verify_token: Option<String>,
}

/// What the API shows of a Cloud number: ids, and which secrets are set
/// (never their values).
#[derive(Debug, Serialize, ToSchema)]
pub struct CloudView {
    pub phone_number_id: String,
    pub business_account_id: String,
    pub access_token_set: bool,
    pub app_secret_set: bool,
    pub verify_token_set: bool,
    /// Meta refused the access token: give a new one (`PATCH`).
    pub needs_reauth: bool,
    /// Meta restricted the number (131048, 368, 131031): sending paused.
    pub sending_paused: bool,
    pub paused_reason: Option<String>,
}

fn sealed_ref(ws: WorkspaceId, account: AccountId) -> SecretRef {
    SecretRef::new(Some(ws), owner::ACCOUNT, account.to_string(), "cloud")
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::invalid("invalid_cloud_credentials", message)
}

/// Hex SHA-256 of a verify token: how webhooks' handshakes find it.
pub fn verify_token_hash(token: &str) -> String {
    blazz_store::secret_hash(token)
}

fn complete(input: CloudInput) -> Result<CloudCredentials, ApiError> {
    let field = |name: &str, v: Option<String>| {
        v.map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| invalid(format!("cloud.{name} is required")))
    };
    let creds = CloudCredentials {
        phone_number_id: field("phone_number_id", input.phone_number_id)?,
        business_account_id: field("business_account_id", input.business_account_id)?,
        access_token: field("access_token", input.access_token)?,
        app_secret: field("app_secret", input.app_secret)?,
        verify_token: field("verify_token", input.verify_token)?,
    };
    creds.check().map_err(|e| invalid(format!("cloud.{e}")))?;
    for (name, v, max) in [
        ("phone_number_id", &creds.phone_number_id, 32),
        ("business_account_id", &creds.business_account_id, 32),
        ("access_token", &creds.access_token, 4096),
        ("app_secret", &creds.app_secret, 256),
        ("verify_token", &creds.verify_token, 256),
    ] {
        if v.len() > max {
            return Err(invalid(format!(
                "cloud.{name} is longer than {max} characters"
            )));
        }
    }
    Ok(creds)
}

/// Seals the credentials (both copies) and records the routing row, in
/// the caller's transaction.
async fn store_credentials(
    state: &AppState,
    tx: &mut blazz_store::Conn,
    account: &Account,
    creds: &CloudCredentials,
) -> Result<(), ApiError> {
    let bytes = creds.to_bytes();
    // Where the session engine reads a number's credentials from.
    let session_ref = SecretRef::new(
        Some(account.workspace_id),
        owner::ACCOUNT,
        account.id.to_string(),
        "credentials",
    );
    secrets::put(&state.keyring, tx, &session_ref, &bytes).await?;
    let cloud_ref = sealed_ref(account.workspace_id, account.id);
    secrets::put(&state.keyring, tx, &cloud_ref, &bytes).await?;
    store::upsert(
        tx,
        account.workspace_id,
        account.id,
        &creds.phone_number_id,
        &creds.business_account_id,
        &verify_token_hash(&creds.verify_token),
    )
    .await?;
    Ok(())
}

/// A Cloud number's credentials, unsealed.
pub async fn credentials(
    state: &AppState,
    ws: WorkspaceId,
    account: AccountId,
) -> anyhow::Result<Option<CloudCredentials>> {
    let mut conn = state.db.pool.acquire().await?;
    let Some(raw) = secrets::get(&state.keyring, &mut conn, &sealed_ref(ws, account)).await? else {
        return Ok(None);
    };
    Ok(Some(CloudCredentials::from_bytes(&raw)?))
}

/// Creates a Cloud number and brings its session up (no QR code: the
/// credentials are the link).
pub async fn create(
    state: &AppState,
    caller: &Caller,
    name: &str,
    input: CloudInput,
) -> Result<Account, ApiError> {
    caller.require(Role::Admin)?;
    let name = validate_name("name", name)?;
    let creds = complete(input)?;
    if !state.sessions.supports(blazz_provider::ProviderKind::Cloud) {
        return Err(ApiError::invalid(
            "provider_unavailable",
            "Cloud API numbers cannot be linked on this Blazz",
        ));
    }
    let mut tx = state.db.begin().await?;
    let account = accounts::create(&mut tx, caller.workspace_id, "cloud", &name).await?;
    store_credentials(state, &mut tx, &account, &creds).await?;
    crate::services::record(
        &mut tx,
        caller.workspace_id,
        &caller.actor,
        "account.created",
        ("account", account.id.to_string()),
        json!({"name": name, "provider": "cloud", "phone_number_id": creds.phone_number_id}),
    )
    .await?;
    tx.commit().await?;
    state.committed();
    connect(state, caller, &account, &creds).await
}

/// Reads the number from Meta (its phone), then starts the session.
async fn connect(
    state: &AppState,
    caller: &Caller,
    account: &Account,
    creds: &CloudCredentials,
) -> Result<Account, ApiError> {
    let graph = super::graph(state)?;
    match graph.phone_number(creds).await {
        Ok(info) => {
            if let Some(phone) = info.e164() {
                let mut conn = state.db.write().await?;
                accounts::set_linked(&mut conn, account.workspace_id, account.id, &phone).await?;
            }
        }
        Err(e) => {
            tracing::info!(account.id = %account.id, error = %e, "a Cloud number's details could not be read")
        }
    }
    let fresh = crate::services::numbers::find(state, caller, account.id).await?;
    state.sessions.start(state, &fresh, Start::Restore).await?;
    crate::services::numbers::find(state, caller, account.id).await
}

/// Replaces some of a Cloud number's credentials (typically the access
/// token after Meta refused it) and reconnects it.
pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: AccountId,
    input: CloudInput,
) -> Result<Account, ApiError> {
    caller.require(Role::Admin)?;
    let account = crate::services::numbers::find(state, caller, id).await?;
    if account.provider != "cloud" {
        return Err(ApiError::invalid(
            "not_a_cloud_number",
            "only Cloud API numbers have Cloud credentials",
        ));
    }
    let old = credentials(state, caller.workspace_id, id)
        .await?
        .ok_or_else(|| {
            invalid("this number has no stored Cloud credentials; delete and add it again")
        })?;
    let merged = complete(CloudInput {
        phone_number_id: input.phone_number_id.or(Some(old.phone_number_id)),
        business_account_id: input.business_account_id.or(Some(old.business_account_id)),
        access_token: input.access_token.or(Some(old.access_token)),
        app_secret: input.app_secret.or(Some(old.app_secret)),
        verify_token: input.verify_token.or(Some(old.verify_token)),
    })?;
    let mut tx = state.db.begin().await?;
    store_credentials(state, &mut tx, &account, &merged).await?;
    crate::services::record(
        &mut tx,
        caller.workspace_id,
        &caller.actor,
        "account.credentials_updated",
        ("account", id.to_string()),
        json!({"phone_number_id": merged.phone_number_id}),
    )
    .await?;
    tx.commit().await?;
    state.committed();
    connect(state, caller, &account, &merged).await
}

/// The answer of "test connection".
#[derive(Debug, Serialize, ToSchema)]
pub struct TestResult {
    /// Meta answered with the number's details.
    pub ok: bool,
    /// What is wrong: `access_token_rejected`, `phone_number_not_found`,
    /// `graph_unreachable` or `meta_error`; null when ok.
    pub problem: Option<String>,
    /// Meta's own error, as Meta worded it.
    #[schema(value_type = Option<Object>)]
    pub meta_error: Option<serde_json::Value>,
    /// The number as Meta describes it (display number, verified name,
    /// quality rating, messaging tier...).
    #[schema(value_type = Option<Object>)]
    pub phone_number: Option<serde_json::Value>,
}

/// Reads the number's details from Meta and says what is wrong, if
/// anything.
pub async fn test(
    state: &AppState,
    caller: &Caller,
    id: AccountId,
) -> Result<TestResult, ApiError> {
    let account = crate::services::numbers::find(state, caller, id).await?;
    if account.provider != "cloud" {
        return Err(ApiError::invalid(
            "not_a_cloud_number",
            "only Cloud API numbers can be tested with Meta",
        ));
    }
    let creds = credentials(state, caller.workspace_id, id)
        .await?
        .ok_or_else(|| invalid("this number has no stored Cloud credentials"))?;
    let graph = super::graph(state)?;
    Ok(match graph.phone_number(&creds).await {
        Ok(info) => TestResult {
            ok: true,
            problem: None,
            meta_error: None,
            phone_number: serde_json::to_value(&info).ok(),
        },
        Err(e) => {
            let problem = match e.graph() {
                Some(g) if g.action() == ErrorAction::Reauthenticate => "access_token_rejected",
                Some(g) if g.code == 100 || g.status == Some(404) => "phone_number_not_found",
                Some(_) => "meta_error",
                None => "graph_unreachable",
            };
            let meta_error = match e.graph() {
                Some(g) => Some(
                    json!({"code": g.code, "message": g.message, "details": g.details,
                    "fbtrace_id": g.fbtrace_id}),
                ),
                None => Some(json!({"code": null, "message": e.to_string()})),
            };
            TestResult {
                ok: false,
                problem: Some(problem.into()),
                meta_error,
                phone_number: None,
            }
        }
    })
}

/// Whether a number's state says Meta refused its token.
pub fn needs_reauth(account: &Account) -> bool {
    account.provider == "cloud"
        && account.status == SessionState::LoggedOut
        && account.status_reason.as_deref().is_some_and(|r| {
            blazz_cloud::code_of(&blazz_provider::ProviderError::LoggedOut(r.to_string()))
                .is_some_and(|c| {
                    ErrorAction::for_code(c, None, false) == ErrorAction::Reauthenticate
                })
        })
}

pub fn view(account: &Account, row: &CloudNumber) -> CloudView {
    CloudView {
        phone_number_id: row.phone_number_id.clone(),
        business_account_id: row.business_account_id.clone(),
        access_token_set: true,
        app_secret_set: true,
        verify_token_set: !row.verify_token_hash.is_empty(),
        needs_reauth: needs_reauth(account),
        sending_paused: row.paused_at.is_some(),
        paused_reason: row.paused_reason.clone(),
    }
}

/// The Cloud part of the API's view of `account`, if it is a Cloud number.
pub async fn view_of(state: &AppState, account: &Account) -> anyhow::Result<Option<CloudView>> {
    if account.provider != "cloud" {
        return Ok(None);
    }
    let mut conn = state.db.pool.acquire().await?;
    let row = store::find(&mut conn, account.workspace_id, account.id).await?;
    Ok(row.map(|r| view(account, &r)))
}
