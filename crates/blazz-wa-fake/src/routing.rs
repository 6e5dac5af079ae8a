//! Routes messages, receipts, chat states and presence between devices. The
//! server never decrypts: each `<to>` of a message carries the Signal
//! ciphertext for exactly one device, and is delivered to that device.

use std::sync::Arc;

use whatsapp_rust::wacore_binary::builder::NodeBuilder;
use whatsapp_rust::wacore_binary::{Jid, Node, Server};

use crate::iq::{attr, device_of};
use crate::server::{now_secs, Shared, State};

fn jid_attr(node: &Node, key: &str) -> Option<Jid> {
    node.attrs.get(key).and_then(|v| v.to_jid())
}

/// The node's attributes and children, with some attributes replaced.
fn rebuild(tag: &'static str, attrs: Vec<(&'static str, String)>, children: Vec<Node>) -> Node {
    let mut builder = NodeBuilder::new(tag);
    for (k, v) in attrs {
        builder = builder.attr(k, v);
    }
    if !children.is_empty() {
        builder = builder.children(children);
    }
    builder.build()
}

/// Devices of `user` to deliver to: one device if `jid` names it, else all.
fn targets(state: &State, jid: &Jid) -> Vec<u16> {
    let Some(account) = state.accounts.get(jid.user.as_str()) else {
        return Vec::new();
    };
    if jid.device != 0 {
        return account
            .devices
            .contains_key(&jid.device)
            .then_some(jid.device)
            .into_iter()
            .collect();
    }
    account.devices.keys().copied().collect()
}

pub(crate) fn message(shared: &Arc<Shared>, conn: u64, node: &Node) -> Vec<Node> {
    let Some((phone, device)) = device_of(shared, conn) else {
        return Vec::new();
    };
    let id = attr(node, "id");
    let Some(to) = jid_attr(node, "to") else {
        return Vec::new();
    };
    if to.server == Server::Group {
        return crate::groups::message(shared, &phone, device, node);
    }
    let sender = Jid::pn_device(phone.as_str(), device);
    let t = now_secs().to_string();
    let extra: Vec<Node> = node
        .children()
        .unwrap_or_default()
        .iter()
        .filter(|c| c.tag != "participants" && c.tag != "enc")
        .cloned()
        .collect();
    let mut per_device: Vec<(Jid, Node)> = Vec::new();
    let participants = node
        .get_optional_child("participants")
        .and_then(|p| p.children())
        .unwrap_or_default();
    for to_node in participants {
        let (Some(target), Some(enc)) =
            (jid_attr(to_node, "jid"), to_node.get_optional_child("enc"))
        else {
            continue;
        };
        per_device.push((target, enc.clone()));
    }
    // A message for a single device may carry its `<enc>` directly.
    if let Some(enc) = node.get_optional_child("enc") {
        per_device.push((to.clone(), enc.clone()));
    }
    let mut state = shared.state();
    for (target, enc) in per_device {
        let mut attrs = vec![
            ("from", sender.to_string()),
            ("id", id.clone()),
            ("type", attr(node, "type")),
            ("t", t.clone()),
        ];
        // A copy for the sender's own other devices names the real chat.
        if target.user == sender.user {
            attrs.push(("recipient", to.to_non_ad().to_string()));
        }
        if let Some(edit) = node.attrs.get("edit") {
            attrs.push(("edit", edit.to_string()));
        }
        let mut children = vec![enc];
        children.extend(extra.iter().cloned());
        let stanza = rebuild("message", attrs, children);
        for d in targets(&state, &target) {
            state.deliver(target.user.as_str(), d, stanza.clone());
        }
    }
    vec![NodeBuilder::new("ack")
        .attr("class", "message")
        .attr("id", id)
        .attr("from", to.to_non_ad())
        .attr("t", t)
        .build()]
}

