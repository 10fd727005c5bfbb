//! The connection pool: picks the backend from the URL scheme and keeps libpq's own error text.

use super::DbConn;
use super::outbox::Queued;
use crate::domain::database_url::{Backend, DatabaseUrl};
use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, CustomizeConnection, ManageConnection, R2D2Connection};
use diesel::{Connection, PgConnection, SqliteConnection};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("no database connection became free in time")]
    PoolTimeout,
    #[error("database task failed: {0}")]
    TaskFailed(String),
    /// The connection went away under a query: the database stopped, restarted or became
    /// unreachable.
    #[error("lost the database connection: {0}")]
    Lost(String),
}

impl DbError {
    /// The outage behind a query's failure, if that is what it was: a connection that
    /// closed or could not be written to, or a transaction left broken by one.
    pub fn outage(e: &diesel::result::Error) -> Option<Self> {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            )
            | Error::BrokenTransactionManager => Some(DbError::Lost(e.to_string())),
            _ => None,
        }
    }

    /// Whether a retry may succeed once the database answers again (`TaskFailed` is a bug).
    pub fn is_outage(&self) -> bool {
        !matches!(self, DbError::TaskFailed(_))
    }
}

/// Opens connections of the backend the URL names.
pub struct Manager {
    url: DatabaseUrl,
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        match self.url.backend() {
            Backend::Postgres => PgConnection::establish(self.url.as_str()).map(DbConn::Pg),
            Backend::Sqlite => SqliteConnection::establish(self.url.as_str()).map(DbConn::Sqlite),
        }
        .map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        conn.is_broken()
    }
}

/// Per-connection settings the rest of the code relies on.
#[derive(Debug)]
struct SessionSetup;

impl CustomizeConnection<DbConn, r2d2::Error> for SessionSetup {
    fn on_acquire(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        match conn {
            // busy_timeout first: switching to WAL itself may wait for another process.
            DbConn::Sqlite(c) => c.batch_execute(
                "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            ),
            // The account lock (db::accounts::lock) needs each statement after it to see what
            // was committed before it, whatever default the database was given.
            DbConn::Pg(c) => c.batch_execute(
                "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED",
            ),
        }
        .map_err(r2d2::Error::QueryError)
    }
}

pub type PooledConn = r2d2::PooledConnection<Manager>;

/// The shared pool. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<Manager>,
    backend: Backend,
    /// Signalled when work run through this pool queued webhook deliveries; this process's
    /// delivery worker waits on it.
    queued: Arc<Notify>,
    /// Callers blocked waiting for a connection (r2d2 does not count them).
    waiting: Arc<AtomicUsize>,
}

/// The pool at one moment, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolState {
    pub max: u32,
    /// Open connections, in use or idle.
    pub connections: u32,
    pub idle: u32,
    pub waiting: usize,
}

