//! Groups. Not scripted yet: a group message is refused with an error ack.

use std::sync::Arc;

use whatsapp_rust::wacore_binary::builder::NodeBuilder;
use whatsapp_rust::wacore_binary::Node;

use crate::iq::attr;
use crate::server::Shared;

pub(crate) fn message(_shared: &Arc<Shared>, _phone: &str, _device: u16, node: &Node) -> Vec<Node> {
    vec![NodeBuilder::new("ack")
        .attr("class", "message")
        .attr("id", attr(node, "id"))
        .attr("from", attr(node, "to"))
        .attr("error", "404")
        .build()]
}
