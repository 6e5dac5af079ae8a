//! Linked numbers: create, link (QR or pair code), read the QR code,
//! reconnect, log out, delete.

use std::time::SystemTime;

use axum::extract::State;
use axum::http::StatusCode;
use blazz_domain::{AccountId, SessionState};
use blazz_store::accounts::{self, Account};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{rfc3339, Page};
use crate::auth::Caller;
use crate::cloud::{
    self,
    numbers::{CloudInput, CloudView, TestResult},
};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path};
use crate::services::numbers;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct AccountView {
    pub id: String,
    pub name: String,
    /// sandbox, web or cloud.
    pub provider: String,
    /// The number in E.164, once linked.
    pub phone: Option<String>,
    /// initializing, qr_required, authenticating, connected, reconnecting,
    /// logged_out, failed or banned.
    #[schema(value_type = String, example = "connected")]
    pub status: SessionState,
    /// Why the number is in this state (e.g. `qr_timeout`), if known.
    pub status_reason: Option<String>,
    pub linked_at: Option<String>,
    pub created_at: String,
    /// Only in the answer to a link request with a phone number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pair_code: Option<CodeView>,
    /// Cloud API numbers only: their Meta ids and which secrets are set
    /// (never the secrets themselves).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud: Option<CloudView>,
}

impl AccountView {
    /// The view of `account` with its Cloud details, if it has any.
    pub async fn with_cloud(state: &AppState, account: Account) -> ApiResult<Self> {
        let cloud = cloud::numbers::view_of(state, &account).await?;
        let mut view = AccountView::from(account);
        view.cloud = cloud;
        Ok(view)
    }
}

