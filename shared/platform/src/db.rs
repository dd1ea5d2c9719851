//! The database layer: PostgreSQL (distributed) and SQLite (embedded) from one code base.
//!
//! Services write their queries once against [`DbConnection`], diesel's `MultiConnection`
//! over both backends. Each service owns its database: `database.url` is either a SQLite
//! directory (`sqlite://./data` → `./data/<service>.sqlite`) or a PostgreSQL URL template
//! (`postgres://…/hub_{service}`); a missing PostgreSQL database is created. Migrations are
//! embedded per backend and run at start-up.
//!
//! SQLite runs in WAL mode with a busy timeout and foreign keys on; its write transactions
//! are serialised in-process (one process owns an embedded database), so concurrent writers
//! never meet `SQLITE_BUSY`. PostgreSQL-only features live behind one function each here.

use std::{sync::Arc, time::Duration};

use diesel::{
    Connection, RunQueryDsl,
    connection::SimpleConnection,
    r2d2::{CustomizeConnection, Pool, PooledConnection},
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};

use crate::problem::Problem;

/// A connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

impl DbConnection {
    /// The row-locking clause that lets several replicas share a work table: PostgreSQL's
    /// `FOR UPDATE SKIP LOCKED`; nothing on SQLite, whose writers are serialised anyway.
    /// The one place this PostgreSQL-only feature is spelled.
    pub fn skip_locked_clause(&self) -> &'static str {
        match self {
            DbConnection::Pg(_) => " FOR UPDATE SKIP LOCKED",
            DbConnection::Sqlite(_) => "",
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            DbConnection::Pg(_) => Backend::Postgres,
            DbConnection::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// The `VALUES` rows of a multi-row `INSERT` written with `diesel::sql_query` (the
/// `MultiConnection` has no batch `values(&vec)`): `rows` groups of `columns` placeholders
/// numbered from `$first`, e.g. `($1, $2), ($3, $4)`. Keep `rows` at most
/// [`rows_per_statement`]`(columns)`.
pub fn values_rows(first: usize, rows: usize, columns: usize) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(rows * (columns * 6 + 4));
    for r in 0..rows {
        s.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..columns {
            if c > 0 {
                s.push_str(", ");
            }
            let _ = write!(s, "${}", first + r * columns + c);
        }
        s.push(')');
    }
    s
}

/// Rows of `columns` binds one statement may carry: SQLite allows 32,766 binds, PostgreSQL
/// 65,535.
pub fn rows_per_statement(columns: usize) -> usize {
    (30_000 / columns.max(1)).max(1)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// A service's embedded migrations, one set per backend.
pub struct Migrations {
    pub postgres: EmbeddedMigrations,
    pub sqlite: EmbeddedMigrations,
}

/// Refuses sets of migrations in which one version appears twice on a backend. The sets of
/// a database (the bus's and its service's) share one migrations table, keyed by version:
/// of two migrations with the same version, diesel would run one and take the other as run.
pub fn check_versions(sets: &[&Migrations]) -> anyhow::Result<()> {
    type Names = fn(&Migrations) -> anyhow::Result<Vec<(String, String)>>;
    let backends: [(&str, Names); 2] = [
        ("postgres", |m| {
            migration_names::<diesel::pg::Pg>(&m.postgres)
        }),
        ("sqlite", |m| {
            migration_names::<diesel::sqlite::Sqlite>(&m.sqlite)
        }),
    ];
    for (backend, names_of) in backends {
        let mut seen: std::collections::BTreeMap<String, String> = Default::default();
        for set in sets {
            for (version, name) in names_of(set)? {
                if let Some(first) = seen.insert(version.clone(), name.clone()) {
                    anyhow::bail!(
                        "two {backend} migrations share version {version} ({first} and {name}); give one a version of its own"
                    );
                }
            }
        }
    }
    Ok(())
}

/// The `(version, name)` of every migration of one backend's embedded set, in order.
fn migration_names<DB: diesel::backend::Backend>(
    set: &EmbeddedMigrations,
) -> anyhow::Result<Vec<(String, String)>> {
    let all = diesel::migration::MigrationSource::<DB>::migrations(set)
        .map_err(|e| anyhow::anyhow!("reading the embedded migrations: {e}"))?;
    Ok(all
        .iter()
        .map(|m| (m.name().version().to_string(), m.name().to_string()))
        .collect())
}

/// The versions diesel recorded as applied; none when it has no migrations table yet.
fn applied_versions(conn: &mut DbConnection) -> Result<std::collections::HashSet<String>, DbError> {
    #[derive(diesel::QueryableByName)]
    struct Applied {
        #[diesel(sql_type = diesel::sql_types::Text)]
        version: String,
    }
    let exists = match conn {
        DbConnection::Pg(_) => {
            "SELECT count(*) AS n FROM pg_tables WHERE tablename = '__diesel_schema_migrations' \
             AND schemaname = ANY (current_schemas(false))"
        }
        DbConnection::Sqlite(_) => {
            "SELECT count(*) AS n FROM sqlite_master \
             WHERE type = 'table' AND name = '__diesel_schema_migrations'"
        }
    };
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    if diesel::sql_query(exists).get_result::<Count>(conn)?.n == 0 {
        return Ok(Default::default());
    }
    let rows: Vec<Applied> =
        diesel::sql_query("SELECT version FROM __diesel_schema_migrations").load(conn)?;
    Ok(rows.into_iter().map(|r| r.version).collect())
}

/// Lends a `'static` set of embedded migrations to the harness (which takes its source by
/// value, and `EmbeddedMigrations` is not `Copy`).
struct Source(&'static EmbeddedMigrations);

impl<DB: diesel::backend::Backend> diesel::migration::MigrationSource<DB> for Source {
    fn migrations(
        &self,
    ) -> diesel::migration::Result<Vec<Box<dyn diesel::migration::Migration<DB>>>> {
        diesel::migration::MigrationSource::<DB>::migrations(self.0)
    }
}

/// What a store, an application function or an event handler's transaction can fail with.
///
/// # The error policy
///
/// Each layer returns one kind of error and the edges decide what a caller sees:
///
/// * **domain** modules are pure: they return [`Problem`]s (a broken rule, with the field and
///   rule named) or their own error types, never a database error.
/// * **store** modules and application functions return `DbError`: a `Problem` they were
///   handed or found (404, 409, 422), a [`DbError::Refused`] event, or what the database said.
/// * **api** handlers return `Problem`; `?` on a `DbError` classifies it ([`DbError::class`]):
///
/// | class | from | HTTP | an event handler |
/// |---|---|---|---|
/// | [`ErrorClass::Refused`] | `Problem`, `Refused` | the problem's own status | dead-lettered at once, with the reason |
/// | [`ErrorClass::Unavailable`] | the pool timed out; the connection closed or broke | 503, logged as a warning | retried with backoff |
/// | [`ErrorClass::Unreadable`] | a stored value its type cannot read (the [storage edge](crate::sql)) | 500, logged as an error with `alert = true` | dead-lettered at once |
/// | [`ErrorClass::Internal`] | anything else: a constraint, a query the database refused, a bug | 500, logged as an error | retried, then dead-lettered |
///
/// 503 says "try again": it is only for a database we could not reach, never for a row
/// that is missing or unreadable. Nothing internal (SQL, values, paths) reaches a client.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A rule was broken: the transaction rolls back and the client sees this problem.
    #[error("{0}")]
    Problem(Problem),
    /// An event that can never be applied as it stands (it names a council outside its
    /// partnership, a placement the ledger cannot cost): the transaction rolls back and the
    /// event is dead-lettered at once with this reason, without waiting through retries.
    #[error("refused: {0}")]
    Refused(String),
    /// Diesel's own message and its causes (a field that could not be read says which
    /// field, and its cause which value and type).
    #[error("database: {}", chain(.0))]
    Diesel(#[from] diesel::result::Error),
    #[error("connection pool: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("{0:#}")]
    Other(#[from] anyhow::Error),
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// How a [`DbError`] is answered: see the error policy on [`DbError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    Refused,
    Unavailable,
    Unreadable,
    Internal,
}

impl DbError {
    /// A refusal of an event, with the reason kept beside its dead letter.
    pub fn refused(reason: impl Into<String>) -> Self {
        DbError::Refused(reason.into())
    }

    pub fn class(&self) -> ErrorClass {
        use diesel::result::{DatabaseErrorKind, Error as E};
        match self {
            DbError::Problem(_) | DbError::Refused(_) => ErrorClass::Refused,
            DbError::Pool(_) => ErrorClass::Unavailable,
            DbError::Diesel(
                E::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
                | E::BrokenTransactionManager,
            ) => ErrorClass::Unavailable,
            DbError::Diesel(E::DeserializationError(_)) => ErrorClass::Unreadable,
            DbError::Diesel(_) | DbError::Other(_) => ErrorClass::Internal,
        }
    }
}

/// Answers a database error by the error policy written on [`DbError`].
impl From<DbError> for Problem {
    fn from(err: DbError) -> Self {
        match (err.class(), err) {
            (_, DbError::Problem(p)) => p,
            (ErrorClass::Unavailable, other) => {
                tracing::warn!(error = %other, "the database is unavailable");
                Self::unavailable("the database did not answer")
            }
            (ErrorClass::Unreadable, other) => {
                tracing::error!(alert = true, error = %other, "a stored value could not be read");
                Self::internal()
            }
            (_, other) => {
                tracing::error!(error = %other, "database error");
                Self::internal()
            }
        }
    }
}

impl From<Problem> for DbError {
    fn from(p: Problem) -> Self {
        DbError::Problem(p)
    }
}

type DbPool = Pool<Manager>;
pub type PooledDb = PooledConnection<Manager>;

/// Opens the pool's connections on the one backend the URL names. diesel's derived
/// `MultiConnection::establish` tries every backend in turn and, when all fail, says only
/// "Invalid connection url for multiconnection", also when the URL is right and the server
/// refuses connections; this reports the backend's own error ("Connection refused", a wrong
/// password, a missing file) instead. Otherwise it is diesel's `ConnectionManager`.
#[derive(Debug)]
pub struct Manager {
    url: String,
    backend: Backend,
}

impl diesel::r2d2::ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        match self.backend {
            Backend::Postgres => diesel::PgConnection::establish(&self.url).map(DbConnection::Pg),
            Backend::Sqlite => {
                diesel::SqliteConnection::establish(&self.url).map(DbConnection::Sqlite)
            }
        }
        .map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        diesel::r2d2::R2D2Connection::ping(conn).map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking() || diesel::r2d2::R2D2Connection::is_broken(conn)
    }
}

/// Logs the pool's failures to connect, naming the database and the underlying error.
#[derive(Debug)]
struct LogConnectErrors {
    location: String,
}

impl diesel::r2d2::HandleError<diesel::r2d2::Error> for LogConnectErrors {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        tracing::error!(database = %self.location, error = %error, "cannot connect to the database");
    }
}

/// A service's database: a pool plus what it needs to run work off the async runtime.
#[derive(Clone)]
pub struct Database {
    pool: DbPool,
    backend: Backend,
    /// Serialises SQLite write transactions (unused for PostgreSQL).
    write_lock: Arc<std::sync::Mutex<()>>,
    /// Where the database is, without credentials, for logs and errors.
    pub location: String,
    /// The service whose database this is (the `service` label of the pool's metrics).
    service: String,
    /// The pool's waits for a connection, counted by the pool's event handler.
    waits: crate::metrics::PoolWaits,
}

#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        if let DbConnection::Sqlite(c) = conn {
            sqlite_pragmas(c).map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// Sets up each new SQLite connection of the pool. No journal mode here: WAL is a property
/// of the file, set once by [`sqlite_wal`] before the pool opens any connection. Switching a
/// file to WAL takes an exclusive lock and does not wait for it: done by every new
/// connection, as the pool opened more while the services started and wrote, it failed with
/// "database is locked" (logged by the pool as an ERROR at some fresh embedded starts).
fn sqlite_pragmas(c: &mut diesel::SqliteConnection) -> diesel::QueryResult<()> {
    c.batch_execute(
        "PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
    )
}

/// Puts the SQLite file in WAL mode (persistent), on a connection of its own, before the
/// pool exists, so nothing else of this process has the file open.
fn sqlite_wal(file: &str) -> anyhow::Result<()> {
    let mut c = diesel::SqliteConnection::establish(file)
        .map_err(|e| anyhow::anyhow!("cannot open {file}: {e}"))?;
    c.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;")
        .map_err(|e| anyhow::anyhow!("cannot put {file} in WAL mode: {e}"))?;
    Ok(())
}

impl Database {
    /// Opens (creating if needed) the database of `service` named by the URL template.
    pub async fn connect(
        url_template: &str,
        service: &str,
        pool_size: u32,
    ) -> anyhow::Result<Self> {
        Self::open(url_template, service, pool_size, true).await
    }

