//! The two `caseyos serve` processes: started, SIGKILLed and started again on the same
//! port, shut down with SIGTERM; every process's life is recorded as a [`Generation`].

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, ExitStatus};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::{Duration, Instant};

use crate::process::{self, Server};

/// The longest a server may take from spawn to `/health`.
const STARTUP_GUARD: Duration = Duration::from_secs(120);
/// The longest a started server may take to answer `/ready` with 200.
const READY_GUARD: Duration = Duration::from_secs(60);
/// The longest a server may take to exit after SIGTERM.
const SHUTDOWN_GUARD: Duration = Duration::from_secs(30);

pub const NAMES: [&str; 2] = ["A", "B"];

/// Where each instance is now, shared with the clients and the sampler.
#[derive(Default)]
pub struct Slots {
    address: [RwLock<String>; 2],
    /// 0 while the instance is down.
    pid: [AtomicU32; 2],
    /// The number of the instance's current process (1 for the first).
    generation: [AtomicUsize; 2],
}

impl Slots {
    pub fn name(&self, slot: usize) -> &'static str {
        NAMES[slot]
    }

    /// The instance's address and the number of its current process.
    pub fn target(&self, slot: usize) -> (String, usize) {
        let address = self.address[slot]
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        (address, self.generation[slot].load(Ordering::SeqCst))
    }

    /// The pid of the instance's process, unless it is down.
    pub fn pid(&self, slot: usize) -> Option<u32> {
        Some(self.pid[slot].load(Ordering::SeqCst)).filter(|pid| *pid != 0)
    }

    fn up(&self, slot: usize, server: &Server, generation: usize) {
        *self.address[slot]
            .write()
            .unwrap_or_else(PoisonError::into_inner) = server.address.clone();
        self.generation[slot].store(generation, Ordering::SeqCst);
        self.pid[slot].store(server.pid(), Ordering::SeqCst);
    }

    fn down(&self, slot: usize) {
        self.pid[slot].store(0, Ordering::SeqCst);
    }
}

/// How a process ended.
#[derive(Clone, Debug)]
pub enum Ending {
    /// SIGKILL at this time since the start.
    Killed(Duration),
    /// SIGTERM at the end: its exit status, or why it did not exit.
    Stopped(Result<ExitStatus, String>),
}

/// One process of one instance.
#[derive(Clone, Debug)]
pub struct Generation {
    pub slot: usize,
    /// 1 for the instance's first process.
    pub number: usize,
    pub pid: u32,
    pub port: u16,
    /// Spawned at this time since the start.
    pub started: Duration,
    /// From spawn to `/health` answering.
    pub healthy_after: Duration,
    /// From spawn to `/ready` answering 200 (none: not within the guard).
    pub ready_after: Option<Duration>,
    pub ended: Option<Ending>,
}

/// What the servers are started with.
pub struct Launch {
    pub binary: PathBuf,
    pub database_url: String,
    /// A token `/ready` accepts.
    pub token: String,
    /// Extra environment: configuration (`CASEYOS_*`) and how the binary is told to serve.
    pub env: Vec<(String, String)>,
}

impl Launch {
    fn command(&self) -> Command {
        let mut command = process::command(&self.binary, Some(&self.database_url));
        command.env("CASEYOS_LOG", "warn").env("NO_COLOR", "1");
        for (key, value) in &self.env {
            command.env(key, value);
        }
        // Its own process group: a Ctrl-C at the terminal reaches only the soak, which then
        // stops the servers in order.
        command.process_group(0);
        command
    }
}

/// The two instances, owned by the soak's main task.
pub struct Fleet {
    pub slots: std::sync::Arc<Slots>,
    launch: Launch,
    servers: [Option<Server>; 2],
    pub generations: Vec<Generation>,
    /// What happened when, for the report: (time since the start, text).
    pub timeline: Vec<(Duration, String)>,
    /// Restarts that failed (the instance stayed down), with the process's output.
    pub failures: Vec<String>,
    started: Instant,
}

