//! The inbox pages over HTTP with a cookie-keeping client: the list and a
//! conversation for the owner, another workspace's chats (404, never
//! listed), the form token, what the composer and the side panel store
//! (checked through the API), history paging, and what an agent sees.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::web_client::{join, Web};

/// A connected sandbox number and a customer's message to it; answers
/// (account id, chat id).
async fn chat_with(app: &TestApp, token: &str, from: &str, text: &str) -> (String, String) {
    let account = crate::numbers::connected_account(app, token).await;
    let chat = write_as_customer(app, token, &account, from, text).await;
    (account, chat)
}

async fn write_as_customer(
    app: &TestApp,
    token: &str,
    account: &str,
    from: &str,
    text: &str,
) -> String {
    let (status, body) = app
        .post(
            token,
            &format!("/api/v1/sandbox/accounts/{account}/inbound"),
            json!({"from": from, "text": text}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    for _ in 0..500 {
        let (_, found) = app
            .get(
                token,
                &format!("/api/v1/messages?q={}", text.split(' ').next().unwrap()),
            )
            .await;
        if let Some(m) = found["data"].as_array().and_then(|d| d.first()) {
            return m["chat_id"].as_str().unwrap().to_string();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the customer's message never arrived");
}

async fn messages(app: &TestApp, token: &str, chat: &str) -> Vec<Value> {
    let (status, page) = app
        .get(token, &format!("/api/v1/chats/{chat}/messages?limit=200"))
        .await;
    assert_eq!(status, 200, "{page}");
    page["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn the_owner_sees_the_list_and_opening_a_chat_reads_it() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Acme").await;
    let (_, chat) = chat_with(&app, &t.token, "+15550001111", "Halo apakah toko buka").await;
    let web = Web::new(&app);
    web.sign_in(&t.owner_email).await;

    let list = web.get("/inbox").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains("Halo apakah toko buka"), "{}", list.body);
    assert!(list.body.contains("+15550001111"));
    assert!(list.body.contains(&format!("/inbox/{chat}")));
    assert!(list.body.contains("unread-badge"), "an unread badge");

    let page = web.get(&format!("/inbox/{chat}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("msg msg-in"), "{}", page.body);
    assert!(page.body.contains("Halo apakah toko buka"));
    let (_, c) = app.get(&t.token, &format!("/api/v1/chats/{chat}")).await;
    assert_eq!(c["unread_count"], 0, "opening the chat read it: {c}");

    // The live fragments render too.
    let rows = web.get("/inbox/rows?view=unassigned").await;
    assert_eq!(rows.status, 200);
    assert!(rows.body.contains("Halo apakah toko buka"));
    let mine = web.get("/inbox/rows?view=mine").await;
    assert!(
        !mine.body.contains("Halo apakah toko buka"),
        "nothing is assigned to me yet"
    );
    let panel = web.get(&format!("/inbox/{chat}/panel")).await;
    assert_eq!(panel.status, 200);
    assert!(panel.body.contains("chat-panel"));
    app.finish().await;
}

#[tokio::test]
async fn another_workspaces_chat_is_not_found_and_never_listed() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Acme").await;
    let other = app.tenant("Other").await;
    chat_with(&app, &t.token, "+15550001111", "Acme customer hello").await;
    let (_, theirs) = chat_with(&app, &other.token, "+15550002222", "Secret order 4711").await;
    let web = Web::new(&app);
    web.sign_in(&t.owner_email).await;
    let csrf = web.csrf().await;

    let list = web.get("/inbox").await;
    assert!(list.body.contains("Acme customer hello"));
    assert!(!list.body.contains("Secret order") && !list.body.contains("+15550002222"));
    let searched = web.get("/inbox?q=5550002222").await;
    assert!(!searched.body.contains("Secret order"));

    for path in [
        format!("/inbox/{theirs}"),
        format!("/inbox/{theirs}/messages?after=0"),
        format!("/inbox/{theirs}/panel"),
    ] {
        let page = web.get(&path).await;
        assert_eq!(page.status, 404, "{path}: {}", page.body);
        assert!(!page.body.contains("Secret order"), "{path}");
    }
    let sent = web
        .post_multipart(
            &format!("/inbox/{theirs}/send"),
            &[("csrf", &csrf), ("text", "intrusion")],
            None,
        )
        .await;
    assert_eq!(sent.status, 404, "{}", sent.body);
    let noted = web
        .post(
            &format!("/inbox/{theirs}/notes"),
            &[("csrf", &csrf), ("body", "intrusion")],
        )
        .await;
    assert_eq!(noted.status, 404);
    let status = web
        .post(
            &format!("/inbox/{theirs}/status"),
            &[("csrf", &csrf), ("status", "resolved")],
        )
        .await;
    assert_eq!(status.status, 404);
    assert_eq!(messages(&app, &other.token, &theirs).await.len(), 1);
    let (_, c) = app
        .get(&other.token, &format!("/api/v1/chats/{theirs}"))
        .await;
    assert_eq!(c["status"], "open");
    assert_eq!(c["unread_count"], 1, "their chat was not read either");
    app.finish().await;
}

#[tokio::test]
async fn inbox_forms_need_the_form_token() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Acme").await;
    let (_, chat) = chat_with(&app, &t.token, "+15550001111", "Hello there").await;
    let web = Web::new(&app);
    web.sign_in(&t.owner_email).await;

    let sent = web
        .post_multipart(
            &format!("/inbox/{chat}/send"),
            &[("csrf", "wrong"), ("text", "no token")],
            None,
        )
        .await;
    assert_eq!(sent.status, 403, "{}", sent.body);
    let plain = web
        .post(&format!("/inbox/{chat}/send"), &[("text", "no token")])
        .await;
    assert_eq!(plain.status, 403);
    for (path, field, value) in [
        ("notes", "body", "no token"),
        ("status", "status", "resolved"),
        ("assign", "assignee", "me"),
    ] {
        let p = web
            .post(&format!("/inbox/{chat}/{path}"), &[(field, value)])
            .await;
        assert_eq!(p.status, 403, "{path}");
    }
    assert_eq!(messages(&app, &t.token, &chat).await.len(), 1);
    let (_, c) = app.get(&t.token, &format!("/api/v1/chats/{chat}")).await;
    assert_eq!(c["status"], "open");
    assert!(c["assignee_id"].is_null());
    let (_, notes) = app
        .get(&t.token, &format!("/api/v1/chats/{chat}/notes"))
        .await;
    assert_eq!(notes["data"].as_array().unwrap().len(), 0);
    app.finish().await;
}

#[tokio::test]
async fn the_composer_and_panel_store_what_they_post() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Acme").await;
    let (_, chat) = chat_with(&app, &t.token, "+15550001111", "Do you ship to Bali").await;
    let web = Web::new(&app);
    web.sign_in(&t.owner_email).await;
    let csrf = web.csrf().await;
    let inbound = messages(&app, &t.token, &chat).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // An emoji reply quoting the customer's message, as the form sends it.
    let sent = web
        .post_multipart(
            &format!("/inbox/{chat}/send"),
            &[
                ("csrf", &csrf),
                ("reply_to", &inbound),
                ("text", "Terima kasih 🙏"),
            ],
            None,
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    assert_eq!(sent.location, Some(format!("/inbox/{chat}")));
    let all = messages(&app, &t.token, &chat).await;
    let out = all.iter().find(|m| m["direction"] == "out").unwrap();
    assert_eq!(out["body"]["text"], "Terima kasih 🙏");
    assert_eq!(out["reply_to"], inbound.as_str());
    assert_eq!(out["source"], "agent");
    assert_eq!(out["author"], "Acme");

    // An image with a caption goes through the media store.
    let png: &[u8] = b"\x89PNG\r\n\x1a\n0000";
    let sent = web
        .post_multipart(
            &format!("/inbox/{chat}/send"),
            &[("csrf", &csrf), ("text", "Our shop")],
            Some(("file", "shop.png", "image/png", png)),
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let all = messages(&app, &t.token, &chat).await;
    let image = all.iter().find(|m| m["type"] == "image").expect("an image");
    assert_eq!(image["body"]["caption"], "Our shop");
    let media = image["body"]["media_id"].as_str().unwrap();
    let (status, info) = app
        .get(&t.token, &format!("/api/v1/media/{media}/info"))
        .await;
    assert_eq!(status, 200, "{info}");
    let page = web.get(&format!("/inbox/{chat}")).await;
    assert!(
        page.body.contains(&format!("/api/v1/media/{media}")),
        "the image shows inline"
    );
    assert!(page.body.contains("Terima kasih 🙏"));
    assert!(
        page.body.contains("msg-quote"),
        "the quote shows above the reply"
    );

    // Nothing to send: the refusal is shown on the page, not as JSON.
    let empty = web
        .post_multipart(
            &format!("/inbox/{chat}/send"),
            &[("csrf", &csrf), ("text", "  ")],
            None,
        )
        .await;
    assert_eq!(empty.status, 422);
    assert!(empty.body.contains("role=\"alert\""), "{}", empty.body);
    assert!(empty.body.contains("<!DOCTYPE html>"));

    // A template with a variable.
    let (status, c) = app
        .post(
            &t.token,
            "/api/v1/canned-replies",
            json!({"shortcut": "eta", "body": "Hi {{contact.name|there}}, it arrives in {{days}} days"}),
        )
        .await;
    assert_eq!(status, 201, "{c}");
    let chosen = web.get(&format!("/inbox/{chat}?template=eta")).await;
    assert!(chosen.body.contains("name=\"var.days\""), "{}", chosen.body);
    let done = web
        .post(
            &format!("/inbox/{chat}/template"),
            &[("csrf", &csrf), ("template", "eta"), ("var.days", "3")],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let all = messages(&app, &t.token, &chat).await;
    let tpl = all.iter().find(|m| m["type"] == "template").unwrap();
    assert_eq!(tpl["body"]["text"], "Hi there, it arrives in 3 days");
    let canned = web.get(&format!("/inbox/{chat}?canned=eta")).await;
    assert!(
        canned
            .body
            .contains("Hi there, it arrives in  days</textarea>"),
        "canned text fills the composer"
    );

    // Status, assignment and a note.
    let p = web
        .post(
            &format!("/inbox/{chat}/status"),
            &[("csrf", &csrf), ("status", "pending")],
        )
        .await;
    assert_eq!(p.status, 303);
    let p = web
        .post(
            &format!("/inbox/{chat}/assign"),
            &[("csrf", &csrf), ("assignee", "me")],
        )
        .await;
    assert_eq!(p.status, 303);
    let p = web
        .post(
            &format!("/inbox/{chat}/notes"),
            &[("csrf", &csrf), ("body", "VIP customer, be quick")],
        )
        .await;
    assert_eq!(p.status, 303);
    let (_, c) = app.get(&t.token, &format!("/api/v1/chats/{chat}")).await;
    assert_eq!(c["status"], "pending");
    assert!(c["assignee_id"].is_string(), "{c}");
    let (_, notes) = app
        .get(&t.token, &format!("/api/v1/chats/{chat}/notes"))
        .await;
    assert_eq!(notes["data"][0]["body"], "VIP customer, be quick");
    let page = web.get(&format!("/inbox/{chat}")).await;
    assert!(page.body.contains("class=\"note\""));
    assert!(page.body.contains("VIP customer, be quick"));
    let mine = web.get("/inbox/rows?view=mine&status=pending").await;
    assert!(
        mine.body.contains(&format!("/inbox/{chat}")),
        "{}",
        mine.body
    );
    let resolved = web.get("/inbox/rows?status=resolved").await;
    assert!(!resolved.body.contains(&format!("/inbox/{chat}")));

    // A bad assignee is refused on the page.
    let p = web
        .post(
            &format!("/inbox/{chat}/assign"),
            &[("csrf", &csrf), ("assignee", "nobody-real")],
        )
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("role=\"alert\""));
    app.finish().await;
}

#[tokio::test]
async fn history_pages_back_with_a_cursor_and_new_messages_come_after() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Acme").await;
    let (account, chat) = chat_with(&app, &t.token, "+15550001111", "Message zero").await;
    for i in 1..=34 {
        let (status, body) = app
            .post(
                &t.token,
                &format!("/api/v1/sandbox/accounts/{account}/inbound"),
                json!({"from": "+15550001111", "text": format!("Numbered {i:02}")}),
            )
            .await;
        assert_eq!(status, 202, "{body}");
    }
    for _ in 0..500 {
        if messages(&app, &t.token, &chat).await.len() == 35 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let web = Web::new(&app);
    web.sign_in(&t.owner_email).await;
    let page = web.get(&format!("/inbox/{chat}")).await;
    assert!(page.body.contains("Numbered 34"));
    assert!(
        !page.body.contains("Message zero"),
        "only the newest page shows"
    );
    let marker = "data-older=\"";
    let start = page.body.find(marker).expect("a Load older link") + marker.len();
    let older =
        page.body[start..start + page.body[start..].find('"').unwrap()].replace("&amp;", "&");
    let frag = web.get(&older).await;
    assert_eq!(frag.status, 200);
    assert!(frag.body.contains("Message zero"), "{}", frag.body);
    assert!(!frag.body.contains("Numbered 34"));
    // Without the script the same link is a page.
    let no_js = web.get(&older.replace("/messages?", "?")).await;
    assert_eq!(no_js.status, 200);
    assert!(no_js.body.contains("Message zero"));

    // What came after the newest seq shown.
    let seq_marker = "data-after=\"";
    let s = page.body.find(seq_marker).unwrap() + seq_marker.len();
    let after: i64 = page.body[s..s + page.body[s..].find('"').unwrap()]
        .parse()
        .unwrap();
    write_as_customer(
        &app,
        &t.token,
        &account,
        "+15550001111",
        "Latecomer arrives",
    )
    .await;
    let newer = web
        .get(&format!("/inbox/{chat}/messages?after={after}"))
        .await;
    assert!(newer.body.contains("Latecomer arrives"), "{}", newer.body);
    assert!(!newer.body.contains("Numbered 34"));
    app.finish().await;
}

#[tokio::test]
async fn agents_work_chats_but_see_no_admin_prompts() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Acme").await;
    let bo = join(&app, &t.token, "bo@example.com", "agent").await;

    // No number yet: the agent is told to ask an admin, not to link one.
    let empty = bo.get("/inbox").await;
    assert_eq!(empty.status, 200);
    assert!(empty.body.contains("data-testid=\"inbox-empty\""));
    assert!(
        !empty.body.contains("href=\"/numbers\">Link a number"),
        "{}",
        empty.body
    );
    assert!(empty.body.contains("Ask an admin"));
    let web = Web::new(&app);
    web.sign_in(&t.owner_email).await;
    let owners = web.get("/inbox").await;
    assert!(owners.body.contains("Link a number"));

    // An agent may reply, note, assign and set the status, as in the API.
    let (_, chat) = chat_with(&app, &t.token, "+15550001111", "Agent please help").await;
    let csrf = bo.csrf().await;
    let sent = bo
        .post_multipart(
            &format!("/inbox/{chat}/send"),
            &[("csrf", &csrf), ("text", "On it")],
            None,
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let p = bo
        .post(
            &format!("/inbox/{chat}/assign"),
            &[("csrf", &csrf), ("assignee", "me")],
        )
        .await;
    assert_eq!(p.status, 303);
    let all = messages(&app, &t.token, &chat).await;
    assert!(all
        .iter()
        .any(|m| m["author"] == "Bo Agent" && m["body"]["text"] == "On it"));
    // The sandbox customer's phone is for admins only: not in the agent's
    // inbox, and refused on the number's page.
    let page = bo.get(&format!("/inbox/{chat}")).await;
    assert!(!page.body.contains("phone/inbound"));
    let account = all[0]["account_id"].as_str().unwrap();
    let refused = bo
        .post(
            &format!("/numbers/{account}/phone/inbound"),
            &[("csrf", &csrf), ("from", "+15550003333"), ("text", "fake")],
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    app.finish().await;
}