    /// Opens the database of `service` named by the URL template without creating it (a
    /// missing PostgreSQL database is an error): for services whose database `hub migrate`
    /// made, whose own user may have no CREATEDB right.
    pub async fn connect_existing(
        url_template: &str,
        service: &str,
        pool_size: u32,
    ) -> anyhow::Result<Self> {
        Self::open(url_template, service, pool_size, false).await
    }

    async fn open(
        url_template: &str,
        service: &str,
        pool_size: u32,
        create: bool,
    ) -> anyhow::Result<Self> {
        let url_template = url_template.to_owned();
        let service = service.to_owned();
        tokio::task::spawn_blocking(move || {
            Self::connect_blocking(&url_template, &service, pool_size, create)
        })
        .await?
    }

    fn connect_blocking(
        url_template: &str,
        service: &str,
        pool_size: u32,
        create: bool,
    ) -> anyhow::Result<Self> {
        let url = url_template.replace("{service}", service);
        let (conn_url, backend, location) = if let Some(dir) = url.strip_prefix("sqlite://") {
            std::fs::create_dir_all(dir)
                .map_err(|e| anyhow::anyhow!("cannot create the data directory {dir}: {e}"))?;
            let file = std::path::Path::new(dir).join(format!("{service}.sqlite"));
            let file = file.to_string_lossy().into_owned();
            (file.clone(), Backend::Sqlite, file)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let mut shown = url::Url::parse(&url)?;
            let _ = shown.set_password(None);
            if create {
                create_postgres_database_if_missing(&url)?;
            } else {
                // One attempt first, so a missing database is one clear error, not the
                // pool's retries for its whole connection timeout.
                diesel::PgConnection::establish(&url).map_err(|e| {
                    anyhow::anyhow!("cannot connect to {shown}: {}", e.to_string().trim())
                })?;
            }
            (url.clone(), Backend::Postgres, shown.to_string())
        } else {
            anyhow::bail!(
                "database.url must start with sqlite:// or postgres:// (got {url_template})"
            );
        };
        if backend == Backend::Sqlite {
            sqlite_wal(&conn_url)?;
        }
        let manager = Manager {
            url: conn_url,
            backend,
        };
        let waits = crate::metrics::PoolWaits::new(service)?;
        let mut builder = Pool::builder()
            .event_handler(Box::new(waits.clone()))
            .error_handler(Box::new(LogConnectErrors {
                location: location.clone(),
            }))
            .max_size(pool_size)
            .min_idle(Some(1))
            // No `SELECT 1` before every check-out: it doubled the round trips per transaction
            // (see README, Performance). A connection that died is found on its next use, the
            // work fails once (HTTP 503 / a bus retry) and the pool replaces the connection.
            .test_on_check_out(false)
            .connection_timeout(Duration::from_secs(10));
        if backend == Backend::Sqlite {
            builder = builder.connection_customizer(Box::new(SqlitePragmas));
        }
        let pool = builder.build(manager).map_err(|e| {
            anyhow::anyhow!(
                "cannot connect to {location}: {e}. Is PostgreSQL running? Start it with \
                 `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`"
            )
        })?;
        Ok(Self {
            pool,
            backend,
            write_lock: Arc::default(),
            location,
            service: service.to_owned(),
            waits,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool on `/metrics`, labelled with the service: connections in use and idle (read
    /// at each scrape), the maximum, the time check-outs waited for a connection and the waits
    /// that timed out. Register it once, into the registry of the platform that runs the
    /// service.
    pub fn pool_metrics(&self) -> prometheus::Result<Box<dyn prometheus::core::Collector>> {
        let pool = self.pool.clone();
        let collector = crate::metrics::PoolCollector::new(
            &self.service,
            self.waits.clone(),
            self.pool.max_size(),
            Box::new(move || {
                let state = pool.state();
                (state.connections, state.idle_connections)
            }),
        )?;
        Ok(Box::new(collector))
    }

    /// Runs pending migrations of every set given, in order.
    pub async fn migrate(&self, sets: &'static [&'static Migrations]) -> anyhow::Result<()> {
        check_versions(sets)?;
        let db = self.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let _guard = db.write_lock.lock().unwrap_or_else(|e| e.into_inner());
            let mut conn = db.pool.get()?;
            for set in sets {
                let applied = match &mut *conn {
                    DbConnection::Pg(c) => {
                        // Replicas starting together migrate one at a time.
                        c.batch_execute("SELECT pg_advisory_lock(727274)")?;
                        let r = c
                            .run_pending_migrations(Source(&set.postgres))
                            .map(|v| v.len());
                        c.batch_execute("SELECT pg_advisory_unlock(727274)")?;
                        r
                    }
                    DbConnection::Sqlite(c) => c
                        .run_pending_migrations(Source(&set.sqlite))
                        .map(|v| v.len()),
                }
                .map_err(|e| anyhow::anyhow!("migrating {}: {e}", db.location))?;
                if applied > 0 {
                    tracing::info!(database = %db.location, applied, "migrations applied");
                }
            }
            Ok(())
        })
        .await?
    }

    /// The migrations of `sets` not yet applied to this database (their names, in order), read
    /// without writing anything: diesel's own check creates its migrations table when missing,
    /// which a user without DDL rights may not do.
    pub async fn pending_migrations(
        &self,
        sets: &'static [&'static Migrations],
    ) -> anyhow::Result<Vec<String>> {
        let applied = self.run(applied_versions).await?;
        let mut pending = Vec::new();
        for set in sets {
            let embedded = match self.backend {
                Backend::Postgres => migration_names::<diesel::pg::Pg>(&set.postgres)?,
                Backend::Sqlite => migration_names::<diesel::sqlite::Sqlite>(&set.sqlite)?,
            };
            pending.extend(
                embedded
                    .into_iter()
                    .filter(|(version, _)| !applied.contains(version))
                    .map(|(_, name)| name),
            );
        }
        Ok(pending)
    }

