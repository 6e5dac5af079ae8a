//! The registry of this process's sockets and what they subscribe to.
//!
//! Every socket has a bounded queue of frames (`Outlet`). Fan-out never
//! waits: a frame that does not fit in a queue closes that socket (4100)
//! instead of growing memory or slowing everyone else. Frames are shared
//! bytes, serialised once per channel, not once per socket.
//!
//! Channels are per workspace (each workspace is its own Pusher app), so
//! one app's `orders` is not another's.

mod outlet;
mod registration;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use axum::extract::ws::Utf8Bytes;
use blazz_domain::WorkspaceId;
use prometheus::{IntCounter, IntGauge};
use serde_json::{json, Value};
use tokio::sync::mpsc;

pub use outlet::{Kill, Outlet};
pub use registration::Registration;

use super::protocol::{self, Member};

pub type ConnId = u64;

struct Conn {
    socket_id: Arc<str>,
    workspace: WorkspaceId,
    outlet: Outlet,
}

struct Sub {
    outlet: Outlet,
    /// Presence channels: the member this socket is.
    user_id: Option<Arc<str>>,
}

#[derive(Default)]
struct Channel {
    subs: HashMap<ConnId, Sub>,
    /// Presence channels: each user once, with how many sockets they have here.
    members: HashMap<Arc<str>, (Value, usize)>,
}

#[derive(Default)]
struct Tables {
    conns: HashMap<ConnId, Conn>,
    channels: HashMap<WorkspaceId, HashMap<String, Channel>>,
}

pub struct Limits {
    pub max_connections: usize,
    pub send_queue: usize,
    pub max_presence_members: usize,
}

pub struct Hub {
    tables: RwLock<Tables>,
    next_id: AtomicU64,
    limits: Limits,
    connections: IntGauge,
    sent: IntCounter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// `max_connections` reached.
    OverCapacity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscribeError {
    /// The presence channel already has `max_presence_members` users.
    TooManyMembers,
}

impl Hub {
    pub fn new(limits: Limits, connections: IntGauge, sent: IntCounter) -> Self {
        Self {
            tables: RwLock::new(Tables::default()),
            next_id: AtomicU64::new(1),
            limits,
            connections,
            sent,
        }
    }

