//! The storage edge on both backends: typed ids, snake_case enums, pence and JSON are stored
//! as the text and integers the migrations declare, read back as themselves, usable in
//! filters; a stored value its type cannot read is an error naming both (a 500 alert under
//! the error policy), never a fallback.

use diesel::{connection::SimpleConnection, prelude::*, sql_types::Text};
use hub_platform::{
    Code, Database, Json, Pence, Problem,
    db::{DbError, ErrorClass, drop_postgres_database, test_postgres_url},
};

hub_platform::typed_id! {
    /// A thing in this test.
    pub struct ThingId;
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    strum::Display,
    strum::EnumString,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[strum(serialize_all = "snake_case")]
#[diesel(sql_type = Text)]
enum Status {
    Open,
    UnderReview,
}
hub_platform::sql_text!(Status);

/// A code enum of another crate (as `hub_events::Urgency`): serde alone spells it.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum Speed {
    VeryUrgent,
}

diesel::table! {
    things (id) {
        id -> Text,
        status -> Text,
        price_pence -> BigInt,
        tags -> Text,
        parent -> Nullable<Text>,
        speed -> Text,
    }
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = things)]
struct Thing {
    id: ThingId,
    status: Status,
    price_pence: Pence,
    tags: Json<Vec<String>>,
    parent: Option<ThingId>,
    speed: Code<Speed>,
}

#[derive(QueryableByName)]
struct Raw {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Text)]
    tags: String,
    #[diesel(sql_type = Text)]
    speed: String,
}

async fn scenario(url: &str) {
    let db = Database::connect(url, "edge", 2).await.expect("a database");
    let parent = ThingId::new();
    let thing = Thing {
        id: ThingId::new(),
        status: Status::UnderReview,
        price_pence: Pence::gbp(2149, 50),
        tags: Json(vec!["emergency".into(), "sibling group".into()]),
        parent: Some(parent),
        speed: Code(Speed::VeryUrgent),
    };
    let written = thing.clone();
    let (read, raw, filtered) = db
        .transaction(move |c| {
            c.batch_execute(
                "CREATE TABLE things (id TEXT PRIMARY KEY, status TEXT NOT NULL, \
                 price_pence BIGINT NOT NULL, tags TEXT NOT NULL, parent TEXT, speed TEXT NOT NULL)",
            )?;
            diesel::insert_into(things::table)
                .values(&written)
                .execute(c)?;
            let read: Thing = things::table.select(Thing::as_select()).first(c)?;
            let raw: Raw =
                diesel::sql_query("SELECT id, status, tags, speed FROM things").get_result(c)?;
            let filtered: Vec<ThingId> = things::table
                .filter(things::status.eq(Status::UnderReview))
                .filter(things::parent.eq(parent))
                .select(things::id)
                .load(c)?;
            Ok((read, raw, filtered))
        })
        .await
        .expect("written and read");
    assert_eq!(read, thing);
    assert_eq!(raw.id, thing.id.0.hyphenated().to_string());
    assert_eq!(raw.status, "under_review");
    assert_eq!(raw.tags, r#"["emergency","sibling group"]"#);
    assert_eq!(raw.speed, "very_urgent");
    assert_eq!(filtered, vec![thing.id]);

    let err = db
        .run(|c| {
            c.batch_execute("UPDATE things SET status = 'gone'")?;
            Ok(things::table.select(Thing::as_select()).first::<Thing>(c)?)
        })
        .await
        .expect_err("a status no code knows");
    assert_eq!(err.class(), ErrorClass::Unreadable, "{err}");
    let message = err.to_string();
    assert!(
        message.contains("\"gone\"") && message.contains("Status"),
        "names the value and the type: {message}"
    );
    assert_eq!(Problem::from(err).status, 500);

    let err = db
        .run(|c| {
            c.batch_execute("UPDATE things SET status = 'open', parent = 'not-a-uuid'")?;
            Ok(things::table.select(Thing::as_select()).first::<Thing>(c)?)
        })
        .await
        .expect_err("a broken id");
    assert_eq!(err.class(), ErrorClass::Unreadable, "{err}");
    assert!(err.to_string().contains("ThingId"), "{err}");

    let err = db
        .run(|c| {
            c.batch_execute("UPDATE things SET parent = NULL, speed = 'whenever'")?;
            Ok(things::table.select(Thing::as_select()).first::<Thing>(c)?)
        })
        .await
        .expect_err("a code serde does not know");
    assert_eq!(err.class(), ErrorClass::Unreadable, "{err}");
    assert!(err.to_string().contains("\"whenever\""), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_storage_edge_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("edge-test-{}", uuid::Uuid::now_v7()));
    scenario(&format!("sqlite://{}", dir.display())).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_storage_edge_on_postgres() {
    let url = test_postgres_url("edge_test");
    scenario(&url).await;
    drop_postgres_database(&url).expect("dropped");
}

/// 503 is for a database we could not reach, and nothing else.
#[test]
fn only_an_unreachable_database_is_unavailable() {
    use diesel::result::{DatabaseErrorKind, Error as E};
    let closed = DbError::Diesel(E::DatabaseError(
        DatabaseErrorKind::ClosedConnection,
        Box::new("server closed the connection".to_owned()),
    ));
    assert_eq!(closed.class(), ErrorClass::Unavailable);
    assert_eq!(Problem::from(closed).status, 503);
    for (err, class) in [
        (DbError::Diesel(E::NotFound), ErrorClass::Internal),
        (
            DbError::Other(anyhow::anyhow!("winning bid vanished")),
            ErrorClass::Internal,
        ),
        (DbError::refused("not a member"), ErrorClass::Refused),
    ] {
        assert_eq!(err.class(), class, "{err}");
        let status = Problem::from(err).status;
        assert_ne!(status, 503);
    }
}
