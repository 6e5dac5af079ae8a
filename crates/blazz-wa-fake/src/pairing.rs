//! QR linking: refs for an unpaired client, the phone's scan (a device
//! identity signed with the phone's account key, MAC'd with the client's ADV
//! secret), and the client's countersigned answer.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::oneshot;
use whatsapp_rust::wacore::pair::PairUtils;
use whatsapp_rust::wacore_binary::builder::NodeBuilder;
use whatsapp_rust::wacore_binary::{Jid, Node};
use whatsapp_rust::waproto::buffa::Message;
use whatsapp_rust::waproto::whatsapp as wa;

use crate::server::{now_secs, DeviceRecord, PendingLink, Push, Registration, Shared};
use crate::session::Writer;

/// How many refs one connection gets: the client shows them one after the
/// other (60 s, then 20 s each) before it gives up.
const REFS_PER_CONNECTION: usize = 6;
const ADV_ACCOUNT_SIGNATURE_PREFIX: [u8; 2] = [6, 0];

/// An unpaired client connected: remember its keys and hand it pairing refs.
pub(crate) async fn start(
    shared: &Arc<Shared>,
    id: u64,
    registration: Registration,
    writer: &mut Writer,
) -> anyhow::Result<()> {
    let refs: Vec<String> = (0..REFS_PER_CONNECTION)
        .map(|_| format!("2@blazz-fake-{}", rand::random::<u64>()))
        .collect();
    {
        let mut state = shared.state();
        let conn = state.conns.get_mut(&id).context("connection vanished")?;
        conn.registration = Some(registration);
        conn.refs = refs.clone();
    }
    let iq = NodeBuilder::new("iq")
        .attr("from", "s.whatsapp.net")
        .attr("type", "set")
        .attr("id", shared.iq_id())
        .attr("xmlns", "md")
        .children([NodeBuilder::new("pair-device")
            .children(
                refs.into_iter()
                    .map(|r| NodeBuilder::new("ref").bytes(r.into_bytes()).build()),
            )
            .build()])
        .build();
    writer.send(&iq).await
}

/// The connection an unpaired client holds with pairing ref `pairing_ref`.
fn find_waiting(
    shared: &Shared,
    pairing_ref: &str,
    noise_pub: &[u8; 32],
) -> Option<(u64, Registration)> {
    let state = shared.state();
    state.conns.iter().find_map(|(id, conn)| {
        let matches = conn.refs.iter().any(|r| r == pairing_ref) && &conn.noise_pub == noise_pub;
        Some((*id, conn.registration.clone().filter(|_| matches)?))
    })
}

/// Builds the phone's `ADVSignedDeviceIdentityHMAC` for a new device.
pub(crate) fn signed_device_identity(
    account: &whatsapp_rust::wacore::libsignal::protocol::KeyPair,
    raw_id: u32,
    key_index: u32,
    device_identity_pub: &[u8; 32],
    adv_secret: &[u8],
) -> anyhow::Result<Vec<u8>> {
    let details = wa::ADVDeviceIdentity {
        raw_id: Some(raw_id),
        timestamp: Some(now_secs()),
        key_index: Some(key_index),
        account_type: Some(wa::ADVEncryptionType::E2EE),
        device_type: Some(wa::ADVEncryptionType::E2EE),
    }
    .encode_to_vec();
    let mut to_sign = ADV_ACCOUNT_SIGNATURE_PREFIX.to_vec();
    to_sign.extend_from_slice(&details);
    to_sign.extend_from_slice(device_identity_pub);
    let signature =
        whatsapp_rust::wacore::crypto::calculate_curve_signature(&account.private_key, &to_sign)
            .map_err(|e| anyhow!("account signature: {e:?}"))?;
    let signed = wa::ADVSignedDeviceIdentity {
        details: Some(details),
        account_signature_key: Some(account.public_key.public_key_bytes().to_vec()),
        account_signature: Some(signature.to_vec()),
        device_signature: None,
    }
    .encode_to_vec();
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(adv_secret)
        .map_err(|e| anyhow!("adv secret: {e}"))?;
    mac.update(&signed);
    Ok(wa::ADVSignedDeviceIdentityHMAC {
        details: Some(signed),
        hmac: Some(mac.finalize().into_bytes().to_vec()),
        account_type: Some(wa::ADVEncryptionType::E2EE),
    }
    .encode_to_vec())
}

