//! The web app in a real browser: headless Chromium driven over WebDriver
//! (chromedriver, fantoccini). First-run setup, a sandbox number linked by
//! QR code through the sandbox phone with the page following live, and
//! another workspace that sees none of it. Screenshots of each page go to
//! `target/screenshots/`. Chromium and chromedriver must be installed
//! (`scripts/test` installs them); without them this test fails.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::helpers::{TestApp, PASSWORD};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const WAIT: Duration = Duration::from_secs(20);

/// A chromedriver on a free port, and a headless Chromium session on it.
struct Browser {
    client: Client,
    _driver: tokio::process::Child,
    base: String,
}

impl Browser {
    async fn launch(base: &str) -> Self {
        assert!(
            Path::new(CHROMEDRIVER).exists(),
            "{CHROMEDRIVER} is missing: the browser tests need Chromium and its driver \
             (apt-get install -y chromium chromium-driver; scripts/test installs them)"
        );
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let driver = tokio::process::Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {CHROMEDRIVER}: {e}"));
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"args": [
                "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-dev-shm-usage",
                "--window-size=1200,1000"
            ]}),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&url)
            .await
            .unwrap_or_else(|e| panic!("no Chromium session from chromedriver: {e}"));
        Browser {
            client,
            _driver: driver,
            base: base.to_string(),
        }
    }

    async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_string()
    }

    async fn fill(&self, css: &str, text: &str) {
        let e = self.client.find(Locator::Css(css)).await.unwrap();
        e.clear().await.unwrap();
        e.send_keys(text).await.unwrap();
    }

    async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} on {}: {e}", self.base))
            .click()
            .await
            .unwrap();
    }

    /// Clicks the button whose text is `label`. Live regions re-render, so
    /// a button found may be replaced before the click: find it again.
    async fn press(&self, label: &str) {
        let xpath = format!("//button[normalize-space()='{label}']");
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let clicked = match self.client.find(Locator::XPath(&xpath)).await {
                Ok(e) => e.click().await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match clicked {
                Ok(()) => return,
                Err(e) if tokio::time::Instant::now() >= deadline => {
                    panic!("no button {label:?} to press: {e}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Waits until `css` is on the page, and returns its text.
    async fn wait_for(&self, css: &str) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let text = match self.client.find(Locator::Css(css)).await {
                Ok(e) => e.text().await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match text {
                Ok(t) => return t,
                Err(e) if tokio::time::Instant::now() >= deadline => {
                    panic!("{css} never appeared: {e}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Waits until the page's text contains `text`.
    async fn wait_text(&self, css: &str, text: &str) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let now = match self.client.find(Locator::Css(css)).await {
                Ok(e) => e.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if now.contains(text) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{css} never said {text:?}; it says {now:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn body(&self) -> String {
        self.client
            .find(Locator::Css("body"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// A value only this page load has: gone if the page reloads.
    async fn mark(&self) {
        self.client
            .execute("window.blazzTestMark = 'same page';", vec![])
            .await
            .unwrap();
    }

    async fn marked(&self) -> bool {
        let v = self
            .client
            .execute("return window.blazzTestMark || null;", vec![])
            .await
            .unwrap();
        v == Value::String("same page".into())
    }

    async fn screenshot(&self, name: &str) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    async fn close(self) {
        self.client.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sandbox_number_links_live_in_the_browser_and_stays_in_its_workspace() {
    let app = TestApp::spawn().await;
    let b = Browser::launch(&app.base).await;

    // First run: the visitor is sent to setup and becomes the owner.
    b.goto("/").await;
    assert_eq!(b.path().await, "/setup");
    b.screenshot("setup").await;
    b.fill("#name", "Ana Owner").await;
    b.fill("#email", "ana@example.com").await;
    b.fill("#password", PASSWORD).await;
    b.fill("#workspace", "Ana Shop").await;
    b.press("Create account").await;
    b.wait_text("main", "Ana Shop").await;
    b.screenshot("home").await;

    // No numbers yet: the page says what to do.
    b.click("a[href='/numbers']").await;
    let empty = b.wait_for("[data-testid=empty]").await;
    assert!(empty.contains("Sandbox"), "{empty}");
    b.screenshot("numbers-empty").await;

    // Add a sandbox number: its page shows a QR code, live.
    b.fill("#number-name", "Support line").await;
    b.press("Add and link").await;
    b.wait_for(".qr svg").await;
    let number_path = b.path().await;
    assert!(number_path.starts_with("/numbers/"), "{number_path}");
    b.wait_for("[data-live-state=live]").await;
    b.screenshot("number-qr").await;

    // The sandbox phone approves; the page turns "connected" by itself.
    b.mark().await;
    b.press("Approve on the sandbox phone").await;
    let connected = b.wait_for("[data-testid=connected]").await;
    assert!(connected.starts_with("Connected"), "{connected}");
    b.wait_text("[data-status-for]", "Connected").await;
    assert!(b.marked().await, "the page reloaded instead of updating");
    assert_eq!(b.path().await, number_path);

    // A customer writes through the sandbox phone.
    b.press("Send as the customer").await;
    b.wait_text("form[action$='/phone/inbound'] [data-async-result]", "Sent")
        .await;
    b.screenshot("number-connected").await;

    // The list shows the status, and follows it live.
    b.goto("/numbers").await;
    b.wait_text("tbody", "Support line").await;
    b.wait_text("[data-status-for]", "Connected").await;
    b.wait_for("[data-live-state=live]").await;
    b.mark().await;
    let ws: (String,) = sqlx::query_as("SELECT id FROM workspaces")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let token = app
        .token(ws.0.parse().unwrap(), blazz_domain::Role::Owner)
        .await;
    let id = number_path.trim_start_matches("/numbers/");
    let (status, body) = app
        .post(
            &token,
            &format!("/api/v1/sandbox/accounts/{id}/logout"),
            json!({}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    b.wait_text("[data-status-for]", "Not linked").await;
    assert!(b.marked().await, "the list reloaded instead of updating");
    b.screenshot("numbers-list").await;

    // Someone of another workspace finds nothing of Ana's.
    let other = app.tenant("Other Shop").await;
    b.press("Sign out").await;
    b.wait_for("#email").await;
    b.goto("/login").await;
    b.fill("#email", &other.owner_email).await;
    b.fill("#password", PASSWORD).await;
    b.press("Sign in").await;
    b.wait_text("main", "Other Shop").await;
    b.goto("/numbers").await;
    b.wait_for("[data-testid=empty]").await;
    assert!(!b.body().await.contains("Support line"));
    b.goto(&number_path).await;
    b.wait_text("main h1", "Not found").await;
    assert!(!b.body().await.contains("Support line"));
    b.screenshot("other-workspace").await;

    b.close().await;
    app.finish().await;
}
