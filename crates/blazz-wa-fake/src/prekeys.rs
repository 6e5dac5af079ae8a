//! The `encrypt` namespace: each device's uploaded prekeys, their count and
//! digest, and bundles for peers that open Signal sessions.

use std::sync::Arc;

use whatsapp_rust::wacore::prekeys::compute_key_bundle_digest;
use whatsapp_rust::wacore_binary::builder::NodeBuilder;
use whatsapp_rust::wacore_binary::{Jid, Node};

use crate::iq::{bytes_of, device_of, error, result};
use crate::server::{DeviceRecord, Shared};

fn be_uint(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b))
}

fn id3(id: u32) -> Vec<u8> {
    id.to_be_bytes()[1..].to_vec()
}

fn key_node(id: u32, value: &[u8]) -> Node {
    NodeBuilder::new("key")
        .children([
            NodeBuilder::new("id").bytes(id3(id)).build(),
            NodeBuilder::new("value").bytes(value.to_vec()).build(),
        ])
        .build()
}

fn skey_node(skey: &(u32, Vec<u8>, Vec<u8>)) -> Node {
    NodeBuilder::new("skey")
        .children([
            NodeBuilder::new("id").bytes(id3(skey.0)).build(),
            NodeBuilder::new("value").bytes(skey.1.clone()).build(),
            NodeBuilder::new("signature").bytes(skey.2.clone()).build(),
        ])
        .build()
}

fn parse_skey(node: &Node) -> Option<(u32, Vec<u8>, Vec<u8>)> {
    Some((
        be_uint(&bytes_of(node.get_optional_child("id"))?),
        bytes_of(node.get_optional_child("value"))?,
        bytes_of(node.get_optional_child("signature"))?,
    ))
}

pub(crate) fn handle(shared: &Arc<Shared>, conn: u64, node: &Node) -> Node {
    let Some((phone, device)) = device_of(shared, conn) else {
        return error(node, 401, "not-authorized");
    };
    if let Some(fetch) = node.get_optional_child("key") {
        return fetch_bundles(shared, node, fetch);
    }
    let mut state = shared.state();
    let Some(record) = state
        .accounts
        .get_mut(&phone)
        .and_then(|a| a.devices.get_mut(&device))
    else {
        return error(node, 404, "item-not-found");
    };
    if node.get_optional_child("count").is_some() {
        let count = record.prekeys.len().to_string();
        return result(
            node,
            vec![NodeBuilder::new("count").attr("value", count).build()],
        );
    }
    if node.get_optional_child("digest").is_some() {
        return result(node, vec![digest(record)]);
    }
    if let Some(rotate) = node.get_optional_child("rotate") {
        if let Some(skey) = rotate.get_optional_child("skey").and_then(parse_skey) {
            record.signed_prekey = skey;
        }
        return result(node, vec![]);
    }
    // Upload: the device's keys, a new signed prekey and one-time prekeys.
    if let Some(id) = bytes_of(node.get_optional_child("registration")) {
        record.registration_id = be_uint(&id);
    }
    if let Some(skey) = node.get_optional_child("skey").and_then(parse_skey) {
        record.signed_prekey = skey;
    }
    for key in node
        .get_optional_child("list")
        .and_then(|l| l.children())
        .unwrap_or_default()
    {
        let id = bytes_of(key.get_optional_child("id")).map(|b| be_uint(&b));
        let value = bytes_of(key.get_optional_child("value"));
        if let (Some(id), Some(value)) = (id, value) {
            record.prekeys.push_back((id, value));
        }
    }
    result(node, vec![])
}

fn digest(record: &DeviceRecord) -> Node {
    let keys: Vec<&[u8]> = record.prekeys.iter().map(|(_, v)| v.as_slice()).collect();
    let hash = compute_key_bundle_digest(
        &record.identity,
        &record.signed_prekey.1,
        &record.signed_prekey.2,
        &keys,
    );
    NodeBuilder::new("digest")
        .children([
            NodeBuilder::new("registration")
                .bytes(record.registration_id.to_be_bytes().to_vec())
                .build(),
            NodeBuilder::new("type").bytes(vec![5]).build(),
            NodeBuilder::new("identity")
                .bytes(record.identity.to_vec())
                .build(),
            skey_node(&record.signed_prekey),
            NodeBuilder::new("list")
                .children(
                    record
                        .prekeys
                        .iter()
                        .map(|(id, _)| NodeBuilder::new("id").bytes(id3(*id)).build()),
                )
                .build(),
            NodeBuilder::new("hash").bytes(hash).build(),
        ])
        .build()
}

/// One bundle per requested device; each one-time prekey is handed out once.
fn fetch_bundles(shared: &Arc<Shared>, request: &Node, fetch: &Node) -> Node {
    let mut state = shared.state();
    let mut users = Vec::new();
    for user in fetch.get_children_by_tag("user") {
        let Some(jid) = user.attrs.get("jid").and_then(|v| v.to_jid()) else {
            continue;
        };
        let record = state
            .accounts
            .get_mut(jid.user.as_str())
            .and_then(|a| a.devices.get_mut(&jid.device));
        let Some(record) = record else {
            users.push(
                NodeBuilder::new("user")
                    .attr("jid", jid)
                    .children([NodeBuilder::new("error")
                        .attr("code", "404")
                        .attr("text", "item-not-found")
                        .build()])
                    .build(),
            );
            continue;
        };
        let mut children = vec![
            NodeBuilder::new("registration")
                .bytes(record.registration_id.to_be_bytes().to_vec())
                .build(),
            NodeBuilder::new("type").bytes(vec![5]).build(),
            NodeBuilder::new("identity")
                .bytes(record.identity.to_vec())
                .build(),
            skey_node(&record.signed_prekey),
        ];
        if let Some((id, value)) = record.prekeys.pop_front() {
            children.push(key_node(id, &value));
        }
        children.push(
            NodeBuilder::new("device-identity")
                .bytes(record.signed_identity.clone())
                .build(),
        );
        users.push(
            NodeBuilder::new("user")
                .attr("jid", Jid::pn_device(jid.user.as_str(), jid.device))
                .children(children)
                .build(),
        );
    }
    result(
        request,
        vec![NodeBuilder::new("list").children(users).build()],
    )
}
