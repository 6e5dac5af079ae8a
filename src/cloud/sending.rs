//! Sends to and from Cloud numbers: what is checked before a message is
//! accepted (the number not paused, the 24-hour window for free-form
//! messages, a template's variables), and what Meta's error codes do once
//! a send failed (contracts A2): a refused token leaves the number
//! needing new credentials, 131050 opts the contact out, a policy block
//! pauses the number and raises an alert. Retries (rate limits, 131056 for
//! one recipient, Meta's transient failures) are the send job's: those
//! errors come back transient and the job runs again with backoff.

use blazz_cloud::ErrorAction;
use blazz_domain::WorkspaceId;
use blazz_provider::ProviderError;
use blazz_store::accounts::Account;
use blazz_store::cloud::numbers as store;
use blazz_store::messages::Message;
use blazz_store::{chats, contacts, now_ms, outbox};
use serde_json::json;

use crate::error::ApiError;
use crate::inbox::body::Body;
use crate::state::AppState;

/// The internal event (outbox) raised when Meta restricts a number; public
/// as `account.alert`.
pub const PAUSED_EVENT: &str = "account.sending_paused";

/// Checks a message for `account` before it is stored: `Ok` for numbers of
/// other networks unless they are given a Meta template. Fills in the text
/// a Meta template shows as.
pub async fn check(
    conn: &mut blazz_store::Conn,
    account: &Account,
    phone: &str,
    body: &mut Body,
) -> Result<(), ApiError> {
    if account.provider != "cloud" {
        if let Body::Template {
            language: Some(_), ..
        } = body
        {
            return Err(ApiError::invalid(
                "invalid_body",
                "a template with a language is a Meta template: only Cloud API numbers send those \
                 (leave language out to send a canned reply)",
            ));
        }
        return Ok(());
    }
    if let Some(row) = store::find(conn, account.workspace_id, account.id).await? {
        if row.paused_at.is_some() {
            return Err(ApiError::Conflict(
                "sending_paused",
                format!(
                    "sending from this number is paused: {}",
                    row.paused_reason.unwrap_or_default()
                ),
            ));
        }
    }
    match body {
        Body::Template {
            template,
            language: Some(language),
            variables,
            text,
        } => {
            *text = Some(
                super::templates::check_message(conn, account, template, language, variables)
                    .await?,
            );
            Ok(())
        }
        // Anything else is free-form: only inside the customer's window.
        _ => {
            let open =
                super::window::is_open(conn, account.workspace_id, account.id, phone, now_ms())
                    .await?;
            if open {
                Ok(())
            } else {
                Err(super::window::closed())
            }
        }
    }
}

/// Acts on the Meta error a send of `m` from `account` failed with. The
/// message itself is failed (or retried) by the send job.
pub async fn after_failure(
    state: &AppState,
    ws: WorkspaceId,
    account: &Account,
    m: &Message,
    err: &ProviderError,
) -> anyhow::Result<()> {
    if account.provider != "cloud" {
        return Ok(());
    }
    let Some(code) = blazz_cloud::code_of(err) else {
        return Ok(());
    };
    let why = match err {
        ProviderError::Transient(t) | ProviderError::Permanent(t) | ProviderError::LoggedOut(t) => {
            t.clone()
        }
        other => other.to_string(),
    };
    match ErrorAction::for_code(code, None, false) {
        ErrorAction::Reauthenticate => {
            // The number ends logged out with Meta's reason: it needs new
            // credentials (`needs_reauth` in the API); nothing more is sent.
            state.sessions.logout(state, account, &why).await;
        }
        ErrorAction::OptedOut => {
            let mut conn = state.db.pool.acquire().await?;
            let chat = chats::find(&mut conn, ws, m.chat_id).await?;
            drop(conn);
            if let Some(chat) = chat {
                let mut tx = state.db.begin().await?;
                if contacts::opt_out(&mut tx, ws, chat.contact_id, now_ms()).await? {
                    outbox::append(
                        &mut tx,
                        Some(ws),
                        "contact.updated",
                        &json!({"contact_id": chat.contact_id.to_string(),
                                "phone": chat.contact_phone, "opted_out": true,
                                "reason": "stopped marketing messages (Meta error 131050)"}),
                    )
                    .await?;
                }
                tx.commit().await?;
                state.committed();
            }
        }
        ErrorAction::PauseNumber => {
            let mut tx = state.db.begin().await?;
            if store::set_paused(&mut tx, ws, account.id, Some(&why)).await? {
                outbox::append(
                    &mut tx,
                    Some(ws),
                    PAUSED_EVENT,
                    &json!({"account_id": account.id.to_string(), "provider": "cloud",
                            "alert": "sending_paused", "code": code, "reason": why}),
                )
                .await?;
            }
            tx.commit().await?;
            state.committed();
            tracing::warn!(account.id = %account.id, code, "Meta restricted a Cloud number; its sending is paused");
        }
        _ => {}
    }
    Ok(())
}

/// Resumes sending from a paused Cloud number.
pub async fn resume(state: &AppState, ws: WorkspaceId, account: &Account) -> anyhow::Result<bool> {
    let mut tx = state.db.begin().await?;
    let resumed = store::set_paused(&mut tx, ws, account.id, None).await?;
    tx.commit().await?;
    Ok(resumed)
}

/// `paused` for the number with this id (send jobs know only the id).
pub async fn paused_by_id(
    state: &AppState,
    ws: WorkspaceId,
    id: blazz_domain::AccountId,
) -> anyhow::Result<Option<String>> {
    // Only Cloud numbers pause; spare every other send a query.
    let cloud = state
        .sessions
        .shared(id)
        .is_some_and(|s| s.provider == blazz_provider::ProviderKind::Cloud);
    if !cloud {
        return Ok(None);
    }
    let mut conn = state.db.pool.acquire().await?;
    let row = store::find(&mut conn, ws, id).await?;
    Ok(row
        .filter(|r| r.paused_at.is_some())
        .map(|r| r.paused_reason.unwrap_or_default()))
}

/// `after_failure` for the number that sent `m`.
pub async fn after_failure_by_id(
    state: &AppState,
    ws: WorkspaceId,
    m: &Message,
    err: &ProviderError,
) -> anyhow::Result<()> {
    if blazz_cloud::code_of(err).is_none() {
        return Ok(());
    }
    let mut conn = state.db.pool.acquire().await?;
    let account = blazz_store::accounts::find(&mut conn, ws, m.account_id).await?;
    drop(conn);
    match account {
        Some(a) => after_failure(state, ws, &a, m, err).await,
        None => Ok(()),
    }
}
