//! Tests against the fake Graph API over real HTTP, and of webhook parsing
//! with payloads in Meta's documented shapes.

mod delivery;
mod errors;
mod media;
mod provider;
mod send;
mod signature;
mod templates;
mod webhook;

use blazz_provider::MessageBody;

use crate::config::CloudCredentials;
use crate::fake::FakeGraph;
use crate::graph::Graph;
use crate::outbound::{CloudBody, SendBody, SendRequest};

pub(crate) async fn setup() -> (FakeGraph, Graph, CloudCredentials) {
    let fake = FakeGraph::start().await.unwrap();
    let graph = Graph::new(fake.graph_config()).unwrap();
    let creds = fake.credentials();
    (fake, graph, creds)
}

pub(crate) fn common(body: MessageBody) -> SendRequest {
    SendRequest {
        to: "+15551234567".into(),
        body: SendBody::Common(body),
        reply_to: None,
        callback_data: None,
    }
}

pub(crate) fn cloud(body: CloudBody) -> SendRequest {
    SendRequest {
        to: "+15551234567".into(),
        body: SendBody::Cloud(body),
        reply_to: None,
        callback_data: None,
    }
}
