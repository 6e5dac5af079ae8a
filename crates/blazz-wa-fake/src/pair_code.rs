//! Pair-code linking (`link_code_companion_reg`): the client asks for a code
//! (`companion_hello`), the phone types it (`primary_hello`), the client sends
//! its key bundle (`companion_finish`), and both derive the ADV secret that
//! signs `pair-success`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use tokio::sync::oneshot;
use whatsapp_rust::wacore::crypto::hkdf_sha256_into;
use whatsapp_rust::wacore::libsignal::crypto::aes_256_gcm_decrypt;
use whatsapp_rust::wacore::libsignal::protocol::{KeyPair, PublicKey};
use whatsapp_rust::wacore::pair_code::PairCodeUtils;
use whatsapp_rust::wacore_binary::builder::NodeBuilder;
use whatsapp_rust::wacore_binary::Node;

use crate::iq::{attr, bytes_of, error, result};
use crate::server::{Push, Shared};

/// A code a client asked for, waiting for the phone.
struct Requested {
    phone: String,
    conn: u64,
    pairing_ref: Vec<u8>,
    wrapped_companion_ephemeral: Vec<u8>,
}

/// The phone answered; waiting for the client's key bundle.
struct Answered {
    conn: u64,
    phone: String,
    primary_ephemeral: KeyPair,
    companion_ephemeral: [u8; 32],
    done: oneshot::Sender<anyhow::Result<()>>,
}

#[derive(Default)]
pub(crate) struct PairCodes {
    requested: Vec<Requested>,
    answered: HashMap<Vec<u8>, Answered>,
}

pub(crate) async fn handle(shared: &Arc<Shared>, conn: u64, node: &Node) -> Node {
    let Some(reg) = node.get_optional_child("link_code_companion_reg") else {
        return error(node, 400, "bad-request");
    };
    match attr(reg, "stage").as_str() {
        "companion_hello" => companion_hello(shared, conn, node, reg),
        "companion_finish" => match companion_finish(shared, reg).await {
            Ok(()) => result(node, vec![]),
            Err(e) => {
                tracing::debug!("fake server: companion_finish refused: {e:#}");
                error(node, 400, "bad-request")
            }
        },
        _ => error(node, 400, "bad-request"),
    }
}

fn companion_hello(shared: &Arc<Shared>, conn: u64, node: &Node, reg: &Node) -> Node {
    let phone = attr(reg, "jid")
        .split('@')
        .next()
        .unwrap_or_default()
        .to_string();
    let Some(wrapped) =
        bytes_of(reg.get_optional_child("link_code_pairing_wrapped_companion_ephemeral_pub"))
    else {
        return error(node, 400, "bad-request");
    };
    let pairing_ref = format!("2@blazz-code-{}", rand::random::<u64>()).into_bytes();
    {
        let mut state = shared.state();
        let codes = &mut state.pair_codes;
        // A new request for the same number replaces the older one.
        codes.requested.retain(|r| r.phone != phone);
        codes.requested.push(Requested {
            phone,
            conn,
            pairing_ref: pairing_ref.clone(),
            wrapped_companion_ephemeral: wrapped,
        });
    }
    result(
        node,
        vec![NodeBuilder::new("link_code_companion_reg")
            .children([NodeBuilder::new("link_code_pairing_ref")
                .bytes(pairing_ref)
                .build()])
            .build()],
    )
}

/// The phone of `phone` types `code`: it unwraps the client's ephemeral key
/// with it and answers with its own (`primary_hello`). Returns once the
/// client is linked.
pub(crate) async fn enter(shared: &Arc<Shared>, phone: &str, code: &str) -> anyhow::Result<()> {
    let request = {
        let mut state = shared.state();
        let codes = &mut state.pair_codes;
        let at = codes
            .requested
            .iter()
            .position(|r| r.phone == phone)
            .context("no client asked for a pair code for this number")?;
        codes.requested.remove(at)
    };
    let code = code.replace('-', "");
    // PBKDF2 with many rounds: off the async threads.
    let wrapped = request.wrapped_companion_ephemeral.clone();
    let code_for_unwrap = code.clone();
    let (companion_ephemeral, wrapped_primary, primary_ephemeral) =
        tokio::task::spawn_blocking(move || {
            let companion =
                PairCodeUtils::decrypt_primary_ephemeral_pub(&wrapped, &code_for_unwrap)
                    .map_err(|e| anyhow!("unwrap companion key: {e:?}"))?;
            let primary = whatsapp_rust::wacore::crypto::generate_curve_key_pair();
            let primary_pub: [u8; 32] = primary
                .public_key
                .public_key_bytes()
                .try_into()
                .map_err(|_| anyhow!("ephemeral key is not 32 bytes"))?;
            let wrapped = PairCodeUtils::encrypt_ephemeral_pub(&primary_pub, &code_for_unwrap);
            anyhow::Ok((companion, wrapped, primary))
        })
        .await??;
    let (done_tx, done_rx) = oneshot::channel();
    let notification = {
        let mut state = shared.state();
        let identity_pub = state
            .account(phone)
            .identity
            .public_key
            .public_key_bytes()
            .to_vec();
        state.pair_codes.answered.insert(
            request.pairing_ref.clone(),
            Answered {
                conn: request.conn,
                phone: phone.to_string(),
                primary_ephemeral,
                companion_ephemeral,
                done: done_tx,
            },
        );
        NodeBuilder::new("notification")
            .attr("from", "s.whatsapp.net")
            .attr("type", "link_code_companion_reg")
            .attr("id", format!("srv-code-{}", rand::random::<u32>()))
            .children([NodeBuilder::new("link_code_companion_reg")
                .attr("stage", "primary_hello")
                .children([
                    NodeBuilder::new("link_code_pairing_wrapped_primary_ephemeral_pub")
                        .bytes(wrapped_primary.to_vec())
                        .build(),
                    NodeBuilder::new("primary_identity_pub")
                        .bytes(identity_pub)
                        .build(),
                    NodeBuilder::new("link_code_pairing_ref")
                        .bytes(request.pairing_ref.clone())
                        .build(),
                ])
                .build()])
            .build()
    };
    let sent = shared
        .state()
        .conns
        .get(&request.conn)
        .is_some_and(|c| c.out.send(Push::Node(notification)).is_ok());
    if !sent {
        bail!("the client that asked for the code is gone");
    }
    tokio::time::timeout(Duration::from_secs(30), done_rx)
        .await
        .context("the client did not finish linking")?
        .context("the link was abandoned")?
}

