//! Routes each stanza a client sends to the part of the server that answers it.

use std::sync::Arc;

use whatsapp_rust::wacore_binary::Node;

use crate::iq::attr;
use crate::server::Shared;

/// Handles one stanza from connection `conn`; returns the direct replies.
pub(crate) async fn handle(shared: &Arc<Shared>, conn: u64, node: Node) -> Vec<Node> {
    match node.tag.as_ref() {
        "iq" => match attr(&node, "type").as_str() {
            "result" | "error" => {
                crate::pairing::answer(shared, &node);
                Vec::new()
            }
            _ => crate::iq::handle(shared, conn, &node)
                .await
                .into_iter()
                .collect(),
        },
        "message" => crate::routing::message(shared, conn, &node),
        "receipt" => crate::routing::receipt(shared, conn, &node),
        "chatstate" => crate::routing::chatstate(shared, conn, &node),
        "presence" => crate::routing::presence(shared, conn, &node),
        // Acks for what the server delivered, unified-session beacons and
        // other client notices need no answer.
        other => {
            tracing::trace!(tag = other, "fake server: stanza ignored");
            Vec::new()
        }
    }
}
