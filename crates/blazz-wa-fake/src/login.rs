//! A linked device logs in: `<success>`, or `<failure>` for an unknown device
//! or a banned number.

use std::sync::Arc;
use std::time::SystemTime;

use whatsapp_rust::wacore_binary::builder::NodeBuilder;
use whatsapp_rust::wacore_binary::Node;

use crate::server::{now_secs, Push, Shared};
use crate::session::Writer;

fn failure(reason: &str) -> NodeBuilder {
    NodeBuilder::new("failure").attr("reason", reason.to_string())
}

/// Returns whether the device is now logged in on connection `id`.
pub(crate) async fn login(
    shared: &Arc<Shared>,
    id: u64,
    phone: &str,
    device: u16,
    noise_pub: [u8; 32],
    writer: &mut Writer,
) -> anyhow::Result<bool> {
    let refusal: Option<Node> = {
        let mut state = shared.state();
        match state.accounts.get_mut(phone) {
            Some(account) => {
                let ban = account.ban.as_ref().and_then(|ban| {
                    let left = ban.until.duration_since(SystemTime::now()).ok()?;
                    Some((ban.code, left.as_secs().max(1)))
                });
                if ban.is_none() {
                    account.ban = None;
                }
                match (ban, account.devices.get(&device)) {
                    (Some((code, expire)), _) => Some(
                        failure("402")
                            .attr("code", code.to_string())
                            .attr("expire", expire.to_string())
                            .build(),
                    ),
                    (None, Some(record)) if record.noise_pub == noise_pub => None,
                    // Unlinked, or another key claiming the device.
                    (None, _) => Some(failure("401").build()),
                }
            }
            None => Some(failure("401").build()),
        }
    };
    if let Some(node) = refusal {
        writer.send(&node).await?;
        return Ok(false);
    }

    let replaced = NodeBuilder::new("stream:error")
        .children([NodeBuilder::new("conflict")
            .attr("type", "replaced")
            .build()])
        .build();
    {
        let mut state = shared.state();
        // One connection per device: an older one is told it was replaced.
        for (other_id, conn) in state.conns.iter() {
            let same = conn
                .device
                .as_ref()
                .is_some_and(|(p, d)| p == phone && *d == device);
            if same && *other_id != id {
                let _ = conn.out.send(Push::Node(replaced.clone()));
                let _ = conn.out.send(Push::Close);
            }
        }
        if let Some(conn) = state.conns.get_mut(&id) {
            conn.device = Some((phone.to_string(), device));
        }
    }
    let success = NodeBuilder::new("success")
        .attr("t", now_secs().to_string())
        .attr("props", "1")
        .attr("abprops", "1")
        .attr("location", "blz")
        .attr("creation", now_secs().to_string())
        .build();
    writer.send(&success).await?;
    Ok(true)
}

/// After the client left passive mode: the stanzas kept while it was away,
/// then the end-of-offline marker.
pub(crate) fn flush_offline(shared: &Arc<Shared>, id: u64) {
    let mut state = shared.state();
    let Some((phone, device)) = state.conns.get(&id).and_then(|c| c.device.clone()) else {
        return;
    };
    let queued = state
        .accounts
        .get_mut(&phone)
        .and_then(|a| a.devices.get_mut(&device))
        .map(|r| std::mem::take(&mut r.offline))
        .unwrap_or_default();
    let Some(conn) = state.conns.get(&id) else {
        return;
    };
    let count = queued.len();
    for node in queued {
        let _ = conn.out.send(Push::Node(node));
    }
    let offline = NodeBuilder::new("ib")
        .children([NodeBuilder::new("offline")
            .attr("count", count.to_string())
            .build()])
        .build();
    let _ = conn.out.send(Push::Node(offline));
}
