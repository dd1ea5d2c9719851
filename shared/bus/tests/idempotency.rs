//! `Store::write_once`: a creating request sent again with the same `Idempotency-Key` gets
//! its first answer back and makes no second effect; the same key with another request is a
//! 422; the key belongs to one organisation; concurrent duplicates make one effect. On
//! PostgreSQL (two pools, as two replicas) and SQLite.

mod support;

use std::sync::Arc;

use diesel::{QueryableByName, RunQueryDsl, sql_types::BigInt};
use hub_bus::Store;
use hub_platform::{
    db::DbError,
    idempotency::{Answer, IdempotencyKey, Keyed},
};
use serde_json::json;
use support::*;

fn key(key: &str, fingerprint: &str) -> IdempotencyKey {
    IdempotencyKey(Some(Keyed {
        key: key.into(),
        fingerprint: fingerprint.into(),
    }))
}

async fn setup(store: &Store) {
    store
        .db
        .run(|c| {
            diesel::sql_query("CREATE TABLE things (n BIGINT NOT NULL)").execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
}

/// Inserts a thing and answers 201 with how many there are now.
async fn create(store: &Store, org: &str, k: &IdempotencyKey) -> Result<Answer, DbError> {
    store
        .write_once(org, k, |c, _events| {
            diesel::sql_query("INSERT INTO things (n) VALUES (1)").execute(c)?;
            let n = count_in(c)?;
            Ok(Answer::created(&json!({ "things": n })).at("/v1/things/1"))
        })
        .await
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count_in(c: &mut hub_platform::DbConnection) -> Result<i64, DbError> {
    Ok(diesel::sql_query("SELECT COUNT(*) AS n FROM things")
        .get_result::<Count>(c)?
        .n)
}

async fn count(store: &Store) -> i64 {
    store.db.run(count_in).await.unwrap()
}

async fn replays_and_reuse(store: &Store) {
    setup(store).await;
    let first = create(store, "E08000014", &key("k-1", "fp-a"))
        .await
        .unwrap();
    assert_eq!(
        (first.status, &first.body, first.replayed),
        (201, &json!({"things": 1}), false)
    );
    // Sent again: the first answer, Location and all, marked replayed; no second thing.
    let again = create(store, "E08000014", &key("k-1", "fp-a"))
        .await
        .unwrap();
    assert_eq!(
        (
            again.status,
            &again.body,
            again.location.as_deref(),
            again.replayed
        ),
        (201, &json!({"things": 1}), Some("/v1/things/1"), true)
    );
    assert_eq!(count(store).await, 1);
    // The same key with another request: 422 on the header, nothing written.
    match create(store, "E08000014", &key("k-1", "fp-b")).await {
        Err(DbError::Problem(p)) => assert_eq!(
            (
                p.status,
                p.errors[0].field.as_str(),
                p.errors[0].rule.as_str()
            ),
            (422, "Idempotency-Key", "reused")
        ),
        other => panic!("expected reused, got {other:?}"),
    }
    assert_eq!(count(store).await, 1);
    // Another organisation's key of the same text is its own; no key, no replay.
    let other = create(store, "E08000012", &key("k-1", "fp-a"))
        .await
        .unwrap();
    assert_eq!(
        (&other.body, other.replayed),
        (&json!({"things": 2}), false)
    );
    create(store, "E08000014", &IdempotencyKey::none())
        .await
        .unwrap();
    create(store, "E08000014", &IdempotencyKey::none())
        .await
        .unwrap();
    assert_eq!(count(store).await, 4);
}

/// A failed write stores no key: the retry runs again.
async fn a_failed_write_keeps_no_key(store: &Store) {
    setup(store).await;
    let failed = store
        .write_once("E08000014", &key("k-2", "fp"), |c, _| {
            diesel::sql_query("INSERT INTO things (n) VALUES (1)").execute(c)?;
            Err(DbError::Problem(hub_platform::Problem::invalid(
                "/n",
                "min",
                "too small",
            )))
        })
        .await;
    assert!(failed.is_err());
    let retried = create(store, "E08000014", &key("k-2", "fp")).await.unwrap();
    assert_eq!(
        (&retried.body, retried.replayed),
        (&json!({"things": 1}), false)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replays_and_reuse_on_sqlite() {
    let mut env = TestEnv::memory();
    replays_and_reuse(&env.sqlite("things").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replays_and_reuse_on_postgres() {
    let mut env = TestEnv::memory();
    replays_and_reuse(&env.postgres("things").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_write_keeps_no_key_on_sqlite() {
    let mut env = TestEnv::memory();
    a_failed_write_keeps_no_key(&env.sqlite("things").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_write_keeps_no_key_on_postgres() {
    let mut env = TestEnv::memory();
    a_failed_write_keeps_no_key(&env.postgres("things").await).await;
}

/// Twenty requests with one key, at once, on two replicas' pools: one effect, and every
/// one of them answered with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_duplicates_make_one_effect_across_replicas() {
    let mut env = TestEnv::memory();
    let a = Arc::new(env.postgres("things").await);
    setup(&a).await;
    let b = Arc::new(env.postgres("things").await);
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { create(&store, "E08000014", &key("k-3", "fp")).await })
        })
        .collect();
    for t in tasks {
        let answer = t.await.unwrap().unwrap();
        assert_eq!((answer.status, &answer.body), (201, &json!({"things": 1})));
    }
    assert_eq!(count(&a).await, 1);
}
