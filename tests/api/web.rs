//! The web sign-in surface as a new user meets it: first-run setup, sign-in
//! and sign-out, CSRF, invitations, the workspace switcher and two-factor
//! sign-in, driven by a cookie-keeping client that does not follow redirects.

use blazz::auth::totp;
use blazz::jobs::Registry;
use serde_json::json;

use crate::helpers::{TestApp, PASSWORD};
use crate::web_client::{invite, invite_path, Page, Web};

async fn count(app: &TestApp, table: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    n
}

fn secret_key(page: &Page) -> String {
    let marker = "class=\"secret\">";
    let start = page
        .body
        .find(marker)
        .unwrap_or_else(|| panic!("no secret key in the page:\n{}", page.body))
        + marker.len();
    let end = page.body[start..].find('<').unwrap() + start;
    page.body[start..end].trim().to_string()
}

fn recovery_codes(page: &Page) -> Vec<String> {
    let start = page
        .body
        .find("data-testid=\"recovery-codes\"")
        .unwrap_or_else(|| panic!("no recovery codes in the page:\n{}", page.body));
    let end = page.body[start..].find("</ul>").unwrap() + start;
    page.body[start..end]
        .split("<li>")
        .skip(1)
        .map(|li| li.split("</li>").next().unwrap().trim().to_string())
        .collect()
}

fn code_now(secret: &str) -> String {
    totp::code_at(secret, totp::now_secs()).unwrap()
}

/// The code of the next 30-second step: a code is accepted once, and
/// `enable_totp` spent the current one.
fn code_next(secret: &str) -> String {
    totp::code_at(secret, totp::now_secs() + 30).unwrap()
}

/// Six digits that are not the code of this, the previous or the next two
/// 30-second steps.
fn wrong_code(secret: &str) -> String {
    let now = totp::now_secs();
    let near: Vec<String> = [now.saturating_sub(30), now, now + 30, now + 60]
        .iter()
        .map(|t| totp::code_at(secret, *t).unwrap())
        .collect();
    (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|c| !near.contains(c))
        .unwrap()
}

/// Turns two-factor sign-in on for the signed-in browser; returns the secret
/// and the recovery codes.
async fn enable_totp(browser: &Web) -> (String, Vec<String>) {
    let csrf = browser.csrf().await;
    let setup = browser
        .post("/settings/security/totp", &[("csrf", &csrf)])
        .await;
    setup.assert_status(200);
    let secret = secret_key(&setup);
    assert!(
        secret.len() >= 16
            && secret
                .chars()
                .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c)),
        "the key is base32: {secret}"
    );
    let done = browser
        .post(
            "/settings/security/totp/confirm",
            &[("csrf", &csrf), ("code", &code_now(&secret))],
        )
        .await;
    done.assert_status(200);
    let codes = recovery_codes(&done);
    (secret, codes)
}

// ---------------------------------------------------------------------------
// First run and sign-up
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_fresh_install_sends_the_first_visitor_to_setup() {
    let app = TestApp::spawn().await;
    let browser = Web::new(&app);
    browser.get("/").await.assert_redirect("/setup");
    browser.get("/login").await.assert_redirect("/setup");
    let form = browser.get("/setup").await;
    form.assert_status(200);
    assert!(form.body.contains("action=\"/setup\""), "{}", form.body);
    assert!(!form.csrf().is_empty());
    app.finish().await;
}

#[tokio::test]
async fn setup_creates_the_owner_and_workspace_and_signs_in() {
    let app = TestApp::spawn().await;
    let browser = Web::new(&app);
    let done = browser
        .create_account("/setup", "Asha", "asha@example.com", "Acme Support")
        .await;
    done.assert_redirect("/");
    let cookie = done
        .set_cookie("blazz_session")
        .expect("setup sets the session cookie")
        .to_ascii_lowercase();
    assert!(cookie.contains("; httponly"), "{cookie}");
    assert!(cookie.contains("; samesite=lax"), "{cookie}");
    assert!(cookie.contains("; path=/"), "{cookie}");
    assert!(
        cookie.contains(&format!("; max-age={}", 14 * 24 * 3600)),
        "lasts session_hours: {cookie}"
    );
    assert!(
        !cookie.contains("; secure"),
        "plain HTTP by default: {cookie}"
    );
    assert!(!done.session_cookie().is_empty());

    let home = browser.get("/").await;
    home.assert_status(200);
    assert!(home.body.contains("<h1>Acme Support</h1>"), "{}", home.body);
    assert!(home.body.contains("asha@example.com"), "{}", home.body);
    assert!(home.body.contains("Owner of acme-support"), "{}", home.body);

    let (status, me) = browser.me().await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["kind"], "user");
    assert_eq!(me["name"], "Asha");
    assert_eq!(me["role"], "owner");
    let (ws_id,): (String,) = sqlx::query_as("SELECT id FROM workspaces")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(me["workspace_id"], ws_id.as_str());
    assert_eq!(count(&app, "users").await, 1);
    assert_eq!(count(&app, "memberships").await, 1);
    app.finish().await;
}

