//! Group commit for session writes. Thousands of sessions changing state at
//! once (a restart, a network blip) would each wait their turn for a
//! transaction on SQLite's single writer; instead they queue their change
//! here and one task commits whatever has queued up in one transaction,
//! then tells each session its change is durable.

use blazz_domain::{AccountId, SessionState, WorkspaceId};
use blazz_store::secrets::SecretRef;
use blazz_store::{accounts, outbox};
use tokio::sync::{mpsc, oneshot};

use crate::state::AppState;

/// One write a session asks for.
pub(crate) enum Write {
    /// A new status and its `account.status_changed` event.
    Status {
        workspace: WorkspaceId,
        account: AccountId,
        to: SessionState,
        reason: Option<String>,
        event: serde_json::Value,
    },
    /// A link: the number and its sealed credentials.
    Linked {
        workspace: WorkspaceId,
        account: AccountId,
        phone: String,
        secret: SecretRef,
        key_id: String,
        sealed: String,
    },
    /// A message from a contact (stored once, however often it arrives).
    Inbound(crate::inbox::inbound::Inbound),
    /// A status of a message this number sent.
    Receipt(crate::inbox::inbound::Receipt),
    /// The network took a message under this id (send jobs commit these
    /// together, rather than one transaction each).
    Sent {
        workspace: WorkspaceId,
        message: Box<blazz_store::messages::Message>,
        provider_message_id: String,
    },
    /// An event only (QR code rotated, typing...).
    Event {
        workspace: WorkspaceId,
        kind: &'static str,
        payload: serde_json::Value,
    },
}

pub(crate) type Queue = mpsc::UnboundedSender<(Write, oneshot::Sender<bool>)>;
pub(crate) type Inbox = mpsc::UnboundedReceiver<(Write, oneshot::Sender<bool>)>;

const MAX_BATCH: usize = 1024;

pub(crate) async fn run(state: AppState, mut inbox: Inbox) {
    while let Some(first) = inbox.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match inbox.try_recv() {
                Ok(more) => batch.push(more),
                Err(_) => break,
            }
        }
        let result = commit(&state, &batch).await;
        if let Err(e) = &result {
            tracing::error!(error = %format!("{e:#}"), writes = batch.len(), "could not persist session changes");
        }
        let ok = result.is_ok();
        if ok {
            state.committed();
        }
        for (_, done) in batch {
            let _ = done.send(ok);
        }
    }
}

async fn commit(state: &AppState, batch: &[(Write, oneshot::Sender<bool>)]) -> anyhow::Result<()> {
    let mut tx = state.db.begin().await?;
    for (write, _) in batch {
        match write {
            Write::Status {
                workspace,
                account,
                to,
                reason,
                event,
            } => {
                accounts::set_status(&mut tx, *workspace, *account, *to, reason.as_deref()).await?;
                outbox::append(&mut tx, Some(*workspace), "account.status_changed", event).await?;
            }
            Write::Linked {
                workspace,
                account,
                phone,
                secret,
                key_id,
                sealed,
            } => {
                blazz_store::secrets::put(&mut tx, secret, key_id, sealed).await?;
                accounts::set_linked(&mut tx, *workspace, *account, phone).await?;
            }
            Write::Inbound(inbound) => {
                crate::inbox::inbound::record(
                    &mut tx,
                    inbound,
                    &state.config.campaigns.opt_out_keywords,
                )
                .await?;
            }
            Write::Receipt(receipt) => {
                crate::inbox::inbound::apply_receipt(&mut tx, receipt).await?;
            }
            Write::Sent {
                workspace,
                message,
                provider_message_id,
            } => {
                crate::inbox::inbound::sent(&mut tx, *workspace, message, provider_message_id)
                    .await?;
            }
            Write::Event {
                workspace,
                kind,
                payload,
            } => {
                outbox::append(&mut tx, Some(*workspace), kind, payload).await?;
            }
        }
    }
    tx.commit().await?;
    Ok(())
}