impl Db {
    /// Opens the pool, failing fast with the driver's own message when the database cannot
    /// be reached. Blocking: call from a blocking context.
    pub fn connect(url: &DatabaseUrl, size: u32, timeout: Duration) -> Result<Self, DbError> {
        let sqlite_dir = url
            .sqlite_file()
            .and_then(|f| f.parent().map(PathBuf::from));
        if let Some(dir) = sqlite_dir.filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(&dir).map_err(|e| {
                DbError::Connect(format!("cannot create directory {}: {e}", dir.display()))
            })?;
        }
        if let Some(file) = url.sqlite_file() {
            create_private_sqlite_files(&file)
                .map_err(|e| DbError::Connect(format!("cannot create {}: {e}", file.display())))?;
        }
        let manager = Manager { url: url.clone() };
        // One direct connection first: r2d2 would retry for its whole timeout and then
        // report only "timed out".
        let mut probe = manager
            .connect()
            .map_err(|e| DbError::Connect(e.to_string()))?;
        SessionSetup
            .on_acquire(&mut probe)
            .map_err(|e| DbError::Connect(e.to_string()))?;
        drop(probe);
        let pool = r2d2::Pool::builder()
            .max_size(size)
            .min_idle(Some(size.min(2)))
            .connection_timeout(timeout)
            .connection_customizer(Box::new(SessionSetup))
            .build(manager)
            .map_err(|e| DbError::Connect(e.to_string()))?;
        Ok(Self {
            pool,
            backend: url.backend(),
            queued: Arc::new(Notify::new()),
            waiting: Arc::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A connection, blocking until one is free.
    pub fn conn(&self) -> Result<PooledConn, DbError> {
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let conn = self.pool.get();
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        conn.map_err(|_| DbError::PoolTimeout)
    }

    pub fn pool_state(&self) -> PoolState {
        let state = self.pool.state();
        PoolState {
            max: self.pool.max_size(),
            connections: state.connections,
            idle: state.idle_connections,
            waiting: self.waiting.load(Ordering::Relaxed),
        }
    }

    /// Runs blocking database work on the blocking thread pool.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let db = self.clone();
        actix_web::rt::task::spawn_blocking(move || {
            let mut conn = db.conn()?;
            f(&mut conn)
        })
        .await
        // A panic in the closure is a bug: report it as one instead of dropping the request.
        .unwrap_or_else(|join| Err(DbError::TaskFailed(join.to_string()).into()))
    }

    /// Runs work that may queue webhook deliveries (`outbox::Queued`), and wakes this
    /// process's delivery worker once it committed some, so they go out at once rather
    /// than at the worker's next poll.
    pub async fn run_queueing<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<Queued<T>, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let (value, deliveries) = self.run(f).await?.into_parts();
        if deliveries > 0 {
            self.queued.notify_one();
        }
        Ok(value)
    }

    /// Resolves when work run through `run_queueing` queued deliveries (or already had,
    /// since the last wait).
    pub async fn deliveries_queued(&self) {
        self.queued.notified().await;
    }
}

/// Creates a directory (and its parents) only this user can enter, and makes an existing
/// one private too: it may hold the database, keys and uploads.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.exists() {
        return make_private(dir, 0o700);
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates the SQLite file readable by this user only before SQLite opens it (SQLite gives
/// its `-wal`, `-shm` and `-journal` files the database file's mode), and makes existing
/// ones private.
fn create_private_sqlite_files(file: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(file)?;
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut companion = file.as_os_str().to_owned();
        companion.push(suffix);
        let companion = PathBuf::from(companion);
        if companion.exists() {
            make_private(&companion, 0o600)?;
        }
    }
    Ok(())
}

/// Sets `mode` on an existing file or directory, unless it is a directory shared by design
/// (sticky, like `/tmp`): taking that from its other users would break them.
#[cfg(unix)]
fn make_private(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let current = std::fs::metadata(path)?.permissions().mode() & 0o7777;
    if current == mode || current & 0o1000 != 0 {
        return Ok(());
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn make_private(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use diesel::RunQueryDsl;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn database_files_are_private_even_where_they_existed() {
        let root = tempfile::tempdir().unwrap();
        for existed in [false, true] {
            let dir = root.path().join(format!("data-{existed}"));
            let file = dir.join("postgate.db");
            if existed {
                std::fs::create_dir(&dir).unwrap();
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
                std::fs::write(&file, b"").unwrap();
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
            }
            let url = DatabaseUrl::parse(&format!("sqlite://{}", file.display())).unwrap();
            let db = Db::connect(&url, 1, Duration::from_secs(5)).unwrap();
            // A write, so that SQLite creates its write-ahead log and shared-memory files.
            diesel::sql_query("CREATE TABLE t (x INTEGER)")
                .execute(&mut *db.conn().unwrap())
                .unwrap();
            assert_eq!(mode(&dir), 0o700, "existed: {existed}");
            for suffix in ["", "-wal", "-shm"] {
                let path = PathBuf::from(format!("{}{suffix}", file.display()));
                assert_eq!(
                    mode(&path),
                    0o600,
                    "{} (existed: {existed})",
                    path.display()
                );
            }
        }
    }

    #[test]
    fn a_shared_directory_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let shared = std::fs::Permissions::from_mode(0o1777);
        std::fs::set_permissions(dir.path(), shared).unwrap();
        create_private_dir(dir.path()).unwrap();
        assert_eq!(
            std::fs::metadata(dir.path()).unwrap().permissions().mode() & 0o7777,
            0o1777
        );
    }
}
