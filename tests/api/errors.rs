//! Malformed input never panics: every refusal is the JSON error body with
//! a stable code, and nothing is changed by a refused request.

use blazz::jobs::Registry;
use blazz_domain::Role;
use reqwest::header::{HeaderMap, HeaderValue, ALLOW, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};

use crate::helpers::{assert_error, Tenant, TestApp};

/// The API without the job workers and the outbox dispatcher writing beside
/// it. Those are not under test here, and on SQLite any concurrent writer can
/// make a request fail with `database is locked` (a 500): the services open
/// deferred transactions that read before they write (a known src problem).
fn quiet(c: &mut blazz::config::Config) {
    c.jobs.workers = 0;
    c.outbox.dispatch = false;
}

async fn spawn() -> TestApp {
    TestApp::spawn_with(quiet, blazz::jobs::Registry::builtin()).await
}

/// Sends a request built by hand; checks that any error is our JSON body.
async fn send(req: RequestBuilder) -> (u16, HeaderMap, Value) {
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    if status >= 400 {
        assert_eq!(
            headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()),
            Some("application/json"),
            "{status} {body}"
        );
        let error = body["error"]
            .as_object()
            .unwrap_or_else(|| panic!("not an error body: {status} {body}"));
        assert!(
            error["code"].is_string() && error["message"].is_string(),
            "{body}"
        );
        assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    }
    (status, headers, body)
}

#[track_caller]
fn assert_refused(answer: &(u16, HeaderMap, Value), status: u16, code: &str, what: &str) {
    assert_eq!(
        (answer.0, answer.2["error"]["code"].as_str()),
        (status, Some(code)),
        "{what}: {:?}",
        answer.2
    );
}

/// Everything a tenant can see, to show a refused request changed nothing.
async fn state_of(app: &TestApp, t: &Tenant) -> Vec<Value> {
    let mut out = Vec::new();
    for path in [
        "/api/v1/workspace",
        "/api/v1/members",
        "/api/v1/invitations",
        "/api/v1/tokens",
        "/api/v1/audit",
        "/api/v1/jobs",
    ] {
        let (status, mut body) = app.get(&t.token, path).await;
        assert_eq!(status, 200, "{path}: {body}");
        if path == "/api/v1/tokens" {
            for token in body["data"].as_array_mut().unwrap() {
                token["last_used_at"] = Value::Null;
            }
        }
        out.push(body);
    }
    out
}

async fn owner_id(app: &TestApp, t: &Tenant) -> String {
    let (_, members) = app.get(&t.token, "/api/v1/members").await;
    members["data"][0]["user_id"].as_str().unwrap().to_string()
}

async fn token_id(app: &TestApp, token: &str) -> String {
    let (_, me) = app.get(token, "/api/v1/me").await;
    me["id"].as_str().unwrap().to_string()
}

/// The (status, code) answers a request may get.
type Answers = &'static [(u16, &'static str)];

/// Not JSON, or not sent as JSON.
const SYNTAX: Answers = &[(400, "bad_request")];
/// JSON of the wrong shape for the route.
const SHAPE: Answers = &[(422, "invalid_body")];
/// The same, but where the first wrong value lands on a `role`: serde_json
/// reports a non-string enum as a syntax error, so axum calls it one.
const SHAPE_OR_ENUM: Answers = &[(422, "invalid_body"), (400, "bad_request")];

/// Every route that reads a JSON body.
fn body_routes(owner: &str) -> Vec<(Method, String)> {
    vec![
        (Method::POST, "/api/v1/tokens".into()),
        (Method::POST, "/api/v1/invitations".into()),
        (Method::PATCH, "/api/v1/workspace".into()),
        (Method::PATCH, format!("/api/v1/members/{owner}")),
    ]
}

