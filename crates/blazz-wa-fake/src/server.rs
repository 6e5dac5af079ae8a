//! The network's state — accounts, their devices and keys, live connections —
//! and the handle tests hold, [`FakeWhatsApp`].

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, oneshot};
use whatsapp_rust::wacore::libsignal::protocol::KeyPair;
use whatsapp_rust::wacore_binary::builder::NodeBuilder;
use whatsapp_rust::wacore_binary::Node;

use crate::media::FakeMediaCdn;
use crate::noise::ServerKeys;
use crate::transport::FakeTransportFactory;

/// What a connection task is told to do.
pub(crate) enum Push {
    Node(Node),
    /// Send nothing more; end the stream.
    Close,
}

/// A device that finished linking: what peers need to open Signal sessions with it.
pub(crate) struct DeviceRecord {
    pub(crate) noise_pub: [u8; 32],
    pub(crate) registration_id: u32,
    pub(crate) identity: [u8; 32],
    pub(crate) signed_prekey: (u32, Vec<u8>, Vec<u8>),
    pub(crate) prekeys: VecDeque<(u32, Vec<u8>)>,
    /// `ADVSignedDeviceIdentity` with both signatures, as the device returned it.
    pub(crate) signed_identity: Vec<u8>,
    pub(crate) key_index: u32,
    /// Stanzas that arrived while the device was offline.
    pub(crate) offline: Vec<Node>,
}

pub(crate) struct Ban {
    pub(crate) until: SystemTime,
    pub(crate) code: u32,
}

/// One phone number.
pub(crate) struct Account {
    /// The phone's identity key: it signs each linked device (ADV).
    pub(crate) identity: KeyPair,
    pub(crate) devices: BTreeMap<u16, DeviceRecord>,
    pub(crate) next_device: u16,
    pub(crate) next_key_index: u32,
    /// The account's ADV id, the same in every device identity and key-index list.
    pub(crate) raw_id: u32,
    pub(crate) ban: Option<Ban>,
}

impl Account {
    fn new() -> Self {
        Self {
            identity: whatsapp_rust::wacore::crypto::generate_curve_key_pair(),
            devices: BTreeMap::new(),
            next_device: 1,
            next_key_index: 1,
            raw_id: rand::random::<u32>() >> 1,
            ban: None,
        }
    }
}

/// The keys an unpaired client announced in its registration payload.
#[derive(Clone)]
pub(crate) struct Registration {
    pub(crate) registration_id: u32,
    pub(crate) identity: [u8; 32],
    pub(crate) signed_prekey: (u32, Vec<u8>, Vec<u8>),
}

pub(crate) struct Conn {
    pub(crate) out: mpsc::UnboundedSender<Push>,
    pub(crate) noise_pub: [u8; 32],
    /// Set once the connection logged in as a linked device.
    pub(crate) device: Option<(String, u16)>,
    /// Set while an unpaired client waits to be linked.
    pub(crate) registration: Option<Registration>,
    /// Pairing refs this connection was given.
    pub(crate) refs: Vec<String>,
}

/// A `pair-success` sent to a client, waiting for its `pair-device-sign`.
pub(crate) struct PendingLink {
    pub(crate) phone: String,
    pub(crate) device: u16,
    pub(crate) key_index: u32,
    pub(crate) conn: u64,
    pub(crate) noise_pub: [u8; 32],
    pub(crate) registration: Registration,
    pub(crate) done: oneshot::Sender<anyhow::Result<()>>,
}

#[derive(Default)]
pub(crate) struct State {
    pub(crate) accounts: HashMap<String, Account>,
    pub(crate) conns: HashMap<u64, Conn>,
    /// IQ id of a `pair-success` → the link it completes.
    pub(crate) pending_links: HashMap<String, PendingLink>,
    pub(crate) pair_codes: crate::pair_code::PairCodes,
    pub(crate) media: HashMap<String, Vec<u8>>,
    /// Whether each number last said it is available.
    pub(crate) presence: HashMap<String, bool>,
    /// Number → the numbers subscribed to its presence.
    pub(crate) subscribers: HashMap<String, HashSet<String>>,
}

impl State {
    pub(crate) fn account(&mut self, phone: &str) -> &mut Account {
        self.accounts
            .entry(phone.to_string())
            .or_insert_with(Account::new)
    }

    /// Sends a node to every live connection of one device; `false` if none.
    pub(crate) fn push_to_device(&self, phone: &str, device: u16, node: &Node) -> bool {
        let mut sent = false;
        for conn in self.conns.values() {
            if conn
                .device
                .as_ref()
                .is_some_and(|(p, d)| p == phone && *d == device)
            {
                sent |= conn.out.send(Push::Node(node.clone())).is_ok();
            }
        }
        sent
    }

    /// Delivers now, or keeps the node until the device comes back.
    pub(crate) fn deliver(&mut self, phone: &str, device: u16, node: Node) {
        if !self.push_to_device(phone, device, &node) {
            if let Some(record) = self
                .accounts
                .get_mut(phone)
                .and_then(|a| a.devices.get_mut(&device))
            {
                record.offline.push(node);
            }
        }
    }

