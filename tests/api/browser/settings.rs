//! Settings in a real browser: the profile's language switches every page
//! to Bahasa Indonesia and back; an invitation is created and accepted; an
//! API token is created and its shown secret works against the API; a
//! webhook endpoint pointed at a local receiver gets a real event, which
//! shows in the delivery log and is replayed; and the invited agent is
//! offered none of the admin pages.

use blazz::jobs::Registry;
use serde_json::json;

use super::Browser;
use crate::helpers::TestApp;
use crate::web_client::{invite_path, Web};
use crate::webhooks::Receiver;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_switch_language_invite_issue_a_token_and_log_webhook_deliveries() {
    let app = TestApp::spawn_with(
        |c| {
            c.webhooks.allow_private_targets = true;
            c.webhooks.retry_schedule_secs = vec![0.0, 0.05, 0.05];
        },
        Registry::builtin(),
    )
    .await;
    let receiver = Receiver::start().await;
    let b = Browser::launch(&app.base).await;

    // First run: the owner.
    b.set_up("Ana Owner", "ana@example.com", "Ana Shop").await;

    // Settings, from the header; the sub-navigation has every section.
    b.click("header a[href='/settings']").await;
    b.wait_text(".settings-nav", "API tokens").await;
    let nav = b.wait_for(".settings-nav").await;
    for section in [
        "Profile",
        "Security",
        "Members",
        "Invitations",
        "Webhooks",
        "Realtime",
    ] {
        assert!(nav.contains(section), "{section} missing from {nav:?}");
    }

    // The profile: Bahasa Indonesia, then every page speaks it.
    b.click(".settings-nav a[href='/settings/profile']").await;
    b.select("#profile-language", "id").await;
    b.press("Save").await;
    b.wait_for("[data-testid=saved]").await;
    b.wait_text(".settings-nav", "Token API").await;
    b.wait_text("header nav", "Pengaturan").await;
    assert_eq!(b.wait_for("[data-testid=saved]").await, "Tersimpan.");
    b.screenshot("settings-profile-id").await;
    b.goto("/settings").await;
    b.wait_text("main", "Anggota").await;
    // ...and back to the browser's language (English here).
    b.goto("/settings/profile").await;
    b.select("#profile-language", "").await;
    b.press("Simpan").await;
    b.wait_for("[data-testid=saved]").await;
    b.wait_text(".settings-nav", "API tokens").await;
    b.wait_text("header nav", "Settings").await;

    // Invite an agent; the link is shown once, and works.
    b.click(".settings-nav a[href='/settings/invitations']")
        .await;
    b.wait_for("[data-testid=no-invitations]").await;
    b.fill("#invite-email", "bo@example.com").await;
    b.select("#invite-role", "agent").await;
    b.press("Create invitation link").await;
    b.wait_for("[data-testid=invitation-link]").await;
    let link = b.value("#invitation-link").await;
    assert!(link.contains("/invite/"), "{link}");
    b.wait_text("tbody", "bo@example.com").await;
    // Accepted by a new user, over plain HTTP.
    assert!(link.starts_with(&app.base), "{link}");
    let joined = Web::new(&app)
        .accept_invitation(&invite_path(&link), "Bo Agent")
        .await;
    joined.assert_status(303);
    joined.assert_redirect("/");
    b.goto("/settings/invitations").await;
    b.wait_for("[data-testid=no-invitations]").await;
    b.click(".settings-nav a[href='/settings/members']").await;
    b.wait_text("tbody", "Bo Agent").await;
    b.wait_text("tbody", "bo@example.com").await;
    b.screenshot("settings-members").await;

    // An API token: its secret is shown once, and it is a real one.
    b.click(".settings-nav a[href='/settings/tokens']").await;
    b.wait_for("[data-testid=no-tokens]").await;
    b.fill("#token-name", "CRM sync").await;
    b.select("#token-role", "admin").await;
    b.press("Create token").await;
    b.wait_for("[data-testid=new-token]").await;
    let token = b.value("#new-token").await;
    let me: serde_json::Value = reqwest::Client::new()
        .get(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["kind"], "token", "{me}");
    assert_eq!(me["name"], "CRM sync");
    assert_eq!(me["role"], "admin");
    b.wait_text("tbody", "CRM sync").await;
    b.screenshot("settings-tokens").await;
    b.goto("/settings/tokens").await;
    b.wait_text("tbody", "CRM sync").await;
    assert!(!b.body().await.contains(&token), "the token is shown again");

    // A webhook endpoint at the local receiver, for every event.
    b.click(".settings-nav a[href='/settings/webhooks']").await;
    b.wait_for("[data-testid=no-webhooks]").await;
    b.fill("#webhook-url", &receiver.url("/blazz")).await;
    b.fill("#webhook-description", "Test receiver").await;
    b.press("Add endpoint").await;
    b.wait_for("[data-testid=webhook-secret]").await;
    let secret = b.value("#webhook-secret").await;
    assert!(secret.starts_with("whsec_"), "{secret}");

    // Something happens: a contact is added through the API.
    let (status, contact) = app
        .post(
            &token,
            "/api/v1/contacts",
            json!({"phone": "+14155552671", "name": "Citra"}),
        )
        .await;
    assert_eq!(status, 201, "{contact}");
    let hits = receiver.wait("the contact event", |h| !h.is_empty()).await;
    let event: serde_json::Value = serde_json::from_str(&hits[0].body).unwrap();
    assert_eq!(event["type"], "contact.updated", "{event}");
    let message_id = hits[0].headers["webhook-id"].clone();

    // The delivery log shows it delivered, with the receiver's answer.
    b.goto("/settings/webhooks").await;
    b.click("td.url a").await;
    b.wait_text(".deliveries", "contact.updated").await;
    b.wait_text(".deliveries", "200").await;
    let state = b.wait_for("[data-delivery-state]").await;
    assert_eq!(state, "Delivered");
    b.screenshot("settings-webhooks").await;
    // At phone width the log still fits, with its replay button.
    b.resize(390, 844).await;
    b.goto(&b.path().await).await;
    b.wait_text(".deliveries", "contact.updated").await;
    b.screenshot("settings-webhooks-phone").await;
    b.resize(1200, 1000).await;

    // Replayed from the log: the same message again.
    b.press("Send again").await;
    b.wait_for("[data-testid=notice]").await;
    let hits = receiver.wait("the replay", |h| h.len() >= 2).await;
    assert_eq!(hits[1].headers["webhook-id"], message_id);
    assert_eq!(hits[1].body, hits[0].body);

    // The agent: no token or webhook pages, nor links to them.
    b.sign_out().await;
    b.sign_in("bo@example.com", "Ana Shop").await;
    b.goto("/settings").await;
    let nav = b.wait_for(".settings-nav").await;
    assert!(nav.contains("Members") && nav.contains("Realtime"), "{nav}");
    for hidden in ["API tokens", "Webhooks", "Invitations"] {
        assert!(!nav.contains(hidden), "an agent is offered {hidden}");
    }
    b.goto("/settings/tokens").await;
    b.wait_text("main h1", "Not allowed").await;
    assert!(!b.body().await.contains("CRM sync"));
    b.goto("/settings/webhooks").await;
    b.wait_text("main h1", "Not allowed").await;
    assert!(!b.body().await.contains("Test receiver"));

    b.close().await;
    app.finish().await;
}