#[tokio::test]
async fn cookies_are_marked_secure_when_served_over_https() {
    let app = TestApp::spawn_with(|c| c.secure_cookies = true, Registry::builtin()).await;
    let browser = Web::new(&app);
    let form = browser.get("/setup").await;
    let csrf_cookie = form.set_cookie("blazz_csrf").unwrap().to_ascii_lowercase();
    assert!(csrf_cookie.contains("; secure"), "{csrf_cookie}");
    assert!(csrf_cookie.contains("; httponly"), "{csrf_cookie}");
    // A browser sends a Secure cookie back only over HTTPS; send it by hand.
    let token = form.csrf();
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let done = Page::from_response(
        plain
            .post(app.url("/setup"))
            .header(reqwest::header::COOKIE, format!("blazz_csrf={token}"))
            .form(&[
                ("csrf", token.as_str()),
                ("name", "Asha"),
                ("email", "asha@example.com"),
                ("password", PASSWORD),
                ("workspace", "Acme"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    done.assert_redirect("/");
    let session = done
        .set_cookie("blazz_session")
        .unwrap()
        .to_ascii_lowercase();
    assert!(session.contains("; secure"), "{session}");
    assert!(session.contains("; httponly"), "{session}");
    assert!(session.contains("; samesite=lax"), "{session}");
    app.finish().await;
}

#[tokio::test]
async fn setup_is_closed_once_an_owner_exists() {
    let app = TestApp::spawn().await;
    let owner = Web::new(&app);
    // The owner's browser still holds the setup form's token.
    let form = owner.get("/setup").await;
    let stale_csrf = form.csrf();
    owner
        .post(
            "/setup",
            &[
                ("csrf", &stale_csrf),
                ("name", "Asha"),
                ("email", "asha@example.com"),
                ("password", PASSWORD),
                ("workspace", "Acme"),
            ],
        )
        .await
        .assert_redirect("/");

    owner.get("/setup").await.assert_redirect("/login");
    let stranger = Web::new(&app);
    stranger.get("/setup").await.assert_redirect("/login");

    // Posting the setup form again, with a valid form token, is refused.
    let again = owner
        .post(
            "/setup",
            &[
                ("csrf", &stale_csrf),
                ("name", "Mallory"),
                ("email", "mallory@example.com"),
                ("password", PASSWORD),
                ("workspace", "Takeover"),
            ],
        )
        .await;
    assert!(
        again.status >= 400 && again.status < 500,
        "{} {}",
        again.status,
        again.body
    );
    assert!(again.set_cookie("blazz_session").is_none());
    let csrf = stranger.get("/login").await.csrf();
    let again = stranger
        .post(
            "/setup",
            &[
                ("csrf", &csrf),
                ("name", "Mallory"),
                ("email", "mallory@example.com"),
                ("password", PASSWORD),
                ("workspace", "Takeover"),
            ],
        )
        .await;
    assert!(
        again.status >= 400 && again.status < 500,
        "{} {}",
        again.status,
        again.body
    );
    assert!(again.set_cookie("blazz_session").is_none());
    assert_eq!(count(&app, "users").await, 1);
    assert_eq!(count(&app, "workspaces").await, 1);
    assert_eq!(count(&app, "web_sessions").await, 1);
    app.finish().await;
}

#[tokio::test]
async fn setup_form_errors_show_the_form_again_and_create_nothing() {
    let app = TestApp::spawn().await;
    let browser = Web::new(&app);
    let csrf = browser.get("/setup").await.csrf();
    let short = browser
        .post(
            "/setup",
            &[
                ("csrf", &csrf),
                ("name", "Asha"),
                ("email", "asha@example.com"),
                ("password", "short"),
                ("workspace", "Acme"),
            ],
        )
        .await;
    assert_eq!(short.status, 422, "{}", short.body);
    assert!(short.body.contains("action=\"/setup\""), "{}", short.body);
    assert!(short.body.contains("at least 10"), "{}", short.body);
    // What was typed is kept (but never the password), and the form still
    // carries a usable token.
    assert!(
        short.body.contains("value=\"asha@example.com\""),
        "{}",
        short.body
    );
    assert_eq!(short.csrf(), csrf);
    let bad_email = browser
        .post(
            "/setup",
            &[
                ("csrf", &csrf),
                ("name", "Asha"),
                ("email", "not-an-email"),
                ("password", PASSWORD),
                ("workspace", "Acme"),
            ],
        )
        .await;
    assert_eq!(bad_email.status, 422, "{}", bad_email.body);
    assert_eq!(count(&app, "users").await, 0);
    assert_eq!(count(&app, "workspaces").await, 0);
    browser.get("/").await.assert_redirect("/setup");
    app.finish().await;
}

#[tokio::test]
async fn signup_is_not_found_while_closed() {
    let app = TestApp::spawn().await;
    app.tenant("Acme").await;
    let browser = Web::new(&app);
    assert_eq!(browser.get("/signup").await.status, 404);
    let login = browser.get("/login").await;
    login.assert_status(200);
    assert!(!login.body.contains("href=\"/signup\""), "{}", login.body);
    let posted = browser
        .post(
            "/signup",
            &[
                ("csrf", &login.csrf()),
                ("name", "Bo"),
                ("email", "bo@example.com"),
                ("password", PASSWORD),
                ("workspace", "Bo's Shop"),
            ],
        )
        .await;
    assert_eq!(posted.status, 404, "{}", posted.body);
    assert_eq!(count(&app, "users").await, 1);
    app.finish().await;
}

#[tokio::test]
async fn open_signup_creates_an_account_with_a_workspace_of_its_own() {
    let app = TestApp::spawn_with(|c| c.signup_open = true, Registry::builtin()).await;
    app.tenant("Acme").await;
    let browser = Web::new(&app);
    let login = browser.get("/login").await;
    assert!(login.body.contains("href=\"/signup\""), "{}", login.body);
    let done = browser
        .create_account("/signup", "Bo", "bo@example.com", "Bo <Shop>")
        .await;
    done.assert_redirect("/");
    assert!(done.set_cookie("blazz_session").is_some());
    let home = browser.get("/").await;
    home.assert_status(200);
    assert!(
        home.body.contains("<h1>Bo &lt;Shop&gt;</h1>"),
        "the name is shown, escaped: {}",
        home.body
    );
    let (status, me) = browser.me().await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["role"], "owner");
    assert_eq!(count(&app, "users").await, 2);
    assert_eq!(count(&app, "workspaces").await, 2);

    // The same e-mail cannot sign up twice.
    let other = Web::new(&app);
    let twice = other
        .create_account("/signup", "Bo again", "BO@example.com", "Bo Two")
        .await;
    assert_eq!(twice.status, 422, "{}", twice.body);
    assert!(
        twice
            .body
            .contains("An account with this e-mail exists already"),
        "{}",
        twice.body
    );
    assert!(twice.set_cookie("blazz_session").is_none());
    assert_eq!(count(&app, "users").await, 2);
    app.finish().await;
}

// ---------------------------------------------------------------------------
// CSRF
// ---------------------------------------------------------------------------

/// Posts a complete first-run form, with `csrf` as its token field (none
/// when `None`).
async fn post_setup(browser: &Web, csrf: Option<&str>) -> Page {
    let mut form = vec![
        ("name", "Asha"),
        ("email", "asha@example.com"),
        ("password", PASSWORD),
        ("workspace", "Acme"),
    ];
    if let Some(token) = csrf {
        form.push(("csrf", token));
    }
    browser.post("/setup", &form).await
}

#[tokio::test]
async fn setup_posts_without_the_form_token_are_refused() {
    let app = TestApp::spawn().await;
    let browser = Web::new(&app);
    let csrf = browser.get("/setup").await.csrf();
    let missing = post_setup(&browser, None).await;
    assert_eq!(missing.status, 403, "{}", missing.body);
    let wrong = post_setup(&browser, Some(&"x".repeat(43))).await;
    assert_eq!(wrong.status, 403, "{}", wrong.body);
    let empty = post_setup(&browser, Some("")).await;
    assert_eq!(empty.status, 403, "{}", empty.body);
    // A token from one browser is worthless in another (no cookie there).
    let stolen = post_setup(&Web::new(&app), Some(&csrf)).await;
    assert_eq!(stolen.status, 403, "{}", stolen.body);
    for page in [&missing, &wrong, &empty, &stolen] {
        assert!(page.set_cookie("blazz_session").is_none());
    }
    assert_eq!(count(&app, "users").await, 0);
    assert_eq!(count(&app, "workspaces").await, 0);
    assert_eq!(count(&app, "web_sessions").await, 0);
    browser.get("/").await.assert_redirect("/setup");
    // The right token still works.
    post_setup(&browser, Some(&csrf)).await.assert_redirect("/");
    assert_eq!(count(&app, "users").await, 1);
    app.finish().await;
}

#[tokio::test]
async fn login_posts_without_the_form_token_are_refused() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Acme").await;
    let browser = Web::new(&app);
    let csrf = browser.get("/login").await.csrf();
    let missing = browser
        .post(
            "/login",
            &[("email", &t.owner_email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(missing.status, 403, "{}", missing.body);
    let wrong = browser
        .post(
            "/login",
            &[
                ("csrf", "not-the-token-not-the-token-not-the-token!"),
                ("email", &t.owner_email),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(wrong.status, 403, "{}", wrong.body);
    let other = Web::new(&app);
    let stolen = other
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("email", &t.owner_email),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(stolen.status, 403, "{}", stolen.body);
    for page in [&missing, &wrong, &stolen] {
        assert!(page.set_cookie("blazz_session").is_none());
    }
    assert_eq!(count(&app, "web_sessions").await, 0);
    browser.get("/").await.assert_redirect("/login");
    app.finish().await;
}

#[tokio::test]
async fn sign_out_needs_the_sessions_form_token() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Acme").await;
    let browser = Web::new(&app);
    // The anonymous form token the browser got before signing in.
    let anonymous = browser.get("/login").await.csrf();
    browser.sign_in(&t.owner_email).await;
    let csrf = browser.csrf().await;
    assert_ne!(csrf, anonymous, "the session has a token of its own");

    let missing = browser.post("/logout", &[]).await;
    assert_eq!(missing.status, 403, "{}", missing.body);
    let wrong = browser.post("/logout", &[("csrf", &anonymous)]).await;
    assert_eq!(wrong.status, 403, "{}", wrong.body);
    browser.get("/").await.assert_status(200);
    assert_eq!(count(&app, "web_sessions").await, 1);

    browser
        .post("/logout", &[("csrf", &csrf)])
        .await
        .assert_redirect("/login");
    browser.get("/").await.assert_redirect("/login");
    assert_eq!(count(&app, "web_sessions").await, 0);
    app.finish().await;
}

#[tokio::test]
async fn a_signed_in_browser_calls_the_api_only_with_the_csrf_header() {
    let app = TestApp::spawn().await;
    let browser = Web::new(&app);
    browser
        .create_account("/setup", "Asha", "asha@example.com", "Acme")
        .await
        .assert_redirect("/");
    let csrf = browser.csrf().await;

    let (status, me) = browser.me().await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["kind"], "user");
    assert_eq!(me["role"], "owner");

    let body = || Some(json!({"email": "bo@example.com", "role": "agent"}));
    let post = reqwest::Method::POST;
    let (status, err) = browser
        .api(post.clone(), "/api/v1/invitations", None, body())
        .await;
    assert_eq!(status, 403, "{err}");
    let (status, err) = browser
        .api(post.clone(), "/api/v1/invitations", Some("wrong"), body())
        .await;
    assert_eq!(status, 403, "{err}");
    let (status, err) = browser
        .api(post.clone(), "/api/v1/invitations", Some(""), body())
        .await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(count(&app, "invitations").await, 0);

    let (status, inv) = browser
        .api(post, "/api/v1/invitations", Some(&csrf), body())
        .await;
    assert_eq!(status, 201, "{inv}");
    assert_eq!(inv["email"], "bo@example.com");
    assert!(inv["link"].as_str().unwrap().contains("/invite/"), "{inv}");
    assert_eq!(count(&app, "invitations").await, 1);

    // Reads need no header; the audit log names the signed-in person.
    let (status, audit) = browser
        .api(reqwest::Method::GET, "/api/v1/audit", None, None)
        .await;
    assert_eq!(status, 200, "{audit}");
    assert_eq!(audit["data"][0]["action"], "invitation.created");
    assert_eq!(audit["data"][0]["actor_kind"], "user");
    app.finish().await;
}

// ---------------------------------------------------------------------------
// Signing in and out
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_wrong_password_shows_the_form_again_with_401() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Acme").await;
    let browser = Web::new(&app);
    let wrong = browser.login(&t.owner_email, "not the password").await;
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    assert!(wrong.body.contains("action=\"/login\""), "{}", wrong.body);
    assert!(
        wrong.body.contains("Wrong e-mail or password."),
        "{}",
        wrong.body
    );
    assert!(
        wrong.body.contains(&format!("value=\"{}\"", t.owner_email)),
        "the e-mail is kept: {}",
        wrong.body
    );
    assert!(!wrong.body.contains("not the password"));
    assert!(wrong.set_cookie("blazz_session").is_none());

    // An unknown e-mail gets the very same answer.
    let unknown = browser.login("nobody@example.com", PASSWORD).await;
    assert_eq!(unknown.status, 401, "{}", unknown.body);
    assert!(unknown.body.contains("Wrong e-mail or password."));
    assert_eq!(count(&app, "web_sessions").await, 0);

    // The form shown again works.
    let csrf = wrong.csrf();
    let right = browser
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("email", &t.owner_email),
                ("password", PASSWORD),
            ],
        )
        .await;
    right.assert_redirect("/");
    app.finish().await;
}

#[tokio::test]
async fn the_right_password_signs_in_with_a_session_cookie() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Acme").await;
    let browser = Web::new(&app);
    let done = browser.login(&t.owner_email.to_uppercase(), PASSWORD).await;
    done.assert_redirect("/");
    let cookie = done
        .set_cookie("blazz_session")
        .unwrap()
        .to_ascii_lowercase();
    assert!(cookie.contains("; httponly"), "{cookie}");
    assert!(cookie.contains("; samesite=lax"), "{cookie}");
    let home = browser.get("/").await;
    home.assert_status(200);
    assert!(home.body.contains("<h1>Acme</h1>"), "{}", home.body);
    let (status, me) = browser.me().await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["workspace_id"], t.id.to_string());
    app.finish().await;
}

