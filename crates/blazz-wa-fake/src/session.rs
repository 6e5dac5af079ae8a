//! One client connection: the handshake, then encrypted stanzas both ways
//! until either side closes.

use std::sync::Arc;

use anyhow::{anyhow, Context};
use tokio::sync::mpsc;
use whatsapp_rust::bytes::Bytes;
use whatsapp_rust::wacore::framing::encode_frame;
use whatsapp_rust::wacore::net::TransportEvent;
use whatsapp_rust::wacore::noise::NoiseCipher;
use whatsapp_rust::wacore_binary::marshal::{marshal, unmarshal_ref};
use whatsapp_rust::wacore_binary::util::unpack;
use whatsapp_rust::wacore_binary::Node;
use whatsapp_rust::waproto::whatsapp as wa;

use crate::noise::{respond, FrameReader};
use crate::server::{Conn, Push, Registration, Shared};
use crate::transport::ServerEnd;

/// The encrypted half of a connection the server writes to.
pub(crate) struct Writer {
    end: ServerEnd,
    cipher: NoiseCipher,
    counter: u32,
}

impl Writer {
    pub(crate) async fn send(&mut self, node: &Node) -> anyhow::Result<()> {
        let plain = marshal(node)?;
        let sealed = self
            .cipher
            .encrypt_with_counter(self.counter, &plain)
            .map_err(|e| anyhow!("encrypt: {e}"))?;
        self.counter += 1;
        if !self.end.send(encode_frame(&sealed, None)?).await {
            anyhow::bail!("client went away");
        }
        Ok(())
    }
}

pub(crate) fn spawn(
    shared: Arc<Shared>,
    from_client: async_channel::Receiver<Bytes>,
    to_client: async_channel::Sender<TransportEvent>,
) {
    tokio::spawn(async move {
        let end = ServerEnd { to_client };
        let id = shared.next_id();
        if let Err(e) = run(&shared, id, from_client, &end).await {
            tracing::debug!(conn = id, "fake server connection ended: {e:#}");
        }
        shared.state().conns.remove(&id);
        end.close().await;
    });
}

fn registration_of(payload: &wa::ClientPayload) -> Option<Registration> {
    let reg = payload.device_pairing_data.as_option()?;
    let id_bytes: [u8; 4] = reg.e_regid.as_deref()?.try_into().ok()?;
    let skey_id = reg.e_skey_id.as_deref()?;
    let skey_id = skey_id
        .iter()
        .fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
    Some(Registration {
        registration_id: u32::from_be_bytes(id_bytes),
        identity: reg.e_ident.as_deref()?.try_into().ok()?,
        signed_prekey: (skey_id, reg.e_skey_val.clone()?, reg.e_skey_sig.clone()?),
    })
}

async fn run(
    shared: &Arc<Shared>,
    id: u64,
    from_client: async_channel::Receiver<Bytes>,
    end: &ServerEnd,
) -> anyhow::Result<()> {
    let mut frames = FrameReader::new(from_client);
    let done = respond(&shared.keys, &mut frames, end).await?;
    let mut writer = Writer {
        end: ServerEnd {
            to_client: end.to_client.clone(),
        },
        cipher: done.write,
        counter: 0,
    };
    let read = done.read;
    let mut read_counter = 0u32;
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Push>();
    shared.state().conns.insert(
        id,
        Conn {
            out: out_tx,
            noise_pub: done.client_static,
            device: None,
            registration: None,
            refs: Vec::new(),
        },
    );

    let payload = done.payload;
    if payload.device_pairing_data.is_set() {
        let registration = registration_of(&payload).context("bad registration payload")?;
        crate::pairing::start(shared, id, registration, &mut writer).await?;
    } else {
        let phone = payload
            .username
            .context("login payload without username")?
            .to_string();
        let device = u16::try_from(payload.device.unwrap_or(0))?;
        if !crate::login::login(shared, id, &phone, device, done.client_static, &mut writer).await?
        {
            return Ok(());
        }
    }

    loop {
        tokio::select! {
            frame = frames.next() => {
                let Some(mut frame) = frame else { return Ok(()) };
                read.decrypt_in_place_with_counter(read_counter, &mut frame)
                    .map_err(|e| anyhow!("decrypt: {e}"))?;
                read_counter += 1;
                let plain = unpack(&frame)?;
                let node = unmarshal_ref(&plain)?.to_owned();
                for reply in crate::dispatch::handle(shared, id, node).await {
                    writer.send(&reply).await?;
                }
            }
            push = out_rx.recv() => match push {
                Some(Push::Node(node)) => writer.send(&node).await?,
                Some(Push::Close) | None => return Ok(()),
            },
        }
    }
}