    /// Runs `f` with a pooled connection, off the async runtime.
    pub async fn run<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await
        .map_err(|e| DbError::Other(anyhow::anyhow!("database task failed: {e}")))?
    }

    /// Runs `f` in one transaction: everything it writes commits together, or nothing does.
    pub async fn transaction<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.transaction_blocking(f))
            .await
            .map_err(|e| DbError::Other(anyhow::anyhow!("database task failed: {e}")))?
    }

    /// [`Database::transaction`] for code already off the async runtime.
    pub fn transaction_blocking<T, F>(&self, f: F) -> Result<T, DbError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, DbError>,
    {
        let _guard = (self.backend == Backend::Sqlite)
            .then(|| self.write_lock.lock().unwrap_or_else(|e| e.into_inner()));
        let mut conn = self.pool.get()?;
        write_transaction(&mut conn, f)
    }

    /// A pooled connection for blocking code.
    pub fn get(&self) -> Result<PooledDb, DbError> {
        Ok(self.pool.get()?)
    }

    /// Readiness: the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.run(|c| {
            c.batch_execute("SELECT 1")?;
            Ok(())
        })
        .await
    }
}

/// Runs `f` in a transaction that, on SQLite, takes the write lock at `BEGIN IMMEDIATE`: a
/// deferred transaction that reads and then writes fails at once with "database is locked"
/// when another connection wrote in between (its snapshot is stale, and the busy timeout does
/// not apply), whereas an immediate one waits for the lock under the busy timeout.
fn write_transaction<T, F>(conn: &mut DbConnection, f: F) -> Result<T, DbError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, DbError>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    match conn {
        DbConnection::Pg(c) => AnsiTransactionManager::begin_transaction(c)?,
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
    }
    match f(conn) {
        Ok(value) => {
            <DbConnection as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            <DbConnection as Connection>::TransactionManager::rollback_transaction(conn)?;
            Err(e)
        }
    }
}