pub(crate) fn receipt(shared: &Arc<Shared>, conn: u64, node: &Node) -> Vec<Node> {
    let Some((phone, device)) = device_of(shared, conn) else {
        return Vec::new();
    };
    let Some(to) = jid_attr(node, "to") else {
        return Vec::new();
    };
    let from = Jid::pn_device(phone.as_str(), device);
    let mut attrs = vec![("id", attr(node, "id")), ("t", now_secs().to_string())];
    if let Some(kind) = node.attrs.get("type") {
        attrs.push(("type", kind.to_string()));
    }
    let mut state = shared.state();
    if to.server == Server::Group {
        // A receipt in a group goes to the participant who sent the message.
        let Some(participant) = jid_attr(node, "participant") else {
            return Vec::new();
        };
        attrs.push(("from", to.to_string()));
        attrs.push(("participant", from.to_string()));
        let stanza = rebuild(
            "receipt",
            attrs,
            node.children().unwrap_or_default().to_vec(),
        );
        for d in targets(&state, &participant) {
            state.deliver(participant.user.as_str(), d, stanza.clone());
        }
    } else {
        attrs.push(("from", from.to_string()));
        if let Some(recipient) = node.attrs.get("recipient") {
            attrs.push(("recipient", recipient.to_string()));
        }
        let stanza = rebuild(
            "receipt",
            attrs,
            node.children().unwrap_or_default().to_vec(),
        );
        // Read receipts name the chat; they reach every device of the sender.
        for d in targets(&state, &to.to_non_ad()) {
            state.deliver(to.user.as_str(), d, stanza.clone());
        }
    }
    Vec::new()
}

/// Typing indicators are live only: never queued for offline devices.
pub(crate) fn chatstate(shared: &Arc<Shared>, conn: u64, node: &Node) -> Vec<Node> {
    let Some((phone, _)) = device_of(shared, conn) else {
        return Vec::new();
    };
    let Some(to) = jid_attr(node, "to") else {
        return Vec::new();
    };
    let stanza = rebuild(
        "chatstate",
        vec![("from", Jid::pn(phone.as_str()).to_string())],
        node.children().unwrap_or_default().to_vec(),
    );
    let state = shared.state();
    for d in targets(&state, &to.to_non_ad()) {
        state.push_to_device(to.user.as_str(), d, &stanza);
    }
    Vec::new()
}

/// `<presence type="available|unavailable">` updates the sender's presence
/// and tells its subscribers; `<presence type="subscribe" to=..>` subscribes
/// and answers with the current presence.
pub(crate) fn presence(shared: &Arc<Shared>, conn: u64, node: &Node) -> Vec<Node> {
    let Some((phone, _)) = device_of(shared, conn) else {
        return Vec::new();
    };
    let kind = attr(node, "type");
    let mut state = shared.state();
    let presence_of = |state: &State, user: &str| -> Node {
        let available = state.presence.get(user).copied().unwrap_or(false);
        let mut b = NodeBuilder::new("presence")
            .attr("from", Jid::pn(user))
            .attr(
                "type",
                if available {
                    "available"
                } else {
                    "unavailable"
                },
            );
        if !available {
            b = b.attr("last", now_secs().to_string());
        }
        b.build()
    };
    match kind.as_str() {
        "subscribe" => {
            let Some(to) = jid_attr(node, "to") else {
                return Vec::new();
            };
            let user = to.user.to_string();
            state
                .subscribers
                .entry(user.clone())
                .or_default()
                .insert(phone);
            vec![presence_of(&state, &user)]
        }
        "available" | "unavailable" | "" => {
            state.presence.insert(phone.clone(), kind != "unavailable");
            let update = presence_of(&state, &phone);
            let subscribers: Vec<String> = state
                .subscribers
                .get(&phone)
                .map(|s| s.iter().cloned().collect())
                .unwrap_or_default();
            for sub in subscribers {
                for d in targets(&state, &Jid::pn(sub.as_str())) {
                    state.push_to_device(&sub, d, &update);
                }
            }
            Vec::new()
        }
        _ => Vec::new(),
    }
}
