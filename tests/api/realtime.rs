//! The Pusher-compatible realtime server from the outside: the real pusher-js
//! under Node against a running Blazz (inbox events, presence, client
//! events, channel authorisation), and raw WebSocket and HTTP clients for
//! the protocol's edges (close codes, signatures, heartbeats, slow clients,
//! the connection cap, the HTTP events API).

use std::process::Stdio;
use std::time::Duration;

use blazz::jobs::Registry;
use blazz::realtime::sign;
use blazz_domain::Role;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{assert_error, Tenant, TestApp};
use crate::numbers::connected_account;

const WAIT: Duration = Duration::from_secs(15);

async fn app_with(tweak: impl FnOnce(&mut blazz::config::Config)) -> TestApp {
    TestApp::spawn_with(
        |c| {
            c.sandbox.delivered_after_ms = 30;
            c.sandbox.read_after_ms = 30;
            c.sandbox.enforce_pacing = false;
            tweak(c);
        },
        Registry::builtin(),
    )
    .await
}

/// The workspace's realtime credentials, as its owner sees them.
async fn credentials(app: &TestApp, t: &Tenant) -> Value {
    let (status, v) = app.get(&t.token, "/api/v1/realtime").await;
    assert_eq!(status, 200, "{v}");
    v
}

// ---------------------------------------------------------------- pusher-js

/// One pusher-js client in a Node process (tests/js/realtime-client.js).
struct Node {
    child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    /// Everything printed so far.
    seen: Vec<Value>,
    /// Printed lines no `until` has taken yet (things arrive in any order).
    unread: Vec<Value>,
}

impl Node {
    async fn start(app: &TestApp, creds: &Value, token: &str) -> Node {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/js");
        assert!(
            std::path::Path::new(dir)
                .join("node_modules/pusher-js")
                .exists(),
            "pusher-js is not installed: run `npm ci --prefix tests/js` (scripts/test does)"
        );
        let config = json!({
            "key": creds["key"],
            "host": creds["ws_host"],
            "port": creds["ws_port"],
            "authEndpoint": app.url("/broadcasting/auth"),
            "token": token,
        });
        let mut child = tokio::process::Command::new("node")
            .arg(format!("{dir}/realtime-client.js"))
            .arg(config.to_string())
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node (18+) must be installed for the pusher-js tests");
        let stdin = child.stdin.take().unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut node = Node {
            child,
            stdin,
            lines,
            seen: Vec::new(),
            unread: Vec::new(),
        };
        node.until(|v| v["type"] == "connected").await;
        node
    }

    async fn cmd(&mut self, cmd: Value) {
        let line = format!("{cmd}\n");
        self.stdin.write_all(line.as_bytes()).await.unwrap();
        self.stdin.flush().await.unwrap();
    }

    async fn subscribe(&mut self, channel: &str) {
        self.cmd(json!({"cmd": "subscribe", "channel": channel}))
            .await;
    }

    /// The first line the client printed that matches and that no earlier
    /// call took, waiting for it if need be.
    async fn until(&mut self, what: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.unread.iter().position(&what) {
            return self.unread.remove(i);
        }
        let read = async {
            loop {
                let Some(line) = self.lines.next_line().await.unwrap() else {
                    panic!("the pusher-js client ended; it printed {:?}", self.seen);
                };
                let v: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|_| panic!("not JSON from the client: {line}"));
                self.seen.push(v.clone());
                if what(&v) {
                    return v;
                }
                self.unread.push(v);
            }
        };
        match tokio::time::timeout(WAIT, read).await {
            Ok(v) => v,
            Err(_) => panic!(
                "the pusher-js client never got there; it printed {:?}",
                self.seen
            ),
        }
    }

    /// Disconnects and returns everything the client printed.
    async fn quit(mut self) -> Vec<Value> {
        self.cmd(json!({"cmd": "quit"})).await;
        let rest = async {
            while let Ok(Some(line)) = self.lines.next_line().await {
                if let Ok(v) = serde_json::from_str(&line) {
                    self.seen.push(v);
                }
            }
        };
        let _ = tokio::time::timeout(WAIT, rest).await;
        let _ = tokio::time::timeout(WAIT, self.child.wait()).await;
        self.seen
    }
}

