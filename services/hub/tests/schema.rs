//! One source of truth per table: the migrations.
//!
//! Each crate with tables (the bus and the five services) keeps its PostgreSQL and SQLite
//! migrations and a `src/schema.rs` that is not written by hand: it is `diesel print-schema`
//! (diesel_cli, with the crate's `diesel.toml`) over a fresh PostgreSQL database migrated with
//! the crate's PostgreSQL migrations, under [`HEADER`]. Two rules, one test each:
//!
//! * `schema.rs` is what the migrations generate. `HUB_WRITE_SCHEMA=1` writes the generated
//!   files instead of comparing: that is the regenerating command (README, "Changing the
//!   database"). diesel_cli is found as `$DIESEL`, in the CI tools cache
//!   (`.ci/install-diesel-cli` puts it there) or on the `PATH`; without it the test fails,
//!   saying how to install it.
//! * Both migration sets give the same tables: names, columns, nullability, primary keys, and
//!   column types compared by class (text, integer, bigint, real, bool, date, timestamp), since
//!   the one generated schema serves both backends. A primary key column counts as NOT NULL
//!   on SQLite too: SQLite's own quirk lets a TEXT key hold NULL unless declared NOT NULL; the
//!   services never write one (see `tables`).

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    path::{Path, PathBuf},
    process::Command,
};

use diesel::{RunQueryDsl, sql_types};
use hub_platform::{
    Database,
    db::{DbConnection, Migrations},
};
use hub_testkit::{Backend, TestDb, migrated_store};

/// The regenerating command, named in every failure.
const REGENERATE: &str = "HUB_WRITE_SCHEMA=1 cargo nextest run -p hub --test schema";

/// The lines above diesel's own in every generated `schema.rs`.
const HEADER: &str = "\
// Generated from this crate's migrations: `diesel print-schema` (settings in diesel.toml)
// over a fresh PostgreSQL database migrated with migrations/postgres. Do not edit; change the
// migrations (both backends) and regenerate with
//   HUB_WRITE_SCHEMA=1 cargo nextest run -p hub --test schema
// (README, \"Changing the database\"). services/hub/tests/schema.rs checks it.
";

/// A crate with tables: its directory under the workspace and its migrations.
struct Crate {
    dir: &'static str,
    migrations: &'static [&'static Migrations],
}

impl Crate {
    /// The crate's name as a database and service name (its directory's last part).
    fn name(&self) -> &'static str {
        self.dir.rsplit('/').next().unwrap_or(self.dir)
    }

    fn path(&self, file: &str) -> PathBuf {
        workspace().join(self.dir).join(file)
    }
}

