//! The real `caseyos` binary as a child process, for tests and the soak run: a clean
//! environment, and servers that are always killed when their owner goes — also when it
//! panics.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

/// Lines of stderr kept per server (the oldest are dropped beyond this).
const STDERR_LINES_KEPT: usize = 20_000;

/// A command for the CaseyOS binary at `binary`, with none of the caller's CaseyOS settings
/// leaking in (only `CASEYOS_PG_BIN_DIR` is kept), stored schedules off, and `DATABASE_URL`
/// set when given.
pub fn command(binary: &Path, database_url: Option<&str>) -> Command {
    let mut command = Command::new(binary);
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
        // No scheduled runs in a test that did not ask for them (it may set it back).
        .env("CASEYOS_SCHEDULES_ENABLED", "false")
        // Connector tokens sealed with the tests' key, never a key file in the home folder.
        .env("CASEYOS_CREDENTIALS_KEY", crate::TEST_CREDENTIALS_KEY)
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

/// The resident set size of process `pid` in KiB (`VmRSS` in `/proc/<pid>/status`), if it
/// still runs.
pub fn rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS")
}

/// A KiB line of `/proc/<pid>/status` (`VmRSS` now, `VmHWM` the peak so far), if the
/// process still runs.
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
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
        Server::try_start(make, None, startup_guard)
            .await
            .unwrap_or_else(|why| panic!("{why}"))
    }

    /// [`Server::start`] without the panic: on `port` when given (one attempt; a taken port
    /// is an error), else on a free port (five attempts). The error carries the process's
    /// output.
    pub async fn try_start(
        make: impl Fn() -> Command,
        port: Option<u16>,
        startup_guard: Duration,
    ) -> Result<Server, String> {
        let mut failures = Vec::new();
        let attempts = if port.is_some() { 1 } else { 5 };
        for _attempt in 0..attempts {
            let port = port.unwrap_or_else(free_port);
            let mut command = make();
            command.args(["serve", "--bind", &format!("127.0.0.1:{port}")]);
            let mut server = Server::spawn(command, port);
            let started = Instant::now();
            match server.wait_until_healthy(startup_guard).await {
                Ok(()) => {
                    eprintln!(
                        "server (pid {}) answered /health on port {port} after {} ms",
                        server.pid(),
                        started.elapsed().as_millis()
                    );
                    return Ok(server);
                }
                Err(Startup::PortTaken(output)) => failures.push(output),
                Err(Startup::Failed(output)) => {
                    return Err(format!("the server did not start:\n{output}"))
                }
            }
        }
        Err(format!(
            "the server could not bind a free port in {attempts} attempts:\n{}",
            failures.join("\n====\n")
        ))
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
        match self.exit_within(hang_guard).await {
            Ok(status) => status,
            Err(why) => panic!("{why}"),
        }
    }

    /// Sends SIGTERM and waits for the process to exit; SIGKILLs it after `hang_guard`,
    /// which is an error carrying the process's output.
    pub async fn shut_down(&mut self, hang_guard: Duration) -> Result<ExitStatus, String> {
        // `kill` fails only for a process that already exited, which the wait then reaps.
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        self.exit_within(hang_guard).await
    }

    /// The process's exit status once it has exited; after `hang_guard`, SIGKILL and an
    /// error.
    async fn exit_within(&mut self, hang_guard: Duration) -> Result<ExitStatus, String> {
        let deadline = Instant::now() + hang_guard;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Ok(status),
                Ok(None) => {}
                Err(e) => return Err(format!("cannot poll the server: {e}")),
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return Err(format!(
                    "the server did not exit within {hang_guard:?}\n{}",
                    self.output()
                ));
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
