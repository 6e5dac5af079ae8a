//! The job that handles one signed webhook call from Meta, stored as it
//! came (the HTTP handler only checks the signature and queues it). Every
//! entry and every change is handled: messages and statuses go to the
//! number's session when it is open on this instance (and the job waits
//! until they are stored), else they are stored here through the same
//! inbox writes the session engine uses; template status updates change
//! the stored template. Meta retries deliveries for days: an item already
//! handled (a message id, or a message id and a status) is skipped, and
//! the inbox ignores repeats and never moves a status backwards anyway.

use std::time::Duration;

use blazz_cloud::webhook::{self, Change};
use blazz_cloud::CloudCredentials;
use blazz_domain::{AccountId, MessageStatus, Priority};
use blazz_provider::{ProviderEvent, ReceiptStatus, StoredSignal};
use blazz_store::cloud::numbers::{self as numbers_store, CloudNumber};
use serde::{Deserialize, Serialize};

use crate::inbox::inbound::{Inbound, Receipt};
use crate::jobs::{Job, JobError};
use crate::sessions::writer::Write;
use crate::state::AppState;

/// How long the job waits for an open session to store what it was given.
const STORED_WITHIN: Duration = Duration::from_secs(30);

/// A webhook call to handle: its raw body, and the numbers whose app
/// secret its signature matched (only those are touched).
#[derive(Debug, Serialize, Deserialize)]
pub struct ProcessMetaWebhook {
    pub body: String,
    pub accounts: Vec<String>,
}

impl Job for ProcessMetaWebhook {
    const NAME: &'static str = "cloud.webhook";
    const PRIORITY: Priority = Priority::High;
    const MAX_ATTEMPTS: i64 = 20;

    async fn run(self, state: AppState) -> Result<(), JobError> {
        let changes =
            webhook::parse(self.body.as_bytes()).map_err(|e| JobError::Permanent(e.to_string()))?;
        let verified: Vec<AccountId> = self
            .accounts
            .iter()
            .filter_map(|a| a.parse().ok())
            .collect();
        for change in changes {
            handle(&state, &verified, change).await?;
        }
        Ok(())
    }
}

/// The verified numbers a change is about.
async fn numbers_for(
    state: &AppState,
    verified: &[AccountId],
    phone_number_id: &str,
) -> anyhow::Result<Vec<CloudNumber>> {
    let mut conn = state.db.pool.acquire().await?;
    let all = numbers_store::by_phone_number_id(&mut conn, phone_number_id).await?;
    Ok(all
        .into_iter()
        .filter(|n| verified.contains(&n.account_id))
        .collect())
}

async fn handle(state: &AppState, verified: &[AccountId], change: Change) -> Result<(), JobError> {
    let (number, item) = match &change {
        Change::Message(m) => (
            m.phone_number_id.clone(),
            m.message.provider_message_id.clone(),
        ),
        Change::Status(s) => (
            s.phone_number_id.clone(),
            format!("{}:{}", s.wamid, s.status),
        ),
        Change::TemplateStatus(t) => return template_status(state, verified, t).await,
        Change::Errors {
            phone_number_id,
            errors,
        } => {
            for e in errors {
                tracing::warn!(phone_number_id = %phone_number_id, code = e.code, error = %e,
                    "Meta reported an error about a Cloud number");
            }
            return Ok(());
        }
    };
    for n in numbers_for(state, verified, &number).await? {
        let mut conn = state.db.pool.acquire().await.map_err(anyhow::Error::from)?;
        if blazz_store::cloud::seen(&mut conn, n.account_id, &item)
            .await
            .map_err(anyhow::Error::from)?
        {
            continue;
        }
        drop(conn);
        let Some(creds) = super::numbers::credentials(state, n.workspace_id, n.account_id).await?
        else {
            continue;
        };
        deliver(state, &n, &creds, change.clone()).await?;
        let mut conn = state.db.write().await.map_err(anyhow::Error::from)?;
        blazz_store::cloud::first_sight(&mut conn, n.account_id, &item)
            .await
            .map_err(anyhow::Error::from)?;
    }
    Ok(())
}

