//! A browser over HTTP for the web page tests: a reqwest client that keeps
//! cookies and shows redirects instead of following them, the pages it is
//! answered with, and the steps every page test takes (signing in, the
//! session's form token, joining a workspace through an invitation).

use std::sync::Mutex;

use serde_json::{json, Value};

use crate::helpers::{TestApp, PASSWORD};

/// A browser: keeps cookies, shows redirects instead of following them.
pub struct Web {
    pub client: reqwest::Client,
    pub base: String,
    /// Every body this browser was answered with, in order.
    seen: Mutex<Vec<String>>,
}

/// What the browser got back.
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub body: String,
}

impl Page {
    /// Reads an answer: its status, `Location`, `Set-Cookie` headers and body.
    pub async fn from_response(resp: reqwest::Response) -> Page {
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .map(|v| v.to_str().unwrap().to_string());
        let set_cookies = resp
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        let body = resp.text().await.unwrap();
        Page {
            status,
            location,
            set_cookies,
            body,
        }
    }

    /// The hidden `csrf` field of the page's first form.
    pub fn csrf(&self) -> String {
        self.input_value("name=\"csrf\" value=\"")
    }

    /// The value of the first input whose attributes end with `marker`
    /// (which ends with `value="`).
    pub fn input_value(&self, marker: &str) -> String {
        let start = self
            .body
            .find(marker)
            .unwrap_or_else(|| panic!("no {marker} in the page:\n{}", self.body))
            + marker.len();
        let end = self.body[start..].find('"').unwrap() + start;
        self.body[start..end].to_string()
    }

    /// The raw `Set-Cookie` header that sets `name`, if any.
    pub fn set_cookie(&self, name: &str) -> Option<&str> {
        let prefix = format!("{name}=");
        self.set_cookies
            .iter()
            .find(|c| c.starts_with(&prefix))
            .map(String::as_str)
    }

    /// The value the `blazz_session` cookie is set to.
    pub fn session_cookie(&self) -> String {
        let header = self
            .set_cookie("blazz_session")
            .expect("a blazz_session cookie is set");
        header["blazz_session=".len()..]
            .split(';')
            .next()
            .unwrap()
            .to_string()
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) {
        assert_eq!(self.status, status, "{}", self.body);
    }

    /// A redirect to exactly `to`.
    #[track_caller]
    pub fn assert_redirect(&self, to: &str) {
        assert!(
            (300..400).contains(&self.status),
            "expected a redirect to {to}, got {}: {}",
            self.status,
            self.body
        );
        assert_eq!(self.location.as_deref(), Some(to), "{}", self.body);
    }

    /// A redirect to somewhere starting with `prefix`; returns where.
    #[track_caller]
    pub fn assert_redirect_starts(&self, prefix: &str) -> String {
        assert!(
            (300..400).contains(&self.status),
            "expected a redirect to {prefix}…, got {}: {}",
            self.status,
            self.body
        );
        let to = self.location.clone().expect("a redirect has a Location");
        assert!(to.starts_with(prefix), "redirect to {to}, not {prefix}…");
        to
    }

    /// An HTML page, not the API's JSON.
    #[track_caller]
    pub fn assert_html(&self) {
        assert!(self.body.starts_with("<!DOCTYPE html>"), "{}", self.body);
    }
}

impl Web {
    pub fn new(app: &TestApp) -> Self {
        Web {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: app.base.clone(),
            seen: Mutex::default(),
        }
    }

    /// A new browser signed in as `email` (see [`Web::sign_in`]).
    pub async fn signed_in(app: &TestApp, email: &str) -> Self {
        let web = Web::new(app);
        web.sign_in(email).await;
        web
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn read(&self, resp: reqwest::Response) -> Page {
        let page = Page::from_response(resp).await;
        self.seen.lock().unwrap().push(page.body.clone());
        page
    }

    pub async fn get(&self, path: &str) -> Page {
        let resp = self.client.get(self.url(path)).send().await.unwrap();
        self.read(resp).await
    }

    /// Posts a form (`application/x-www-form-urlencoded`).
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let resp = self
            .client
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .unwrap();
        self.read(resp).await
    }

