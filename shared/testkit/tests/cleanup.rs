//! A test's database goes when its [`TestDb`] is dropped, also when the test panics.

use std::panic::{AssertUnwindSafe, catch_unwind};

use diesel::Connection;
use hub_testkit::{Backend, TestDb};

#[test]
fn the_sqlite_directory_is_removed_when_the_test_panics() {
    let mut dir = None;
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let db = TestDb::new(Backend::Sqlite, "testkit");
        let path = std::path::PathBuf::from(db.url().strip_prefix("sqlite://").unwrap());
        std::fs::create_dir_all(&path).unwrap();
        dir = Some(path);
        panic!("the scenario fails");
    }));
    assert!(outcome.is_err());
    let dir = dir.unwrap();
    assert!(!dir.exists(), "{} left behind", dir.display());
}

#[test]
fn the_postgres_database_is_dropped_when_the_test_panics() {
    let mut url = None;
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let db = TestDb::new(Backend::Postgres, "testkit");
        hub_platform::db::create_postgres_database_if_missing(db.url()).unwrap();
        diesel::PgConnection::establish(db.url()).expect("the database exists");
        url = Some(db.url().to_owned());
        panic!("the scenario fails");
    }));
    assert!(outcome.is_err());
    let url = url.unwrap();
    assert!(
        diesel::PgConnection::establish(&url).is_err(),
        "{url} left behind"
    );
}
