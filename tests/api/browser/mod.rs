//! The web app in a real browser: headless Chromium driven over WebDriver
//! (chromedriver, fantoccini). This module is the harness; each area's
//! walk-through is a file beside it. Screenshots of each page go to
//! `target/screenshots/`. Chromium and chromedriver must be installed
//! (`scripts/test` installs them); without them these tests fail.

mod campaigns;
mod cloud;
mod contacts;
mod inbox;
mod numbers;
mod settings;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::helpers::{TestApp, PASSWORD};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const WAIT: Duration = Duration::from_secs(20);

/// A chromedriver on a free port, and a headless Chromium session on it.
pub struct Browser {
    client: Client,
    _driver: tokio::process::Child,
    base: String,
}

impl Browser {
    pub async fn launch(base: &str) -> Self {
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
        // Keep the page's console so `close` can refuse errors in it.
        caps.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
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

    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_string()
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let e = self.client.find(Locator::Css(css)).await.unwrap();
        e.clear().await.unwrap();
        e.send_keys(text).await.unwrap();
    }

    pub async fn click(&self, css: &str) {
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
    pub async fn press(&self, label: &str) {
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
    pub async fn wait_for(&self, css: &str) -> String {
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
    pub async fn wait_text(&self, css: &str, text: &str) {
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

    pub async fn body(&self) -> String {
        self.client
            .find(Locator::Css("body"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// A value only this page load has: gone if the page reloads.
    pub async fn mark(&self) {
        self.client
            .execute("window.blazzTestMark = 'same page';", vec![])
            .await
            .unwrap();
    }

    pub async fn marked(&self) -> bool {
        let v = self
            .client
            .execute("return window.blazzTestMark || null;", vec![])
            .await
            .unwrap();
        v == Value::String("same page".into())
    }

    /// Chooses the file at `path` in the file input at `css`.
    pub async fn choose_file(&self, css: &str, path: &Path) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .send_keys(path.to_str().unwrap())
            .await
            .unwrap();
    }

    /// The value of the browser's cookie `name` (to fetch as the page would).
    pub async fn cookie(&self, name: &str) -> String {
        self.client
            .get_named_cookie(name)
            .await
            .unwrap_or_else(|e| panic!("no {name} cookie: {e}"))
            .value()
            .to_string()
    }

    pub async fn screenshot(&self, name: &str) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// The page console's errors since the last call (script errors,
    /// Content-Security-Policy refusals), except a failed load with a 4xx
    /// status: tests open not-found pages on purpose.
    pub async fn console_errors(&self) -> Vec<String> {
        let raw = self.client.issue_cmd(ConsoleLog).await.unwrap();
        raw.as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["level"] == "SEVERE")
            .filter_map(|e| e["message"].as_str().map(str::to_string))
            .filter(|m| !(m.contains("Failed to load resource") && m.contains("status of 4")))
            .collect()
    }

    /// Chooses the option with `value` in the `select` at `css`.
    pub async fn select(&self, css: &str, value: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .select_by_value(value)
            .await
            .unwrap();
    }

    /// The current value of the form field at `css`.
    pub async fn value(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default()
    }

    /// Sets a field's value by script: chromedriver types only characters
    /// of the Basic Multilingual Plane, so emoji go in this way.
    pub async fn set_value(&self, css: &str, text: &str) {
        self.client
            .execute(
                "var e = document.querySelector(arguments[0]); e.value = arguments[1]; return !!e;",
                vec![json!(css), json!(text)],
            )
            .await
            .unwrap();
    }

    /// Whether the element `css` is shown (not hidden by the stylesheet).
    pub async fn displayed(&self, css: &str) -> bool {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .is_displayed()
            .await
            .unwrap()
    }

    /// Scrolls the element `css` into the middle of the window (for a
    /// screenshot of what is further down a page).
    pub async fn scroll_to(&self, css: &str) {
        self.client
            .execute(
                "document.querySelector(arguments[0]).scrollIntoView({block: 'center'});",
                vec![json!(css)],
            )
            .await
            .unwrap();
    }

    /// The browser window's size (e.g. 390x844 for a phone).
    pub async fn resize(&self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.unwrap();
    }

    /// First run: from `/`, which sends a fresh install to setup, creates
    /// the owner `name` <`email`> (with the test password) and `workspace`,
    /// and waits for the workspace's home page.
    pub async fn set_up(&self, name: &str, email: &str, workspace: &str) {
        self.goto("/").await;
        assert_eq!(self.path().await, "/setup");
        self.fill("#name", name).await;
        self.fill("#email", email).await;
        self.fill("#password", PASSWORD).await;
        self.fill("#workspace", workspace).await;
        self.press("Create account").await;
        self.wait_text("main", workspace).await;
    }

    /// Adds a sandbox number called `name` on the numbers page and links
    /// it through the sandbox phone; returns its account id.
    pub async fn link_sandbox_number(&self, name: &str) -> String {
        self.goto("/numbers").await;
        self.fill("#number-name", name).await;
        self.press("Add and link").await;
        self.wait_for("[data-live-state=live]").await;
        self.press("Approve on the sandbox phone").await;
        self.wait_for("[data-testid=connected]").await;
        let path = self.path().await;
        assert!(path.starts_with("/numbers/"), "{path}");
        path.trim_start_matches("/numbers/").to_string()
    }

    /// Signs out with the header's button; waits for the sign-in form.
    pub async fn sign_out(&self) {
        self.press("Sign out").await;
        self.wait_for("#email").await;
    }

    /// Signs in as `email` (with the test password) on the sign-in page;
    /// waits for the home page of `workspace`.
    pub async fn sign_in(&self, email: &str, workspace: &str) {
        self.goto("/login").await;
        self.fill("#email", email).await;
        self.fill("#password", PASSWORD).await;
        self.press("Sign in").await;
        self.wait_text("main", workspace).await;
    }

    /// Accepts the invitation at `path` as the new user `name` (with the
    /// test password); waits for the home page of `workspace`.
    pub async fn join(&self, path: &str, name: &str, workspace: &str) {
        self.goto(path).await;
        self.fill("#name", name).await;
        self.fill("#password", PASSWORD).await;
        self.press("Join").await;
        self.wait_text("main", workspace).await;
    }

    /// Ends the session; fails the test if the console showed an error.
    pub async fn close(self) {
        let errors = self.console_errors().await;
        self.client.close().await.unwrap();
        assert!(
            errors.is_empty(),
            "errors in the browser console: {errors:#?}"
        );
    }
}

/// An owner's API token for the app's only workspace (the one set up in
/// the browser).
pub async fn owner_token(app: &TestApp) -> String {
    let (ws,): (String,) = sqlx::query_as("SELECT id FROM workspaces")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    app.token(ws.parse().unwrap(), blazz_domain::Role::Owner)
        .await
}

/// Chromium's console log (chromedriver's `se/log` endpoint), which the
/// WebDriver standard does not name.
#[derive(Debug)]
struct ConsoleLog;

impl fantoccini::wd::WebDriverCompatibleCommand for ConsoleLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.into()))
    }
}