#[tokio::test]
async fn signing_out_ends_the_session_for_good() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Acme").await;
    let browser = Web::new(&app);
    let done = browser.login(&t.owner_email, PASSWORD).await;
    done.assert_redirect("/");
    let secret = done.session_cookie();
    browser.get("/").await.assert_status(200);

    // The cookie value alone is the credential.
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let me = |client: &reqwest::Client| {
        client
            .get(app.url("/api/v1/me"))
            .header(reqwest::header::COOKIE, format!("blazz_session={secret}"))
            .send()
    };
    assert_eq!(me(&plain).await.unwrap().status().as_u16(), 200);

    browser.logout().await;
    assert_eq!(count(&app, "web_sessions").await, 0);
    assert_eq!(me(&plain).await.unwrap().status().as_u16(), 401);
    assert_eq!(browser.me().await.0, 401);
    browser.get("/").await.assert_redirect("/login");
    let replayed = plain
        .get(app.url("/"))
        .header(reqwest::header::COOKIE, format!("blazz_session={secret}"))
        .send()
        .await
        .unwrap();
    assert!(replayed.status().is_redirection());
    assert_eq!(
        replayed.headers()[reqwest::header::LOCATION]
            .to_str()
            .unwrap(),
        "/login"
    );
    app.finish().await;
}

