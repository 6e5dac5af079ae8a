//! The session engine's guarantees, with a misbehaving provider installed
//! in place of WhatsApp Web: a provider that hangs cannot hold a logout or
//! a shutdown past the teardown timeout, and a session that crashes is
//! marked failed without disturbing any other session.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use blazz::jobs::Registry;
use blazz_provider::{
    AccountRef, Connection, EventSender, OutboundMessage, Provider, ProviderError, ProviderEvent,
    ProviderKind, Sent,
};
use serde_json::json;

use crate::helpers::{assert_error, TestApp};
use crate::numbers::{connected_account, wait_status};

/// Links at once, then hangs in logout and close; panics when the
/// account's name says so.
struct Misbehaving;

/// Keeps the event channel open, as a live connection does.
struct Hanging(#[allow(dead_code)] EventSender);

#[async_trait::async_trait]
impl Provider for Misbehaving {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Web
    }

    async fn open(
        &self,
        account: AccountRef,
        events: EventSender,
    ) -> Result<Box<dyn Connection>, ProviderError> {
        if account.phone.is_none() && account.credentials.is_none() {
            let expires_at = SystemTime::now() + Duration::from_secs(60);
            let _ = events
                .send(ProviderEvent::QrCode {
                    code: "2@fake".into(),
                    expires_at,
                })
                .await;
            let linked = ProviderEvent::Linked {
                phone: "+15550009999".into(),
                credentials: b"fake".to_vec(),
            };
            let _ = events.send(linked).await;
        }
        let _ = events.send(ProviderEvent::Connected).await;
        Ok(Box::new(Hanging(events)))
    }
}

#[async_trait::async_trait]
impl Connection for Hanging {
    async fn request_pair_code(&mut self, _: &str) -> Result<(), ProviderError> {
        Err(ProviderError::Unsupported("pair codes"))
    }
    async fn send(&mut self, _: OutboundMessage) -> Result<Sent, ProviderError> {
        panic!("provider bug while sending")
    }
    async fn mark_read(&mut self, _: &str, _: &[String]) -> Result<(), ProviderError> {
        Ok(())
    }
    async fn typing(&mut self, _: &str, _: bool) -> Result<(), ProviderError> {
        Ok(())
    }
    async fn presence(&mut self, _: bool) -> Result<(), ProviderError> {
        Ok(())
    }
    async fn probe(&mut self) -> Result<(), ProviderError> {
        Ok(())
    }
    async fn logout(&mut self) -> Result<(), ProviderError> {
        std::future::pending().await
    }
    async fn close(&mut self) {
        std::future::pending::<()>().await
    }
}

async fn spawn() -> TestApp {
    let app = TestApp::spawn_with(
        |c| c.sessions.teardown_timeout_secs = 1,
        Registry::builtin(),
    )
    .await;
    app.state().sessions.install_provider(Arc::new(Misbehaving));
    app
}

async fn web_account(app: &TestApp, token: &str) -> String {
    let (status, a) = app
        .post(
            token,
            "/api/v1/accounts",
            json!({"provider": "web", "name": "Fake web"}),
        )
        .await;
    assert_eq!(status, 201, "{a}");
    let id = a["id"].as_str().unwrap().to_string();
    let (status, a) = app
        .post(token, &format!("/api/v1/accounts/{id}/link"), json!({}))
        .await;
    assert_eq!(status, 202, "{a}");
    wait_status(app, token, &id, "connected").await;
    id
}

#[tokio::test]
async fn a_logout_the_provider_never_finishes_still_ends_within_the_timeout() {
    let app = spawn().await;
    let t = app.tenant("Hang").await;
    let id = web_account(&app, &t.token).await;
    let started = Instant::now();
    let (status, a) = app
        .post(
            &t.token,
            &format!("/api/v1/accounts/{id}/logout"),
            json!({}),
        )
        .await;
    let took = started.elapsed();
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["status"], "logged_out");
    // Bounded by the 1 s teardown timeout (with room for a slow machine),
    // not by the provider, which never returns.
    assert!(took < Duration::from_secs(10), "logout took {took:?}");
    assert_eq!(
        app.state().sessions.live_count(),
        0,
        "the session task is gone"
    );
    app.finish().await;
}

#[tokio::test]
async fn a_crashing_session_is_marked_failed_and_others_carry_on() {
    let app = spawn().await;
    let t = app.tenant("Crash").await;
    let healthy = connected_account(&app, &t.token).await;
    let crashing = web_account(&app, &t.token).await;
    let id: blazz_domain::AccountId = crashing.parse().unwrap();
    let message = OutboundMessage {
        id: uuid::Uuid::now_v7().simple().to_string(),
        to: "+15550001111".into(),
        body: blazz_provider::MessageBody::Text {
            text: "hello".into(),
        },
        reply_to: None,
        media: None,
    };
    // The provider panics inside the session task.
    let sent = app.state().sessions.send(id, message).await;
    assert!(sent.is_err(), "{:?}", sent.map(|s| s.provider_message_id));
    let a = wait_status(&app, &t.token, &crashing, "failed").await;
    assert!(
        a["status_reason"]
            .as_str()
            .unwrap()
            .starts_with("the session crashed"),
        "{a}"
    );
    // The other number still works: it drops and reconnects as usual.
    let (status, _) = app
        .post(
            &t.token,
            &format!("/api/v1/sandbox/accounts/{healthy}/disconnect"),
            json!({}),
        )
        .await;
    assert_eq!(status, 204);
    wait_status(&app, &t.token, &healthy, "connected").await;
    assert_eq!(app.state().sessions.live_count(), 1);
    // The crashed one can be reconnected by an operator.
    let (status, a) = app
        .post(
            &t.token,
            &format!("/api/v1/accounts/{crashing}/reconnect"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{a}");
    wait_status(&app, &t.token, &crashing, "connected").await;
    let again = app
        .post(
            &t.token,
            &format!("/api/v1/accounts/{crashing}/link"),
            json!({}),
        )
        .await;
    assert_error(&again, 409, "already_linked");
    app.finish().await;
}
