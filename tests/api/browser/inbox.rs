//! The inbox in a real browser: first-run setup, a sandbox number linked
//! through the sandbox phone, a customer's messages arriving in the open
//! list and the open conversation without a reload, a reply with an emoji
//! whose tick turns delivered then read live, assignment, status, a note,
//! the phone-width layout, and an agent of another workspace who sees none
//! of it.

use blazz::jobs::Registry;
use serde_json::json;

use super::{owner_token, Browser};
use crate::helpers::TestApp;
use crate::web_client::invite;

async fn customer_writes(app: &TestApp, token: &str, account: &str, text: &str) {
    let (status, body) = app
        .post(
            token,
            &format!("/api/v1/sandbox/accounts/{account}/inbound"),
            json!({"from": "+6281234567890", "push_name": "Budi", "text": text}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_and_an_agent_talk_live_in_the_inbox() {
    // Slow receipts, so that "delivered" can be seen before "read".
    let app = TestApp::spawn_with(
        |c| {
            c.sandbox.delivered_after_ms = 1_500;
            c.sandbox.read_after_ms = 1_500;
        },
        Registry::builtin(),
    )
    .await;
    let b = Browser::launch(&app.base).await;

    // First run: the owner sets Blazz up.
    b.set_up("Ana Owner", "ana@example.com", "Ana Shop").await;

    // An empty inbox says what to do next.
    b.goto("/inbox").await;
    let empty = b.wait_for("[data-testid=inbox-empty]").await;
    assert!(empty.contains("Sandbox"), "{empty}");
    b.wait_for("[data-testid=inbox-empty] a[href='/numbers']")
        .await;

    // A sandbox number, linked through the sandbox phone.
    let account = b.link_sandbox_number("Support line").await;
    let token = owner_token(&app).await;

    // The list is open when the customer writes: the chat appears live.
    b.goto("/inbox").await;
    b.wait_for("[data-live-state=live]").await;
    b.mark().await;
    customer_writes(
        &app,
        &token,
        &account,
        "Halo, apakah tokonya buka hari ini?",
    )
    .await;
    b.wait_text("#chat-list", "Halo, apakah tokonya buka hari ini?")
        .await;
    b.wait_for("#chat-list .unread-badge").await;
    assert!(b.marked().await, "the list reloaded instead of updating");
    b.screenshot("inbox-list").await;

    // The conversation is open when the customer writes again.
    b.click("#chat-list a").await;
    b.wait_for("#thread .msg-in").await;
    let chat = b.path().await.trim_start_matches("/inbox/").to_string();
    b.wait_for("[data-live-state=live]").await;
    b.mark().await;
    customer_writes(&app, &token, &account, "Saya mau pesan dua kotak").await;
    b.wait_text("#thread", "Saya mau pesan dua kotak").await;
    assert!(
        b.marked().await,
        "the conversation reloaded instead of updating"
    );
    for _ in 0..100 {
        let (_, now) = app.get(&token, &format!("/api/v1/chats/{chat}")).await;
        if now["unread_count"] == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (_, now) = app.get(&token, &format!("/api/v1/chats/{chat}")).await;
    assert_eq!(
        now["unread_count"], 0,
        "an open chat reads what arrives: {now}"
    );

    // A reply with an emoji: its tick turns delivered, then read, live.
    b.set_value("#composer-text", "Terima kasih 🙏").await;
    b.press("Send").await;
    b.wait_text("#thread .msg-out", "Terima kasih 🙏").await;
    b.wait_for("#thread .msg-out [data-tick=delivered]").await;
    let delivered = b.wait_for("#thread .msg-out [data-tick=delivered]").await;
    assert!(
        delivered.contains("Delivered"),
        "a text alternative: {delivered:?}"
    );
    b.wait_for("#thread .msg-out [data-tick=read]").await;
    assert_eq!(
        b.wait_for("#composer-text").await,
        "",
        "the composer was cleared"
    );
    assert!(b.marked().await, "sending reloaded the page");
    let (_, msgs) = app
        .get(&token, &format!("/api/v1/chats/{chat}/messages"))
        .await;
    assert!(msgs["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["body"]["text"] == "Terima kasih 🙏" && m["status"] == "read"));

    // Assign to me, set the status, add a note: the panel follows.
    b.click("#chat-assignee option[value=me]").await;
    b.press("Assign").await;
    b.wait_text("[data-testid=chat-assignee]", "Ana Owner")
        .await;
    b.click("#chat-status option[value=pending]").await;
    b.press("Set status").await;
    b.wait_text("[data-testid=chat-status]", "Pending").await;
    b.fill("#note-body", "Wants two boxes; check stock").await;
    b.press("Add note").await;
    b.wait_text(".notes", "Wants two boxes; check stock").await;
    assert!(b.marked().await, "an action reloaded the page");
    let (_, now) = app.get(&token, &format!("/api/v1/chats/{chat}")).await;
    assert_eq!(now["status"], "pending");
    assert!(now["assignee_id"].is_string());
    b.screenshot("inbox-chat").await;

    // At phone width the conversation has the screen to itself.
    b.resize(390, 844).await;
    b.goto(&format!("/inbox/{chat}")).await;
    b.wait_for("#thread .msg-out").await;
    assert!(!b.displayed(".inbox-side").await, "one pane at a time");
    assert!(b.displayed(".chat-back").await);
    b.screenshot("inbox-phone").await;
    b.resize(1200, 1000).await;

    // An agent of another workspace sees no chats and not this one.
    let other = app.tenant("Other Shop").await;
    let path = invite(&app, &other.token, "sari@example.com", "agent").await;
    b.sign_out().await;
    b.join(&path, "Sari Agent", "Other Shop").await;
    b.goto("/inbox").await;
    b.wait_for("[data-testid=inbox-empty]").await;
    let body = b.body().await;
    assert!(
        !body.contains("Halo") && !body.contains("+6281234567890"),
        "{body}"
    );
    b.goto(&format!("/inbox/{chat}")).await;
    b.wait_text("main h1", "Not found").await;
    assert!(!b.body().await.contains("Terima kasih"));
    b.close().await;
    app.finish().await;
}