    /// Posts a `multipart/form-data` form: `fields`, then, if given, a file
    /// as `(field, filename, content type, bytes)`.
    pub async fn post_multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &str, &str, &[u8])>,
    ) -> Page {
        let boundary = "blazz-test-boundary-7d1f";
        let mut body: Vec<u8> = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        }
        if let Some((field, filename, mime, data)) = file {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n\
                     Content-Type: {mime}\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let resp = self
            .client
            .post(self.url(path))
            .header(
                reqwest::header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .unwrap();
        self.read(resp).await
    }

    /// A JSON API call riding on the browser's cookies, with an optional
    /// `X-CSRF-Token` header.
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        csrf: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.client.request(method, self.url(path));
        if let Some(token) = csrf {
            req = req.header("X-CSRF-Token", token);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// `GET /api/v1/me` with the browser's session.
    pub async fn me(&self) -> (u16, Value) {
        self.api(reqwest::Method::GET, "/api/v1/me", None, None)
            .await
    }

    /// Fills in the first-run (or sign-up) form at `path`.
    pub async fn create_account(
        &self,
        path: &str,
        name: &str,
        email: &str,
        workspace: &str,
    ) -> Page {
        let form = self.get(path).await;
        form.assert_status(200);
        let csrf = form.csrf();
        self.post(
            path,
            &[
                ("csrf", &csrf),
                ("name", name),
                ("email", email),
                ("password", PASSWORD),
                ("workspace", workspace),
            ],
        )
        .await
    }

    /// Signs in with the password form; returns the answer to the post.
    pub async fn login(&self, email: &str, password: &str) -> Page {
        let form = self.get("/login").await;
        form.assert_status(200);
        let csrf = form.csrf();
        self.post(
            "/login",
            &[("csrf", &csrf), ("email", email), ("password", password)],
        )
        .await
    }

    /// Signs in a user without two-factor sign-in: the form sends the
    /// browser home, and the home page opens.
    pub async fn sign_in(&self, email: &str) {
        self.login(email, PASSWORD).await.assert_redirect("/");
        self.get("/").await.assert_status(200);
    }

    /// Signs in with the password, then with `code` on the second step;
    /// returns the answer to the code.
    pub async fn sign_in_with_code(&self, email: &str, code: &str) -> Page {
        self.login(email, PASSWORD)
            .await
            .assert_redirect("/login/2fa");
        let csrf = self.get("/login/2fa").await.csrf();
        self.post("/login/2fa", &[("csrf", &csrf), ("code", code)])
            .await
    }

    /// The session's form token, from the home page's forms.
    pub async fn csrf(&self) -> String {
        let home = self.get("/").await;
        home.assert_status(200);
        home.csrf()
    }

    /// Signs out with the session's form token; lands on the sign-in page.
    pub async fn logout(&self) {
        let csrf = self.csrf().await;
        self.post("/logout", &[("csrf", &csrf)])
            .await
            .assert_redirect("/login");
    }

    /// Opens the invitation at `path` and accepts it as a new user called
    /// `name`; returns the answer to the form.
    pub async fn accept_invitation(&self, path: &str, name: &str) -> Page {
        let csrf = self.get(path).await.csrf();
        self.post(
            path,
            &[("csrf", &csrf), ("name", name), ("password", PASSWORD)],
        )
        .await
    }

    /// How many answers so far contained `text`.
    pub fn answers_with(&self, text: &str) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|b| b.contains(text))
            .count()
    }
}

/// The path (`/invite/{secret}`) of an invitation's link.
pub fn invite_path(link: &str) -> String {
    let at = link.find("/invite/").expect("the link points at /invite/");
    link[at..].to_string()
}

/// Invites `email` into the workspace of `token` as `role` through the API;
/// returns the link's path.
pub async fn invite(app: &TestApp, token: &str, email: &str, role: &str) -> String {
    let (status, inv) = app
        .post(
            token,
            "/api/v1/invitations",
            json!({"email": email, "role": role}),
        )
        .await;
    assert_eq!(status, 201, "{inv}");
    invite_path(inv["link"].as_str().expect("the answer has a link"))
}

/// A new browser that joined the workspace of `token` as `role` through an
/// invitation link, as "Bo Agent", and was sent home signed in.
pub async fn join(app: &TestApp, token: &str, email: &str, role: &str) -> Web {
    let path = invite(app, token, email, role).await;
    let web = Web::new(app);
    web.accept_invitation(&path, "Bo Agent")
        .await
        .assert_redirect("/");
    web
}
