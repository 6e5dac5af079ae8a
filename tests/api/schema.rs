//! Both dialects' migrations must end at the same tables and columns.

use blazz_store::Db;

use crate::helpers::{postgres_base_url, TestDb};

#[tokio::test]
async fn sqlite_and_postgres_migrations_end_at_the_same_schema() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Db::connect(&blazz_store::db::sqlite_url(dir.path()))
        .await
        .unwrap();
    sqlite.migrate().await.unwrap();

    let schema = format!("schema_check_{}", std::process::id());
    let url = blazz_store::db::postgres_schema_url(&postgres_base_url(), &schema)
        .await
        .expect("this test needs PostgreSQL (TEST_POSTGRES_URL)");
    let pg = Db::connect(&url).await.unwrap();
    pg.migrate().await.unwrap();

    let mut a = sqlite.schema().await.unwrap();
    let mut b = pg.schema().await.unwrap();
    for s in [&mut a, &mut b] {
        s.sort();
        for (_, cols) in s.iter_mut() {
            cols.sort();
        }
    }
    pg.close().await;
    blazz_store::db::drop_postgres_schema(&postgres_base_url(), &schema)
        .await
        .unwrap();
    assert!(a.len() >= 9, "expected the foundation tables, got {a:?}");
    assert_eq!(a, b, "SQLite and PostgreSQL schemas differ");
}

#[tokio::test]
async fn migrating_twice_is_harmless_and_reported_done() {
    let t = TestDb::new().await;
    let db = t.connect().await;
    db.migrate().await.unwrap();
    assert!(db.migrations_done().await.unwrap());
    db.close().await;
    t.drop_schema().await;
}

#[tokio::test]
async fn an_empty_database_is_not_reported_migrated() {
    let t = TestDb::new().await;
    let db = Db::connect(&t.url).await.unwrap();
    assert!(!db.migrations_done().await.unwrap());
    db.close().await;
    t.drop_schema().await;
}