#[tokio::test]
async fn sign_in_attempts_are_rate_limited() {
    let app = TestApp::spawn_with(|c| c.limits.login_per_minute = 3, Registry::builtin()).await;
    let t = app.tenant("Acme").await;
    let browser = Web::new(&app);
    for _ in 0..3 {
        assert_eq!(
            browser
                .login(&t.owner_email, "wrong password!")
                .await
                .status,
            401
        );
    }
    let limited = browser.login(&t.owner_email, PASSWORD).await;
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert!(limited.body.contains("rate_limited"), "{}", limited.body);
    assert!(limited.set_cookie("blazz_session").is_none());
    assert_eq!(count(&app, "web_sessions").await, 0);
    // The limit is per client address too: another e-mail from the same
    // address is refused as well.
    let other = browser.login("someone@example.com", PASSWORD).await;
    assert_eq!(other.status, 429, "{}", other.body);
    app.finish().await;
}

// ---------------------------------------------------------------------------
// Invitations and workspaces
// ---------------------------------------------------------------------------

#[tokio::test]
async fn an_invitation_link_creates_an_account_and_signs_it_in() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Acme").await;
    let path = invite(&app, &t.token, "Bo@Example.com", "agent").await;

    let bo = Web::new(&app);
    let form = bo.get(&path).await;
    form.assert_status(200);
    assert!(form.body.contains("Join Acme"), "{}", form.body);
    assert!(form.body.contains("bo@example.com"), "{}", form.body);
    assert!(
        form.body.contains("name=\"name\""),
        "asks for a name: {}",
        form.body
    );
    let csrf = form.csrf();

    // A too-short password shows the form again and spends nothing.
    let short = bo
        .post(
            &path,
            &[("csrf", &csrf), ("name", "Bo"), ("password", "short")],
        )
        .await;
    assert_eq!(short.status, 422, "{}", short.body);
    assert_eq!(count(&app, "users").await, 1);

    let joined = bo
        .post(
            &path,
            &[("csrf", &csrf), ("name", "Bo"), ("password", PASSWORD)],
        )
        .await;
    joined.assert_redirect("/");
    assert!(joined.set_cookie("blazz_session").is_some());
    let home = bo.get("/").await;
    home.assert_status(200);
    assert!(home.body.contains("<h1>Acme</h1>"), "{}", home.body);
    assert!(home.body.contains("bo@example.com"), "{}", home.body);
    assert!(home.body.contains("Agent of acme"), "{}", home.body);
    let (status, me) = bo.me().await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["workspace_id"], t.id.to_string());
    assert_eq!(me["role"], "agent");
    assert_eq!(me["name"], "Bo");

    // The new account signs in with its password afterwards.
    bo.logout().await;
    bo.sign_in("bo@example.com").await;
    app.finish().await;
}