fn postgres_admin_url(url: &str) -> anyhow::Result<(String, String)> {
    let mut parsed = url::Url::parse(url)?;
    let name = parsed.path().trim_start_matches('/').to_owned();
    anyhow::ensure!(
        !name.is_empty(),
        "the PostgreSQL URL names no database: {url}"
    );
    parsed.set_path("/postgres");
    Ok((parsed.to_string(), name))
}

/// Creates the database named in `url` unless it exists (PostgreSQL only).
pub fn create_postgres_database_if_missing(url: &str) -> anyhow::Result<()> {
    let (admin, name) = postgres_admin_url(url)?;
    anyhow::ensure!(
        name.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
        "database names may hold letters, digits, `_` and `-` only: {name}"
    );
    let mut conn = diesel::PgConnection::establish(&admin).map_err(|e| {
        anyhow::anyhow!(
            "cannot reach PostgreSQL ({e}). Start it with \
             `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`"
        )
    })?;
    #[derive(diesel::QueryableByName)]
    struct Exists {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let found: Exists =
        diesel::sql_query("SELECT count(*) AS n FROM pg_database WHERE datname = $1")
            .bind::<diesel::sql_types::Text, _>(&name)
            .get_result(&mut conn)?;
    if found.n == 0 {
        match diesel::sql_query(format!("CREATE DATABASE \"{name}\"")).execute(&mut conn) {
            Ok(_) => tracing::info!(database = %name, "database created"),
            // Another replica created it first.
            Err(diesel::result::Error::DatabaseError(_, info))
                if info.message().contains("already exists") => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Drops the database named in `url` (PostgreSQL only; tests clean up with it).
pub fn drop_postgres_database(url: &str) -> anyhow::Result<()> {
    let (admin, name) = postgres_admin_url(url)?;
    let mut conn = diesel::PgConnection::establish(&admin)?;
    diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut conn)?;
    Ok(())
}

/// A fresh PostgreSQL database URL for one test: the server named by `HUB_TEST_POSTGRES` (a
/// URL template with `{service}`) or the local one, with a database name unique to the call
/// (created on first connect; drop it with [`drop_postgres_database`]). Panics, saying how to
/// start PostgreSQL, when the server does not answer: tests that need it never skip.
pub fn test_postgres_url(prefix: &str) -> String {
    let template = std::env::var("HUB_TEST_POSTGRES").unwrap_or_else(|_| {
        "postgres://postgres@127.0.0.1:5432/{service}?sslmode=disable".to_owned()
    });
    let url = template.replace(
        "{service}",
        &format!("{prefix}_{}", uuid::Uuid::now_v7().simple()),
    );
    let (admin, _) = postgres_admin_url(&url).expect("a PostgreSQL URL");
    if let Err(e) = diesel::PgConnection::establish(&admin) {
        panic!(
            "PostgreSQL does not answer at {admin} ({e}). Start it with \
             `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`"
        );
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 17: a server that refuses connections is logged and reported as such, with the
    /// driver's error, not as an invalid URL.
    #[test]
    fn a_refused_connection_is_reported_with_the_drivers_error() {
        // Port 1: nothing listens there, the connection is refused.
        let manager = Manager {
            url: "postgres://postgres@127.0.0.1:1/hub_nowhere".to_owned(),
            backend: Backend::Postgres,
        };
        let pool = Pool::builder()
            .connection_timeout(Duration::from_millis(300))
            .build_unchecked(manager);
        let error = pool.get().map(drop).unwrap_err().to_string();
        assert!(
            error.contains("Connection refused") && !error.contains("Invalid connection url"),
            "{error}"
        );
    }
}

#[cfg(test)]
mod sqlite_tests {
    use super::*;

    /// The pool's metrics: a check-out that waited is timed, one that gave up is counted, and
    /// the connections lent out and idle are read from the pool at each scrape.
    #[test]
    fn the_pool_shows_connections_waits_and_timeouts() {
        let dir = std::env::temp_dir().join(format!("hub-pool-test-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pool.sqlite").to_string_lossy().into_owned();
        let waits = crate::metrics::PoolWaits::new("svc").unwrap();
        let pool = Pool::builder()
            .max_size(1)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_millis(200))
            .event_handler(Box::new(waits.clone()))
            .build(Manager {
                url: file,
                backend: Backend::Sqlite,
            })
            .unwrap();
        let registry = prometheus::Registry::new();
        let state = pool.clone();
        let collector = crate::metrics::PoolCollector::new(
            "svc",
            waits,
            1,
            Box::new(move || {
                let s = state.state();
                (s.connections, s.idle_connections)
            }),
        )
        .unwrap();
        registry.register(Box::new(collector)).unwrap();
        let scrape = || {
            let mut buf = Vec::new();
            prometheus::Encoder::encode(
                &prometheus::TextEncoder::new(),
                &registry.gather(),
                &mut buf,
            )
            .unwrap();
            String::from_utf8(buf).unwrap()
        };

        let held = pool.get().unwrap();
        assert!(pool.get().is_err(), "the one connection is lent out");
        let text = scrape();
        for line in [
            "db_client_connection_count{service=\"svc\",state=\"used\"} 1",
            "db_client_connection_count{service=\"svc\",state=\"idle\"} 0",
            "db_client_connection_max{service=\"svc\"} 1",
            "db_client_connection_timeouts_total{service=\"svc\"} 1",
            "db_client_connection_wait_time_seconds_count{service=\"svc\"} 1",
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
        drop(held);
        let text = scrape();
        assert!(
            text.contains("db_client_connection_count{service=\"svc\",state=\"idle\"} 1"),
            "{text}"
        );
        drop(pool);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A connection set up while another one writes waits for nothing and fails at nothing
    /// (it used to switch the file to WAL itself and fail with "database is locked"), and a
    /// database the platform opens is in WAL mode.
    #[test]
    fn connections_set_up_during_a_write_do_not_fail_and_files_are_in_wal_mode() {
        let dir = std::env::temp_dir().join(format!("hub-db-test-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("fresh.sqlite").to_string_lossy().into_owned();
        let mut writer = diesel::SqliteConnection::establish(&file).unwrap();
        writer
            .batch_execute("CREATE TABLE t (x INTEGER); BEGIN IMMEDIATE; INSERT INTO t VALUES (1);")
            .unwrap();
        let mut conn = diesel::SqliteConnection::establish(&file).unwrap();
        let set_up = sqlite_pragmas(&mut conn);
        writer.batch_execute("COMMIT;").unwrap();
        set_up.expect("a connection is set up while another writes");

        let url = format!("sqlite://{}", dir.display());
        let db = Database::connect_blocking(&url, "svc", 4, true).unwrap();
        #[derive(diesel::QueryableByName)]
        struct Mode {
            #[diesel(sql_type = diesel::sql_types::Text)]
            journal_mode: String,
        }
        let mode: Mode = diesel::sql_query("PRAGMA journal_mode")
            .get_result(&mut *db.get().unwrap())
            .unwrap();
        assert_eq!(mode.journal_mode, "wal");
        drop(db);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
