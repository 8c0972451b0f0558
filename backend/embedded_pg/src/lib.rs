//! Embedded PostgreSQL launcher.
//!
//! When `caseyos serve` runs without `DATABASE_URL`, it uses a private
//! PostgreSQL cluster started from the machine's own PostgreSQL binaries
//! (Debian: `/usr/lib/postgresql/<ver>/bin`, highest version wins; override
//! with `CASEYOS_PG_BIN_DIR`). The cluster lives in `<data_dir>/pg`, listens
//! on a Unix socket only (`/tmp/caseyos-pg-<hash>`, no TCP) and uses `trust`
//! authentication, which is safe because the socket directory is mode 0700
//! and owned by the server's user.
//!
//! The server is started with `pg_ctl`, which detaches it, so it survives the
//! caseyos process being killed; the next `start` finds it running and reuses
//! it.
//!
//! PostgreSQL refuses to run as root. When caseyos runs as root, `initdb` and
//! `pg_ctl` are run as the `postgres` system user through `runuser`, the
//! cluster directory is owned by that user, and every ancestor of the data
//! directory must be traversable by it.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fmt;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Executor};
use tokio::process::Command;

/// Environment variable that points at a directory holding `initdb`,
/// `pg_ctl` and `postgres`, overriding the automatic search.
const BIN_DIR_ENV: &str = "CASEYOS_PG_BIN_DIR";
/// Where Debian/Ubuntu install versioned PostgreSQL binaries.
const DEBIAN_PG_ROOT: &str = "/usr/lib/postgresql";
/// Name of the PostgreSQL system user used when running as root.
const PG_SYSTEM_USER: &str = "postgres";
/// Database role created by initdb (`-U postgres`).
const PG_ROLE: &str = "postgres";
/// Database that caseyos uses.
const APP_DATABASE: &str = "caseyos";
/// Port number; only determines the socket file name (`.s.PGSQL.5432`).
const PG_PORT: u16 = 5432;
/// Seconds `pg_ctl` waits for start/stop.
const PG_CTL_TIMEOUT_SECS: u32 = 30;
/// How long to wait for a running server to accept connections.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How many times to retry `pg_ctl start` after a transient failure (e.g.
/// leftover children of a killed postmaster still holding shared memory).
const START_ATTEMPTS: u32 = 5;
const REQUIRED_BINARIES: [&str; 3] = ["initdb", "pg_ctl", "postgres"];

/// A private PostgreSQL cluster in `<data_dir>/pg`, reachable over a Unix socket only.
pub struct EmbeddedPostgres {
    data_dir: PathBuf,
    pgdata: PathBuf,
    socket_dir: PathBuf,
    log_file: PathBuf,
    bin_dir: PathBuf,
    /// `Some` when running as root: commands run as this user via `runuser`.
    run_as: Option<SystemUser>,
    /// Effective uid of this process.
    euid: u32,
    started_here: bool,
}

impl fmt::Debug for EmbeddedPostgres {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedPostgres")
            .field("data_dir", &self.data_dir)
            .field("socket_dir", &self.socket_dir)
            .field("bin_dir", &self.bin_dir)
            .field("started_here", &self.started_here)
            .finish()
    }
}

