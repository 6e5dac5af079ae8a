//! One admitted connection as the hub knows it.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use blazz_domain::WorkspaceId;
use tokio::sync::mpsc;

use super::{ConnId, Hub, Kill, SubscribeError};
use crate::realtime::protocol::Member;

/// One admitted connection: its queue, its close signal and its channels.
/// Dropping it unsubscribes everything (presence members leave) and frees
/// its place.
pub struct Registration {
    pub(super) hub: Arc<Hub>,
    pub id: ConnId,
    pub socket_id: Arc<str>,
    pub workspace: WorkspaceId,
    pub rx: mpsc::Receiver<Utf8Bytes>,
    pub kill: Arc<Kill>,
    /// Subscribed channels, with the presence user this socket is on each.
    pub(super) channels: HashMap<String, Option<Arc<str>>>,
}

impl Registration {
    pub fn is_subscribed(&self, channel: &str) -> bool {
        self.channels.contains_key(channel)
    }

    /// The presence user this socket is on `channel`.
    pub fn member_of(&self, channel: &str) -> Option<&str> {
        self.channels.get(channel).and_then(|m| m.as_deref())
    }

    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    /// Subscribes (again: a repeated subscribe replaces the first one), and
    /// queues `pusher_internal:subscription_succeeded`.
    pub fn subscribe(
        &mut self,
        channel: &str,
        member: Option<Member>,
    ) -> Result<(), SubscribeError> {
        if self.channels.remove(channel).is_some() {
            self.hub.unsubscribe(self.id, self.workspace, channel);
        }
        let user = member.as_ref().map(|m| Arc::from(m.user_id.as_str()));
        self.hub
            .subscribe(self.id, self.workspace, channel, member)?;
        self.channels.insert(channel.to_string(), user);
        Ok(())
    }

    pub fn unsubscribe(&mut self, channel: &str) {
        if self.channels.remove(channel).is_some() {
            self.hub.unsubscribe(self.id, self.workspace, channel);
        }
    }

    /// Sends to the channel's other subscribers.
    pub fn relay(&self, channel: &str, frame: impl FnOnce() -> String) -> usize {
        self.hub
            .broadcast(self.workspace, channel, Some(self.id), frame)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        for channel in std::mem::take(&mut self.channels).into_keys() {
            self.hub.unsubscribe(self.id, self.workspace, &channel);
        }
        self.hub.remove(self.id);
    }
}