#[tokio::test]
async fn malformed_json_bodies_are_refused_with_a_json_error() {
    let app = spawn().await;
    let t = app.tenant("Bodies").await;
    let owner = owner_id(&app, &t).await;
    let before = state_of(&app, &t).await;
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let json_ct = Some("application/json");
    // (Content-Type, body, the answers allowed): wrong for every route alike.
    let cases: Vec<(Option<&str>, Vec<u8>, Answers)> = vec![
        (json_ct, b"{nope".to_vec(), SYNTAX),
        (json_ct, b"".to_vec(), SYNTAX),
        (json_ct, b"{".to_vec(), SYNTAX),
        (json_ct, b"{\"".to_vec(), SYNTAX),
        (json_ct, b"{\"\xff\xfe\": 1}".to_vec(), SYNTAX),
        (json_ct, b"{'role': 'agent'}".to_vec(), SYNTAX),
        (json_ct, deep.into_bytes(), SHAPE_OR_ENUM),
        (json_ct, b"[1, 2]".to_vec(), SHAPE_OR_ENUM),
        (json_ct, b"null".to_vec(), SHAPE),
        (json_ct, b"\"agent\"".to_vec(), SHAPE),
        (json_ct, b"{}".to_vec(), SHAPE),
        (
            json_ct,
            b"{\"name\": [], \"email\": {}, \"role\": \"agent\"}".to_vec(),
            SHAPE,
        ),
        (
            None,
            b"{\"name\": \"x\", \"role\": \"agent\"}".to_vec(),
            SYNTAX,
        ),
        (
            Some("text/plain"),
            b"{\"name\": \"x\", \"role\": \"agent\"}".to_vec(),
            SYNTAX,
        ),
        (
            Some("application/x-www-form-urlencoded"),
            b"name=x&role=agent".to_vec(),
            SYNTAX,
        ),
    ];
    for (method, path) in body_routes(&owner) {
        for (content_type, body, allowed) in &cases {
            let mut req = app
                .client
                .request(method.clone(), app.url(&path))
                .bearer_auth(&t.token)
                .body(body.clone());
            if let Some(ct) = content_type {
                req = req.header(CONTENT_TYPE, *ct);
            }
            let answer = send(req).await;
            let got = (
                answer.0,
                answer.2["error"]["code"].as_str().unwrap_or_default(),
            );
            let shown = String::from_utf8_lossy(&body[..body.len().min(60)]).to_string();
            assert!(
                allowed.contains(&got),
                "{method} {path} {content_type:?} {shown}: {:?}",
                answer.2
            );
        }
    }

    // A valid body with something after it.
    let valid = [
        json!({"name": "x", "role": "agent"}),
        json!({"email": "a@b.test", "role": "agent"}),
        json!({"name": "x"}),
        json!({"role": "owner"}),
    ];
    for ((method, path), body) in body_routes(&owner).into_iter().zip(valid) {
        for trailer in ["}", " x", ",{}", "\u{0}"] {
            let req = app
                .client
                .request(method.clone(), app.url(&path))
                .bearer_auth(&t.token)
                .header(CONTENT_TYPE, "application/json")
                .body(format!("{body}{trailer}"));
            let what = format!("{method} {path} {body}{trailer:?}");
            assert_refused(&send(req).await, 400, "bad_request", &what);
        }
    }

    // Wrong for one route's schema: wrong types, unknown fields, missing ones.
    let invalid: Vec<(Method, String, Value)> = vec![
        (
            Method::POST,
            "/api/v1/tokens".into(),
            json!({"name": 5, "role": "agent"}),
        ),
        (
            Method::POST,
            "/api/v1/tokens".into(),
            json!({"name": "x", "role": "root"}),
        ),
        (
            Method::POST,
            "/api/v1/tokens".into(),
            json!({"name": "x", "role": "Agent"}),
        ),
        (Method::POST, "/api/v1/tokens".into(), json!({"name": "x"})),
        (
            Method::POST,
            "/api/v1/tokens".into(),
            json!({"name": "x", "role": "agent", "admin": true}),
        ),
        (
            Method::POST,
            "/api/v1/tokens".into(),
            json!({"name": null, "role": "agent"}),
        ),
        (
            Method::POST,
            "/api/v1/invitations".into(),
            json!({"email": ["a@b.test"], "role": "agent"}),
        ),
        (
            Method::POST,
            "/api/v1/invitations".into(),
            json!({"email": "a@b.test", "role": "agent", "workspace_id": "x"}),
        ),
        (
            Method::POST,
            "/api/v1/invitations".into(),
            json!({"role": "agent"}),
        ),
        (
            Method::PATCH,
            "/api/v1/workspace".into(),
            json!({"name": 1.5}),
        ),
        (
            Method::PATCH,
            "/api/v1/workspace".into(),
            json!({"name": "x", "slug": "y"}),
        ),
        (
            Method::PATCH,
            "/api/v1/workspace".into(),
            json!({"slug": "y"}),
        ),
        (
            Method::PATCH,
            format!("/api/v1/members/{owner}"),
            json!({"role": "agent", "email": "x@y.test"}),
        ),
        (
            Method::PATCH,
            format!("/api/v1/members/{owner}"),
            json!({"role": ""}),
        ),
    ];
    for (method, path, body) in invalid {
        let answer = app
            .call(method.clone(), &t.token, &path, Some(body.clone()))
            .await;
        assert_eq!(answer.0, 422, "{method} {path} {body}: {answer:?}");
        assert_error(&answer, 422, "invalid_body");
    }
    // A role that is no string at all is refused too (serde_json reports it
    // as a syntax error, so the code differs from a wrong-typed name).
    for (method, path) in body_routes(&owner) {
        for role in [json!(7), json!(true), json!(null), json!(["agent"])] {
            let body = json!({"name": "x", "email": "a@b.test", "role": role});
            let answer = app.call(method.clone(), &t.token, &path, Some(body)).await;
            let code = answer.1["error"]["code"].as_str();
            assert!(
                matches!(
                    (answer.0, code),
                    (400, Some("bad_request")) | (422, Some("invalid_body"))
                ),
                "{method} {path} role {role}: {answer:?}"
            );
        }
    }
    // Well-formed, but content the service refuses.
    let answer = app
        .post(
            &t.token,
            "/api/v1/tokens",
            json!({"name": "", "role": "agent"}),
        )
        .await;
    assert_error(&answer, 422, "invalid_name");
    let answer = app
        .post(
            &t.token,
            "/api/v1/invitations",
            json!({"email": "nobody", "role": "agent"}),
        )
        .await;
    assert_error(&answer, 422, "invalid_email");

    assert_eq!(
        state_of(&app, &t).await,
        before,
        "a refused request changed something"
    );
    // A JSON media type with parameters is still JSON.
    let req = app
        .client
        .post(app.url("/api/v1/tokens"))
        .bearer_auth(&t.token)
        .header(CONTENT_TYPE, "application/json; charset=utf-8")
        .body(r#"{"name": "charset", "role": "agent"}"#);
    assert_eq!(send(req).await.0, 201);
    app.finish().await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413() {
    let app = spawn().await;
    let t = app.tenant("Big").await;
    let before = state_of(&app, &t).await;
    let huge = json!({"name": "x".repeat(2 * 1024 * 1024), "role": "agent"}).to_string();
    for (method, path) in body_routes(&owner_id(&app, &t).await) {
        let req = app
            .client
            .request(method.clone(), app.url(&path))
            .bearer_auth(&t.token)
            .header(CONTENT_TYPE, "application/json")
            .body(huge.clone());
        assert_refused(
            &send(req).await,
            413,
            "payload_too_large",
            &format!("{method} {path}"),
        );
    }
    // Under the limit the body is read, and its content judged.
    let big = json!({"name": "x".repeat(1000 * 1024), "role": "agent"});
    assert_error(
        &app.post(&t.token, "/api/v1/tokens", big).await,
        422,
        "invalid_name",
    );
    assert_eq!(state_of(&app, &t).await, before);
    app.finish().await;
}

#[tokio::test]
async fn the_body_limit_is_configurable() {
    let app = TestApp::spawn_with(
        |c| {
            quiet(c);
            c.http.body_limit_bytes = 1024
        },
        Registry::builtin(),
    )
    .await;
    let t = app.tenant("Small").await;
    let over = json!({"name": "x".repeat(2048), "role": "agent"});
    assert_error(
        &app.post(&t.token, "/api/v1/tokens", over).await,
        413,
        "payload_too_large",
    );
    let under = json!({"name": "fits", "role": "agent"});
    assert_eq!(app.post(&t.token, "/api/v1/tokens", under).await.0, 201);
    app.finish().await;
}

#[tokio::test]
async fn ids_that_name_nothing_are_404_whatever_they_look_like() {
    let app = spawn().await;
    let t = app.tenant("Ids").await;
    let before = state_of(&app, &t).await;
    let long = "a".repeat(5000);
    let long_digits = "9".repeat(5000);
    // Path segments (percent-encoded where needed) that are no id of any kind.
    let garbage = [
        "garbage",
        "%20",
        "%09",
        "+",
        "-",
        "null",
        "undefined",
        "%7Bid%7D",
        long.as_str(),
        long_digits.as_str(),
        "ünïcödé",
        "%F0%9F%92%A9",
        "%FF%FE",
        "%00",
        "..%2F..%2Fetc%2Fpasswd",
        "1%20OR%201=1",
        "'%3B%20DROP%20TABLE%20jobs%3B--",
        "1.5",
        "1e3",
        "0x10",
        "99999999999999999999999",
        "01a20793-2ede-74da-96ed-e90417a0933",
        "01a20793-2ede-74da-96ed-e90417a09336-1",
    ];
    let unknown_uuid = blazz_domain::UserId::new().to_string();
    let routes: [(Method, &str, Option<Value>, &str, &str); 6] = [
        (
            Method::PATCH,
            "/api/v1/members/",
            Some(json!({"role": "agent"})),
            "",
            "member_not_found",
        ),
        (
            Method::DELETE,
            "/api/v1/members/",
            None,
            "",
            "member_not_found",
        ),
        (
            Method::DELETE,
            "/api/v1/invitations/",
            None,
            "",
            "invitation_not_found",
        ),
        (
            Method::DELETE,
            "/api/v1/tokens/",
            None,
            "",
            "token_not_found",
        ),
        (Method::GET, "/api/v1/jobs/", None, "", "job_not_found"),
        (
            Method::POST,
            "/api/v1/jobs/",
            None,
            "/retry",
            "job_not_found",
        ),
    ];
    for (method, prefix, body, suffix, missing) in &routes {
        for id in garbage {
            let path = format!("{prefix}{id}{suffix}");
            let answer = app
                .call(method.clone(), &t.token, &path, body.clone())
                .await;
            assert_eq!(
                (answer.0, answer.1["error"]["code"].as_str()),
                (404, Some("not_found")),
                "{method} {path}: {answer:?}"
            );
        }
        // Well-formed ids that name nothing get the resource's own code.
        let well_formed: &[&str] = if prefix.contains("jobs") {
            &["0", "-1", "9223372036854775807"]
        } else {
            &[unknown_uuid.as_str()]
        };
        for id in well_formed {
            let path = format!("{prefix}{id}{suffix}");
            assert_error(
                &app.call(method.clone(), &t.token, &path, body.clone())
                    .await,
                404,
                missing,
            );
        }
    }
    assert_eq!(state_of(&app, &t).await, before);
    app.finish().await;
}

#[tokio::test]
async fn unknown_routes_under_the_api_are_404_route_not_found() {
    let app = spawn().await;
    let t = app.tenant("Routes").await;
    let paths = [
        "/api/v1/nope",
        "/api/v1/MEMBERS",
        "/api/v1/members/",
        "/api/v1/tokens/",
        "/api/v1/members/a/b",
        "/api/v1/jobs/1/retry/now",
        "/api/v1/jobs/1/replay",
        "/api/v1/tokens//x",
        "/api/v1/%F0%9F%92%A9",
        "/api/v1/openapi.yaml",
    ];
    for path in paths {
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ] {
            let answer = send(
                app.client
                    .request(method.clone(), app.url(path))
                    .bearer_auth(&t.token),
            )
            .await;
            assert_refused(&answer, 404, "route_not_found", &format!("{method} {path}"));
            // Without credentials too: a missing route is no secret.
            let answer = send(app.client.request(method.clone(), app.url(path))).await;
            assert_refused(
                &answer,
                404,
                "route_not_found",
                &format!("{method} {path} without a token"),
            );
        }
    }
    app.finish().await;
}

#[tokio::test]
async fn a_wrong_method_is_405_and_tells_the_allowed_ones() {
    let app = spawn().await;
    let t = app.tenant("Methods").await;
    let token = token_id(&app, &t.token).await;
    let cases = [
        (Method::PUT, "/api/v1/members".to_string(), "GET"),
        (Method::DELETE, "/api/v1/members".to_string(), "GET"),
        (Method::POST, "/api/v1/me".to_string(), "GET"),
        (Method::DELETE, "/api/v1/workspace".to_string(), "PATCH"),
        (Method::PUT, "/api/v1/tokens".to_string(), "POST"),
        (Method::GET, format!("/api/v1/tokens/{token}"), "DELETE"),
        (Method::PATCH, format!("/api/v1/tokens/{token}"), "DELETE"),
        (Method::GET, "/api/v1/invitations/x".to_string(), "DELETE"),
        (Method::GET, "/api/v1/jobs/1/retry".to_string(), "POST"),
        (Method::DELETE, "/api/v1/jobs/1".to_string(), "GET"),
        (Method::POST, "/api/v1/audit".to_string(), "GET"),
        (Method::POST, "/api/v1/openapi.json".to_string(), "GET"),
    ];
    for (method, path, allowed) in cases {
        let answer = send(
            app.client
                .request(method.clone(), app.url(&path))
                .bearer_auth(&t.token),
        )
        .await;
        assert_refused(
            &answer,
            405,
            "method_not_allowed",
            &format!("{method} {path}"),
        );
        let allow = answer
            .1
            .get(ALLOW)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(
            allow.split(',').any(|m| m.trim() == allowed),
            "{method} {path}: Allow: {allow}"
        );
    }
    assert_eq!(
        app.get(&t.token, "/api/v1/me").await.0,
        200,
        "the token is untouched"
    );
    app.finish().await;
}

#[tokio::test]
async fn requests_without_valid_credentials_are_401() {
    let app = spawn().await;
    let t = app.tenant("Doorman").await;
    let before = state_of(&app, &t).await;
    let (_, created) = app
        .post(
            &t.token,
            "/api/v1/tokens",
            json!({"name": "gone", "role": "admin"}),
        )
        .await;
    let revoked = created["token"].as_str().unwrap().to_string();
    assert_eq!(
        app.delete(
            &t.token,
            &format!("/api/v1/tokens/{}", created["id"].as_str().unwrap())
        )
        .await
        .0,
        204
    );
    let before_revoked = state_of(&app, &t).await;
    assert_ne!(before, before_revoked);

    let unknown = format!("blz_{}", "A".repeat(43));
    let credentials: Vec<Option<HeaderValue>> = vec![
        None,
        Some(HeaderValue::from_static("Bearer")),
        Some(HeaderValue::from_static("Bearer ")),
        Some(HeaderValue::from_static("Bearer garbage")),
        Some(HeaderValue::from_str(&format!("Bearer {unknown}")).unwrap()),
        Some(HeaderValue::from_str(&format!("Bearer {}", &t.token[..46])).unwrap()),
        Some(HeaderValue::from_str(&format!("Bearer {}x", t.token)).unwrap()),
        Some(HeaderValue::from_str(&format!("Basic {}", t.token)).unwrap()),
        Some(HeaderValue::from_str(&t.token).unwrap()),
        Some(HeaderValue::from_bytes(b"Bearer blz_\xff\xfe").unwrap()),
        Some(HeaderValue::from_str(&format!("Bearer {revoked}")).unwrap()),
    ];
    for auth in &credentials {
        for (method, path, body) in [
            (Method::GET, "/api/v1/me", None),
            (
                Method::POST,
                "/api/v1/tokens",
                Some(json!({"name": "sneaky", "role": "owner"})),
            ),
        ] {
            let mut req = app.client.request(method.clone(), app.url(path));
            if let Some(auth) = auth {
                req = req.header(AUTHORIZATION, auth.clone());
            }
            if let Some(body) = body {
                req = req.json(&body);
            }
            assert_refused(
                &send(req).await,
                401,
                "unauthorized",
                &format!("{method} {path} with {auth:?}"),
            );
        }
    }
    assert_eq!(
        state_of(&app, &t).await,
        before_revoked,
        "a refused request changed something"
    );
    app.finish().await;
}

#[tokio::test]
async fn bad_query_parameters_are_422_with_a_stable_code() {
    let app = spawn().await;
    let t = app.tenant("Queries").await;
    let cases = [
        ("/api/v1/jobs?state=bogus", "invalid_state"),
        ("/api/v1/jobs?state=", "invalid_state"),
        ("/api/v1/jobs?state=DEAD", "invalid_state"),
        ("/api/v1/jobs?limit=abc", "invalid_query"),
        ("/api/v1/jobs?limit=", "invalid_query"),
        ("/api/v1/jobs?limit=1.5", "invalid_query"),
        ("/api/v1/jobs?limit=99999999999999999999", "invalid_query"),
        ("/api/v1/jobs?cursor=abc", "invalid_cursor"),
        ("/api/v1/jobs?cursor=", "invalid_cursor"),
        ("/api/v1/jobs?cursor=%FF", "invalid_cursor"),
        ("/api/v1/audit?limit=abc", "invalid_query"),
        ("/api/v1/audit?cursor=abc", "invalid_cursor"),
        ("/api/v1/audit?cursor=12", "invalid_cursor"),
    ];
    for (path, code) in cases {
        assert_error(&app.get(&t.token, path).await, 422, code);
    }
    // Out-of-range sizes are clamped, not refused.
    for path in [
        "/api/v1/jobs?limit=0",
        "/api/v1/jobs?limit=-5",
        "/api/v1/audit?limit=100000",
        "/api/v1/jobs?state=dead",
    ] {
        let (status, body) = app.get(&t.token, path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert!(body["data"].is_array(), "{path}: {body}");
    }
    app.finish().await;
}

#[tokio::test]
async fn too_many_bad_tokens_from_one_address_are_429_with_retry_after() {
    let app = TestApp::spawn_with(
        |c| {
            quiet(c);
            c.limits.bad_token_per_minute = 3
        },
        Registry::builtin(),
    )
    .await;
    let t = app.tenant("Guesser").await;
    let guess = |n: usize| {
        app.client
            .get(app.url("/api/v1/me"))
            .bearer_auth(format!("blz_{}", n.to_string().repeat(43)))
    };
    for n in 1..=3 {
        assert_refused(
            &send(guess(n)).await,
            401,
            "unauthorized",
            &format!("guess {n}"),
        );
    }
    let answer = send(guess(4)).await;
    assert_refused(&answer, 429, "rate_limited", "guess 4");
    let wait: u64 = answer
        .1
        .get(RETRY_AFTER)
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "Retry-After: {wait}");
    let garbage = app.client.get(app.url("/api/v1/me")).bearer_auth("garbage");
    assert_refused(
        &send(garbage).await,
        429,
        "rate_limited",
        "garbage after the limit",
    );

    // A real token still works from the same address; the lock is on guessing.
    let (status, me) = app.get(&t.token, "/api/v1/me").await;
    assert_eq!((status, me["role"].as_str()), (200, Some("owner")));
    app.finish().await;
}

#[tokio::test]
async fn a_token_over_its_request_rate_is_429_with_retry_after() {
    let app = TestApp::spawn_with(
        |c| {
            quiet(c);
            c.limits.api_per_minute = 5
        },
        Registry::builtin(),
    )
    .await;
    let t = app.tenant("Busy").await;
    let other = app.token(t.id, Role::Agent).await;
    for n in 1..=5 {
        assert_eq!(app.get(&t.token, "/api/v1/me").await.0, 200, "request {n}");
    }
    let answer = send(app.client.get(app.url("/api/v1/me")).bearer_auth(&t.token)).await;
    assert_refused(&answer, 429, "rate_limited", "request 6");
    let wait: u64 = answer
        .1
        .get(RETRY_AFTER)
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "Retry-After: {wait}");
    assert_error(
        &app.post(
            &t.token,
            "/api/v1/tokens",
            json!({"name": "more", "role": "agent"}),
        )
        .await,
        429,
        "rate_limited",
    );
    // The limit is per token: another one of the same workspace goes on.
    assert_eq!(app.get(&other, "/api/v1/me").await.0, 200);
    app.finish().await;
}
