//! The real `caseyos` binary as a child process: a clean environment, one-shot CLI runs
//! with a hang guard, and servers that are always killed when the test ends — also when
//! it panics.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

/// The real CLI entry point, built by this package.
pub const BIN: &str = env!("CARGO_BIN_EXE_caseyos-under-test");

/// Lines of stderr kept per server (the oldest are dropped beyond this).
const STDERR_LINES_KEPT: usize = 20_000;

/// A command for the binary, with none of the caller's CaseyOS settings leaking in
/// (only `CASEYOS_PG_BIN_DIR` is kept) and `DATABASE_URL` set when given.
pub fn caseyos(database_url: Option<&str>) -> Command {
    let mut command = Command::new(BIN);
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if key.starts_with("CASEYOS_") && key != "CASEYOS_PG_BIN_DIR" {
            command.env_remove(key);
        }
    }
    command
        .env_remove("DATABASE_URL")
        .env_remove("CASEYOS_DATABASE_URL")
        .env("CASEYOS_LOG", "info,sqlx=warn")
        // Errors without anyhow backtraces, even when the tests run with RUST_BACKTRACE.
        .env("RUST_LIB_BACKTRACE", "0")
        .stdin(Stdio::null());
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    command
}

/// A port that was free a moment ago (the server may still lose it to a race: retry).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("a local address").port()
}

/// An HTTP client for talking to a server process.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
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

/// Why a server did not come up.
enum Startup {
    /// Someone else took the port between `free_port` and the server binding it.
    PortTaken(String),
    Failed(String),
}

/// A `caseyos serve` process. Dropping it kills the process (SIGKILL) if it still runs.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    stdout: mpsc::UnboundedReceiver<String>,
    stdout_seen: Vec<String>,
    stdout_closed: bool,
    stderr: Arc<Mutex<VecDeque<String>>>,
}

impl Server {
    /// Starts `make()` with `serve --bind 127.0.0.1:<free port>` appended and waits until
    /// `/health` answers; retries on another port if the chosen one was taken meanwhile.
    /// Panics (with the process's output) if it exits or does not answer within
    /// `startup_guard`.
    pub async fn start(make: impl Fn() -> Command, startup_guard: Duration) -> Server {
        let mut failures = Vec::new();
        for _attempt in 0..5 {
            let port = free_port();
            let mut command = make();
            command.args(["serve", "--bind", &format!("127.0.0.1:{port}")]);
            let mut server = Server::spawn(command, port);
            let started = Instant::now();
            match server.wait_until_healthy(startup_guard).await {
                Ok(()) => {
                    println!(
                        "server (pid {}) answered /health on port {port} after {} ms",
                        server.pid(),
                        started.elapsed().as_millis()
                    );
                    return server;
                }
                Err(Startup::PortTaken(output)) => failures.push(output),
                Err(Startup::Failed(output)) => {
                    panic!("the server did not start:\n{output}")
                }
            }
        }
        panic!(
            "the server could not bind a free port in 5 attempts:\n{}",
            failures.join("\n====\n")
        )
    }

    fn spawn(mut command: Command, port: u16) -> Server {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("spawn caseyos serve");
        let (lines, stdout) = mpsc::unbounded_channel();
        let out = child.stdout.take().expect("a piped stdout");
        std::thread::spawn(move || {
            for line in read_lines(out) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        let err = child.stderr.take().expect("a piped stderr");
        let sink = stderr.clone();
        let echo = std::env::var_os("TEST_LOG").is_some();
        std::thread::spawn(move || {
            for line in read_lines(err) {
                if echo {
                    eprintln!("[caseyos:{port}] {line}");
                }
                let mut kept = sink
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if kept.len() >= STDERR_LINES_KEPT {
                    kept.pop_front();
                }
                kept.push_back(line);
            }
        });
        Server {
            child,
            address: format!("http://127.0.0.1:{port}"),
            stdout,
            stdout_seen: Vec::new(),
            stdout_closed: false,
            stderr,
        }
    }

    async fn wait_until_healthy(&mut self, guard: Duration) -> Result<(), Startup> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("an HTTP client");
        let deadline = Instant::now() + guard;
        let url = format!("{}/health", self.address);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                // Let the readers catch the last lines.
                self.drain_stdout(Duration::from_secs(2)).await;
                tokio::time::sleep(Duration::from_millis(200)).await;
                let stderr = self.stderr();
                let output = format!("exited with {status} before answering\n{}", self.output());
                return Err(
                    if stderr.contains("cannot listen on") || stderr.contains("in use") {
                        Startup::PortTaken(output)
                    } else {
                        Startup::Failed(output)
                    },
                );
            }
            if let Ok(response) = client.get(&url).send().await {
                if response.status().is_success() {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        Err(Startup::Failed(format!(
            "no answer on /health within {guard:?}\n{}",
            self.output()
        )))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM {} failed", self.pid());
    }

    /// Sends SIGTERM and asserts the process exits successfully within `hang_guard` (`why`
    /// explains a failure); returns how long it took.
    pub async fn stop_cleanly(&mut self, hang_guard: Duration, why: &str) -> Duration {
        let started = Instant::now();
        self.terminate();
        let status = self.wait_for_exit(hang_guard).await;
        let took = started.elapsed();
        assert!(status.success(), "{why}: {status}\n{}", self.output());
        took
    }

    /// Sends SIGKILL and reaps the process.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL the server");
        self.child.wait().expect("reap the server");
    }

    /// Waits for the process to exit; kills it and panics after `hang_guard`.
    pub async fn wait_for_exit(&mut self, hang_guard: Duration) -> ExitStatus {
        let deadline = Instant::now() + hang_guard;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll the server") {
                return status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "the server did not exit within {hang_guard:?}\n{}",
                    self.output()
                );
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The next stdout line for which `matches` holds, waiting at most `guard`.
    pub async fn stdout_line(
        &mut self,
        matches: impl Fn(&str) -> bool,
        guard: Duration,
    ) -> Option<String> {
        let deadline = Instant::now() + guard;
        while !self.stdout_closed {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.stdout.recv()).await {
                Ok(Some(line)) => {
                    self.stdout_seen.push(line.clone());
                    if matches(&line) {
                        return Some(line);
                    }
                }
                Ok(None) => self.stdout_closed = true,
                Err(_) => return None,
            }
        }
        None
    }

    /// Reads stdout until it closes (the process exited) or `guard` passes.
    pub async fn drain_stdout(&mut self, guard: Duration) {
        self.stdout_line(|_| false, guard).await;
    }

    /// Every stdout line read so far.
    pub fn stdout_seen(&self) -> &[String] {
        &self.stdout_seen
    }

    pub fn stderr(&self) -> String {
        let kept = self
            .stderr
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        kept.iter().cloned().collect::<Vec<_>>().join("\n")
    }

    /// Stdout read so far and stderr, for assertion messages.
    pub fn output(&self) -> String {
        format!(
            "--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout_seen.join("\n"),
            self.stderr()
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Lines of a pipe, tolerating invalid UTF-8, until EOF.
fn read_lines(pipe: impl Read) -> impl Iterator<Item = String> {
    let mut reader = BufReader::new(pipe);
    std::iter::from_fn(move || {
        let mut buf = Vec::new();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(
                String::from_utf8_lossy(&buf)
                    .trim_end_matches(['\n', '\r'])
                    .to_string(),
            ),
        }
    })
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