    pub(crate) fn conns_of(&self, phone: &str) -> Vec<u64> {
        self.conns
            .iter()
            .filter(|(_, c)| c.device.as_ref().is_some_and(|(p, _)| p == phone))
            .map(|(id, _)| *id)
            .collect()
    }
}

pub(crate) struct Shared {
    pub(crate) keys: ServerKeys,
    state: Mutex<State>,
    next_id: AtomicU64,
}

impl Shared {
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; keep serving.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn iq_id(&self) -> String {
        format!("srv-{}", self.next_id())
    }
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// One offline WhatsApp network: accounts (phone numbers), their devices,
/// their queues. Cheap to clone; clones share the network.
#[derive(Clone)]
pub struct FakeWhatsApp {
    pub(crate) shared: Arc<Shared>,
}

impl Default for FakeWhatsApp {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeWhatsApp {
    /// The app version clients must be built with (`Bot::builder().with_version(..)`),
    /// so that no version fetch over HTTP happens.
    pub const VERSION: (u32, u32, u32) = (2, 3000, 1_023_000_000);

    pub fn new() -> Self {
        // Key generation only fails if the curve library breaks; tests cannot
        // run without it anyway.
        #[allow(clippy::expect_used)]
        let keys = ServerKeys::generate().expect("server noise keys");
        Self {
            shared: Arc::new(Shared {
                keys,
                state: Mutex::new(State::default()),
                next_id: AtomicU64::new(1),
            }),
        }
    }

    /// Connects clients to this server in memory
    /// (`Bot::builder().with_transport_factory(..)`).
    pub fn transport_factory(&self) -> FakeTransportFactory {
        FakeTransportFactory {
            shared: self.shared.clone(),
        }
    }

    /// Stands in for WhatsApp's media CDN (`Bot::builder().with_http_client(..)`).
    pub fn http_client(&self) -> FakeMediaCdn {
        FakeMediaCdn {
            shared: self.shared.clone(),
        }
    }

    /// Linked device ids of `phone` (the phone itself, device 0, is simulated
    /// by the server and holds no Signal keys).
    pub fn linked_devices(&self, phone: &str) -> Vec<u16> {
        self.shared
            .state()
            .accounts
            .get(phone)
            .map(|a| a.devices.keys().copied().collect())
            .unwrap_or_default()
    }

    /// Cuts the connection of every device of `phone` (clients reconnect).
    pub async fn drop_connections(&self, phone: &str) {
        let state = self.shared.state();
        for id in state.conns_of(phone) {
            if let Some(conn) = state.conns.get(&id) {
                let _ = conn.out.send(Push::Close);
            }
        }
    }

    /// Sends `<stream:error code=..>` to the devices of `phone`: 515 asks for a
    /// restart, 503 for a later retry, 409 (and 440) mean another session
    /// replaced this one (`<conflict type="replaced"/>`), 401 that it was
    /// logged out. The server closes the stream afterwards, as WhatsApp does.
    pub async fn stream_error(&self, phone: &str, code: u16) {
        let mut builder = NodeBuilder::new("stream:error");
        if code == 409 || code == 440 {
            builder = builder.children([NodeBuilder::new("conflict")
                .attr("type", "replaced")
                .build()]);
        } else {
            builder = builder.attr("code", code.to_string());
        }
        let node = builder.build();
        let state = self.shared.state();
        for id in state.conns_of(phone) {
            if let Some(conn) = state.conns.get(&id) {
                let _ = conn.out.send(Push::Node(node.clone()));
                let _ = conn.out.send(Push::Close);
            }
        }
    }

    /// Temporarily bans `phone`: live connections are cut and every login
    /// until the expiry is refused with `<failure reason="402">` (the client's
    /// `Event::TemporaryBan`).
    pub async fn temporary_ban(&self, phone: &str, expires_in: Duration) {
        let mut state = self.shared.state();
        state.account(phone).ban = Some(Ban {
            until: SystemTime::now() + expires_in,
            code: 101,
        });
        for id in state.conns_of(phone) {
            if let Some(conn) = state.conns.get(&id) {
                let _ = conn.out.send(Push::Close);
            }
        }
    }

    /// Lifts a ban before its expiry.
    pub async fn lift_ban(&self, phone: &str) {
        if let Some(account) = self.shared.state().accounts.get_mut(phone) {
            account.ban = None;
        }
    }

    /// The phone unlinks its linked devices: each gets
    /// `<stream:error code="401"><conflict type="device_removed"/>` (the
    /// client's `Event::LoggedOut`) and can no longer log in.
    pub async fn unlink_devices(&self, phone: &str) {
        let node = NodeBuilder::new("stream:error")
            .attr("code", "401")
            .children([NodeBuilder::new("conflict")
                .attr("type", "device_removed")
                .build()])
            .build();
        let mut state = self.shared.state();
        for id in state.conns_of(phone) {
            if let Some(conn) = state.conns.get(&id) {
                let _ = conn.out.send(Push::Node(node.clone()));
                let _ = conn.out.send(Push::Close);
            }
        }
        if let Some(account) = state.accounts.get_mut(phone) {
            account.devices.clear();
        }
    }
}