static CRATES: &[Crate] = &[
    Crate {
        dir: "shared/bus",
        migrations: &[&hub_bus::MIGRATIONS],
    },
    Crate {
        dir: "services/referral",
        migrations: &[&referral::MIGRATIONS],
    },
    Crate {
        dir: "services/competition",
        migrations: &[&competition::MIGRATIONS],
    },
    Crate {
        dir: "services/contract",
        migrations: &[&contract::MIGRATIONS],
    },
    Crate {
        dir: "services/finance",
        migrations: &[&finance::MIGRATIONS],
    },
    Crate {
        dir: "services/notifications",
        migrations: &[&notifications::MIGRATIONS],
    },
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fresh database of `backend` migrated with the crate's migrations alone (not the bus's:
/// each crate's schema holds its own tables). Keep the `TestDb` alive while it is used.
async fn migrated(krate: &Crate, backend: Backend) -> (TestDb, Database) {
    let db = TestDb::new(backend, &format!("schema_{}", krate.name()));
    let store = migrated_store(db.url(), krate.name(), krate.migrations).await;
    (db, store.db)
}

#[tokio::test]
async fn schema_rs_is_generated_from_the_migrations() {
    let diesel = diesel_cli();
    let write = std::env::var_os("HUB_WRITE_SCHEMA").is_some_and(|v| v == "1");
    let mut stale = String::new();
    for krate in CRATES {
        let (db, pool) = migrated(krate, Backend::Postgres).await;
        let generated = print_schema(&diesel, krate, db.url());
        drop(pool);
        let file = krate.path("src/schema.rs");
        let committed = std::fs::read_to_string(&file).unwrap_or_default();
        if committed == generated {
            continue;
        }
        if write {
            std::fs::write(&file, &generated)
                .unwrap_or_else(|e| panic!("writing {}: {e}", file.display()));
            eprintln!("wrote {}", file.display());
        } else {
            let _ = writeln!(stale, "{}", diff(&file, &generated));
        }
    }
    assert!(
        stale.is_empty(),
        "src/schema.rs is not what the migrations generate (diesel_cli {}):\n{stale}\n\
         Regenerate every schema.rs with\n    {REGENERATE}",
        version(&diesel),
    );
}

/// `HEADER` and `diesel print-schema` with the crate's `diesel.toml` over `url`.
fn print_schema(diesel: &Path, krate: &Crate, url: &str) -> String {
    let out = Command::new(diesel)
        .arg("print-schema")
        .arg("--config-file")
        .arg(krate.path("diesel.toml"))
        .args(["--database-url", url])
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", diesel.display()));
    assert!(
        out.status.success(),
        "diesel print-schema failed for {}: {}",
        krate.dir,
        String::from_utf8_lossy(&out.stderr)
    );
    format!("{HEADER}{}", String::from_utf8_lossy(&out.stdout))
}

/// The unified diff from the committed file to the generated text (`diff -u`).
fn diff(file: &Path, generated: &str) -> String {
    let fresh = std::env::temp_dir().join(format!("schema-{}.rs", uuid::Uuid::now_v7()));
    std::fs::write(&fresh, generated).expect("a temporary file");
    let out = Command::new("diff")
        .args(["-u", "--label"])
        .arg(format!("{} (committed)", file.display()))
        .args(["--label", "generated from the migrations"])
        .arg(file)
        .arg(&fresh)
        .output();
    let _ = std::fs::remove_file(&fresh);
    match out {
        Ok(out) => String::from_utf8_lossy(&out.stdout).into_owned(),
        Err(e) => format!(
            "{} differs (no `diff` to show how: {e}); generated:\n{generated}",
            file.display()
        ),
    }
}

/// diesel_cli: `$DIESEL`, else the CI tools cache's, else the `PATH`'s. Fails, saying how to
/// install it, when there is none: the check is never skipped.
fn diesel_cli() -> PathBuf {
    if let Some(path) = std::env::var_os("DIESEL") {
        return path.into();
    }
    let tools = std::env::var_os("HUB_CI_TOOLS")
        .map(PathBuf::from)
        .or_else(|| {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))?;
            Some(cache.join("commissioning-hub/ci-tools"))
        });
    if let Some(cached) = tools.map(|t| t.join("bin/diesel"))
        && cached.is_file()
    {
        return cached;
    }
    let on_path = PathBuf::from("diesel");
    if Command::new(&on_path).arg("--version").output().is_ok() {
        return on_path;
    }
    panic!(
        "diesel_cli is needed to check src/schema.rs against the migrations and was not found \
         ($DIESEL, the CI tools cache, the PATH). Install it with `.ci/install-diesel-cli` \
         (cargo install diesel_cli --no-default-features --features postgres,sqlite into \
         ~/.cache/commissioning-hub/ci-tools; .ci/run does this), or set DIESEL to its path."
    );
}

fn version(diesel: &Path) -> String {
    Command::new(diesel)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
            text.lines()
                .find_map(|l| l.trim().strip_prefix("Version:").map(|v| v.trim().to_owned()))
        })
        .unwrap_or_else(|| "of unknown version".to_owned())
}

/// One column as a backend's catalogue describes it.
#[derive(Debug, diesel::QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = sql_types::Text)]
    table_name: String,
    #[diesel(sql_type = sql_types::Text)]
    column_name: String,
    #[diesel(sql_type = sql_types::Text)]
    data_type: String,
    #[diesel(sql_type = sql_types::Bool)]
    nullable: bool,
    /// The column's place in the primary key, from 1; 0 when not in it.
    #[diesel(sql_type = sql_types::Integer)]
    pk: i32,
}

/// A table as the comparison sees it.
#[derive(Debug, Default, PartialEq)]
struct Table {
    /// Column → (type class, nullable).
    columns: BTreeMap<String, (String, bool)>,
    primary_key: Vec<String>,
}