/// Hands a message or status to the number's session here, or stores it.
async fn deliver(
    state: &AppState,
    n: &CloudNumber,
    creds: &CloudCredentials,
    change: Change,
) -> Result<(), JobError> {
    let provider = state
        .sessions
        .cloud
        .as_ref()
        .ok_or_else(|| JobError::Permanent("Cloud API numbers are unavailable here".into()))?;
    // Inbound media is downloaded here, with the number's token.
    let events = provider.events_for(creds, change).await;
    if events.is_empty() {
        return Ok(());
    }
    let account = n.account_id.to_string();
    if provider.is_open(&account) {
        let (stored, done) = StoredSignal::new();
        let durable = ProviderEvent::Durable {
            events: events.clone(),
            stored,
        };
        if provider.deliver(&account, vec![durable]).await {
            return match tokio::time::timeout(STORED_WITHIN, done).await {
                Ok(Ok(())) => Ok(()),
                _ => Err(JobError::Transient(
                    "the number's session did not store the webhook's events in time".into(),
                )),
            };
        }
    }
    for event in events {
        let write = match event {
            ProviderEvent::Message(m) => {
                let from = match blazz_domain::Phone::from_network(&m.from) {
                    Ok(p) => p.as_str().to_string(),
                    Err(e) => {
                        tracing::warn!(account.id = %n.account_id, error = %e, "ignored a message from an address that is not a phone number");
                        continue;
                    }
                };
                let media_id = crate::inbox::media::keep_inbound(state, n.workspace_id, &m).await;
                Write::Inbound(Inbound {
                    workspace: n.workspace_id,
                    account: n.account_id,
                    message: blazz_provider::InboundMessage { from, ..m },
                    media_id,
                    from_phone: false,
                })
            }
            ProviderEvent::Receipt {
                provider_message_id,
                status,
                at,
                error,
            } => Write::Receipt(Receipt {
                workspace: n.workspace_id,
                account: n.account_id,
                provider_message_id,
                status: match status {
                    ReceiptStatus::Sent => MessageStatus::Sent,
                    ReceiptStatus::Delivered => MessageStatus::Delivered,
                    ReceiptStatus::Read => MessageStatus::Read,
                    ReceiptStatus::Failed => MessageStatus::Failed,
                },
                at: at
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis() as i64)
                    .unwrap_or(0),
                error,
            }),
            _ => continue,
        };
        if !state.sessions.write(write).await {
            return Err(JobError::Transient(
                "could not store a webhook's message or status".into(),
            ));
        }
    }
    Ok(())
}

/// Meta approved, rejected, paused... a template: the stored copies of the
/// verified numbers of that business account follow.
async fn template_status(
    state: &AppState,
    verified: &[AccountId],
    t: &blazz_cloud::TemplateStatusChange,
) -> Result<(), JobError> {
    let mut conn = state.db.pool.acquire().await.map_err(anyhow::Error::from)?;
    let numbers = numbers_store::by_business_account_id(&mut conn, &t.waba_id).await?;
    drop(conn);
    let accounts: Vec<AccountId> = numbers
        .into_iter()
        .map(|n| n.account_id)
        .filter(|a| verified.contains(a))
        .collect();
    let reason = t.reason.as_deref().filter(|r| *r != "NONE");
    let mut tx = state.db.begin().await.map_err(anyhow::Error::from)?;
    let changed = blazz_store::cloud::templates::set_status_by_meta_id(
        &mut tx,
        &accounts,
        &t.template_id,
        &t.event.to_ascii_uppercase(),
        reason,
    )
    .await?;
    for c in &changed {
        blazz_store::outbox::append(
            &mut tx,
            Some(c.workspace_id),
            "template.status_changed",
            &serde_json::json!({"id": c.id.to_string(), "account_id": c.account_id.to_string(),
                "name": c.name, "language": c.language, "status": c.status, "reason": c.reason}),
        )
        .await?;
    }
    tx.commit().await.map_err(anyhow::Error::from)?;
    state.committed();
    Ok(())
}
