//! Linked numbers ("accounts" in the API): creating them, linking them
//! (QR or pair code, rate-limited per workspace), reconnecting, logging
//! out and deleting. The session engine does the live part.

use std::time::{Duration, SystemTime};

use blazz_domain::{AccountId, Role, SessionState};
use blazz_provider::ProviderKind;
use blazz_store::accounts::{self, Account};
use serde_json::json;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::services::accounts::validate_name;
use crate::sessions::{EngineError, Start};
use crate::state::AppState;

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::AtCapacity(_) => {
                ApiError::Unavailable("session_capacity_reached", e.to_string())
            }
            EngineError::ProviderUnavailable(_) => {
                ApiError::invalid("provider_unavailable", e.to_string())
            }
            EngineError::NotRunning => ApiError::Conflict(
                "session_not_running",
                "the number's session is not running".into(),
            ),
            EngineError::Provider(p) => ApiError::Conflict("provider_refused", p.to_string()),
        }
    }
}

pub async fn find(state: &AppState, caller: &Caller, id: AccountId) -> Result<Account, ApiError> {
    let mut conn = state.db.pool.acquire().await?;
    accounts::find(&mut conn, caller.workspace_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("account_not_found", "account"))
}

pub async fn create(
    state: &AppState,
    caller: &Caller,
    provider: &str,
    name: &str,
) -> Result<Account, ApiError> {
    caller.require(Role::Admin)?;
    let kind = ProviderKind::parse(provider).ok_or_else(|| {
        ApiError::invalid("invalid_provider", "provider must be sandbox, web or cloud")
    })?;
    if !state.sessions.supports(kind) {
        return Err(ApiError::invalid(
            "provider_unavailable",
            format!(
                "{provider} numbers cannot be linked on this Blazz (sandbox needs sandbox.enabled)"
            ),
        ));
    }
    let name = validate_name("name", name)?;
    let mut tx = state.db.begin().await?;
    let account = accounts::create(&mut tx, caller.workspace_id, kind.as_str(), &name).await?;
    super::record(
        &mut tx,
        caller.workspace_id,
        &caller.actor,
        "account.created",
        ("account", account.id.to_string()),
        json!({"name": name, "provider": kind.as_str()}),
    )
    .await?;
    tx.commit().await?;
    state.committed();
    Ok(account)
}

/// Starts a link. With `phone`, asks for a pair code for it and returns it.
pub async fn link(
    state: &AppState,
    caller: &Caller,
    id: AccountId,
    phone: Option<&str>,
) -> Result<(Account, Option<(String, SystemTime)>), ApiError> {
    caller.require(Role::Admin)?;
    let account = find(state, caller, id).await?;
    if account.provider == ProviderKind::Cloud.as_str() {
        return Err(ApiError::invalid(
            "not_linkable",
            "a Cloud API number connects with its Meta credentials: change them with PATCH /api/v1/accounts/{id}",
        ));
    }
    if matches!(
        account.status,
        SessionState::Connected | SessionState::Authenticating
    ) {
        return Err(ApiError::Conflict(
            "already_linked",
            "this number is linked; log it out first to link again".into(),
        ));
    }
    if let Some(p) = phone {
        if !p.starts_with('+') || p.len() < 8 || !p[1..].chars().all(|c| c.is_ascii_digit()) {
            return Err(ApiError::invalid(
                "invalid_phone",
                "phone must be in E.164 form, e.g. +15551234567",
            ));
        }
    }
    let limit = state.config.sessions.link_attempts_per_hour;
    let mut tx = state.db.begin().await?;
    let recent = accounts::link_attempts_since(
        &mut tx,
        caller.workspace_id,
        blazz_store::now_ms() - 3_600_000,
    )
    .await?;
    if recent >= i64::from(limit) {
        return Err(ApiError::RateLimitedWith {
            code: "link_rate_limited",
            message: format!(
                "at most {limit} link attempts per workspace per hour; try again later"
            ),
            retry_after_secs: 3600,
        });
    }
    accounts::record_link_attempt(&mut tx, caller.workspace_id, id, 3_600_000).await?;
    super::record(
        &mut tx,
        caller.workspace_id,
        &caller.actor,
        "account.link_started",
        ("account", id.to_string()),
        json!({"pair_code_for": phone}),
    )
    .await?;
    tx.commit().await?;
    state.committed();
    state
        .metrics
        .link_attempts
        .with_label_values(&[&account.provider])
        .inc();

    state.sessions.start(state, &account, Start::Link).await?;
    let pair = match phone {
        None => None,
        Some(phone) => Some(pair_code(state, id, phone).await?),
    };
    let account = find(state, caller, id).await?;
    Ok((account, pair))
}