/// The tables of a migrated database (diesel's own migrations table left out).
async fn tables(db: &Database) -> BTreeMap<String, Table> {
    let rows = db
        .run(|conn| {
            let sql = match conn {
                DbConnection::Pg(_) => {
                    "SELECT c.table_name::text AS table_name, c.column_name::text AS column_name, \
                            c.data_type::text AS data_type, c.is_nullable = 'YES' AS nullable, \
                            COALESCE((SELECT k.ordinal_position::int4 \
                                      FROM information_schema.key_column_usage k \
                                      JOIN information_schema.table_constraints tc \
                                        ON tc.constraint_schema = k.constraint_schema \
                                       AND tc.constraint_name = k.constraint_name \
                                      WHERE tc.constraint_type = 'PRIMARY KEY' \
                                        AND k.table_schema = c.table_schema \
                                        AND k.table_name = c.table_name \
                                        AND k.column_name = c.column_name), 0) AS pk \
                     FROM information_schema.columns c \
                     JOIN information_schema.tables t \
                       ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
                     WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
                       AND c.table_name <> '__diesel_schema_migrations'"
                }
                // A primary key column counts as NOT NULL, as PostgreSQL makes it and diesel's
                // schema takes it: SQLite lets a key that is not an INTEGER PRIMARY KEY hold
                // NULL unless declared NOT NULL (a quirk it keeps for compatibility), and the
                // migrations rely on the key's own declaration on both backends.
                DbConnection::Sqlite(_) => {
                    "SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type, \
                            p.\"notnull\" = 0 AND p.pk = 0 AS nullable, p.pk AS pk \
                     FROM sqlite_master m, pragma_table_info(m.name) p \
                     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
                       AND m.name <> '__diesel_schema_migrations'"
                }
            };
            Ok(diesel::sql_query(sql).load::<ColumnRow>(conn)?)
        })
        .await
        .expect("reading the catalogue");
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    let mut keys: BTreeMap<String, Vec<(i32, String)>> = BTreeMap::new();
    for row in rows {
        let table = tables.entry(row.table_name.clone()).or_default();
        table.columns.insert(
            row.column_name.clone(),
            (class(&row.data_type), row.nullable),
        );
        if row.pk > 0 {
            keys.entry(row.table_name)
                .or_default()
                .push((row.pk, row.column_name));
        }
    }
    for (name, mut key) in keys {
        key.sort();
        tables.get_mut(&name).expect("the key's table").primary_key =
            key.into_iter().map(|(_, column)| column).collect();
    }
    tables
}

/// A column type's class: what both backends must agree on. An unknown type keeps its own
/// name, so it matches only itself.
fn class(declared: &str) -> String {
    let t = declared.to_ascii_lowercase();
    let class = if t.starts_with("timestamp") {
        "timestamp"
    } else if t == "date" {
        "date"
    } else if t.starts_with("bool") {
        "bool"
    } else if t == "bigint" || t == "int8" {
        "bigint"
    } else if ["integer", "int", "int4", "smallint", "int2"].contains(&t.as_str()) {
        "integer"
    } else if ["text", "character varying", "varchar", "character", "char"]
        .iter()
        .any(|p| t.starts_with(p))
    {
        "text"
    } else if ["double", "real", "float", "numeric", "decimal"]
        .iter()
        .any(|p| t.starts_with(p))
    {
        "real"
    } else {
        return t;
    };
    class.to_owned()
}

/// What differs between the PostgreSQL and SQLite tables of one crate, one line each.
fn differences(dir: &str, pg: &BTreeMap<String, Table>, lite: &BTreeMap<String, Table>) -> Vec<String> {
    let mut out = Vec::new();
    for name in pg.keys().chain(lite.keys()).collect::<std::collections::BTreeSet<_>>() {
        let (Some(p), Some(s)) = (pg.get(name), lite.get(name)) else {
            let only = if pg.contains_key(name) { "PostgreSQL" } else { "SQLite" };
            out.push(format!("{dir}: table {name} only on {only}"));
            continue;
        };
        for column in p.columns.keys().chain(s.columns.keys()).collect::<std::collections::BTreeSet<_>>() {
            match (p.columns.get(column), s.columns.get(column)) {
                (Some(a), Some(b)) if a == b => {}
                (Some((pt, pn)), Some((st, sn))) => out.push(format!(
                    "{dir}: {name}.{column}: PostgreSQL {pt}{}, SQLite {st}{}",
                    if *pn { " null" } else { " not null" },
                    if *sn { " null" } else { " not null" },
                )),
                (Some(_), None) => out.push(format!("{dir}: {name}.{column} only on PostgreSQL")),
                (None, _) => out.push(format!("{dir}: {name}.{column} only on SQLite")),
            }
        }
        if p.primary_key != s.primary_key {
            out.push(format!(
                "{dir}: {name} primary key: PostgreSQL ({}), SQLite ({})",
                p.primary_key.join(", "),
                s.primary_key.join(", ")
            ));
        }
    }
    out
}

#[tokio::test]
async fn postgres_and_sqlite_migrations_give_the_same_tables() {
    let mut found = Vec::new();
    for krate in CRATES {
        let (pg_db, pg) = migrated(krate, Backend::Postgres).await;
        let (lite_db, lite) = migrated(krate, Backend::Sqlite).await;
        let (pg_tables, lite_tables) = (tables(&pg).await, tables(&lite).await);
        drop((pg, lite, pg_db, lite_db));
        assert!(!pg_tables.is_empty(), "{}: no tables read", krate.dir);
        found.extend(differences(krate.dir, &pg_tables, &lite_tables));
    }
    assert!(
        found.is_empty(),
        "the PostgreSQL and SQLite migrations give different tables; add a migration pair \
         that brings them together (never edit an applied one):\n{}",
        found.join("\n")
    );
}
