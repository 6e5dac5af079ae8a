//! `/webhooks/meta`: Meta's verification handshake (GET) and its signed
//! webhook calls (POST). A call is checked against the app secrets of the
//! Cloud numbers it names (`X-Hub-Signature-256` over the raw body), stored
//! as a job and answered 200 at once; the job does the rest
//! (`crate::cloud::webhook`). A bad or missing signature is 401 and
//! nothing is stored.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use blazz_cloud::webhook;
use blazz_store::cloud::numbers as store;

use crate::cloud::webhook::ProcessMetaWebhook;
use crate::jobs::{self, Enqueue};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/webhooks/meta", get(verify).post(receive))
}

fn plain(status: StatusCode, text: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

/// The handshake: the challenge back when the verify token is one a Cloud
/// number was set up with; 403 otherwise.
async fn verify(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let forbidden = || plain(StatusCode::FORBIDDEN, "verification refused".into());
    let Some(token) = q.get("hub.verify_token").filter(|t| !t.is_empty()) else {
        return forbidden();
    };
    let hash = crate::cloud::numbers::verify_token_hash(token);
    let known = match state.db.pool.acquire().await {
        Ok(mut conn) => store::verify_token_known(&mut conn, &hash)
            .await
            .unwrap_or(false),
        Err(_) => false,
    };
    match webhook::verify_challenge(&q, token).filter(|_| known) {
        Some(challenge) => plain(StatusCode::OK, challenge),
        None => forbidden(),
    }
}

async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let unauthorized = || plain(StatusCode::UNAUTHORIZED, "bad or missing signature".into());
    let signature = headers
        .get(webhook::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    if signature.is_none() {
        return unauthorized();
    }
    let verified = match verified_accounts(&state, &body, signature).await {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "checking a Meta webhook call");
            return plain(StatusCode::INTERNAL_SERVER_ERROR, "try again".into());
        }
    };
    if verified.is_empty() {
        return unauthorized();
    }
    let Ok(text) = String::from_utf8(body.to_vec()) else {
        return plain(StatusCode::BAD_REQUEST, "the body is not UTF-8".into());
    };
    let key = format!("meta.webhook:{}", blazz_store::secret_hash(&text));
    let job = ProcessMetaWebhook {
        body: text,
        accounts: verified.iter().map(ToString::to_string).collect(),
    };
    let queued = async {
        let mut tx = state.db.begin().await?;
        let opts = Enqueue {
            idempotency_key: Some(key),
            ..Enqueue::default()
        };
        jobs::enqueue(&mut tx, &job, opts).await?;
        tx.commit().await?;
        anyhow::Ok(())
    };
    match queued.await {
        Ok(()) => {
            state.committed();
            plain(StatusCode::OK, "EVENT_RECEIVED".into())
        }
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "storing a Meta webhook call");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "try again".into())
        }
    }
}

/// The Cloud numbers the call names whose app secret signed it.
async fn verified_accounts(
    state: &AppState,
    body: &[u8],
    signature: Option<&str>,
) -> anyhow::Result<Vec<blazz_domain::AccountId>> {
    let mut conn = state.db.pool.acquire().await?;
    let mut candidates = Vec::new();
    for id in webhook::phone_number_ids(body) {
        candidates.extend(store::by_phone_number_id(&mut conn, &id).await?);
    }
    // Template status updates name only the business account.
    for id in webhook::business_account_ids(body) {
        candidates.extend(store::by_business_account_id(&mut conn, &id).await?);
    }
    drop(conn);
    let mut verified = Vec::new();
    for n in candidates {
        if verified.contains(&n.account_id) {
            continue;
        }
        let Some(creds) =
            crate::cloud::numbers::credentials(state, n.workspace_id, n.account_id).await?
        else {
            continue;
        };
        if webhook::verify_signature(&creds.app_secret, body, signature) {
            verified.push(n.account_id);
        }
    }
    Ok(verified)
}