/// The client's key bundle: derive the ADV secret the way the client did and
/// link it.
async fn companion_finish(shared: &Arc<Shared>, reg: &Node) -> anyhow::Result<()> {
    let pairing_ref =
        bytes_of(reg.get_optional_child("link_code_pairing_ref")).context("no pairing ref")?;
    let wrapped = bytes_of(reg.get_optional_child("link_code_pairing_wrapped_key_bundle"))
        .context("no key bundle")?;
    let answered = shared
        .state()
        .pair_codes
        .answered
        .remove(&pairing_ref)
        .context("unknown pairing ref")?;
    match finish(shared, &answered, &wrapped) {
        Ok((registration, noise_pub, adv_secret)) => {
            // `pair-success` goes out after this IQ's answer; the link
            // completes when the client countersigns.
            let shared = shared.clone();
            tokio::spawn(async move {
                let linked = crate::pairing::link(
                    &shared,
                    &answered.phone,
                    answered.conn,
                    registration,
                    noise_pub,
                    &adv_secret,
                )
                .await;
                let _ = answered.done.send(linked);
            });
            Ok(())
        }
        Err(e) => {
            let reported = anyhow!("{e:#}");
            let _ = answered.done.send(Err(e));
            Err(reported)
        }
    }
}

type LinkArgs = (crate::server::Registration, [u8; 32], [u8; 32]);

fn finish(shared: &Arc<Shared>, answered: &Answered, wrapped: &[u8]) -> anyhow::Result<LinkArgs> {
    if wrapped.len() < 32 + 12 + 16 {
        bail!("key bundle too short");
    }
    let (salt, rest) = wrapped.split_at(32);
    let (iv, sealed) = rest.split_at(12);
    let companion_eph = PublicKey::from_djb_public_key_bytes(&answered.companion_ephemeral)?;
    let ephemeral_shared = answered
        .primary_ephemeral
        .private_key
        .calculate_agreement(&companion_eph)?;
    let mut key = [0u8; 32];
    hkdf_sha256_into(
        &ephemeral_shared,
        Some(salt),
        b"link_code_pairing_key_bundle_encryption_key",
        &mut key,
    )
    .map_err(|e| anyhow!("hkdf: {e:?}"))?;
    let iv: [u8; 12] = iv.try_into()?;
    let mut bundle = Vec::new();
    aes_256_gcm_decrypt(&key, &iv, b"", sealed, &mut bundle)
        .map_err(|e| anyhow!("key bundle does not decrypt: {e:?}"))?;
    if bundle.len() != 96 {
        bail!("key bundle is {} bytes", bundle.len());
    }
    let companion_identity: [u8; 32] = bundle[..32].try_into()?;
    let random = &bundle[64..];
    let (identity_shared, registration, noise_pub) = {
        let mut state = shared.state();
        let account_identity = state.account(&answered.phone).identity.clone();
        let shared_secret = account_identity
            .private_key
            .calculate_agreement(&PublicKey::from_djb_public_key_bytes(&companion_identity)?)?;
        let conn = state
            .conns
            .get(&answered.conn)
            .context("the client disconnected")?;
        let registration = conn
            .registration
            .clone()
            .context("the client is not unpaired")?;
        (shared_secret, registration, conn.noise_pub)
    };
    if registration.identity != companion_identity {
        bail!("the key bundle names another identity");
    }
    let mut material = Vec::with_capacity(96);
    material.extend_from_slice(&ephemeral_shared);
    material.extend_from_slice(&identity_shared);
    material.extend_from_slice(random);
    let mut adv_secret = [0u8; 32];
    hkdf_sha256_into(&material, None, b"adv_secret", &mut adv_secret)
        .map_err(|e| anyhow!("hkdf: {e:?}"))?;
    Ok((registration, noise_pub, adv_secret))
}