#[derive(Serialize, ToSchema)]
pub struct CodeView {
    pub code: String,
    pub expires_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct QrView {
    /// The text the QR code carries.
    pub code: String,
    /// The QR code as an SVG image.
    pub svg: String,
    pub expires_at: String,
}

fn at(t: SystemTime) -> String {
    let ms = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    rfc3339(ms)
}

impl From<Account> for AccountView {
    fn from(a: Account) -> Self {
        Self {
            id: a.id.to_string(),
            name: a.name,
            provider: a.provider,
            phone: a.phone,
            status: a.status,
            status_reason: a.status_reason,
            linked_at: a.linked_at.map(rfc3339),
            created_at: rfc3339(a.created_at),
            pair_code: None,
            cloud: None,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccount {
    /// sandbox, web or cloud.
    pub provider: String,
    pub name: String,
    /// Required for `cloud`: the number's Meta credentials.
    pub cloud: Option<CloudInput>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccount {
    /// Cloud API numbers: the credentials that change (e.g. a new
    /// `access_token` for a number that needs it).
    pub cloud: Option<CloudInput>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct LinkAccount {
    /// Ask for a pair code for this number (E.164) instead of a QR scan.
    pub phone: Option<String>,
}

/// The workspace's numbers with their live status.
#[utoipa::path(get, path = "/accounts", tag = "accounts",
    responses((status = 200, body = Page<AccountView>), (status = 401, body = super::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Page<AccountView>>> {
    let mut conn = state.db.pool.acquire().await?;
    let all = accounts::list(&mut conn, caller.workspace_id).await?;
    drop(conn);
    let mut views = Vec::with_capacity(all.len());
    for a in all {
        views.push(AccountView::with_cloud(&state, a).await?);
    }
    Ok(Json(Page::all(views)))
}

/// Adds a number to link (admins and owners).
#[utoipa::path(post, path = "/accounts", tag = "accounts", request_body = CreateAccount,
    responses((status = 201, body = AccountView), (status = 403, body = super::ErrorBody),
              (status = 422, body = super::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<CreateAccount>,
) -> ApiResult<(StatusCode, Json<AccountView>)> {
    let account = match (body.provider.as_str(), body.cloud) {
        ("cloud", Some(creds)) => {
            cloud::numbers::create(&state, &caller, &body.name, creds).await?
        }
        ("cloud", None) => {
            return Err(ApiError::invalid(
                "invalid_cloud_credentials",
                "a Cloud API number needs \"cloud\": {phone_number_id, business_account_id, \
                 access_token, app_secret, verify_token}",
            ))
        }
        (_, Some(_)) => {
            return Err(ApiError::invalid(
                "invalid_body",
                "\"cloud\" is for Cloud API numbers (provider \"cloud\") only",
            ))
        }
        (provider, None) => numbers::create(&state, &caller, provider, &body.name).await?,
    };
    Ok((
        StatusCode::CREATED,
        Json(AccountView::with_cloud(&state, account).await?),
    ))
}

/// One number.
#[utoipa::path(get, path = "/accounts/{id}", tag = "accounts", params(("id" = String, Path)),
    responses((status = 200, body = AccountView), (status = 404, body = super::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
) -> ApiResult<Json<AccountView>> {
    let account = numbers::find(&state, &caller, id).await?;
    Ok(Json(AccountView::with_cloud(&state, account).await?))
}

/// Changes a Cloud API number's credentials (give only what changes, e.g.
/// a new `access_token` when the number needs one) and reconnects it.
#[utoipa::path(patch, path = "/accounts/{id}", tag = "accounts", params(("id" = String, Path)),
    request_body = UpdateAccount,
    responses((status = 200, body = AccountView), (status = 404, body = super::ErrorBody),
              (status = 422, body = super::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
    Json(body): Json<UpdateAccount>,
) -> ApiResult<Json<AccountView>> {
    let Some(creds) = body.cloud else {
        // Nothing else of a number changes through the API yet.
        let account = numbers::find(&state, &caller, id).await?;
        return Ok(Json(AccountView::with_cloud(&state, account).await?));
    };
    let account = cloud::numbers::update(&state, &caller, id, creds).await?;
    Ok(Json(AccountView::with_cloud(&state, account).await?))
}

/// "Test connection" for a Cloud API number: reads the number's details
/// from Meta and says what is wrong (`access_token_rejected`,
/// `phone_number_not_found`, `graph_unreachable`, `meta_error`), with
/// Meta's own error as Meta worded it.
#[utoipa::path(post, path = "/accounts/{id}/test", tag = "accounts", params(("id" = String, Path)),
    responses((status = 200, body = TestResult), (status = 404, body = super::ErrorBody),
              (status = 422, body = super::ErrorBody)))]
pub async fn test(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
) -> ApiResult<Json<TestResult>> {
    Ok(Json(cloud::numbers::test(&state, &caller, id).await?))
}

/// Resumes sending from a Cloud API number that Meta's policy errors
/// paused (131048, 368, 131031).
#[utoipa::path(post, path = "/accounts/{id}/resume-sending", tag = "accounts",
    params(("id" = String, Path)),
    responses((status = 200, body = AccountView), (status = 404, body = super::ErrorBody),
              (status = 422, body = super::ErrorBody)))]
pub async fn resume_sending(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
) -> ApiResult<Json<AccountView>> {
    caller.require(blazz_domain::Role::Admin)?;
    let account = numbers::find(&state, &caller, id).await?;
    if account.provider != "cloud" {
        return Err(ApiError::invalid(
            "not_a_cloud_number",
            "only Cloud API numbers are paused by Meta",
        ));
    }
    cloud::sending::resume(&state, caller.workspace_id, &account).await?;
    Ok(Json(AccountView::with_cloud(&state, account).await?))
}

/// Logs the number out and deletes it.
#[utoipa::path(delete, path = "/accounts/{id}", tag = "accounts", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = super::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
) -> ApiResult<StatusCode> {
    numbers::delete(&state, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Starts linking: the number shows QR codes (`GET /accounts/{id}/qr`), or
/// with `phone`, answers a pair code to type on that phone. At most
/// `sessions.link_attempts_per_hour` per workspace (429 `link_rate_limited`).
#[utoipa::path(post, path = "/accounts/{id}/link", tag = "accounts", params(("id" = String, Path)),
    request_body = LinkAccount,
    responses((status = 202, body = AccountView), (status = 404, body = super::ErrorBody),
              (status = 409, body = super::ErrorBody), (status = 429, body = super::ErrorBody),
              (status = 503, body = super::ErrorBody)))]
pub async fn link(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<AccountView>)> {
    // The body is optional: none (or empty) means "show QR codes".
    let body: LinkAccount = if body.iter().all(u8::is_ascii_whitespace) {
        LinkAccount::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::invalid("invalid_body", e.to_string()))?
    };
    let (account, pair) = numbers::link(&state, &caller, id, body.phone.as_deref()).await?;
    let mut view = AccountView::from(account);
    view.pair_code = pair.map(|(code, exp)| CodeView {
        code,
        expires_at: at(exp),
    });
    Ok((StatusCode::ACCEPTED, Json(view)))
}

/// The QR code to scan now; it rotates, so poll it (or listen for
/// `account.qr_updated` events).
#[utoipa::path(get, path = "/accounts/{id}/qr", tag = "accounts", params(("id" = String, Path)),
    responses((status = 200, body = QrView), (status = 404, body = super::ErrorBody)))]
pub async fn qr(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
) -> ApiResult<Json<QrView>> {
    let account = numbers::find(&state, &caller, id).await?;
    let current = state
        .sessions
        .shared(account.id)
        .and_then(|s| s.qr())
        .filter(|_| account.status == SessionState::QrRequired);
    let Some((code, expires_at)) = current else {
        return Err(ApiError::NotFound(
            "qr_not_available",
            format!("no QR code to scan: the number is {}", account.status),
        ));
    };
    let svg = qrcode::QrCode::new(code.as_bytes())
        .map(|c| {
            c.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(256, 256)
                .build()
        })
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("rendering a QR code: {e}")))?;
    Ok(Json(QrView {
        code,
        svg,
        expires_at: at(expires_at),
    }))
}

/// Reconnects a number that failed, with its stored link (no new scan).
#[utoipa::path(post, path = "/accounts/{id}/reconnect", tag = "accounts", params(("id" = String, Path)),
    responses((status = 200, body = AccountView), (status = 404, body = super::ErrorBody),
              (status = 409, body = super::ErrorBody)))]
pub async fn reconnect(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
) -> ApiResult<Json<AccountView>> {
    Ok(Json(numbers::reconnect(&state, &caller, id).await?.into()))
}

/// Unlinks the number (linking again needs a new scan).
#[utoipa::path(post, path = "/accounts/{id}/logout", tag = "accounts", params(("id" = String, Path)),
    responses((status = 200, body = AccountView), (status = 404, body = super::ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
) -> ApiResult<Json<AccountView>> {
    Ok(Json(numbers::logout(&state, &caller, id).await?.into()))
}