/// Links the client waiting on connection `conn` to `phone` and waits for its
/// countersignature. Shared by QR and pair-code linking.
pub(crate) async fn link(
    shared: &Arc<Shared>,
    phone: &str,
    conn: u64,
    registration: Registration,
    noise_pub: [u8; 32],
    adv_secret: &[u8],
) -> anyhow::Result<()> {
    let iq_id = shared.iq_id();
    let (done_tx, done_rx) = oneshot::channel();
    let node = {
        let mut state = shared.state();
        let account = state.account(phone);
        let device = account.next_device;
        account.next_device += 1;
        let key_index = account.next_key_index;
        account.next_key_index += 1;
        let identity = signed_device_identity(
            &account.identity,
            account.raw_id,
            key_index,
            &registration.identity,
            adv_secret,
        )?;
        let node = NodeBuilder::new("iq")
            .attr("from", "s.whatsapp.net")
            .attr("type", "set")
            .attr("id", iq_id.clone())
            .attr("xmlns", "md")
            .children([NodeBuilder::new("pair-success")
                .children([
                    NodeBuilder::new("device-identity").bytes(identity).build(),
                    NodeBuilder::new("platform").attr("name", "smba").build(),
                    // Linked numbers are business accounts; the client takes
                    // the business name as its push name.
                    NodeBuilder::new("biz")
                        .attr("name", format!("+{phone}"))
                        .build(),
                    NodeBuilder::new("device")
                        .attr("jid", Jid::pn_device(phone, device))
                        .build(),
                ])
                .build()])
            .build();
        state.pending_links.insert(
            iq_id,
            PendingLink {
                phone: phone.to_string(),
                device,
                key_index,
                conn,
                noise_pub,
                registration,
                done: done_tx,
            },
        );
        node
    };
    let sent = shared
        .state()
        .conns
        .get(&conn)
        .is_some_and(|c| c.out.send(Push::Node(node)).is_ok());
    if !sent {
        bail!("the client disconnected before it could be linked");
    }
    tokio::time::timeout(Duration::from_secs(20), done_rx)
        .await
        .context("the client did not answer pair-success")?
        .context("the link was abandoned")?
}

/// The phone of `phone` scans `qr`.
pub(crate) async fn scan_qr(shared: &Arc<Shared>, phone: &str, qr: &str) -> anyhow::Result<()> {
    let (pairing_ref, noise_pub, _identity) = PairUtils::parse_qr_code(qr)?;
    let adv_b64 = qr.split(',').nth(3).context("QR code without ADV secret")?;
    let adv_secret = base64::engine::general_purpose::STANDARD.decode(adv_b64)?;
    let (conn, registration) = find_waiting(shared, &pairing_ref, &noise_pub)
        .context("no client is showing this QR code")?;
    link(shared, phone, conn, registration, noise_pub, &adv_secret).await
}

/// The client's answer to `pair-success` (an IQ result or error).
pub(crate) fn answer(shared: &Arc<Shared>, node: &Node) -> bool {
    let Some(id) = node.attrs.get("id").map(|v| v.to_string()) else {
        return false;
    };
    let Some(link) = shared.state().pending_links.remove(&id) else {
        return false;
    };
    let sign = node
        .get_optional_child("pair-device-sign")
        .and_then(|s| s.get_optional_child("device-identity"));
    let signed_identity = match sign.and_then(|n| match &n.content {
        Some(whatsapp_rust::wacore_binary::NodeContent::Bytes(b)) => Some(b.clone()),
        _ => None,
    }) {
        Some(bytes) => bytes,
        None => {
            let _ = link
                .done
                .send(Err(anyhow!("the client refused the link: {node:?}")));
            return true;
        }
    };
    let restart = NodeBuilder::new("stream:error").attr("code", "515").build();
    {
        let mut state = shared.state();
        let registration = link.registration;
        state.account(&link.phone).devices.insert(
            link.device,
            DeviceRecord {
                noise_pub: link.noise_pub,
                registration_id: registration.registration_id,
                identity: registration.identity,
                signed_prekey: registration.signed_prekey,
                prekeys: Default::default(),
                signed_identity,
                key_index: link.key_index,
                offline: Vec::new(),
            },
        );
        // Linked: the client must log in again as the new device.
        if let Some(conn) = state.conns.get_mut(&link.conn) {
            conn.registration = None;
            conn.refs.clear();
            let _ = conn.out.send(Push::Node(restart));
            let _ = conn.out.send(Push::Close);
        }
    }
    let _ = link.done.send(Ok(()));
    true
}