#[tokio::test]
async fn an_invitation_link_works_only_once() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Acme").await;
    let path = invite(&app, &t.token, "bo@example.com", "agent").await;
    let bo = Web::new(&app);
    bo.accept_invitation(&path, "Bo").await.assert_redirect("/");

    let again = Web::new(&app);
    assert_eq!(again.get(&path).await.status, 404);
    let csrf = again.get("/login").await.csrf();
    let reused = again
        .post(
            &path,
            &[("csrf", &csrf), ("name", "Eve"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(reused.status, 404, "{}", reused.body);
    assert!(reused.set_cookie("blazz_session").is_none());
    // Bo's own browser cannot reuse it either.
    assert_eq!(bo.get(&path).await.status, 404);
    assert_eq!(count(&app, "users").await, 2);
    assert_eq!(count(&app, "memberships").await, 2);

    // A made-up link is not found either.
    assert_eq!(
        again
            .get(&format!("/invite/{}", "a".repeat(43)))
            .await
            .status,
        404
    );
    app.finish().await;
}

#[tokio::test]
async fn a_revoked_invitation_link_is_not_found() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Acme").await;
    let (status, inv) = app
        .post(
            &t.token,
            "/api/v1/invitations",
            json!({"email": "bo@example.com", "role": "agent"}),
        )
        .await;
    assert_eq!(status, 201, "{inv}");
    let path = invite_path(inv["link"].as_str().unwrap());
    let bo = Web::new(&app);
    let csrf = bo.get(&path).await.csrf();
    let (status, _) = app
        .delete(
            &t.token,
            &format!("/api/v1/invitations/{}", inv["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(bo.get(&path).await.status, 404);
    let late = bo
        .post(
            &path,
            &[("csrf", &csrf), ("name", "Bo"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(late.status, 404, "{}", late.body);
    assert_eq!(count(&app, "users").await, 1);
    app.finish().await;
}

#[tokio::test]
async fn an_invitation_link_needs_its_form_token() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Acme").await;
    let path = invite(&app, &t.token, "bo@example.com", "agent").await;
    let bo = Web::new(&app);
    bo.get(&path).await.assert_status(200);
    let refused = bo
        .post(&path, &[("name", "Bo"), ("password", PASSWORD)])
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(count(&app, "users").await, 1);
    // The link was not spent.
    bo.accept_invitation(&path, "Bo").await.assert_redirect("/");
    app.finish().await;
}

#[tokio::test]
async fn an_invitation_for_an_existing_account_asks_for_its_password() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let beta = app.tenant("Beta").await;
    let path = invite(&app, &beta.token, &acme.owner_email, "admin").await;

    let browser = Web::new(&app);
    let form = browser.get(&path).await;
    form.assert_status(200);
    assert!(form.body.contains("Join Beta"), "{}", form.body);
    assert!(
        form.body.contains("confirm with its password"),
        "{}",
        form.body
    );
    assert!(
        !form.body.contains("name=\"name\""),
        "no name asked: {}",
        form.body
    );
    let csrf = form.csrf();

    let wrong = browser
        .post(&path, &[("csrf", &csrf), ("password", "not the password")])
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    assert!(wrong.set_cookie("blazz_session").is_none());
    assert_eq!(count(&app, "memberships").await, 2);

    let joined = browser
        .post(&path, &[("csrf", &csrf), ("password", PASSWORD)])
        .await;
    joined.assert_redirect("/");
    assert_eq!(count(&app, "users").await, 2, "no second account");
    assert_eq!(count(&app, "memberships").await, 3);
    // Landed in the workspace that invited them.
    let home = browser.get("/").await;
    home.assert_status(200);
    assert!(home.body.contains("<h1>Beta</h1>"), "{}", home.body);
    let (status, me) = browser.me().await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["workspace_id"], beta.id.to_string());
    assert_eq!(me["role"], "admin");
    app.finish().await;
}

#[tokio::test]
async fn the_workspace_switcher_changes_the_current_workspace() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let beta = app.tenant("Beta").await;
    let gamma = app.tenant("Gamma").await;
    let browser = Web::new(&app);
    browser.sign_in(&acme.owner_email).await;

    // One workspace: no switcher.
    let home = browser.get("/").await;
    assert!(!home.body.contains("/workspaces/switch"), "{}", home.body);

    let path = invite(&app, &beta.token, &acme.owner_email, "agent").await;
    let csrf = browser.get(&path).await.csrf();
    browser
        .post(&path, &[("csrf", &csrf), ("password", PASSWORD)])
        .await
        .assert_redirect("/");
    assert!(browser.get("/").await.body.contains("<h1>Beta</h1>"));

    // Sign in afresh: the first workspace is the current one.
    browser.logout().await;
    browser.sign_in(&acme.owner_email).await;
    let home = browser.get("/").await;
    home.assert_status(200);
    assert!(home.body.contains("<h1>Acme</h1>"), "{}", home.body);
    assert!(
        home.body.contains("action=\"/workspaces/switch\""),
        "{}",
        home.body
    );
    assert!(
        home.body.contains(&format!("value=\"{}\"", beta.id)),
        "{}",
        home.body
    );
    assert!(
        home.body.contains(&format!("value=\"{}\"", acme.id)),
        "{}",
        home.body
    );
    assert!(!home.body.contains(&format!("value=\"{}\"", gamma.id)));
    let (_, me) = browser.me().await;
    assert_eq!(me["workspace_id"], acme.id.to_string());
    assert_eq!(me["role"], "owner");
    let csrf = home.csrf();

    let beta_id = beta.id.to_string();
    browser
        .post(
            "/workspaces/switch",
            &[("csrf", &csrf), ("workspace", &beta_id)],
        )
        .await
        .assert_redirect("/");
    let home = browser.get("/").await;
    assert!(home.body.contains("<h1>Beta</h1>"), "{}", home.body);
    let (status, me) = browser.me().await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["workspace_id"], beta_id.as_str());
    assert_eq!(me["role"], "agent");
    // The API follows the switch: an agent may not invite.
    let (status, err) = browser
        .api(
            reqwest::Method::POST,
            "/api/v1/invitations",
            Some(&csrf),
            Some(json!({"email": "x@example.com", "role": "agent"})),
        )
        .await;
    assert_eq!(status, 403, "{err}");

    // Not a member of Gamma: not found, and nothing changes.
    let gamma_id = gamma.id.to_string();
    let refused = browser
        .post(
            "/workspaces/switch",
            &[("csrf", &csrf), ("workspace", &gamma_id)],
        )
        .await;
    assert_eq!(refused.status, 404, "{}", refused.body);
    let garbage = browser
        .post(
            "/workspaces/switch",
            &[("csrf", &csrf), ("workspace", "not-an-id")],
        )
        .await;
    assert_eq!(garbage.status, 404, "{}", garbage.body);
    // The switch form needs the session's token too.
    let acme_id = acme.id.to_string();
    let forged = browser
        .post("/workspaces/switch", &[("workspace", &acme_id)])
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    let (_, me) = browser.me().await;
    assert_eq!(me["workspace_id"], beta_id.as_str());

    browser
        .post(
            "/workspaces/switch",
            &[("csrf", &csrf), ("workspace", &acme_id)],
        )
        .await
        .assert_redirect("/");
    assert!(browser.get("/").await.body.contains("<h1>Acme</h1>"));
    app.finish().await;
}

// ---------------------------------------------------------------------------
// Two-factor sign-in
// ---------------------------------------------------------------------------

#[tokio::test]
async fn two_factor_sign_in_asks_for_the_authenticator_code() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Acme").await;
    let browser = Web::new(&app);
    browser.sign_in(&t.owner_email).await;

    let security = browser.get("/settings/security").await;
    security.assert_status(200);
    assert!(
        security.body.contains("Two-factor sign-in is off"),
        "{}",
        security.body
    );

    // Starting and confirming need the session's form token.
    let forged = browser.post("/settings/security/totp", &[]).await;
    assert_eq!(forged.status, 403, "{}", forged.body);

    let (secret, codes) = enable_totp(&browser).await;
    assert_eq!(codes.len(), 10, "{codes:?}");
    let mut unique = codes.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 10, "{codes:?}");
    let security = browser.get("/settings/security").await;
    assert!(
        security
            .body
            .contains("Two-factor sign-in is <strong>on</strong>"),
        "{}",
        security.body
    );
    assert!(
        security.body.contains("10 recovery codes left"),
        "{}",
        security.body
    );
    browser.logout().await;

    // The password alone signs in half-way.
    let half = browser.login(&t.owner_email, PASSWORD).await;
    half.assert_redirect("/login/2fa");
    assert!(half.set_cookie("blazz_session").is_some());
    assert_eq!(browser.me().await.0, 401, "not signed in yet");
    // The home page is not shown (where it sends the browser is checked by
    // the_home_page_sends_a_half_signed_in_browser_to_the_second_step).
    let home = browser.get("/").await;
    assert_eq!(home.status, 303, "{}", home.body);
    assert!(!home.body.contains("<h1>Acme</h1>"));
    browser
        .get("/settings/security")
        .await
        .assert_redirect("/login/2fa");

    let second = browser.get("/login/2fa").await;
    second.assert_status(200);
    assert!(
        second.body.contains("action=\"/login/2fa\""),
        "{}",
        second.body
    );
    let csrf = second.csrf();

    let wrong = browser
        .post(
            "/login/2fa",
            &[("csrf", &csrf), ("code", &wrong_code(&secret))],
        )
        .await;
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    assert!(
        wrong.body.contains("That code is not right."),
        "{}",
        wrong.body
    );
    assert_eq!(browser.me().await.0, 401);

    // The code form needs the session's token.
    let forged = browser
        .post("/login/2fa", &[("code", &code_now(&secret))])
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);

    browser
        .post(
            "/login/2fa",
            &[("csrf", &csrf), ("code", &code_next(&secret))],
        )
        .await
        .assert_redirect("/");
    let home = browser.get("/").await;
    home.assert_status(200);
    assert!(home.body.contains("<h1>Acme</h1>"), "{}", home.body);
    assert_eq!(browser.me().await.0, 200);
    // Once through, the second step sends the browser home.
    browser.get("/login/2fa").await.assert_redirect("/");
    app.finish().await;
}

