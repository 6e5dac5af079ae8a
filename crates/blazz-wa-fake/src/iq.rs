//! Answers to the client's `<iq>` queries, by namespace.

use std::sync::Arc;

use whatsapp_rust::wacore_binary::builder::NodeBuilder;
use whatsapp_rust::wacore_binary::{Node, NodeContent};

use crate::server::Shared;

pub(crate) fn result(request: &Node, children: Vec<Node>) -> Node {
    let mut builder = NodeBuilder::new("iq")
        .attr("from", "s.whatsapp.net")
        .attr("type", "result")
        .attr("id", attr(request, "id"));
    if !children.is_empty() {
        builder = builder.children(children);
    }
    builder.build()
}

pub(crate) fn error(request: &Node, code: u16, text: &str) -> Node {
    NodeBuilder::new("iq")
        .attr("from", "s.whatsapp.net")
        .attr("type", "error")
        .attr("id", attr(request, "id"))
        .children([NodeBuilder::new("error")
            .attr("code", code.to_string())
            .attr("text", text.to_string())
            .build()])
        .build()
}

pub(crate) fn attr(node: &Node, key: &str) -> String {
    node.attrs
        .get(key)
        .map(|v| v.to_string())
        .unwrap_or_default()
}

pub(crate) fn bytes_of(node: Option<&Node>) -> Option<Vec<u8>> {
    match &node?.content {
        Some(NodeContent::Bytes(b)) => Some(b.clone()),
        Some(NodeContent::String(s)) => Some(s.as_bytes().to_vec()),
        _ => None,
    }
}

fn first_child(node: &Node) -> Option<&Node> {
    node.children().and_then(|c| c.first())
}

/// The device the connection logged in as.
pub(crate) fn device_of(shared: &Shared, conn: u64) -> Option<(String, u16)> {
    shared
        .state()
        .conns
        .get(&conn)
        .and_then(|c| c.device.clone())
}

/// Answers one request (`type` get or set).
pub(crate) async fn handle(shared: &Arc<Shared>, conn: u64, node: &Node) -> Option<Node> {
    let xmlns = attr(node, "xmlns");
    let child = first_child(node)
        .map(|c| c.tag.to_string())
        .unwrap_or_default();
    let reply = match (xmlns.as_str(), child.as_str()) {
        ("w:p", _) => result(node, vec![]),
        ("passive", "active") => {
            crate::login::flush_offline(shared, conn);
            result(node, vec![])
        }
        ("passive", _) => result(node, vec![]),
        ("encrypt", _) => crate::prekeys::handle(shared, conn, node),
        ("usync", _) => crate::usync::handle(shared, conn, node),
        ("w:m", "media_conn") => crate::media::media_conn(node),
        ("abt", "props") | ("w", "props") => result(
            node,
            vec![NodeBuilder::new("props")
                .attr("protocol", "1")
                .attr("hash", "blazz-fake")
                .attr("refresh", "86400")
                .build()],
        ),
        ("blocklist", _) => result(node, vec![NodeBuilder::new("list").build()]),
        ("privacy", "privacy") => result(node, vec![NodeBuilder::new("privacy").build()]),
        ("w:sync:app:state", "sync") => app_state_sync(node),
        ("md", "remove-companion-device") => {
            if let Some((phone, device)) = device_of(shared, conn) {
                if let Some(account) = shared.state().accounts.get_mut(&phone) {
                    account.devices.remove(&device);
                }
            }
            result(node, vec![])
        }
        ("md", "link_code_companion_reg") => crate::pair_code::handle(shared, conn, node).await,
        ("w:g2", _) => error(node, 404, "item-not-found"),
        _ => {
            tracing::debug!(%xmlns, %child, "fake server: unanswered iq");
            error(node, 501, "feature-not-implemented")
        }
    };
    Some(reply)
}

/// The server keeps no app state for any account (no contacts, settings or
/// chat metadata are synced by this fake): every collection is answered as
/// empty at version 0, which the client accepts as synced without keys.
fn app_state_sync(node: &Node) -> Node {
    let collections = node
        .get_optional_child("sync")
        .and_then(|s| s.children())
        .unwrap_or_default()
        .iter()
        .map(|c| {
            NodeBuilder::new("collection")
                .attr("name", attr(c, "name"))
                .attr("version", "0")
                .build()
        })
        .collect::<Vec<_>>();
    result(
        node,
        vec![NodeBuilder::new("sync").children(collections).build()],
    )
}