/// Asks the linking session for a pair code once it shows its first QR.
async fn pair_code(
    state: &AppState,
    id: AccountId,
    phone: &str,
) -> Result<(String, SystemTime), ApiError> {
    let unavailable = || {
        ApiError::Unavailable(
            "pair_code_unavailable",
            "the provider gave no pair code in time; try again".into(),
        )
    };
    let shared = state.sessions.shared(id).ok_or_else(unavailable)?;
    let limit = Duration::from_secs(10);
    let mut states = shared.state.subscribe();
    let linking = states.wait_for(|s| *s == SessionState::QrRequired);
    if !matches!(tokio::time::timeout(limit, linking).await, Ok(Ok(_))) {
        return Err(unavailable());
    }
    let mut pairs = shared.pair.subscribe();
    state.sessions.request_pair_code(id, phone).await?;
    let pair = match tokio::time::timeout(limit, pairs.wait_for(Option::is_some)).await {
        Ok(Ok(pair)) => pair.clone(),
        _ => None,
    };
    pair.ok_or_else(unavailable)
}

/// Reconnects a number whose session failed or stopped, with its stored link.
pub async fn reconnect(
    state: &AppState,
    caller: &Caller,
    id: AccountId,
) -> Result<Account, ApiError> {
    caller.require(Role::Admin)?;
    let account = find(state, caller, id).await?;
    if account.linked_at.is_none()
        || matches!(
            account.status,
            SessionState::LoggedOut | SessionState::Banned
        )
    {
        return Err(ApiError::Conflict(
            "not_linked",
            format!("this number is {}; link it instead", account.status),
        ));
    }
    state
        .sessions
        .start(state, &account, Start::Restore)
        .await?;
    audit(state, caller, id, "account.reconnect_requested").await?;
    find(state, caller, id).await
}

pub async fn logout(state: &AppState, caller: &Caller, id: AccountId) -> Result<Account, ApiError> {
    caller.require(Role::Admin)?;
    let account = find(state, caller, id).await?;
    let reason = format!("logged out by {}", caller.actor.name);
    state.sessions.logout(state, &account, &reason).await;
    audit(state, caller, id, "account.logged_out").await?;
    find(state, caller, id).await
}

pub async fn delete(state: &AppState, caller: &Caller, id: AccountId) -> Result<(), ApiError> {
    caller.require(Role::Admin)?;
    let account = find(state, caller, id).await?;
    state.sessions.logout(state, &account, "deleted").await;
    let mut tx = state.db.begin().await?;
    accounts::delete(&mut tx, caller.workspace_id, id).await?;
    super::record(
        &mut tx,
        caller.workspace_id,
        &caller.actor,
        "account.deleted",
        ("account", id.to_string()),
        json!({"name": account.name, "phone": account.phone}),
    )
    .await?;
    tx.commit().await?;
    state.committed();
    Ok(())
}

async fn audit(
    state: &AppState,
    caller: &Caller,
    id: AccountId,
    action: &str,
) -> Result<(), ApiError> {
    let mut tx = state.db.begin().await?;
    super::record(
        &mut tx,
        caller.workspace_id,
        &caller.actor,
        action,
        ("account", id.to_string()),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    state.committed();
    Ok(())
}
