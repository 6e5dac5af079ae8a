//! `usync` queries: which numbers are on the network, and the linked devices
//! of each (only devices that really hold keys; the simulated phones have none).

use std::sync::Arc;

use whatsapp_rust::wacore_binary::builder::NodeBuilder;
use whatsapp_rust::wacore_binary::{Jid, Node, NodeContent};
use whatsapp_rust::waproto::buffa::Message;
use whatsapp_rust::waproto::whatsapp as wa;

use crate::iq::{attr, result};
use crate::server::{now_secs, Account, Shared};

/// The phone number a `<user>` of the query names, by jid or by `<contact>`.
fn queried_phone(user: &Node) -> Option<String> {
    if let Some(jid) = user.attrs.get("jid").and_then(|v| v.to_jid()) {
        return Some(jid.user.to_string());
    }
    let contact = user.get_optional_child("contact")?;
    let text = match &contact.content {
        Some(NodeContent::String(s)) => s.to_string(),
        Some(NodeContent::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
        _ => return None,
    };
    Some(text.trim_start_matches('+').to_string())
}

/// The account's signed key-index list. The client reads its indexes to keep
/// only current devices; this fake leaves `account_signature` empty (the
/// client does not verify it).
fn key_index_list(account: &Account) -> Vec<u8> {
    let valid: Vec<u32> = account.devices.values().map(|d| d.key_index).collect();
    let details = wa::ADVKeyIndexList {
        raw_id: Some(account.raw_id),
        timestamp: Some(now_secs()),
        current_index: Some(valid.iter().copied().max().unwrap_or(0)),
        valid_indexes: valid,
        ..Default::default()
    };
    wa::ADVSignedKeyIndexList {
        details: Some(details.encode_to_vec()),
        ..Default::default()
    }
    .encode_to_vec()
}

fn devices_node(account: Option<&Account>) -> Node {
    let devices: Vec<Node> = account
        .map(|a| {
            a.devices
                .iter()
                .map(|(id, d)| {
                    NodeBuilder::new("device")
                        .attr("id", id.to_string())
                        .attr("key-index", d.key_index.to_string())
                        .build()
                })
                .collect()
        })
        .unwrap_or_default();
    let mut children = vec![NodeBuilder::new("device-list").children(devices).build()];
    if let Some(account) = account.filter(|a| !a.devices.is_empty()) {
        children.push(
            NodeBuilder::new("key-index-list")
                .attr("ts", now_secs().to_string())
                .bytes(key_index_list(account))
                .build(),
        );
    }
    NodeBuilder::new("devices").children(children).build()
}

pub(crate) fn handle(shared: &Arc<Shared>, _conn: u64, node: &Node) -> Node {
    let Some(usync) = node.get_optional_child("usync") else {
        return crate::iq::error(node, 400, "bad-request");
    };
    let protocols: Vec<String> = usync
        .get_optional_child("query")
        .and_then(|q| q.children())
        .unwrap_or_default()
        .iter()
        .map(|p| p.tag.to_string())
        .collect();
    let state = shared.state();
    let users = usync
        .get_optional_child("list")
        .and_then(|l| l.children())
        .unwrap_or_default()
        .iter()
        .filter_map(queried_phone)
        .map(|phone| {
            let account = state.accounts.get(&phone);
            let mut children = Vec::new();
            for protocol in &protocols {
                match protocol.as_str() {
                    "devices" => children.push(devices_node(account)),
                    "contact" => children.push(
                        NodeBuilder::new("contact")
                            .attr("type", if account.is_some() { "in" } else { "out" })
                            .build(),
                    ),
                    _ => {}
                }
            }
            NodeBuilder::new("user")
                .attr("jid", Jid::pn(phone))
                .children(children)
                .build()
        })
        .collect::<Vec<_>>();
    let reply = NodeBuilder::new("usync")
        .attr("sid", attr(usync, "sid"))
        .attr("mode", attr(usync, "mode"))
        .attr("context", attr(usync, "context"))
        .attr("index", "0")
        .attr("last", "true")
        .children([NodeBuilder::new("list").children(users).build()])
        .build();
    result(node, vec![reply])
}
