//! The server's side of the Noise handshake (XX for new and cold clients, IK for
//! clients that cached this server's certificate), ending with the client's
//! login or registration payload.

use anyhow::{anyhow, bail, Context};
use whatsapp_rust::bytes::Bytes;
use whatsapp_rust::wacore::framing::{encode_frame, FrameDecoder};
use whatsapp_rust::wacore::handshake::NoiseHandshake;
use whatsapp_rust::wacore::libsignal::protocol::KeyPair;
use whatsapp_rust::wacore::noise::NoiseCipher;
use whatsapp_rust::wacore_binary::consts::{NOISE_PATTERN_IK, NOISE_PATTERN_XX, WA_CONN_HEADER};
use whatsapp_rust::waproto::buffa::{Message, MessageField};
use whatsapp_rust::waproto::whatsapp as wa;

use crate::transport::ServerEnd;

/// The server's long-lived Noise identity and the test certificate chain for it.
pub(crate) struct ServerKeys {
    static_kp: KeyPair,
    static_pub: [u8; 32],
    cert_chain: Vec<u8>,
}

impl ServerKeys {
    pub(crate) fn generate() -> anyhow::Result<Self> {
        let static_kp = whatsapp_rust::wacore::crypto::generate_curve_key_pair();
        let static_pub: [u8; 32] = static_kp
            .public_key
            .public_key_bytes()
            .try_into()
            .map_err(|_| anyhow!("server static key is not 32 bytes"))?;
        let cert_chain = wacore_noise::test_util::build_cert_chain_bytes(&static_pub);
        Ok(Self {
            static_kp,
            static_pub,
            cert_chain,
        })
    }
}

/// Reads the client's frames: the 4-byte connection header first, then
/// 3-byte-length frames.
pub(crate) struct FrameReader {
    rx: async_channel::Receiver<Bytes>,
    decoder: FrameDecoder,
    header_left: usize,
}

impl FrameReader {
    pub(crate) fn new(rx: async_channel::Receiver<Bytes>) -> Self {
        Self {
            rx,
            decoder: FrameDecoder::new(),
            header_left: WA_CONN_HEADER.len(),
        }
    }

    /// The next whole frame, or `None` once the client closed the connection.
    pub(crate) async fn next(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Some(frame) = self.decoder.decode_frame() {
                return Some(frame.to_vec());
            }
            let chunk = self.rx.recv().await.ok()?;
            let skip = self.header_left.min(chunk.len());
            self.header_left -= skip;
            self.decoder.feed(&chunk[skip..]);
        }
    }
}

/// A finished handshake.
pub(crate) struct Established {
    pub(crate) payload: wa::ClientPayload,
    /// Decrypts what the client sends.
    pub(crate) read: NoiseCipher,
    /// Encrypts what the server sends.
    pub(crate) write: NoiseCipher,
    /// The client's Noise static key (its "noise key").
    pub(crate) client_static: [u8; 32],
}

fn key32(bytes: &[u8], what: &str) -> anyhow::Result<[u8; 32]> {
    bytes
        .try_into()
        .map_err(|_| anyhow!("{what} is {} bytes, not 32", bytes.len()))
}

pub(crate) async fn respond(
    keys: &ServerKeys,
    frames: &mut FrameReader,
    end: &ServerEnd,
) -> anyhow::Result<Established> {
    let hello = frames.next().await.context("no client hello")?;
    let hello = wa::HandshakeMessage::decode_from_slice(&hello)
        .map_err(|e| anyhow!("client hello: {e:?}"))?;
    let hello = hello
        .client_hello
        .into_option()
        .context("handshake message without client_hello")?;
    let client_eph = key32(hello.ephemeral.as_deref().unwrap_or_default(), "ephemeral")?;
    match (hello.r#static, hello.payload) {
        (Some(enc_static), Some(enc_payload)) => {
            respond_ik(keys, client_eph, &enc_static, &enc_payload, end).await
        }
        _ => respond_xx(keys, client_eph, frames, end).await,
    }
}