#[tokio::test]
async fn a_wrong_confirmation_code_leaves_two_factor_off() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Acme").await;
    let browser = Web::new(&app);
    browser.sign_in(&t.owner_email).await;
    let csrf = browser.csrf().await;
    let setup = browser
        .post("/settings/security/totp", &[("csrf", &csrf)])
        .await;
    setup.assert_status(200);
    let secret = secret_key(&setup);
    let wrong = browser
        .post(
            "/settings/security/totp/confirm",
            &[("csrf", &csrf), ("code", &wrong_code(&secret))],
        )
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    assert!(!wrong.body.contains("recovery-codes"));
    assert_eq!(secret_key(&wrong), secret, "the same key is shown again");
    assert_eq!(count(&app, "recovery_codes").await, 0);

    // Still a one-step sign-in.
    browser.logout().await;
    browser
        .login(&t.owner_email, PASSWORD)
        .await
        .assert_redirect("/");
    app.finish().await;
}

#[tokio::test]
async fn a_recovery_code_works_once_and_only_once() {
    let app = TestApp::spawn_with(|c| c.limits.login_per_minute = 100, Registry::builtin()).await;
    let t = app.tenant("Acme").await;
    let browser = Web::new(&app);
    browser.sign_in(&t.owner_email).await;
    let (_, codes) = enable_totp(&browser).await;
    browser.logout().await;

    // Typed in capitals with a space instead of the dash: still the code.
    let typed = codes[3].to_uppercase().replace('-', " ");
    browser
        .sign_in_with_code(&t.owner_email, &typed)
        .await
        .assert_redirect("/");
    browser.get("/").await.assert_status(200);
    let security = browser.get("/settings/security").await;
    assert!(
        security.body.contains("9 recovery codes left"),
        "{}",
        security.body
    );
    browser.logout().await;

    let reused = browser.sign_in_with_code(&t.owner_email, &codes[3]).await;
    assert_eq!(reused.status, 401, "{}", reused.body);
    assert_eq!(browser.me().await.0, 401);
    // Another one still works.
    browser
        .post(
            "/login/2fa",
            &[
                ("csrf", &browser.get("/login/2fa").await.csrf()),
                ("code", &codes[7]),
            ],
        )
        .await
        .assert_redirect("/");
    browser.get("/").await.assert_status(200);
    assert_eq!(browser.me().await.0, 200);
    app.finish().await;
}