    // A panic while a lock is held cannot leave the tables half-changed in
    // a way that matters more than losing the process's sockets would.
    fn read(&self) -> RwLockReadGuard<'_, Tables> {
        self.tables.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Tables> {
        self.tables.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Admits a new connection to `workspace`'s app.
    pub fn register(self: &Arc<Self>, workspace: WorkspaceId) -> Result<Registration, Refused> {
        let (tx, rx) = mpsc::channel(self.limits.send_queue.max(1));
        let kill = Arc::new(Kill::default());
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        // `<random>.<id>` as Pusher's socket ids look; the id part makes it
        // unique, the random part makes it unguessable.
        let socket_id: Arc<str> = format!(
            "{}.{id}",
            rand::Rng::gen_range(&mut rand::thread_rng(), 1..1_000_000_000u32)
        )
        .into();
        let mut t = self.write();
        if t.conns.len() >= self.limits.max_connections {
            return Err(Refused::OverCapacity);
        }
        t.conns.insert(
            id,
            Conn {
                socket_id: socket_id.clone(),
                workspace,
                outlet: Outlet {
                    tx,
                    kill: kill.clone(),
                },
            },
        );
        self.connections.set(t.conns.len() as i64);
        Ok(Registration {
            hub: self.clone(),
            id,
            socket_id,
            workspace,
            rx,
            kill,
            channels: HashMap::new(),
        })
    }

    /// Live connections in this process.
    pub fn connections(&self) -> usize {
        self.read().conns.len()
    }

    /// Subscribers of a channel in this process.
    pub fn subscribers(&self, workspace: WorkspaceId, channel: &str) -> usize {
        self.read()
            .channels
            .get(&workspace)
            .and_then(|c| c.get(channel))
            .map_or(0, |c| c.subs.len())
    }

    /// The connection a socket id names, if it is on `workspace`'s app.
    pub fn find_socket(&self, workspace: WorkspaceId, socket_id: &str) -> Option<ConnId> {
        let id: ConnId = socket_id.rsplit_once('.')?.1.parse().ok()?;
        let t = self.read();
        let conn = t.conns.get(&id)?;
        (conn.workspace == workspace && &*conn.socket_id == socket_id).then_some(id)
    }

    /// Sends a frame to every subscriber of a channel but `except`; the
    /// frame is built only if someone listens. Returns how many got it.
    pub fn broadcast(
        &self,
        workspace: WorkspaceId,
        channel: &str,
        except: Option<ConnId>,
        frame: impl FnOnce() -> String,
    ) -> usize {
        let t = self.read();
        let Some(ch) = t.channels.get(&workspace).and_then(|c| c.get(channel)) else {
            return 0;
        };
        if ch.subs.is_empty()
            || (ch.subs.len() == 1 && except.is_some_and(|e| ch.subs.contains_key(&e)))
        {
            return 0;
        }
        let frame = Utf8Bytes::from(frame());
        let mut n = 0;
        for (id, sub) in &ch.subs {
            if Some(*id) != except && sub.outlet.send(frame.clone()) {
                n += 1;
            }
        }
        self.sent.inc_by(n as u64);
        n
    }

    /// Closes every connection of a workspace's app (its credentials changed).
    pub fn close_workspace(&self, workspace: WorkspaceId, code: u16, reason: &'static str) {
        for conn in self.read().conns.values() {
            if conn.workspace == workspace {
                conn.outlet.kill.close(code, reason);
            }
        }
    }

    /// Closes every connection (the server is stopping).
    pub fn close_all(&self, code: u16, reason: &'static str) {
        for conn in self.read().conns.values() {
            conn.outlet.kill.close(code, reason);
        }
    }

    pub(super) fn subscribe(
        &self,
        conn: ConnId,
        workspace: WorkspaceId,
        channel: &str,
        member: Option<Member>,
    ) -> Result<(), SubscribeError> {
        let mut t = self.write();
        let Some(outlet) = t.conns.get(&conn).map(|c| c.outlet.clone()) else {
            return Ok(());
        };
        if let Some(m) = &member {
            let full = t
                .channels
                .get(&workspace)
                .and_then(|c| c.get(channel))
                .is_some_and(|ch| {
                    !ch.members.contains_key(m.user_id.as_str())
                        && ch.members.len() >= self.limits.max_presence_members
                });
            if full {
                return Err(SubscribeError::TooManyMembers);
            }
        }
        let ch = t
            .channels
            .entry(workspace)
            .or_default()
            .entry(channel.to_string())
            .or_default();
        let Some(member) = member else {
            ch.subs.insert(
                conn,
                Sub {
                    outlet: outlet.clone(),
                    user_id: None,
                },
            );
            // Queued under the lock: nothing broadcast on the channel can
            // overtake the confirmation.
            outlet.send(succeeded(channel, "{}"));
            return Ok(());
        };
        let user_id: Arc<str> = member.user_id.as_str().into();
        let first = !ch.members.contains_key(&user_id);
        ch.members
            .entry(user_id.clone())
            .or_insert_with(|| (member.user_info.clone(), 0))
            .1 += 1;
        ch.subs.insert(
            conn,
            Sub {
                outlet: outlet.clone(),
                user_id: Some(user_id.clone()),
            },
        );
        let ids: Vec<&str> = ch.members.keys().map(|k| &**k).collect();
        let hash: serde_json::Map<String, Value> = ch
            .members
            .iter()
            .map(|(k, (info, _))| (k.to_string(), info.clone()))
            .collect();
        let data = json!({"presence": {"ids": ids, "hash": hash, "count": ch.members.len()}});
        outlet.send(succeeded(channel, &data.to_string()));
        if first {
            let data = json!({"user_id": &*user_id, "user_info": member.user_info});
            let frame = Utf8Bytes::from(protocol::frame(
                "pusher_internal:member_added",
                Some(channel),
                &data.to_string(),
            ));
            for (id, sub) in &ch.subs {
                if *id != conn {
                    sub.outlet.send(frame.clone());
                }
            }
        }
        Ok(())
    }

    pub(super) fn unsubscribe(&self, conn: ConnId, workspace: WorkspaceId, channel: &str) {
        let mut t = self.write();
        let Some(ch) = t
            .channels
            .get_mut(&workspace)
            .and_then(|c| c.get_mut(channel))
        else {
            return;
        };
        if let Some(Sub {
            user_id: Some(user),
            ..
        }) = ch.subs.remove(&conn)
        {
            let last = match ch.members.get_mut(&user) {
                Some((_, n)) => {
                    *n -= 1;
                    *n == 0
                }
                None => false,
            };
            if last {
                ch.members.remove(&user);
                let data = json!({"user_id": &*user}).to_string();
                let frame = Utf8Bytes::from(protocol::frame(
                    "pusher_internal:member_removed",
                    Some(channel),
                    &data,
                ));
                for sub in ch.subs.values() {
                    sub.outlet.send(frame.clone());
                }
            }
        }
        if ch.subs.is_empty() {
            drop_channel(&mut t, workspace, channel);
        }
    }

    pub(super) fn remove(&self, conn: ConnId) {
        let mut t = self.write();
        t.conns.remove(&conn);
        self.connections.set(t.conns.len() as i64);
    }
}

fn drop_channel(t: &mut Tables, workspace: WorkspaceId, channel: &str) {
    if let Some(chans) = t.channels.get_mut(&workspace) {
        chans.remove(channel);
        if chans.is_empty() {
            t.channels.remove(&workspace);
        }
    }
}

fn succeeded(channel: &str, data: &str) -> Utf8Bytes {
    protocol::frame(
        "pusher_internal:subscription_succeeded",
        Some(channel),
        data,
    )
    .into()
}
