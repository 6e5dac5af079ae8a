//! An offline WhatsApp server for Blazz's tests: it scripts WhatsApp's server
//! side (Noise handshake, linking, login, prekeys, device lists, routing,
//! media CDN) for real `whatsapp-rust` clients connected in memory.
//! Never part of the shipped binary: it needs the client's
//! `danger-skip-cert-chain-verify` feature.

mod customer;
mod dispatch;
mod groups;
mod harness;
mod iq;
mod login;
mod media;
mod noise;
mod pair_code;
mod pairing;
mod prekeys;
mod routing;
mod server;
mod session;
mod transport;
mod usync;

pub use customer::{Customer, ReceivedMessage};
pub use harness::TestClient;
pub use media::FakeMediaCdn;
pub use server::FakeWhatsApp;
pub use transport::FakeTransportFactory;

impl FakeWhatsApp {
    /// The phone of `phone` (digits, E.164 without '+') scans a QR code a
    /// client showed (the `code` of `Event::PairingQrCode`): that client
    /// becomes a linked device of `phone`. Returns once the client accepted
    /// the link (it then restarts its stream and logs in).
    pub async fn scan_qr(&self, phone: &str, qr: &str) -> anyhow::Result<()> {
        pairing::scan_qr(&self.shared, phone, qr).await
    }

    /// The phone of `phone` types the pair code a client showed after asking
    /// for one (`Client::pair_with_code`). Returns once the client is linked.
    pub async fn enter_pair_code(&self, phone: &str, code: &str) -> anyhow::Result<()> {
        pair_code::enter(&self.shared, phone, code).await
    }
}