#[tokio::test]
async fn turning_two_factor_off_needs_the_password() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Acme").await;
    let browser = Web::new(&app);
    browser.sign_in(&t.owner_email).await;
    enable_totp(&browser).await;
    let csrf = browser.csrf().await;

    let wrong = browser
        .post(
            "/settings/security/totp/disable",
            &[("csrf", &csrf), ("password", "not the password")],
        )
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    assert!(
        wrong.body.contains("The password is not right."),
        "{}",
        wrong.body
    );
    let forged = browser
        .post("/settings/security/totp/disable", &[("password", PASSWORD)])
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    let security = browser.get("/settings/security").await;
    assert!(
        security.body.contains("<strong>on</strong>"),
        "{}",
        security.body
    );

    browser
        .post(
            "/settings/security/totp/disable",
            &[("csrf", &csrf), ("password", PASSWORD)],
        )
        .await
        .assert_redirect("/settings/security");
    let security = browser.get("/settings/security").await;
    assert!(
        security.body.contains("Two-factor sign-in is off"),
        "{}",
        security.body
    );
    assert_eq!(count(&app, "recovery_codes").await, 0);

    // Back to signing in with the password alone.
    browser.logout().await;
    browser
        .login(&t.owner_email, PASSWORD)
        .await
        .assert_redirect("/");
    app.finish().await;
}

#[tokio::test]
async fn turning_two_factor_on_signs_out_other_browsers() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Acme").await;
    let laptop = Web::new(&app);
    let phone = Web::new(&app);
    laptop.sign_in(&t.owner_email).await;
    phone.sign_in(&t.owner_email).await;
    enable_totp(&laptop).await;
    assert_eq!(phone.me().await.0, 401);
    phone.get("/").await.assert_redirect("/login");
    assert_eq!(laptop.me().await.0, 200);
    app.finish().await;
}

#[tokio::test]
async fn an_invitation_accepted_by_a_two_factor_user_still_asks_for_the_code() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let beta = app.tenant("Beta").await;
    let owner = Web::new(&app);
    owner.sign_in(&acme.owner_email).await;
    let (secret, _) = enable_totp(&owner).await;

    let path = invite(&app, &beta.token, &acme.owner_email, "agent").await;
    let fresh = Web::new(&app);
    let csrf = fresh.get(&path).await.csrf();
    fresh
        .post(&path, &[("csrf", &csrf), ("password", PASSWORD)])
        .await
        .assert_redirect("/login/2fa");
    assert_eq!(fresh.me().await.0, 401);
    let csrf = fresh.get("/login/2fa").await.csrf();
    fresh
        .post(
            "/login/2fa",
            &[("csrf", &csrf), ("code", &code_next(&secret))],
        )
        .await
        .assert_redirect("/");
    let home = fresh.get("/").await;
    assert!(home.body.contains("<h1>Beta</h1>"), "{}", home.body);
    app.finish().await;
}

// ---------------------------------------------------------------------------
// Regressions: each of these failed against the first version of src/
// ---------------------------------------------------------------------------