fn is(kind: &'static str, channel: String) -> impl Fn(&Value) -> bool {
    move |v| v["type"] == kind && v["channel"] == channel.as_str()
}

#[tokio::test]
async fn pusher_js_gets_inbox_events_presence_and_client_events_of_its_workspace_only() {
    let app = app_with(|_| {}).await;
    let t = app.tenant("Live Inbox").await;
    let other = app.tenant("Elsewhere").await;
    let agent_token = app.token(t.id, Role::Agent).await;
    let creds = credentials(&app, &t).await;
    let private = format!("private-workspace.{}", t.id);
    let presence = format!("presence-workspace.{}", t.id);

    let mut ann = Node::start(&app, &creds, &t.token).await;
    ann.subscribe(&private).await;
    ann.subscribe(&presence).await;
    ann.until(is("subscribed", private.clone())).await;
    let joined = ann.until(is("subscribed", presence.clone())).await;
    assert_eq!(joined["members"]["count"], 1, "{joined}");
    let ann_id = joined["members"]["me"].as_str().unwrap().to_string();
    assert!(ann_id.starts_with("token:"), "{joined}");

    // A second member (an agent's token) joins: both see each other.
    let mut bob = Node::start(&app, &creds, &agent_token).await;
    bob.subscribe(&private).await;
    bob.subscribe(&presence).await;
    bob.until(is("subscribed", private.clone())).await;
    let joined = bob.until(is("subscribed", presence.clone())).await;
    assert_eq!(joined["members"]["count"], 2, "{joined}");
    let bob_id = joined["members"]["me"].as_str().unwrap().to_string();
    let ids: Vec<&str> = joined["members"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&ann_id.as_str()) && ids.contains(&bob_id.as_str()),
        "{joined}"
    );
    let added = ann.until(is("member_added", presence.clone())).await;
    assert_eq!(added["id"], bob_id.as_str());
    assert_eq!(added["info"]["name"], "agent token");

    // A client event is relayed to the others, not echoed to the sender.
    ann.cmd(json!({"cmd": "trigger", "channel": private, "event": "client-typing", "data": {"chat": "c1", "typing": true}}))
        .await;
    let triggered = ann.until(|v| v["type"] == "triggered").await;
    assert_eq!(triggered["ok"], true, "{triggered}");
    let relayed = bob.until(|v| v["event"] == "client-typing").await;
    assert_eq!(relayed["channel"], private.as_str());
    assert_eq!(relayed["data"], json!({"chat": "c1", "typing": true}));

    // Another workspace's channel: the auth endpoint says 403.
    let foreign = format!("private-workspace.{}", other.id);
    ann.subscribe(&foreign).await;
    let refused = ann.until(is("subscription_error", foreign)).await;
    assert_eq!(refused["status"], 403, "{refused}");

    // A customer writes to a linked sandbox number: the message reaches the
    // socket as `message.created` on the workspace channel.
    let account = connected_account(&app, &t.token).await;
    let (status, body) = app
        .post(
            &t.token,
            &format!("/api/v1/sandbox/accounts/{account}/inbound"),
            json!({"from": "+14155552671", "text": "Is my order ready?", "push_name": "Ana"}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let created = ann
        .until(|v| v["event"] == "message.created" && v["channel"] == private.as_str())
        .await;
    let data = &created["data"];
    assert_eq!(data["body"]["text"], "Is my order ready?", "{created}");
    assert_eq!(data["direction"], "in");
    assert_eq!(data["account_id"], account.as_str());
    assert_eq!(data["contact"]["phone"], "+14155552671");
    bob.until(|v| v["event"] == "message.created").await;

    // Bob leaves: Ann sees him go.
    bob.quit().await;
    let removed = ann.until(is("member_removed", presence.clone())).await;
    assert_eq!(removed["id"], bob_id.as_str());

    let everything = ann.quit().await;
    assert!(
        !everything.iter().any(|v| v["event"] == "client-typing"),
        "the sender got its own client event back: {everything:?}"
    );
    app.finish().await;
}

// ------------------------------------------------------------ raw sockets

type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A bare WebSocket client speaking the protocol by hand.
struct Ws {
    stream: Stream,
    socket_id: String,
}

impl Ws {
    async fn open(app: &TestApp, path_and_query: &str) -> Stream {
        let url = format!("{}{path_and_query}", app.base.replace("http://", "ws://"));
        let (stream, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        stream
    }

    /// Connects to `key`'s app and reads `pusher:connection_established`.
    async fn connect(app: &TestApp, key: &str) -> Ws {
        let stream = Self::open(
            app,
            &format!("/app/{key}?protocol=7&client=rust&version=1.0"),
        )
        .await;
        let mut ws = Ws {
            stream,
            socket_id: String::new(),
        };
        let hello = ws.next().await;
        assert_eq!(hello["event"], "pusher:connection_established", "{hello}");
        ws.socket_id = hello["data"]["socket_id"].as_str().unwrap().to_string();
        ws
    }

    /// The next text frame, `data` decoded; panics on a close.
    async fn next(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(WAIT, self.stream.next())
                .await
                .expect("no frame in time")
                .expect("the socket ended")
                .unwrap();
            match msg {
                Message::Text(t) => return decode(t.as_str()),
                Message::Close(c) => panic!("closed: {c:?}"),
                _ => continue,
            }
        }
    }

    /// Reads until the server closes; the close code.
    async fn closed(&mut self) -> (u16, Vec<Value>) {
        let mut frames = Vec::new();
        loop {
            let msg = tokio::time::timeout(WAIT, self.stream.next())
                .await
                .expect("the socket stayed open");
            match msg {
                Some(Ok(Message::Close(Some(c)))) => return (u16::from(c.code), frames),
                Some(Ok(Message::Text(t))) => frames.push(decode(t.as_str())),
                Some(Ok(_)) => {}
                other => panic!("ended without a close frame: {other:?}; frames {frames:?}"),
            }
        }
    }

    async fn send(&mut self, v: Value) {
        self.stream
            .send(Message::Text(v.to_string().into()))
            .await
            .unwrap();
    }

    async fn subscribe(
        &mut self,
        channel: &str,
        auth: Option<String>,
        data: Option<&str>,
    ) -> Value {
        self.send(json!({"event": "pusher:subscribe", "data": {"channel": channel, "auth": auth, "channel_data": data}}))
            .await;
        self.next().await
    }
}

fn decode(text: &str) -> Value {
    let mut v: Value = serde_json::from_str(text).unwrap();
    if let Some(data) = v["data"].as_str() {
        v["data"] = serde_json::from_str(data).unwrap_or(Value::String(data.into()));
    }
    v
}

fn error_code(frame: &Value) -> i64 {
    assert_eq!(frame["event"], "pusher:error", "{frame}");
    frame["data"]["code"].as_i64().unwrap()
}

#[tokio::test]
async fn an_unknown_app_key_or_protocol_is_refused_with_its_close_code() {
    let app = app_with(|_| {}).await;
    let t = app.tenant("Keys").await;
    let key = credentials(&app, &t).await["key"]
        .as_str()
        .unwrap()
        .to_string();
    for (path, expected) in [
        ("/app/0123456789abcdef0123?protocol=7".to_string(), 4001),
        (format!("/app/{key}?protocol=4"), 4007),
        (format!("/app/{key}?protocol=8"), 4007),
        (format!("/app/{key}?protocol=seven"), 4006),
        (format!("/app/{key}"), 4008),
    ] {
        let mut ws = Ws {
            stream: Ws::open(&app, &path).await,
            socket_id: String::new(),
        };
        let (code, frames) = ws.closed().await;
        assert_eq!(code, expected, "{path}");
        assert_eq!(error_code(&frames[0]), expected as i64, "{path}");
    }
    app.finish().await;
}

#[tokio::test]
async fn subscriptions_check_the_signature_and_fuzzy_frames_get_errors() {
    let app = app_with(|_| {}).await;
    let t = app.tenant("Signatures").await;
    let creds = credentials(&app, &t).await;
    let (key, secret) = (
        creds["key"].as_str().unwrap(),
        creds["secret"].as_str().unwrap(),
    );
    let mut ws = Ws::connect(&app, key).await;
    let channel = format!("private-workspace.{}", t.id);

    // Signed for another socket, with another secret, or not at all: 4009.
    let other_socket = sign::channel_auth(key, secret, "1.2", &channel, None);
    let other_secret = sign::channel_auth(key, "not the secret", &ws.socket_id, &channel, None);
    for auth in [
        Some(other_socket),
        Some(other_secret),
        None,
        Some("garbage".into()),
    ] {
        let refused = ws.subscribe(&channel, auth, None).await;
        assert_eq!(error_code(&refused), 4009, "{refused}");
        assert_eq!(refused["channel"], channel.as_str());
    }
    // Nonsense gets a pusher:error, and the connection stays usable.
    for junk in [
        "nope",
        "{}",
        "[1,2]",
        r#"{"event":"pusher:subscribe","data":"{"}"#,
    ] {
        ws.stream.send(Message::Text(junk.into())).await.unwrap();
        assert_eq!(error_code(&ws.next().await), 4200, "{junk}");
    }
    ws.stream
        .send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    assert_eq!(error_code(&ws.next().await), 4200);
    let bad_name = ws.subscribe("no spaces allowed", None, None).await;
    assert_eq!(error_code(&bad_name), 4009);
    let client_on_public = json!({"event": "client-x", "channel": "public", "data": {}});
    ws.send(client_on_public).await;
    assert_eq!(error_code(&ws.next().await), 4301);

    // The right signature subscribes.
    let auth = sign::channel_auth(key, secret, &ws.socket_id, &channel, None);
    let ok = ws.subscribe(&channel, Some(auth), None).await;
    assert_eq!(
        ok["event"], "pusher_internal:subscription_succeeded",
        "{ok}"
    );
    assert_eq!(ok["channel"], channel.as_str());

    // Presence: the member data is part of what is signed.
    let presence = format!("presence-workspace.{}", t.id);
    let data = r#"{"user_id":"u1","user_info":{"name":"Ann"}}"#;
    let auth = sign::channel_auth(key, secret, &ws.socket_id, &presence, Some(data));
    let forged = r#"{"user_id":"boss","user_info":{"name":"Ann"}}"#;
    let refused = ws
        .subscribe(&presence, Some(auth.clone()), Some(forged))
        .await;
    assert_eq!(error_code(&refused), 4009);
    let ok = ws.subscribe(&presence, Some(auth), Some(data)).await;
    assert_eq!(
        ok["event"], "pusher_internal:subscription_succeeded",
        "{ok}"
    );
    assert_eq!(
        ok["data"]["presence"],
        json!({"ids": ["u1"], "hash": {"u1": {"name": "Ann"}}, "count": 1})
    );
    app.finish().await;
}

#[tokio::test]
async fn pings_are_answered_and_a_silent_client_is_closed_with_4201() {
    let app = app_with(|c| {
        c.realtime.activity_timeout_secs = 1;
        c.realtime.pong_timeout_secs = 1;
    })
    .await;
    let t = app.tenant("Heartbeat").await;
    let key = credentials(&app, &t).await["key"]
        .as_str()
        .unwrap()
        .to_string();
    let mut ws = Ws::connect(&app, &key).await;
    ws.send(json!({"event": "pusher:ping", "data": {}})).await;
    assert_eq!(ws.next().await["event"], "pusher:pong");
    // Silent for the activity timeout: the server pings; a pong keeps the
    // connection, and the next silence without one ends it.
    assert_eq!(ws.next().await["event"], "pusher:ping");
    ws.send(json!({"event": "pusher:pong", "data": {}})).await;
    assert_eq!(ws.next().await["event"], "pusher:ping");
    let (code, frames) = ws.closed().await;
    assert_eq!(code, 4201, "{frames:?}");
    assert_eq!(error_code(&frames[0]), 4201);
    app.finish().await;
}

#[tokio::test]
async fn a_client_too_slow_to_read_is_disconnected_with_4100() {
    let app = app_with(|c| c.realtime.send_queue = 8).await;
    let t = app.tenant("Slow Reader").await;
    let key = credentials(&app, &t).await["key"]
        .as_str()
        .unwrap()
        .to_string();
    let mut ws = Ws::connect(&app, &key).await;
    let ok = ws.subscribe("ticker", None, None).await;
    assert_eq!(ok["event"], "pusher_internal:subscription_succeeded");
    // A burst the socket cannot drain in between (this runtime has one
    // thread): the 9th frame does not fit in its queue.
    let hub = &app.state().realtime.hub;
    for i in 0..100 {
        hub.broadcast(t.id, "ticker", None, || {
            blazz::realtime::protocol::frame("tick", Some("ticker"), &i.to_string())
        });
    }
    let (code, frames) = ws.closed().await;
    assert_eq!(code, 4100, "{frames:?}");
    assert_eq!(error_code(frames.last().unwrap()), 4100);
    for _ in 0..100 {
        if hub.connections() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(hub.connections(), 0, "the slow socket was not freed");
    app.finish().await;
}

#[tokio::test]
async fn connections_past_the_cap_are_refused_with_4100() {
    let app = app_with(|c| c.realtime.max_connections = 2).await;
    let t = app.tenant("Crowded").await;
    let key = credentials(&app, &t).await["key"]
        .as_str()
        .unwrap()
        .to_string();
    let _a = Ws::connect(&app, &key).await;
    let b = Ws::connect(&app, &key).await;
    let mut third = Ws {
        stream: Ws::open(&app, &format!("/app/{key}?protocol=7")).await,
        socket_id: String::new(),
    };
    let (code, frames) = third.closed().await;
    assert_eq!(code, 4100);
    assert_eq!(error_code(&frames[0]), 4100);
    // A place frees when a socket leaves.
    drop(b);
    let mut admitted = false;
    for _ in 0..100 {
        if app.state().realtime.hub.connections() < 2 {
            admitted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(admitted);
    Ws::connect(&app, &key).await;
    app.finish().await;
}

#[tokio::test]
async fn client_events_are_relayed_to_others_and_rate_limited() {
    let app = app_with(|c| c.realtime.client_events_per_second = 3).await;
    let t = app.tenant("Whispers").await;
    let creds = credentials(&app, &t).await;
    let (key, secret) = (
        creds["key"].as_str().unwrap(),
        creds["secret"].as_str().unwrap(),
    );
    let channel = format!("presence-workspace.{}", t.id);
    let mut socks = Vec::new();
    for user in ["ann", "bob"] {
        let mut ws = Ws::connect(&app, key).await;
        let data = json!({"user_id": user, "user_info": {"name": user}}).to_string();
        let auth = sign::channel_auth(key, secret, &ws.socket_id, &channel, Some(&data));
        let ok = ws.subscribe(&channel, Some(auth), Some(&data)).await;
        assert_eq!(ok["event"], "pusher_internal:subscription_succeeded");
        socks.push(ws);
    }
    let (ann, bob) = socks.split_at_mut(1);
    let (ann, bob) = (&mut ann[0], &mut bob[0]);
    assert_eq!(ann.next().await["event"], "pusher_internal:member_added");
    for i in 0..4 {
        ann.send(json!({"event": "client-typing", "channel": channel, "data": {"n": i}}))
            .await;
    }
    for i in 0..3 {
        let got = bob.next().await;
        assert_eq!(got["event"], "client-typing");
        assert_eq!(got["data"], json!({"n": i}));
        assert_eq!(
            got["user_id"], "ann",
            "presence client events name the sender"
        );
    }
    // The fourth in the same second is refused, to the sender only.
    assert_eq!(error_code(&ann.next().await), 4301);
    // Not subscribed: refused.
    ann.send(json!({"event": "client-x", "channel": "private-elsewhere", "data": {}}))
        .await;
    assert_eq!(error_code(&ann.next().await), 4009);
    app.finish().await;
}

// ------------------------------------------------------ /broadcasting/auth

async fn authorize(app: &TestApp, token: &str, channel: &str) -> (u16, Value) {
    let resp = app
        .client
        .post(app.url("/broadcasting/auth"))
        .bearer_auth(token)
        .form(&[("socket_id", "1234.5678"), ("channel_name", channel)])
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_auth_endpoint_signs_only_the_callers_own_channels() {
    let app = app_with(|_| {}).await;
    let t = app.tenant("Own Channels").await;
    let other = app.tenant("Their Channels").await;
    let account = connected_account(&app, &t.token).await;
    let theirs = connected_account(&app, &other.token).await;
    let creds = credentials(&app, &t).await;
    let (key, secret) = (
        creds["key"].as_str().unwrap(),
        creds["secret"].as_str().unwrap(),
    );

    let mine = format!("private-workspace.{}", t.id);
    let (status, body) = authorize(&app, &t.token, &mine).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["auth"],
        sign::channel_auth(key, secret, "1234.5678", &mine, None)
    );

    let account_channel = format!("private-account.{account}");
    assert_eq!(authorize(&app, &t.token, &account_channel).await.0, 200);

    let presence = format!("presence-workspace.{}", t.id);
    let (status, body) = authorize(&app, &t.token, &presence).await;
    assert_eq!(status, 200, "{body}");
    let data = body["channel_data"].as_str().unwrap();
    assert_eq!(
        body["auth"],
        sign::channel_auth(key, secret, "1234.5678", &presence, Some(data))
    );
    let member: Value = serde_json::from_str(data).unwrap();
    assert!(member["user_id"].as_str().unwrap().starts_with("token:"));
    assert_eq!(member["user_info"]["name"], "owner token");

    // JSON bodies are read too.
    let (status, _) = app
        .post(
            &t.token,
            "/broadcasting/auth",
            json!({"socket_id": "1.2", "channel_name": mine}),
        )
        .await;
    assert_eq!(status, 200);

    for forbidden in [
        format!("private-workspace.{}", other.id),
        format!("presence-workspace.{}", other.id),
        format!("private-account.{theirs}"),
        format!("private-chat.{}", blazz_domain::ChatId::new()),
        format!("private-campaign.{}", uuid_like()),
        "private-anything".to_string(),
        "public-channel".to_string(),
    ] {
        let answer = authorize(&app, &t.token, &forbidden).await;
        assert_error(&answer, 403, "forbidden");
    }
    let answer = app
        .post(
            &t.token,
            "/broadcasting/auth",
            json!({"socket_id": "x", "channel_name": mine}),
        )
        .await;
    assert_error(&answer, 422, "invalid_socket_id");
    let answer = authorize(&app, "blz_nope", &mine).await;
    assert_eq!(answer.0, 401);
    app.finish().await;
}

/// The hidden `csrf` field of a page's first form.
fn csrf_field(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).expect("a csrf field") + marker.len();
    let end = page[start..].find('"').unwrap() + start;
    page[start..end].to_string()
}

#[tokio::test]
async fn a_signed_in_browser_is_authorised_as_its_person() {
    let app = app_with(|_| {}).await;
    let t = app.tenant("Browser Inbox").await;
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = |path: &str| {
        let req = browser.get(app.url(path));
        async move { req.send().await.unwrap().text().await.unwrap() }
    };
    let csrf = csrf_field(&page("/login").await);
    let login = browser
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", &t.owner_email),
            ("password", crate::helpers::PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert!(login.status().is_redirection(), "{}", login.status());
    let session_csrf = csrf_field(&page("/").await);
    let me: Value = serde_json::from_str(&page("/api/v1/me").await).unwrap();

    let presence = format!("presence-workspace.{}", t.id);
    let form = [("socket_id", "77.88"), ("channel_name", presence.as_str())];
    let refused = browser
        .post(app.url("/broadcasting/auth"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        refused.status().as_u16(),
        403,
        "a cookie alone is not enough: CSRF"
    );
    // Laravel Echo sends the token as X-CSRF-TOKEN; header names are
    // case-insensitive.
    let resp = browser
        .post(app.url("/broadcasting/auth"))
        .header("X-CSRF-TOKEN", session_csrf)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await.unwrap();
    let member: Value = serde_json::from_str(body["channel_data"].as_str().unwrap()).unwrap();
    assert_eq!(member["user_id"], me["id"], "{me}");
    assert_eq!(
        member["user_info"],
        json!({"name": "Browser Inbox", "kind": "user"})
    );
    app.finish().await;
}

fn uuid_like() -> String {
    blazz_domain::WorkspaceId::new().to_string()
}

// ------------------------------------------------------- HTTP events API

/// Signs a Pusher HTTP API call the way the server SDKs do.
fn signed_url(
    app: &TestApp,
    app_id: &str,
    key: &str,
    secret: &str,
    path: &str,
    body: &str,
    timestamp: i64,
) -> String {
    let params: Vec<(String, String)> = vec![
        ("auth_key".into(), key.into()),
        ("auth_timestamp".into(), timestamp.to_string()),
        ("auth_version".into(), "1.0".into()),
        ("body_md5".into(), sign::body_md5(body.as_bytes())),
    ];
    let path = path.replace("{app_id}", app_id);
    let signature = sign::api_signature(secret, "POST", &path, &params);
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    app.url(&format!(
        "{path}?{}&auth_signature={signature}",
        query.join("&")
    ))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn post_raw(app: &TestApp, url: &str, body: &str) -> (u16, Value) {
    let resp = app
        .client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_http_events_api_takes_signed_calls_only() {
    let app = app_with(|_| {}).await;
    let t = app.tenant("Triggers").await;
    let creds = credentials(&app, &t).await;
    let (app_id, key, secret) = (
        creds["app_id"].as_str().unwrap(),
        creds["key"].as_str().unwrap(),
        creds["secret"].as_str().unwrap(),
    );
    assert!(app_id.parse::<i64>().is_ok(), "numeric app id: {app_id}");
    let mut listener = Ws::connect(&app, key).await;
    listener.subscribe("orders", None, None).await;
    let mut sender = Ws::connect(&app, key).await;
    sender.subscribe("orders", None, None).await;

    let events = "/apps/{app_id}/events";
    let body = json!({"name": "order.shipped", "channels": ["orders"], "data": "{\"id\":7}", "socket_id": sender.socket_id}).to_string();
    let url = signed_url(&app, app_id, key, secret, events, &body, now());
    let (status, answer) = post_raw(&app, &url, &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer, json!({}));
    let got = listener.next().await;
    assert_eq!(got["event"], "order.shipped");
    assert_eq!(got["channel"], "orders");
    assert_eq!(got["data"], json!({"id": 7}));

    // The socket_id named in the call was left out; a batch reaches both.
    let batch = json!({"batch": [{"channel": "orders", "name": "a", "data": "1"}, {"channel": "orders", "name": "b", "data": "2"}]}).to_string();
    let url = signed_url(
        &app,
        app_id,
        key,
        secret,
        "/apps/{app_id}/batch_events",
        &batch,
        now(),
    );
    assert_eq!(post_raw(&app, &url, &batch).await.0, 200);
    for ws in [&mut sender, &mut listener] {
        let mut names = Vec::new();
        for _ in 0..2 {
            names.push(ws.next().await["event"].as_str().unwrap().to_string());
        }
        assert_eq!(
            names,
            ["a", "b"],
            "socket_id exclusion went too far, or the batch was lost"
        );
    }

    // A wrong secret, a stale or future timestamp, a changed body: 401.
    let wrong = signed_url(&app, app_id, key, "wrong secret", events, &body, now());
    let stale = signed_url(&app, app_id, key, secret, events, &body, now() - 601);
    let future = signed_url(&app, app_id, key, secret, events, &body, now() + 601);
    for url in [wrong, stale, future] {
        let answer = post_raw(&app, &url, &body).await;
        assert_error(&answer, 401, "bad_signature");
    }
    let url = signed_url(&app, app_id, key, secret, events, &body, now());
    let tampered = body.replace("order.shipped", "order.cancelled");
    assert_error(&post_raw(&app, &url, &tampered).await, 401, "bad_signature");
    // Another app's id with this app's signature.
    let other = app.tenant("Other App").await;
    let other_id = credentials(&app, &other).await["app_id"]
        .as_str()
        .unwrap()
        .to_string();
    let url = signed_url(&app, &other_id, key, secret, events, &body, now());
    assert_error(&post_raw(&app, &url, &body).await, 401, "bad_signature");
    let url = signed_url(&app, "999999", key, secret, events, &body, now());
    assert_error(&post_raw(&app, &url, &body).await, 404, "app_not_found");

    // Too large, or no channel: refused even when signed.
    let big = json!({"name": "big", "channel": "orders", "data": "x".repeat(10_241)}).to_string();
    let url = signed_url(&app, app_id, key, secret, events, &big, now());
    assert_error(&post_raw(&app, &url, &big).await, 413, "payload_too_large");
    let none = json!({"name": "x", "channels": [], "data": "1"}).to_string();
    let url = signed_url(&app, app_id, key, secret, events, &none, now());
    assert_error(&post_raw(&app, &url, &none).await, 400, "invalid_event");
    app.finish().await;
}

// ----------------------------------------------------------- credentials

#[tokio::test]
async fn members_read_the_key_admins_see_the_secret_and_rotate_it() {
    let app = app_with(|_| {}).await;
    let t = app.tenant("Rotation").await;
    let agent = app.token(t.id, Role::Agent).await;
    let creds = credentials(&app, &t).await;
    assert!(creds["secret"].is_string());
    assert_eq!(
        creds["channels"]["workspace"],
        format!("private-workspace.{}", t.id)
    );
    assert!(creds["ws_url"]
        .as_str()
        .unwrap()
        .starts_with("ws://127.0.0.1:"));
    assert!(creds["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["name"] == "message.created"));
    let (status, seen) = app.get(&agent, "/api/v1/realtime").await;
    assert_eq!(status, 200);
    assert_eq!(seen["key"], creds["key"]);
    assert_eq!(seen["app_id"], creds["app_id"]);
    assert!(seen.get("secret").is_none(), "{seen}");
    assert_error(
        &app.post(&agent, "/api/v1/realtime/rotate", json!({})).await,
        403,
        "forbidden",
    );

    let old_key = creds["key"].as_str().unwrap().to_string();
    let mut open = Ws::connect(&app, &old_key).await;
    let (status, rotated) = app
        .post(&t.token, "/api/v1/realtime/rotate", json!({}))
        .await;
    assert_eq!(status, 200, "{rotated}");
    assert_eq!(rotated["app_id"], creds["app_id"]);
    assert_ne!(rotated["key"], creds["key"]);
    assert_ne!(rotated["secret"], creds["secret"]);
    // Open sockets are told to reconnect; the old key no longer connects.
    assert_eq!(open.closed().await.0, 4200);
    let mut stale = Ws {
        stream: Ws::open(&app, &format!("/app/{old_key}?protocol=7")).await,
        socket_id: String::new(),
    };
    assert_eq!(stale.closed().await.0, 4001);
    Ws::connect(&app, rotated["key"].as_str().unwrap()).await;
    let (_, audit) = app.get(&t.token, "/api/v1/audit").await;
    let entry = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "realtime.rotated")
        .cloned()
        .unwrap_or_else(|| panic!("no audit entry: {audit}"));
    assert!(!entry
        .to_string()
        .contains(rotated["secret"].as_str().unwrap()));
    app.finish().await;
}