impl Fleet {
    /// Starts both instances (at the same time, as a deployment would) and waits until
    /// both are ready.
    pub async fn start(launch: Launch, started: Instant) -> Result<Fleet, String> {
        let mut fleet = Fleet {
            slots: Default::default(),
            launch,
            servers: [None, None],
            generations: Vec::new(),
            timeline: Vec::new(),
            failures: Vec::new(),
            started,
        };
        let (a, b) = tokio::join!(fleet.spawn(None), fleet.spawn(None));
        for (slot, spawned) in [a, b].into_iter().enumerate() {
            fleet.settle_in(slot, spawned?).await;
        }
        Ok(fleet)
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Records `text` in the timeline (and shows it on stderr).
    pub fn note(&mut self, text: String) {
        let at = self.elapsed();
        eprintln!("[soak {:>6.1} s] {text}", at.as_secs_f64());
        self.timeline.push((at, text));
    }

    /// Spawns a server (on `port` when given) and waits for `/health`.
    async fn spawn(&self, port: Option<u16>) -> Result<(Server, Duration, Duration), String> {
        let spawned_at = self.elapsed();
        let spawned = Instant::now();
        let server = Server::try_start(|| self.launch.command(), port, STARTUP_GUARD).await?;
        Ok((server, spawned_at, spawned.elapsed()))
    }

    /// Makes a healthy server the instance's current process: recorded, waited for until
    /// ready, then handed to the clients.
    async fn settle_in(
        &mut self,
        slot: usize,
        (server, at, healthy_after): (Server, Duration, Duration),
    ) {
        let port = port_of(&server.address);
        let ready_after = wait_until_ready(&server.address, &self.launch.token)
            .await
            .map(|ready| healthy_after + ready);
        let number = 1 + self.generations.iter().filter(|g| g.slot == slot).count();
        self.generations.push(Generation {
            slot,
            number,
            pid: server.pid(),
            port,
            started: at,
            healthy_after,
            ready_after,
            ended: None,
        });
        self.slots.up(slot, &server, number);
        let ready = match ready_after {
            Some(ready) => format!("/ready after {:.2} s", ready.as_secs_f64()),
            None => format!("not ready within {} s", READY_GUARD.as_secs()),
        };
        self.note(format!(
            "instance {} (pid {}, port {port}) up: /health after {:.2} s, {ready}",
            NAMES[slot],
            server.pid(),
            healthy_after.as_secs_f64()
        ));
        self.servers[slot] = Some(server);
    }

    fn current(&mut self, slot: usize) -> Option<&mut Generation> {
        self.generations
            .iter_mut()
            .rev()
            .find(|g| g.slot == slot && g.ended.is_none())
    }

    /// SIGKILLs the instance, leaves it down for `down_for`, then starts it again on the
    /// same port (another one if that was taken meanwhile).
    pub async fn kill_and_restart(&mut self, slot: usize, down_for: Duration) {
        let Some(mut server) = self.servers[slot].take() else {
            return;
        };
        let port = port_of(&server.address);
        self.slots.down(slot);
        server.kill();
        let at = self.elapsed();
        if let Some(generation) = self.current(slot) {
            generation.ended = Some(Ending::Killed(at));
        }
        self.note(format!(
            "SIGKILL instance {} (pid {})",
            NAMES[slot],
            server.pid()
        ));
        drop(server);
        tokio::time::sleep(down_for).await;
        let spawned = match self.spawn(Some(port)).await {
            Ok(spawned) => Ok(spawned),
            Err(first) => {
                self.note(format!(
                    "instance {} could not start on port {port} again; trying another port",
                    NAMES[slot]
                ));
                self.spawn(None)
                    .await
                    .map_err(|second| format!("{first}\n====\n{second}"))
            }
        };
        match spawned {
            Ok(spawned) => self.settle_in(slot, spawned).await,
            Err(why) => {
                self.note(format!("instance {} did not start again", NAMES[slot]));
                self.failures.push(format!(
                    "instance {} did not start again: {why}",
                    NAMES[slot]
                ));
            }
        }
    }

    /// SIGTERMs both instances and waits for them to exit.
    pub async fn shut_down(&mut self) {
        for (slot, name) in NAMES.iter().enumerate() {
            let Some(mut server) = self.servers[slot].take() else {
                continue;
            };
            self.slots.down(slot);
            let status = server.shut_down(SHUTDOWN_GUARD).await;
            let text = match &status {
                Ok(status) => format!("instance {} stopped: {status}", name),
                Err(_) => format!(
                    "instance {} did not exit within {} s of SIGTERM",
                    name,
                    SHUTDOWN_GUARD.as_secs()
                ),
            };
            if let Some(generation) = self.current(slot) {
                generation.ended = Some(Ending::Stopped(status));
            }
            self.note(text);
        }
    }

    /// The last lines of each running instance's stderr (warnings and errors), for a
    /// failure's explanation.
    pub fn stderr_tails(&self, lines: usize) -> Vec<(usize, String)> {
        self.servers
            .iter()
            .enumerate()
            .filter_map(|(slot, server)| {
                let stderr = server.as_ref()?.stderr();
                let all: Vec<&str> = stderr.lines().collect();
                let tail = all[all.len().saturating_sub(lines)..].join("\n");
                Some((slot, tail))
            })
            .collect()
    }
}

fn port_of(address: &str) -> u16 {
    address
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_default()
}

/// Polls `/ready` until it answers 200 (every 50 ms, at most [`READY_GUARD`]).
async fn wait_until_ready(address: &str, token: &str) -> Option<Duration> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .ok()?;
    let started = Instant::now();
    while started.elapsed() < READY_GUARD {
        let request = client.get(format!("{address}/ready")).bearer_auth(token);
        if let Ok(response) = request.send().await {
            if response.status().is_success() {
                return Some(started.elapsed());
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}
