//! The real `caseyos` binary as a child process: a clean environment, one-shot CLI runs
//! with a hang guard, and servers (`caseyos_tests::process`) that are always killed when
//! the test ends — also when it panics.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub use caseyos_tests::process::{http, Server};

/// The real CLI entry point, built by this package.
pub const BIN: &str = env!("CARGO_BIN_EXE_caseyos-under-test");

/// A command for the binary, with none of the caller's CaseyOS settings leaking in
/// (only `CASEYOS_PG_BIN_DIR` is kept) and `DATABASE_URL` set when given.
pub fn caseyos(database_url: Option<&str>) -> Command {
    caseyos_tests::process::command(Path::new(BIN), database_url)
}

/// A finished one-shot command.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Finished {
    /// Everything about the run, for assertion messages.
    pub fn describe(&self) -> String {
        format!(
            "exit status: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status, self.stdout, self.stderr
        )
    }

    /// `why`, then everything about the run: an assertion message.
    fn explain(&self, why: &str) -> String {
        if why.is_empty() {
            self.describe()
        } else {
            format!("{why}\n{}", self.describe())
        }
    }

    /// Asserts the command exited successfully; `why` (may be empty) explains the failure.
    #[track_caller]
    pub fn assert_success(&self, why: &str) {
        assert!(self.status.success(), "{}", self.explain(why));
    }

    /// Asserts the command failed.
    #[track_caller]
    pub fn assert_failure(&self, why: &str) {
        assert!(!self.status.success(), "{}", self.explain(why));
    }

    /// Asserts stdout contains `needle`.
    #[track_caller]
    pub fn assert_stdout_has(&self, needle: &str, why: &str) {
        assert!(self.stdout.contains(needle), "{}", self.explain(why));
    }

    /// Asserts stdout does not contain `needle`.
    #[track_caller]
    pub fn assert_stdout_lacks(&self, needle: &str, why: &str) {
        assert!(!self.stdout.contains(needle), "{}", self.explain(why));
    }

    /// Asserts stderr contains `needle`.
    #[track_caller]
    pub fn assert_stderr_has(&self, needle: &str, why: &str) {
        assert!(self.stderr.contains(needle), "{}", self.explain(why));
    }
}

/// Runs `command` to completion and captures its output; kills it and panics if it has
/// not finished within `hang_guard`.
pub async fn run(command: Command, hang_guard: Duration) -> Finished {
    let shown = format!(
        "caseyos {}",
        command
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let mut command = tokio::process::Command::from(command);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let started = Instant::now();
    // On timeout the `output` future is dropped, which kills the child (kill_on_drop).
    let output = tokio::time::timeout(hang_guard, command.output())
        .await
        .unwrap_or_else(|_| panic!("`{shown}` did not finish within {hang_guard:?}"))
        .unwrap_or_else(|e| panic!("cannot run `{shown}`: {e}"));
    let finished = Finished {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed: started.elapsed(),
    };
    println!(
        "`{shown}` exited with {} after {} ms",
        finished.status,
        finished.elapsed.as_millis()
    );
    finished
}

/// A fresh folder under /tmp for the embedded database (the `postgres` user must be able
/// to traverse its parents, so not under a private temporary directory). Dropping it stops
/// an embedded PostgreSQL still running there, removes its socket folder and the folder.
pub struct DataDir {
    pub path: PathBuf,
}

impl DataDir {
    pub fn new(label: &str) -> DataDir {
        let path = Path::new("/tmp").join(format!(
            "caseyos-{label}-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        ));
        DataDir { path }
    }

    /// Whether an embedded PostgreSQL server runs (or crashed without cleaning up) here.
    pub fn postgres_pid_file_exists(&self) -> bool {
        self.path.join("pg/postmaster.pid").exists()
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        if self.postgres_pid_file_exists() {
            stop_embedded_postgres(&self.path.join("pg"));
        }
        if let Some(socket_dir) = socket_dir_of(&self.path.join("pg")) {
            let _ = std::fs::remove_dir_all(socket_dir);
        }
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// `pg_ctl -D <pgdata> stop -m fast`, as the `postgres` user when running as root.
pub fn stop_embedded_postgres(pgdata: &Path) {
    let Some(pg_ctl) = find_pg_ctl() else {
        eprintln!("cleanup: no pg_ctl found; leaving {}", pgdata.display());
        return;
    };
    let running_as_root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    let mut command = if running_as_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&pg_ctl);
        c
    } else {
        Command::new(&pg_ctl)
    };
    command
        .arg("-D")
        .arg(pgdata)
        .args(["stop", "-m", "fast", "-w", "-t", "30"])
        .current_dir("/")
        .stdin(Stdio::null());
    match command.output() {
        Ok(out) => println!(
            "cleanup: pg_ctl stop on {}: {} {}",
            pgdata.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout).trim()
        ),
        Err(e) => eprintln!("cleanup: cannot run pg_ctl: {e}"),
    }
}

fn find_pg_ctl() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CASEYOS_PG_BIN_DIR") {
        let candidate = Path::new(&dir).join("pg_ctl");
        if candidate.exists() {
            return Some(candidate);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let pg_ctl = entry.path().join("bin/pg_ctl");
            pg_ctl.exists().then_some((version, pg_ctl))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, path)| path)
}

/// The socket folder the embedded cluster was configured with (from postgresql.conf).
fn socket_dir_of(pgdata: &Path) -> Option<PathBuf> {
    let conf = std::fs::read_to_string(pgdata.join("postgresql.conf")).ok()?;
    conf.lines().rev().find_map(|line| {
        let value = line
            .trim()
            .strip_prefix("unix_socket_directories")?
            .trim_start()
            .strip_prefix('=')?
            .trim()
            .trim_matches('\'');
        value
            .starts_with("/tmp/caseyos-pg-")
            .then(|| PathBuf::from(value))
    })
}
