use crate::helpers::TestApp;

#[tokio::test]
async fn healthz_and_readyz_answer_when_the_database_is_migrated() {
    let app = TestApp::spawn().await;
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["status"],
        "ready"
    );
    app.finish().await;
}

#[tokio::test]
async fn readyz_fails_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    app.db.close().await;
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], "not_ready");
    let mut app = app;
    // finish() reads the queue through the pool: reconnect for it.
    app.db = blazz_store::Db::connect(&app.testdb.url).await.unwrap();
    app.finish().await;
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Metrics").await;
    for _ in 0..3 {
        app.get(&t.token, "/api/v1/workspace").await;
    }
    app.get("blz_wrong", "/api/v1/workspace").await;
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(
            r#"blazz_http_requests_total{method="GET",route="/api/v1/workspace",status="200"} 3"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/api/v1/workspace",status="401"} 1"#),
        "{text}"
    );
    assert!(text.contains("blazz_http_request_duration_seconds_bucket"));
    assert!(text.contains("blazz_process_open_fds_current"));
    assert!(text.contains("blazz_outbox_unpublished"));
    app.finish().await;
}

#[tokio::test]
async fn metrics_show_queue_depth_by_state_and_priority() {
    let app = TestApp::spawn_with(|c| c.jobs.workers = 0, blazz::jobs::Registry::builtin()).await;
    let mut conn = app.db.pool.acquire().await.unwrap();
    for n in 0..2 {
        blazz::jobs::enqueue(
            &mut conn,
            &blazz::jobs::builtin::Noop { n },
            Default::default(),
        )
        .await
        .unwrap();
    }
    drop(conn);
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(r#"blazz_jobs{priority="normal",state="queued"} 2"#),
        "{text}"
    );
    app.finish().await;
}