/// Errors from starting or stopping the embedded PostgreSQL server.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedPgError {
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found ({searched}). \
         Install the `postgresql` package, set CASEYOS_PG_BIN_DIR to the directory that \
         contains them, or set DATABASE_URL to use an existing PostgreSQL server"
    )]
    BinariesNotFound { searched: String },

    #[error(
        "the embedded PostgreSQL cluster in {pgdata} was created by PostgreSQL {cluster_version}, \
         but that version's binaries are not installed (found: {available}). Install \
         `postgresql-{cluster_version}`, point CASEYOS_PG_BIN_DIR at its bin directory, or \
         upgrade the cluster with pg_upgrade"
    )]
    VersionMismatch {
        pgdata: PathBuf,
        cluster_version: String,
        available: String,
    },

    #[error(
        "caseyos is running as root, but PostgreSQL refuses to run as root and there is no \
         `postgres` user in /etc/passwd to run it as. Install the `postgresql` package (it \
         creates that user), run caseyos as a non-root user, or set DATABASE_URL"
    )]
    PostgresUserMissing,

    #[error(
        "the embedded PostgreSQL server cannot use {dir}: {reason}. Choose another data \
         directory with CASEYOS_DATA_DIR or --data-dir (for example under /var/lib/caseyos \
         or /srv/caseyos), or set DATABASE_URL"
    )]
    DataDirNotAccessible { dir: PathBuf, reason: String },

    #[error(
        "{dir} exists but is not a PostgreSQL data directory (no PG_VERSION file). \
         Move it aside or choose another location with CASEYOS_DATA_DIR or --data-dir"
    )]
    NotACluster { dir: PathBuf },

    #[error(
        "socket directory {dir} cannot be used: {reason}. Remove it (`rm -rf {dir}`) and retry"
    )]
    SocketDirUnusable { dir: PathBuf, reason: String },

    #[error("could not run `{program}`: {source}. Is it installed and on PATH?")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },

    #[error("initdb failed to create the PostgreSQL cluster:\n{stderr}")]
    InitdbFailed { stderr: String },

    #[error(
        "the embedded PostgreSQL server failed to start; last lines of {log_file}:\n{log_tail}"
    )]
    StartFailed { log_file: PathBuf, log_tail: String },

    #[error(
        "the embedded PostgreSQL server for {pgdata} appears to be running but did not accept \
         connections on {socket_dir} within {waited_secs}s (last error: {last_error}); see \
         {log_file}. If no `postgres -D {pgdata}` process exists, a stale \
         {pgdata}/postmaster.pid may be the cause"
    )]
    NotReady {
        socket_dir: PathBuf,
        log_file: PathBuf,
        pgdata: PathBuf,
        waited_secs: u64,
        last_error: String,
    },

    #[error("pg_ctl stop failed:\n{stderr}")]
    StopFailed { stderr: String },

    #[error(transparent)]
    Io(#[from] std::io::Error),

    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

impl EmbeddedPostgres {
    /// Initialise the cluster on first use, start it unless it is already running
    /// (a previous caseyos process that was killed may have left it running: reuse it),
    /// wait until it accepts connections, and create the `caseyos` database if missing.
    pub async fn start(data_dir: &Path) -> Result<Self, EmbeddedPgError> {
        let euid = effective_uid().await?;
        let run_as = if euid == 0 {
            Some(lookup_system_user(PG_SYSTEM_USER)?.ok_or(EmbeddedPgError::PostgresUserMissing)?)
        } else {
            None
        };

        let data_dir = prepare_data_dir(data_dir, run_as.as_ref())?;
        // Serialise concurrent starts on the same data directory (e.g. two
        // caseyos processes launched at once): the lock is released when this
        // function returns or the process dies.
        let _start_lock = lock_file(&data_dir.join("pg.lock"), &data_dir).await?;
        let pgdata = data_dir.join("pg");
        let socket_dir = socket_dir_for(&pgdata);
        let log_file = data_dir.join("pg.log");

        let cluster_version = read_cluster_version(&pgdata)?;
        let bin_dir = find_bin_dir(&pgdata, cluster_version.as_deref())?;

        let mut pg = EmbeddedPostgres {
            data_dir,
            pgdata,
            socket_dir,
            log_file,
            bin_dir,
            run_as,
            euid,
            started_here: false,
        };

        if cluster_version.is_none() {
            pg.init_cluster().await?;
        } else {
            pg.fix_cluster_ownership()?;
        }

        pg.prepare_socket_dir()?;
        pg.prepare_log_file()?;

        let mut conn = pg.connect_or_start().await?;
        pg.ensure_database(&mut conn).await?;
        conn.close().await?;
        Ok(pg)
    }

    /// A sqlx-compatible URL, e.g.
    /// `postgres://postgres@localhost:5432/caseyos?host=/tmp/caseyos-pg-1a2b3c4d&sslmode=disable`
    /// (`host=/...` selects the Unix socket directory; there is no TCP listener).
    pub fn database_url(&self) -> String {
        self.url_for(APP_DATABASE)
    }

    /// Whether this handle started the server (false when it found it already running).
    pub fn started_here(&self) -> bool {
        self.started_here
    }

    /// Stop the server with `pg_ctl stop -m fast` if this handle started it; no-op otherwise.
    pub async fn stop(&self) -> Result<(), EmbeddedPgError> {
        if !self.started_here {
            tracing::debug!(
                data_dir = %self.data_dir.display(),
                "embedded PostgreSQL was not started by this process; leaving it running"
            );
            return Ok(());
        }
        if !self.is_running().await? {
            return Ok(());
        }
        let timeout = PG_CTL_TIMEOUT_SECS.to_string();
        let out = self
            .pg_command(
                "pg_ctl",
                &[
                    "-D".into(),
                    self.pgdata.clone().into(),
                    "-m".into(),
                    "fast".into(),
                    "-w".into(),
                    "-t".into(),
                    timeout.into(),
                    "stop".into(),
                ],
            )
            .await?;
        if !out.status.success() {
            // A concurrent stop may have won the race; that is fine.
            if !self.is_running().await? {
                return Ok(());
            }
            return Err(EmbeddedPgError::StopFailed {
                stderr: command_text(&out),
            });
        }
        tracing::info!(data_dir = %self.data_dir.display(), "embedded PostgreSQL stopped");
        Ok(())
    }

    fn url_for(&self, database: &str) -> String {
        // The port is explicit so that a PGPORT environment variable cannot
        // redirect sqlx to a different socket file; sslmode=disable because
        // TLS over a Unix socket is pointless and PGSSLMODE could demand it.
        format!(
            "postgres://{PG_ROLE}@localhost:{PG_PORT}/{database}?host={}&sslmode=disable",
            self.socket_dir.display()
        )
    }

    /// Run `initdb` into a temporary directory, configure it, then rename it to
    /// `<data_dir>/pg`, so that `pg` only ever exists as a complete cluster.
    async fn init_cluster(&self) -> Result<(), EmbeddedPgError> {
        tracing::info!(
            data_dir = %self.data_dir.display(),
            bin_dir = %self.bin_dir.display(),
            "initialising embedded PostgreSQL cluster"
        );
        let tmp = self.data_dir.join("pg.initdb-tmp");
        let mut last_err = String::new();
        let mut ok = false;
        for locale in ["C.UTF-8", "C"] {
            if tmp.exists() {
                std::fs::remove_dir_all(&tmp).at(
                    &tmp,
                    "could not remove it (left over from an interrupted initdb)",
                )?;
            }
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(&tmp)
                .at(&tmp, "could not create it")?;
            if let Some(user) = &self.run_as {
                std::os::unix::fs::chown(&tmp, Some(user.uid), Some(user.gid))
                    .at(&tmp, "could not chown it to the postgres user")?;
            }
            let out = self
                .pg_command(
                    "initdb",
                    &[
                        "-D".into(),
                        tmp.clone().into(),
                        "-U".into(),
                        PG_ROLE.into(),
                        "--auth=trust".into(),
                        "-E".into(),
                        "UTF8".into(),
                        format!("--locale={locale}").into(),
                    ],
                )
                .await?;
            if out.status.success() {
                ok = true;
                break;
            }
            last_err = command_text(&out);
            tracing::warn!(
                locale,
                "initdb failed; retrying with another locale if possible"
            );
        }
        if !ok {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(EmbeddedPgError::InitdbFailed { stderr: last_err });
        }

        let conf = format!(
            "\n# Added by caseyos (embedded PostgreSQL)\n\
             listen_addresses = ''\n\
             port = {PG_PORT}\n\
             unix_socket_directories = '{}'\n\
             max_connections = 100\n\
             shared_buffers = 128MB\n\
             idle_in_transaction_session_timeout = '60s'\n\
             log_min_messages = warning\n",
            self.socket_dir.display()
        );
        let conf_file = tmp.join("postgresql.conf");
        (|| {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new().append(true).open(&conf_file)?;
            f.write_all(conf.as_bytes())?;
            f.sync_all()
        })()
        .at(&conf_file, "could not append settings to it")?;
        std::fs::rename(&tmp, &self.pgdata)
            .at(&self.pgdata, "could not rename the new cluster to it")?;
        sync_dir(&self.data_dir);
        tracing::info!(data_dir = %self.data_dir.display(), "embedded PostgreSQL cluster initialised");
        Ok(())
    }

    /// When running as root, make sure the cluster belongs to the postgres user.
    fn fix_cluster_ownership(&self) -> Result<(), EmbeddedPgError> {
        let meta = std::fs::metadata(&self.pgdata).at(&self.pgdata, "could not inspect it")?;
        match &self.run_as {
            Some(user) => {
                if meta.uid() != user.uid {
                    tracing::warn!(
                        data_dir = %self.data_dir.display(),
                        old_uid = meta.uid(),
                        "embedded PostgreSQL cluster is not owned by the postgres user; fixing ownership"
                    );
                    chown_recursive(&self.pgdata, user.uid, user.gid)
                        .at(&self.pgdata, "could not chown it to the postgres user")?;
                }
            }
            None => {
                if meta.uid() != self.euid {
                    return Err(EmbeddedPgError::DataDirNotAccessible {
                        dir: self.pgdata.clone(),
                        reason: format!(
                            "the cluster is owned by uid {} but caseyos runs as uid {}; \
                             run caseyos as that user (or as root)",
                            meta.uid(),
                            self.euid
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    /// Create the short socket directory in /tmp (it may have been cleaned up
    /// after a reboot), mode 0700, owned by the server's user.
    fn prepare_socket_dir(&self) -> Result<(), EmbeddedPgError> {
        let dir = &self.socket_dir;
        let expected_uid = match &self.run_as {
            Some(user) => user.uid,
            None => self.euid,
        };
        let unusable = |reason: String| EmbeddedPgError::SocketDirUnusable {
            dir: dir.clone(),
            reason,
        };
        let create = || -> Result<(), EmbeddedPgError> {
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(dir)
                .map_err(|e| unusable(format!("could not create it: {e}")))?;
            if let Some(user) = &self.run_as {
                std::os::unix::fs::chown(dir, Some(user.uid), Some(user.gid))
                    .map_err(|e| unusable(format!("could not chown it: {e}")))?;
            }
            Ok(())
        };
        let meta = match std::fs::symlink_metadata(dir) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return create(),
            Err(e) => return Err(unusable(e.to_string())),
        };
        if !meta.file_type().is_dir() || meta.uid() != expected_uid {
            if self.run_as.is_none() {
                return Err(unusable(if meta.file_type().is_dir() {
                    format!(
                        "it is owned by uid {} instead of uid {expected_uid}",
                        meta.uid()
                    )
                } else {
                    "it exists but is not a directory".to_string()
                }));
            }
            // As root, replace anything we do not trust rather than adopt it.
            tracing::warn!(
                socket_dir = %dir.display(),
                owner_uid = meta.uid(),
                "replacing socket directory with unexpected owner or type"
            );
            if meta.file_type().is_dir() {
                std::fs::remove_dir_all(dir)
            } else {
                std::fs::remove_file(dir)
            }
            .map_err(|e| unusable(format!("could not remove it: {e}")))?;
            return create();
        }
        if meta.permissions().mode() & 0o777 != 0o700 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| unusable(format!("could not chmod it: {e}")))?;
        }
        Ok(())
    }

    /// Pre-create the server log so the postgres user never needs write
    /// access to `data_dir` itself.
    fn prepare_log_file(&self) -> Result<(), EmbeddedPgError> {
        let log = &self.log_file;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .at(log, "could not create it")?;
        let meta = file.metadata().at(log, "could not inspect it")?;
        if let Some(user) = &self.run_as {
            if meta.uid() != user.uid {
                std::os::unix::fs::chown(log, Some(user.uid), Some(user.gid))
                    .at(log, "could not chown it to the postgres user")?;
            }
        }
        if meta.permissions().mode() & 0o777 != 0o600 {
            std::fs::set_permissions(log, std::fs::Permissions::from_mode(0o600))
                .at(log, "could not chmod it")?;
        }
        Ok(())
    }

    /// `pg_ctl status`: exit code 0 means a server is running on this PGDATA.
    async fn is_running(&self) -> Result<bool, EmbeddedPgError> {
        let out = self
            .pg_command(
                "pg_ctl",
                &["-D".into(), self.pgdata.clone().into(), "status".into()],
            )
            .await?;
        Ok(out.status.success())
    }

    async fn start_server(&mut self) -> Result<(), EmbeddedPgError> {
        tracing::info!(
            data_dir = %self.data_dir.display(),
            socket_dir = %self.socket_dir.display(),
            "starting embedded PostgreSQL"
        );
        let timeout = PG_CTL_TIMEOUT_SECS.to_string();
        let args: Vec<OsString> = vec![
            "-D".into(),
            self.pgdata.clone().into(),
            "-l".into(),
            self.log_file.clone().into(),
            "-w".into(),
            "-t".into(),
            timeout.into(),
            "-o".into(),
            format!("-k {}", self.socket_dir.display()).into(),
            "start".into(),
        ];
        let mut attempt = 1;
        loop {
            let log_offset = std::fs::metadata(&self.log_file).map_or(0, |m| m.len());
            let out = self.pg_command("pg_ctl", &args).await?;
            if out.status.success() {
                self.started_here = true;
                tracing::info!(data_dir = %self.data_dir.display(), "embedded PostgreSQL started");
                return Ok(());
            }
            // `pg_ctl -w` gave up waiting (e.g. a long crash recovery) but the
            // server is up or coming up. The start lock keeps other caseyos
            // processes out, so it is the server we just launched.
            if self.is_running().await? {
                self.started_here = true;
                tracing::warn!(
                    data_dir = %self.data_dir.display(),
                    pg_ctl = %command_text(&out),
                    "pg_ctl start reported failure but the server is running; waiting for it"
                );
                return Ok(());
            }
            // Only what this attempt logged decides whether to retry.
            let new_log = read_tail_from(&self.log_file, log_offset, 20);
            let transient = new_log.contains("pre-existing shared memory block")
                || new_log.contains("already exists");
            if transient && attempt < START_ATTEMPTS {
                tracing::warn!(
                    data_dir = %self.data_dir.display(),
                    attempt,
                    "embedded PostgreSQL did not start (leftovers of a previous server?); retrying"
                );
                attempt += 1;
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            return Err(EmbeddedPgError::StartFailed {
                log_file: self.log_file.clone(),
                log_tail: format!(
                    "{}\n(pg_ctl: {})",
                    read_tail(&self.log_file, 20),
                    command_text(&out)
                ),
            });
        }
    }

    /// Reuse a running server or start one, and return a connection to the
    /// `postgres` database once the server accepts connections.
    ///
    /// `pg_ctl status` can briefly report a server as running right after its
    /// postmaster was killed (until the dead process is reaped), so the status
    /// is re-checked while waiting, and the server is started as soon as it is
    /// found not running.
    async fn connect_or_start(&mut self) -> Result<PgConnection, EmbeddedPgError> {
        let opts: PgConnectOptions = self.url_for("postgres").parse()?;
        let deadline = Instant::now() + CONNECT_TIMEOUT;
        loop {
            let last_error = if self.is_running().await? {
                match try_connect(&opts).await {
                    Ok(conn) => {
                        if !self.started_here {
                            tracing::info!(
                                data_dir = %self.data_dir.display(),
                                socket_dir = %self.socket_dir.display(),
                                "embedded PostgreSQL already running; reusing it"
                            );
                        }
                        return Ok(conn);
                    }
                    Err(e) => e,
                }
            } else if self.started_here {
                // We started it and it is gone again: it crashed.
                return Err(EmbeddedPgError::StartFailed {
                    log_file: self.log_file.clone(),
                    log_tail: read_tail(&self.log_file, 20),
                });
            } else {
                self.start_server().await?;
                if Instant::now() < deadline {
                    continue;
                }
                "the server stopped again right after it was started".to_string()
            };
            if Instant::now() >= deadline {
                return Err(EmbeddedPgError::NotReady {
                    socket_dir: self.socket_dir.clone(),
                    log_file: self.log_file.clone(),
                    pgdata: self.pgdata.clone(),
                    waited_secs: CONNECT_TIMEOUT.as_secs(),
                    last_error,
                });
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Create the `caseyos` database if it does not exist yet.
    async fn ensure_database(&self, conn: &mut PgConnection) -> Result<(), EmbeddedPgError> {
        let exists: Option<i32> =
            sqlx::query_scalar("select 1 from pg_database where datname = $1")
                .bind(APP_DATABASE)
                .fetch_optional(&mut *conn)
                .await?;
        if exists.is_none() {
            match conn.execute("create database caseyos").await {
                Ok(_) => {
                    tracing::info!(data_dir = %self.data_dir.display(), "created database `caseyos`");
                }
                // 42P04 duplicate_database: created concurrently; fine.
                Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Run one of the PostgreSQL binaries, as the postgres user when we are root.
    async fn pg_command(&self, bin: &str, args: &[OsString]) -> Result<Output, EmbeddedPgError> {
        let program = self.bin_dir.join(bin);
        let mut cmd = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.arg("-u").arg(&user.name).arg("--").arg(&program);
                c
            }
            None => Command::new(&program),
        };
        cmd.args(args)
            // The postgres user may not be able to enter our working directory.
            .current_dir("/")
            .env_remove("PGDATA")
            .env_remove("PGPORT")
            .env("LC_MESSAGES", "C")
            .stdin(std::process::Stdio::null())
            .kill_on_drop(false);
        let shown = if self.run_as.is_some() {
            "runuser".to_string()
        } else {
            program.display().to_string()
        };
        tracing::debug!(program = %program.display(), ?args, "running PostgreSQL command");
        cmd.output().await.map_err(|source| EmbeddedPgError::Spawn {
            program: shown,
            source,
        })
    }
}

/// Take an exclusive advisory lock (flock) on `path`, waiting if another
/// process holds it.
async fn lock_file(path: &Path, data_dir: &Path) -> Result<std::fs::File, EmbeddedPgError> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .at(path, "could not create it")?;
    match file.try_lock() {
        Ok(()) => return Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {}
        Err(std::fs::TryLockError::Error(e)) => return Err(e).at(path, "could not lock it"),
    }
    tracing::info!(
        data_dir = %data_dir.display(),
        "another process is starting the embedded PostgreSQL; waiting for it"
    );
    tokio::task::spawn_blocking(move || file.lock().map(|()| file))
        .await
        .map_err(std::io::Error::other)?
        .map_err(Into::into)
}

/// Attach a path and an action to I/O errors, as an actionable
/// [`EmbeddedPgError::DataDirNotAccessible`].
trait IoContext<T> {
    fn at(self, path: &Path, action: &str) -> Result<T, EmbeddedPgError>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, path: &Path, action: &str) -> Result<T, EmbeddedPgError> {
        self.map_err(|e| EmbeddedPgError::DataDirNotAccessible {
            dir: path.to_path_buf(),
            reason: format!("{action}: {e}"),
        })
    }
}

async fn try_connect(opts: &PgConnectOptions) -> Result<PgConnection, String> {
    match tokio::time::timeout(Duration::from_secs(5), PgConnection::connect_with(opts)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("connection attempt timed out".to_string()),
    }
}

// ---------------------------------------------------------------------------
// Users, permissions and paths
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct SystemUser {
    name: String,
    uid: u32,
    gid: u32,
    /// Primary and supplementary group ids.
    groups: HashSet<u32>,
}

/// Effective uid from `/proc/self/status`, falling back to `id -u`.
async fn effective_uid() -> Result<u32, EmbeddedPgError> {
    if let Some(uid) = current_euid_sync() {
        return Ok(uid);
    }
    let out = Command::new("id")
        .arg("-u")
        .output()
        .await
        .map_err(|source| EmbeddedPgError::Spawn {
            program: "id".into(),
            source,
        })?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| {
            EmbeddedPgError::Io(std::io::Error::other(
                "could not determine the effective user id (`id -u` gave no number)",
            ))
        })
}

fn current_euid_sync() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_euid(&status)
}

/// The `Uid:` line holds real, effective, saved and filesystem uids.
fn parse_euid(status: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|rest| rest.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
}

fn lookup_system_user(name: &str) -> Result<Option<SystemUser>, EmbeddedPgError> {
    let passwd = std::fs::read_to_string("/etc/passwd")?;
    let group = std::fs::read_to_string("/etc/group").unwrap_or_default();
    Ok(parse_user(name, &passwd, &group))
}

fn parse_user(name: &str, passwd: &str, group: &str) -> Option<SystemUser> {
    let (uid, gid) = passwd.lines().find_map(|line| {
        let mut f = line.split(':');
        if f.next()? != name {
            return None;
        }
        let _password = f.next()?;
        let uid = f.next()?.parse().ok()?;
        let gid = f.next()?.parse().ok()?;
        Some((uid, gid))
    })?;
    let mut groups = HashSet::from([gid]);
    for line in group.lines() {
        let mut f = line.split(':');
        let (_name, _pw, g, members) = (f.next(), f.next(), f.next(), f.next());
        if let (Some(g), Some(members)) = (g.and_then(|g| g.parse::<u32>().ok()), members) {
            if members.split(',').any(|m| m.trim() == name) {
                groups.insert(g);
            }
        }
    }
    Some(SystemUser {
        name: name.to_string(),
        uid,
        gid,
        groups,
    })
}

/// Whether `user` may search (traverse) a directory with this metadata,
/// judged from the classic permission bits (ACLs are not consulted).
fn can_traverse(meta: &std::fs::Metadata, user: &SystemUser) -> bool {
    let mode = meta.mode();
    if meta.uid() == user.uid {
        mode & 0o100 != 0
    } else if user.groups.contains(&meta.gid()) {
        mode & 0o010 != 0
    } else {
        mode & 0o001 != 0
    }
}

/// Check that `user` can traverse `dir` and every ancestor of it.
fn check_traversable(dir: &Path, target: &Path, user: &SystemUser) -> Result<(), EmbeddedPgError> {
    for ancestor in dir.ancestors() {
        let meta = std::fs::metadata(ancestor).at(ancestor, "could not inspect it")?;
        if !can_traverse(&meta, user) {
            return Err(EmbeddedPgError::DataDirNotAccessible {
                dir: ancestor.to_path_buf(),
                reason: format!(
                    "the `{}` user (which runs PostgreSQL because caseyos runs as root) cannot \
                     enter this directory (mode {:o}, owner uid {}), so it cannot reach {}; \
                     caseyos does not change permissions of existing directories",
                    user.name,
                    meta.mode() & 0o7777,
                    meta.uid(),
                    target.display()
                ),
            });
        }
    }
    Ok(())
}

/// Create `data_dir` if needed, canonicalize it and (as root) check that the
/// postgres user can reach it. The check runs on the existing part of the
/// path first, so no directories are created where they cannot be used.
fn prepare_data_dir(
    data_dir: &Path,
    run_as: Option<&SystemUser>,
) -> Result<PathBuf, EmbeddedPgError> {
    let not_accessible = |reason: String| EmbeddedPgError::DataDirNotAccessible {
        dir: data_dir.to_path_buf(),
        reason,
    };
    let absolute = if data_dir.is_absolute() {
        data_dir.to_path_buf()
    } else {
        std::env::current_dir()?.join(data_dir)
    };

    // Nearest existing ancestor, and the components that still need creating.
    let mut existing = absolute.as_path();
    let mut missing = Vec::new();
    while !existing.exists() {
        missing.push(existing.to_path_buf());
        existing = existing
            .parent()
            .ok_or_else(|| not_accessible("no existing parent directory".into()))?;
    }
    if let Some(user) = run_as {
        let existing = existing.canonicalize().map_err(|e| {
            not_accessible(format!("could not resolve {}: {e}", existing.display()))
        })?;
        check_traversable(&existing, &absolute, user)?;
    }
    for dir in missing.iter().rev() {
        match std::fs::DirBuilder::new().mode(0o755).create(dir) {
            Ok(()) => {
                if run_as.is_some() {
                    // Do not let a restrictive umask lock the postgres user out
                    // of directories we create ourselves.
                    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).map_err(
                        |e| not_accessible(format!("could not chmod {}: {e}", dir.display())),
                    )?;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(not_accessible(format!("could not create it: {e}"))),
        }
    }

    let canonical = absolute
        .canonicalize()
        .map_err(|e| not_accessible(format!("could not resolve it: {e}")))?;
    if !canonical.is_dir() {
        return Err(not_accessible("it is not a directory".into()));
    }
    if let Some(user) = run_as {
        check_traversable(&canonical, &canonical, user)?;
    }
    Ok(canonical)
}

/// `/tmp/caseyos-pg-<first 8 hex digits of FNV-1a 64 of the PGDATA path>`.
/// Kept short because Unix socket paths are limited to 107 bytes.
fn socket_dir_for(pgdata: &Path) -> PathBuf {
    let hash = format!("{:016x}", fnv1a64(pgdata.as_os_str().as_bytes()));
    PathBuf::from(format!("/tmp/caseyos-pg-{}", &hash[..8]))
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

fn chown_recursive(path: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    std::os::unix::fs::lchown(path, Some(uid), Some(gid))?;
    if meta.file_type().is_dir() {
        for entry in std::fs::read_dir(path)? {
            chown_recursive(&entry?.path(), uid, gid)?;
        }
    }
    Ok(())
}

fn sync_dir(dir: &Path) {
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

// ---------------------------------------------------------------------------
// Binaries and versions
// ---------------------------------------------------------------------------

/// Major version of an existing cluster (`PG_VERSION`), `None` if not yet
/// initialised. An existing non-empty directory without `PG_VERSION` is an error.
fn read_cluster_version(pgdata: &Path) -> Result<Option<String>, EmbeddedPgError> {
    match std::fs::read_to_string(pgdata.join("PG_VERSION")) {
        Ok(v) => Ok(Some(v.trim().to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            match std::fs::read_dir(pgdata) {
                Ok(mut entries) => {
                    if entries.next().is_some() {
                        return Err(EmbeddedPgError::NotACluster {
                            dir: pgdata.to_path_buf(),
                        });
                    }
                    // Empty directory: replace it with a freshly initialised cluster.
                    std::fs::remove_dir(pgdata)
                        .at(pgdata, "could not remove it (an empty directory)")?;
                    Ok(None)
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e).at(pgdata, "could not read it"),
            }
        }
        Err(e) => Err(e).at(pgdata, "could not read it"),
    }
}

fn has_binaries(dir: &Path) -> bool {
    REQUIRED_BINARIES.iter().all(|b| dir.join(b).is_file())
}

/// Version number parsed from a directory name such as `15` or `9.6`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct PgVersion(Vec<u32>);

impl FromStr for PgVersion {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        s.split('.')
            .map(|p| p.parse::<u32>().map_err(|_| ()))
            .collect::<Result<Vec<_>, _>>()
            .map(PgVersion)
    }
}

/// Installed `/usr/lib/postgresql/<ver>/bin` directories, highest version first.
fn debian_versions(root: &Path) -> Vec<(String, PathBuf)> {
    let mut found: Vec<(PgVersion, String, PathBuf)> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let version = name.parse::<PgVersion>().ok()?;
            let bin = entry.path().join("bin");
            has_binaries(&bin).then_some((version, name, bin))
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0));
    found
        .into_iter()
        .map(|(_, name, bin)| (name, bin))
        .collect()
}

fn find_bin_dir(pgdata: &Path, cluster_version: Option<&str>) -> Result<PathBuf, EmbeddedPgError> {
    if let Some(dir) = std::env::var_os(BIN_DIR_ENV).filter(|v| !v.is_empty()) {
        let dir = PathBuf::from(dir);
        if has_binaries(&dir) {
            return Ok(dir);
        }
        return Err(EmbeddedPgError::BinariesNotFound {
            searched: format!(
                "{BIN_DIR_ENV}={} does not contain all of them",
                dir.display()
            ),
        });
    }

    let versions = debian_versions(Path::new(DEBIAN_PG_ROOT));
    if let Some((_, newest)) = versions.first() {
        return match cluster_version {
            None => Ok(newest.clone()),
            Some(wanted) => versions
                .iter()
                .find(|(v, _)| v == wanted)
                .map(|(_, bin)| bin.clone())
                .ok_or_else(|| EmbeddedPgError::VersionMismatch {
                    pgdata: pgdata.to_path_buf(),
                    cluster_version: wanted.to_string(),
                    available: versions
                        .iter()
                        .map(|(v, _)| v.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                }),
        };
    }

    // Non-Debian layouts (Fedora, Arch, ...) put the binaries on PATH.
    if let Some(path) = std::env::var_os("PATH") {
        if let Some(dir) = std::env::split_paths(&path).find(|d| has_binaries(d)) {
            return Ok(dir);
        }
    }

    Err(EmbeddedPgError::BinariesNotFound {
        searched: format!("looked in {DEBIAN_PG_ROOT}/<version>/bin and on PATH"),
    })
}

// ---------------------------------------------------------------------------
// Output helpers
// ---------------------------------------------------------------------------

fn command_text(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let text = if stderr.trim().is_empty() {
        stdout.trim().to_string()
    } else {
        stderr.trim().to_string()
    };
    if text.is_empty() {
        format!("(no output; exit status {})", out.status)
    } else {
        text
    }
}

/// Last `lines` lines of a (possibly large) log file.
fn read_tail(path: &Path, lines: usize) -> String {
    read_tail_from(path, 0, lines)
}

/// Last `lines` lines of the part of a log file after byte `offset`.
fn read_tail_from(path: &Path, offset: u64, lines: usize) -> String {
    const MAX: u64 = 16 * 1024;
    let read = || -> std::io::Result<String> {
        let mut f = std::fs::File::open(path)?;
        let len = f.metadata()?.len();
        f.seek(SeekFrom::Start(len.saturating_sub(MAX).max(offset)))?;
        let mut buf = Vec::new();
        f.read_to_end(&mut buf)?;
        Ok(String::from_utf8_lossy(&buf).into_owned())
    };
    match read() {
        Ok(text) => {
            let all: Vec<&str> = text.lines().collect();
            let tail = all[all.len().saturating_sub(lines)..].join("\n");
            if tail.trim().is_empty() {
                "(log is empty)".to_string()
            } else {
                tail
            }
        }
        Err(e) => format!("(could not read log: {e})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{SystemTime, UNIX_EPOCH};

    fn fresh_dir(tag: &str) -> PathBuf {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        PathBuf::from(format!(
            "/tmp/caseyos-embedded-pg-test-{tag}-{}-{nanos}",
            std::process::id()
        ))
    }

    async fn select_one(url: &str) -> i32 {
        let mut conn = PgConnection::connect(url).await.expect("connect");
        let v: i32 = sqlx::query_scalar("select 1")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        v
    }

    fn cleanup(dir: &Path, pg: &EmbeddedPostgres) {
        let _ = std::fs::remove_dir_all(&pg.socket_dir);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn fnv_and_socket_dir_are_stable() {
        // Reference values of FNV-1a 64.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        let dir = socket_dir_for(Path::new("/var/lib/caseyos/pg"));
        assert_eq!(dir, socket_dir_for(Path::new("/var/lib/caseyos/pg")));
        let s = dir.to_str().unwrap();
        assert!(s.starts_with("/tmp/caseyos-pg-") && s.len() == "/tmp/caseyos-pg-".len() + 8);
    }

    #[test]
    fn parses_passwd_group_status_and_versions() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\npostgres:x:101:104:PG:/var/lib/postgresql:/bin/bash\n";
        let group = "ssl-cert:x:103:postgres\npostgres:x:104:\nother:x:7:a,b\n";
        let u = parse_user("postgres", passwd, group).unwrap();
        assert_eq!((u.uid, u.gid), (101, 104));
        assert_eq!(u.groups, HashSet::from([104, 103]));
        assert!(parse_user("nobody", passwd, group).is_none());
        assert_eq!(parse_euid("Name:\tx\nUid:\t1000\t0\t0\t0\n"), Some(0));
        assert!("9.6".parse::<PgVersion>().unwrap() < "15".parse().unwrap());
        assert!("16".parse::<PgVersion>().unwrap() > "15".parse().unwrap());
        assert!("foo".parse::<PgVersion>().is_err());
    }

    #[tokio::test]
    async fn start_query_stop_restart_keeps_data() {
        let dir = fresh_dir("restart");
        let pg = EmbeddedPostgres::start(&dir).await.expect("first start");
        assert!(pg.started_here());
        let url = pg.database_url();
        assert!(url.contains("host=/tmp/caseyos-pg-"), "{url}");
        assert_eq!(select_one(&url).await, 1);
        {
            let mut conn = PgConnection::connect(&url).await.unwrap();
            conn.execute("create table survives_restart (id int primary key)")
                .await
                .unwrap();
            conn.execute("insert into survives_restart values (42)")
                .await
                .unwrap();
            conn.close().await.unwrap();
        }
        pg.stop().await.expect("first stop");
        assert!(!pg.is_running().await.unwrap());

        let pg2 = EmbeddedPostgres::start(&dir).await.expect("second start");
        assert!(pg2.started_here());
        assert_eq!(pg2.database_url(), url);
        {
            let mut conn = PgConnection::connect(&url).await.unwrap();
            let v: i32 = sqlx::query_scalar("select id from survives_restart")
                .fetch_one(&mut conn)
                .await
                .expect("table survives restart");
            assert_eq!(v, 42);
            conn.close().await.unwrap();
        }
        pg2.stop().await.expect("second stop");
        cleanup(&dir, &pg2);
    }

    #[tokio::test]
    async fn second_start_while_running_reuses_server() {
        let dir = fresh_dir("reuse");
        let first = EmbeddedPostgres::start(&dir).await.expect("first start");
        assert!(first.started_here());
        let second = EmbeddedPostgres::start(&dir).await.expect("second start");
        assert!(!second.started_here());
        assert_eq!(select_one(&second.database_url()).await, 1);
        // Stopping the non-owning handle must leave the server running.
        second.stop().await.unwrap();
        assert_eq!(select_one(&first.database_url()).await, 1);
        first.stop().await.unwrap();
        cleanup(&dir, &first);
    }

    #[tokio::test]
    async fn restarts_after_postmaster_sigkill() {
        let dir = fresh_dir("sigkill");
        let pg = EmbeddedPostgres::start(&dir).await.expect("first start");
        let pid = std::fs::read_to_string(pg.pgdata.join("postmaster.pid")).unwrap();
        let pid = pid.lines().next().unwrap().trim().to_string();
        let status = std::process::Command::new("kill")
            .args(["-9", &pid])
            .status()
            .unwrap();
        assert!(status.success());
        // postmaster.pid is left behind; start must recover immediately.
        let pg2 = EmbeddedPostgres::start(&dir)
            .await
            .expect("start after kill -9");
        assert!(pg2.started_here());
        assert_eq!(select_one(&pg2.database_url()).await, 1);
        pg2.stop().await.unwrap();
        cleanup(&dir, &pg2);
    }
}