#[tokio::test]
async fn the_home_page_sends_a_half_signed_in_browser_to_the_second_step() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Acme").await;
    let browser = Web::new(&app);
    browser.sign_in(&t.owner_email).await;
    enable_totp(&browser).await;
    browser.logout().await;
    browser
        .login(&t.owner_email, PASSWORD)
        .await
        .assert_redirect("/login/2fa");
    browser.get("/").await.assert_redirect("/login/2fa");
    app.finish().await;
}

#[tokio::test]
async fn the_api_works_right_after_signing_in() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Acme").await;
    let browser = Web::new(&app);
    browser
        .login(&t.owner_email, PASSWORD)
        .await
        .assert_redirect("/");
    let (status, me) = browser.me().await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["workspace_id"], t.id.to_string());
    app.finish().await;
}

#[tokio::test]
async fn an_authenticator_code_signs_in_only_once() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Acme").await;
    let browser = Web::new(&app);
    browser.sign_in(&t.owner_email).await;
    let (secret, _) = enable_totp(&browser).await;
    browser.logout().await;
    // Signs in with the code of the next step (not the one used to confirm).
    let code = totp::code_at(&secret, totp::now_secs() + 30).unwrap();
    browser
        .sign_in_with_code(&t.owner_email, &code)
        .await
        .assert_redirect("/");
    // Someone who saw the password and the code over the shoulder.
    let other = Web::new(&app);
    let replayed = other.sign_in_with_code(&t.owner_email, &code).await;
    assert_eq!(replayed.status, 401, "{}", replayed.body);
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_setup_forms_make_only_one_owner() {
    let app = TestApp::spawn().await;
    let browsers: Vec<Web> = (0..6).map(|_| Web::new(&app)).collect();
    let mut tokens = Vec::new();
    for b in &browsers {
        tokens.push(b.get("/setup").await.csrf());
    }
    let posts = browsers
        .iter()
        .zip(&tokens)
        .enumerate()
        .map(|(i, (b, csrf))| {
            let email = format!("owner{i}@example.com");
            let workspace = format!("Workspace {i}");
            async move {
                b.post(
                    "/setup",
                    &[
                        ("csrf", csrf.as_str()),
                        ("name", "Owner"),
                        ("email", &email),
                        ("password", PASSWORD),
                        ("workspace", &workspace),
                    ],
                )
                .await
                .status
            }
        });
    let statuses = futures::future::join_all(posts).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 303).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(count(&app, "users").await, 1, "{statuses:?}");
    assert_eq!(count(&app, "workspaces").await, 1, "{statuses:?}");
    app.finish().await;
}

#[tokio::test]
async fn an_invitation_link_is_no_way_around_the_sign_in_rate_limit() {
    let app = TestApp::spawn_with(|c| c.limits.login_per_minute = 3, Registry::builtin()).await;
    let victim = app.tenant("Acme").await;
    // Anyone with a workspace of their own can invite any e-mail and gets
    // the link back.
    let evil = app.tenant("Evil").await;
    let path = invite(&app, &evil.token, &victim.owner_email, "agent").await;
    let attacker = Web::new(&app);
    let csrf = attacker.get(&path).await.csrf();
    let mut statuses = Vec::new();
    for guess in [
        "guess number 1",
        "guess number 2",
        "guess number 3",
        "guess number 4",
    ] {
        statuses.push(
            attacker
                .post(&path, &[("csrf", &csrf), ("password", guess)])
                .await
                .status,
        );
    }
    assert_eq!(statuses, [422, 422, 422, 429]);
    app.finish().await;
}

#[tokio::test]
async fn number_forms_need_the_form_token_and_stay_inside_the_workspace() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Acme").await;
    let other = app.tenant("Other").await;
    let number = crate::numbers::connected_account(&app, &t.token).await;
    let theirs = crate::numbers::connected_account(&app, &other.token).await;
    let browser = Web::new(&app);
    browser.sign_in(&t.owner_email).await;
    let csrf = browser.csrf().await;

    // Without the session's form token nothing happens.
    let refused = browser
        .post(&format!("/numbers/{number}/logout"), &[])
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let (_, a) = app
        .get(&t.token, &format!("/api/v1/accounts/{number}"))
        .await;
    assert_eq!(a["status"], "connected");

    // Another workspace's number is not found, whatever the token.
    let page = browser.get(&format!("/numbers/{theirs}")).await;
    assert_eq!(page.status, 404);
    let posted = browser
        .post(&format!("/numbers/{theirs}/logout"), &[("csrf", &csrf)])
        .await;
    assert_eq!(posted.status, 404, "{}", posted.body);
    let (_, a) = app
        .get(&other.token, &format!("/api/v1/accounts/{theirs}"))
        .await;
    assert_eq!(
        a["status"], "connected",
        "the other workspace's number is untouched"
    );
    let list = browser.get("/numbers").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains(&number) && !list.body.contains(&theirs));
    app.finish().await;
}

#[tokio::test]
async fn the_live_script_is_cached_forever_under_its_content_hash() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Acme").await;
    let browser = Web::new(&app);
    browser.sign_in(&t.owner_email).await;
    let page = browser.get("/numbers").await;
    let end = page
        .body
        .find("/live.js")
        .expect("the page loads the live script")
        + "/live.js".len();
    let start = page.body[..end].rfind("/assets/").expect("an /assets/ URL");
    let path = &page.body[start..end];
    let r = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("javascript"));
    assert!(r.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    assert!(r.text().await.unwrap().contains("pusher:subscribe"));
    let stale = app
        .client
        .get(app.url("/assets/000000000000/live.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        stale.status(),
        404,
        "an old build's script is not served as this one"
    );
    app.finish().await;
}
