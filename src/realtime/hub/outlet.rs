//! A connection's outlet: its bounded frame queue and its close signal.

use std::sync::{Arc, OnceLock};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::{mpsc, Notify};

use crate::realtime::protocol::code;

/// Why and how a connection is to be closed; the first reason wins.
#[derive(Default)]
pub struct Kill {
    reason: OnceLock<(u16, &'static str)>,
    notify: Notify,
}

impl Kill {
    pub fn close(&self, code: u16, reason: &'static str) {
        if self.reason.set((code, reason)).is_ok() {
            self.notify.notify_one();
        }
    }

    /// The close asked for, if any.
    pub fn reason(&self) -> Option<(u16, &'static str)> {
        self.reason.get().copied()
    }

    /// Resolves once `close` was called.
    pub async fn wait(&self) -> (u16, &'static str) {
        loop {
            if let Some(r) = self.reason.get() {
                return *r;
            }
            self.notify.notified().await;
        }
    }
}

/// Where a connection's frames go.
#[derive(Clone)]
pub struct Outlet {
    pub(super) tx: mpsc::Sender<Utf8Bytes>,
    pub(super) kill: Arc<Kill>,
}

impl Outlet {
    /// Queues a frame; a full queue closes the connection.
    pub(super) fn send(&self, frame: Utf8Bytes) -> bool {
        match self.tx.try_send(frame) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.kill.close(
                    code::OVER_CAPACITY,
                    "Too slow: the connection's send queue is full",
                );
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}
