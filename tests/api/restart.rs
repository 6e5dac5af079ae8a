//! A linked number survives `blazz serve` being killed: the next start
//! restores its session from the stored (sealed) credentials, no new scan.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{TestDb, PASSWORD};

/// `blazz serve` as a child process, killed (SIGKILL) by the test.
pub struct Serve {
    child: Child,
    pub base: String,
    pub client: reqwest::Client,
}

impl Serve {
    async fn start(url: &str, dir: &std::path::Path) -> Serve {
        Self::start_with(url, dir, &[]).await
    }

    /// Starts with extra environment (configuration) variables.
    pub async fn start_with(url: &str, dir: &std::path::Path, env: &[(&str, String)]) -> Serve {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_blazz"))
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(dir)
            .env("BLAZZ_DATABASE_URL", url)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let serve = Serve {
            child,
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
        };
        for _ in 0..500 {
            if serve
                .client
                .get(format!("{}/readyz", serve.base))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return serve;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("blazz serve did not start");
    }

    pub async fn call(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> (u16, Value) {
        let r = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn status(&self, token: &str, id: &str) -> Value {
        self.call(
            token,
            reqwest::Method::GET,
            &format!("/api/v1/accounts/{id}"),
            json!(null),
        )
        .await
        .1
    }

    pub async fn wait_status(&self, token: &str, id: &str, want: &str) -> Value {
        let mut last = Value::Null;
        for _ in 0..500 {
            last = self.status(token, id).await;
            if last["status"] == want {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("never reached {want}: {last}");
    }

    /// SIGKILL: nothing runs on the way out.
    pub fn kill(self) {
        drop(self);
    }
}

impl Drop for Serve {
    /// A failing test must not leave its server running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A workspace and an owner token made with the command line, as an
/// operator would on a fresh install.
pub fn cli_token(url: &str) -> String {
    let blazz = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_blazz"))
            .args(args)
            .env("BLAZZ_DATABASE_URL", url)
            .env("BLAZZ_NEW_USER_PASSWORD", PASSWORD)
            .output()
            .unwrap()
    };
    assert!(blazz(&[
        "user",
        "create",
        "--email",
        "k@example.com",
        "--name",
        "K",
        "--workspace",
        "Kill"
    ])
    .status
    .success());
    let out = blazz(&[
        "token",
        "create",
        "--workspace",
        "kill",
        "--role",
        "owner",
        "--name",
        "t",
    ]);
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A sandbox number linked by QR through `serve`; its id.
pub async fn link_number(serve: &Serve, token: &str) -> String {
    let post = reqwest::Method::POST;
    let (status, a) = serve
        .call(
            token,
            post.clone(),
            "/api/v1/accounts",
            json!({"provider": "sandbox", "name": "Line"}),
        )
        .await;
    assert_eq!(status, 201, "{a}");
    let id = a["id"].as_str().unwrap().to_string();
    serve
        .call(
            token,
            post.clone(),
            &format!("/api/v1/accounts/{id}/link"),
            json!({}),
        )
        .await;
    let mut code = Value::Null;
    for _ in 0..250 {
        let (status, qr) = serve
            .call(
                token,
                reqwest::Method::GET,
                &format!("/api/v1/accounts/{id}/qr"),
                json!(null),
            )
            .await;
        if status == 200 {
            code = qr["code"].clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(code.is_string(), "no QR code");
    let (status, _) = serve
        .call(
            token,
            post,
            &format!("/api/v1/sandbox/accounts/{id}/scan"),
            json!({"code": code}),
        )
        .await;
    assert_eq!(status, 204);
    id
}

#[tokio::test]
async fn a_linked_number_comes_back_after_serve_is_killed() {
    let testdb = TestDb::new().await;
    let url = testdb.url.clone();
    let dir = testdb.dir.path().to_path_buf();
    let db = testdb.connect().await;
    let token = cli_token(&url);
    let serve = Serve::start(&url, &dir).await;
    let id = link_number(&serve, &token).await;
    let linked = serve.wait_status(&token, &id, "connected").await;
    serve.kill();

    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM secrets WHERE owner_id = $1")
        .bind(&id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(n, 1, "the link's credentials survived the kill");
    db.close().await;

    let serve = Serve::start(&url, &dir).await;
    // The restored session connects anew: a second "connected" event after
    // an "initializing" one (the stored status alone proves nothing).
    let db = blazz_store::Db::connect(&url).await.unwrap();
    let mut history = Vec::new();
    for _ in 0..500 {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT payload FROM outbox WHERE kind = 'account.status_changed' ORDER BY id",
        )
        .fetch_all(&db.pool)
        .await
        .unwrap();
        history = rows
            .iter()
            .map(|(p,)| serde_json::from_str::<Value>(p).unwrap())
            .filter(|p| p["account_id"] == id.as_str())
            .map(|p| p["status"].as_str().unwrap().to_string())
            .collect();
        if history.iter().filter(|s| *s == "connected").count() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        history,
        [
            "initializing",
            "qr_required",
            "authenticating",
            "connected",
            "initializing",
            "connected"
        ],
        "restored without a new link"
    );
    db.close().await;
    let again = serve.wait_status(&token, &id, "connected").await;
    assert_eq!(again["phone"], linked["phone"]);
    assert_eq!(
        again["linked_at"], linked["linked_at"],
        "restored, not linked anew"
    );
    let (status, _) = serve
        .call(
            &token,
            reqwest::Method::GET,
            &format!("/api/v1/accounts/{id}/qr"),
            json!(null),
        )
        .await;
    assert_eq!(status, 404, "no new QR code was needed");
    serve.kill();
    testdb.drop_schema().await;
}