async fn send_server_hello(
    end: &ServerEnd,
    ephemeral: &[u8],
    enc_static: Option<Vec<u8>>,
    payload: Vec<u8>,
) -> anyhow::Result<()> {
    let msg = wa::HandshakeMessage {
        server_hello: MessageField::some(wa::handshake_message::ServerHello {
            ephemeral: Some(ephemeral.to_vec()),
            r#static: enc_static,
            payload: Some(payload),
            ..Default::default()
        }),
        ..Default::default()
    };
    let frame = encode_frame(&msg.encode_to_vec(), None)?;
    if !end.send(frame).await {
        bail!("client went away during the handshake");
    }
    Ok(())
}

fn decode_payload(bytes: &[u8]) -> anyhow::Result<wa::ClientPayload> {
    wa::ClientPayload::decode_from_slice(bytes).map_err(|e| anyhow!("client payload: {e:?}"))
}

async fn respond_xx(
    keys: &ServerKeys,
    client_eph: [u8; 32],
    frames: &mut FrameReader,
    end: &ServerEnd,
) -> anyhow::Result<Established> {
    let mut noise = NoiseHandshake::new(NOISE_PATTERN_XX, &WA_CONN_HEADER)?;
    noise.authenticate(&client_eph);
    let eph = whatsapp_rust::wacore::crypto::generate_curve_key_pair();
    let eph_pub = eph.public_key.public_key_bytes().to_vec();
    noise.authenticate(&eph_pub);
    noise.mix_shared_secret(eph.private_key.serialize(), &client_eph)?;
    let enc_static = noise.encrypt(&keys.static_pub)?;
    noise.mix_shared_secret(keys.static_kp.private_key.serialize(), &client_eph)?;
    let enc_cert = noise.encrypt(&keys.cert_chain)?;
    send_server_hello(end, &eph_pub, Some(enc_static), enc_cert).await?;

    let finish = frames.next().await.context("no client finish")?;
    let finish = wa::HandshakeMessage::decode_from_slice(&finish)
        .map_err(|e| anyhow!("client finish: {e:?}"))?
        .client_finish
        .into_option()
        .context("handshake message without client_finish")?;
    let client_static = noise.decrypt(finish.r#static.as_deref().unwrap_or_default())?;
    let client_static = key32(&client_static, "client static")?;
    noise.mix_shared_secret(eph.private_key.serialize(), &client_static)?;
    let payload = noise.decrypt(finish.payload.as_deref().unwrap_or_default())?;
    let payload = decode_payload(&payload)?;
    let (read, write) = noise.finish()?;
    Ok(Established {
        payload,
        read,
        write,
        client_static,
    })
}

async fn respond_ik(
    keys: &ServerKeys,
    client_eph: [u8; 32],
    enc_static: &[u8],
    enc_payload: &[u8],
    end: &ServerEnd,
) -> anyhow::Result<Established> {
    let mut noise = NoiseHandshake::new(NOISE_PATTERN_IK, &WA_CONN_HEADER)?;
    noise.authenticate(&keys.static_pub);
    noise.authenticate(&client_eph);
    noise.mix_shared_secret(keys.static_kp.private_key.serialize(), &client_eph)?;
    // A client that cached another server's key fails here; dropping the
    // connection makes it fall back to XX on its next attempt.
    let client_static = key32(&noise.decrypt(enc_static)?, "client static")?;
    noise.mix_shared_secret(keys.static_kp.private_key.serialize(), &client_static)?;
    let payload = decode_payload(&noise.decrypt(enc_payload)?)?;
    let eph = whatsapp_rust::wacore::crypto::generate_curve_key_pair();
    let eph_pub = eph.public_key.public_key_bytes().to_vec();
    noise.authenticate(&eph_pub);
    noise.mix_shared_secret(eph.private_key.serialize(), &client_eph)?;
    noise.mix_shared_secret(eph.private_key.serialize(), &client_static)?;
    let enc_cert = noise.encrypt(&keys.cert_chain)?;
    send_server_hello(end, &eph_pub, None, enc_cert).await?;
    let (read, write) = noise.finish()?;
    Ok(Established {
        payload,
        read,
        write,
        client_static,
    })
}
