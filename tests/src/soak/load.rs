//! The soak's clients: a closed loop of mixed requests against both instances, every write
//! with an `Idempotency-Key` and retried with it after a lost answer, every answer tallied.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use caseyos_domain::api::{AgentRunResponse, ErrorEnvelope, QueueItemResponse};
use caseyos_domain::kernel::{Checkpoint, ConsistencyToken};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::{Client, Method};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::fleet::Slots;

/// Attempts of one write (alternating instances) before the client gives up on it.
const WRITE_ATTEMPTS: usize = 6;
/// The pause before a write's next attempt.
const RETRY_PAUSE: Duration = Duration::from_millis(200);
/// Moves a client remembers as its own and still pending (older ones are forgotten and
/// stay pending).
const PENDING_KEPT: usize = 256;
/// Reads of a move with `?after=` that missed it, kept for the report (all are counted).
const VIOLATIONS_KEPT: usize = 20;

/// What a write asked for, and so which event its token must point at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Write {
    Propose,
    Approve,
    Reject,
    Snooze,
    Edit,
    RunAgent,
}

impl Write {
    pub const ALL: [Write; 6] = [
        Write::Propose,
        Write::Approve,
        Write::Reject,
        Write::Snooze,
        Write::Edit,
        Write::RunAgent,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Write::Propose => "propose",
            Write::Approve => "approve",
            Write::Reject => "reject",
            Write::Snooze => "snooze",
            Write::Edit => "edit",
            Write::RunAgent => "run agent",
        }
    }

    /// The event the command's last event is.
    pub fn event_type(self) -> &'static str {
        match self {
            Write::Propose => "QueueItemProposed",
            Write::Approve => "QueueItemApproved",
            Write::Reject => "QueueItemRejected",
            Write::Snooze => "QueueItemSnoozed",
            Write::Edit => "QueueItemEdited",
            Write::RunAgent => "AgentRunRequested",
        }
    }

    pub fn aggregate_type(self) -> &'static str {
        use caseyos_domain::aggregate::Aggregate;
        match self {
            Write::RunAgent => caseyos_domain::agent_run::AgentRun::TYPE,
            _ => caseyos_domain::queue::QueueItem::TYPE,
        }
    }
}

/// A write answered with 2xx.
#[derive(Clone, Debug)]
pub struct Ack {
    pub write: Write,
    pub key: String,
    /// The queue item or agent run it wrote to.
    pub aggregate: Uuid,
    /// Its `consistency` token: the position of its last event.
    pub token: Checkpoint,
    /// Answered with `Idempotent-Replayed: true` (an earlier attempt had committed).
    pub replayed: bool,
    /// Answered after at least one attempt that got no answer.
    pub retried: bool,
}

/// A write that got no answer in [`WRITE_ATTEMPTS`] attempts: whether it committed is for
/// the event store to say.
#[derive(Clone, Debug)]
pub struct Unanswered {
    pub write: Write,
    pub key: String,
}

/// How an attempt ended without an HTTP answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum NoAnswer {
    /// Connection refused: the instance is down (killed, not yet restarted).
    Down,
    /// The connection broke before the answer (the instance died mid-request).
    Lost,
    /// No answer within the request timeout.
    Timeout,
}

impl NoAnswer {
    pub fn label(self) -> &'static str {
        match self {
            NoAnswer::Down => "instance down (connection refused)",
            NoAnswer::Lost => "connection lost mid-request",
            NoAnswer::Timeout => "timeout",
        }
    }
}

/// What one request to one instance came back with.
enum Attempt {
    Answer {
        status: u16,
        body: Value,
        replayed: bool,
    },
    /// No answer (tallied by kind).
    Failed,
}

/// Requests per operation: sent (first attempts), answered 2xx, answered otherwise, no
/// answer in the end.
#[derive(Clone, Copy, Debug, Default)]
pub struct OpCount {
    pub sent: u64,
    pub ok: u64,
    pub refused: u64,
    pub unanswered: u64,
}

/// Everything the clients counted.
#[derive(Debug, Default)]
pub struct Counts {
    /// HTTP answers per (instance, generation).
    pub served: BTreeMap<(usize, usize), u64>,
    /// Answers per (status and error code, instance): `200`, `503 consistency.timeout`.
    pub statuses: BTreeMap<(String, usize), u64>,
    /// Attempts without an answer per (kind, instance).
    pub no_answer: BTreeMap<(NoAnswer, usize), u64>,
    pub ops: BTreeMap<&'static str, OpCount>,
    pub acks: Vec<Ack>,
    pub unanswered: Vec<Unanswered>,
    /// Reads with `?after=<token>` of a move the client had proposed before that token,
    /// answered 404 (a broken read-your-writes guarantee).
    pub ryw_violations: u64,
    pub ryw_examples: Vec<String>,
}

/// The tally all clients write into; the sampler reads the per-instance totals.
#[derive(Default)]
pub struct Tally {
    answered: [AtomicU64; 2],
    failed: [AtomicU64; 2],
    counts: Mutex<Counts>,
}

impl Tally {
    fn counts(&self) -> MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// HTTP answers, and answers that were not 2xx plus attempts without an answer, per
    /// instance so far.
    pub fn totals(&self) -> ([u64; 2], [u64; 2]) {
        let read =
            |a: &[AtomicU64; 2]| [a[0].load(Ordering::Relaxed), a[1].load(Ordering::Relaxed)];
        (read(&self.answered), read(&self.failed))
    }

    /// The counts, taken out (once the clients have stopped).
    pub fn take(&self) -> Counts {
        std::mem::take(&mut *self.counts())
    }

    fn answer(&self, slot: usize, generation: usize, status: u16, body: &Value) {
        self.answered[slot].fetch_add(1, Ordering::Relaxed);
        let label = if (200..300).contains(&status) {
            status.to_string()
        } else {
            self.failed[slot].fetch_add(1, Ordering::Relaxed);
            match serde_json::from_value::<ErrorEnvelope>(body.clone()) {
                Ok(envelope) => format!("{status} {}", envelope.error.code),
                Err(_) => status.to_string(),
            }
        };
        let mut counts = self.counts();
        *counts.served.entry((slot, generation)).or_default() += 1;
        *counts.statuses.entry((label, slot)).or_default() += 1;
    }

    fn no_answer(&self, slot: usize, kind: NoAnswer) {
        self.failed[slot].fetch_add(1, Ordering::Relaxed);
        *self.counts().no_answer.entry((kind, slot)).or_default() += 1;
    }

    fn op(&self, name: &'static str, count: impl FnOnce(&mut OpCount)) {
        count(self.counts().ops.entry(name).or_default());
    }
}

/// What every client shares.
pub struct Load {
    pub slots: Arc<Slots>,
    pub tally: Arc<Tally>,
    pub http: Client,
    pub token: String,
    /// Agent names and their example inputs (`GET /api/agents`).
    pub agents: Vec<(String, Value)>,
}

/// What one client remembers between requests.
struct ClientState {
    n: usize,
    requests: u64,
    next_slot: usize,
    /// Its own moves, pending as far as it knows (newest last).
    pending: VecDeque<Uuid>,
    /// The last move it proposed and the token of its last acknowledged write (at or after
    /// that proposal).
    last_item: Option<Uuid>,
    last_token: Option<String>,
    last_run: Option<Uuid>,
}

/// The operations and their weights (out of their sum).
const MIX: &[(Op, u32)] = &[
    (Op::Write(Write::Propose), 22),
    (Op::Write(Write::Approve), 9),
    (Op::Write(Write::Reject), 5),
    (Op::Write(Write::Snooze), 5),
    (Op::Write(Write::Edit), 4),
    (Op::Write(Write::RunAgent), 2),
    (Op::Read(Read::Today), 12),
    (Op::Read(Read::TodayAfter), 10),
    (Op::Read(Read::TodayEventual), 5),
    (Op::Read(Read::List), 6),
    (Op::Read(Read::Counts), 4),
    (Op::Read(Read::Stats), 3),
    (Op::Read(Read::ItemAfter), 6),
    (Op::Read(Read::Runs), 4),
    (Op::Read(Read::RunAfter), 3),
];

#[derive(Clone, Copy, Debug)]
enum Op {
    Write(Write),
    Read(Read),
}

#[derive(Clone, Copy, Debug)]
enum Read {
    Today,
    TodayAfter,
    TodayEventual,
    List,
    Counts,
    Stats,
    ItemAfter,
    Runs,
    RunAfter,
}

impl Read {
    fn name(self) -> &'static str {
        match self {
            Read::Today => "GET today",
            Read::TodayAfter => "GET today ?after",
            Read::TodayEventual => "GET today eventual",
            Read::List => "GET queue (filtered)",
            Read::Counts => "GET counts",
            Read::Stats => "GET stats",
            Read::ItemAfter => "GET move ?after",
            Read::Runs => "GET agent-runs",
            Read::RunAfter => "GET agent run ?after",
        }
    }
}

/// One client: mixed requests until `stop`; the request under way when it comes is
/// finished (each is bounded by the client's timeout and [`WRITE_ATTEMPTS`]).
pub async fn client(n: usize, load: Arc<Load>, stop: CancellationToken) {
    let mut rng = StdRng::seed_from_u64(0x50a4 + n as u64);
    let mut state = ClientState {
        n,
        requests: 0,
        next_slot: n % 2,
        pending: VecDeque::new(),
        last_item: None,
        last_token: None,
        last_run: None,
    };
    let total: u32 = MIX.iter().map(|(_, w)| w).sum();
    while !stop.is_cancelled() {
        let mut roll = rng.gen_range(0..total);
        let op = MIX
            .iter()
            .find(|(_, weight)| {
                let hit = roll < *weight;
                roll = roll.saturating_sub(*weight);
                hit
            })
            .map_or(Op::Read(Read::Today), |(op, _)| *op);
        state.requests += 1;
        match op {
            Op::Write(write) => load.write(&mut state, &mut rng, write).await,
            Op::Read(read) => load.read(&mut state, read).await,
        }
    }
}

impl Load {
    /// One write, retried with its key after an attempt without an answer.
    async fn write(&self, state: &mut ClientState, rng: &mut StdRng, write: Write) {
        let decided = matches!(write, Write::Approve | Write::Reject | Write::Snooze);
        let needs_item = decided || write == Write::Edit;
        let write = if needs_item && state.pending.is_empty() {
            Write::Propose
        } else {
            write
        };
        let item = match write {
            // Decide an older move, edit the newest.
            Write::Approve | Write::Reject | Write::Snooze => state.pending.pop_front(),
            Write::Edit => state.pending.back().copied(),
            _ => None,
        };
        let item = item.map(|id| id.to_string()).unwrap_or_default();
        let action_type = ["send_email", "book_meeting", "follow_up"][rng.gen_range(0..3)];
        let (path, body) = match write {
            Write::Propose => (
                "/api/queue".to_string(),
                json!({
                    "action_type": action_type,
                    "title": format!("Soak move {}-{}", state.n, state.requests),
                    "rationale": "soak run",
                    "aps": {"urgency": rng.gen_range(0..=100) as f64 / 100.0},
                }),
            ),
            Write::Approve => (
                format!("/api/queue/{item}/approve"),
                json!({"note": "soak"}),
            ),
            Write::Reject => (
                format!("/api/queue/{item}/reject"),
                json!({"reason": "soak: not now"}),
            ),
            Write::Snooze => {
                let until = chrono::Utc::now() + chrono::Duration::seconds(rng.gen_range(20..90));
                (
                    format!("/api/queue/{item}/snooze"),
                    json!({"until": until.to_rfc3339()}),
                )
            }
            Write::Edit => (
                format!("/api/queue/{item}/edit"),
                json!({"title": format!("Soak move {}-{} (edited)", state.n, state.requests)}),
            ),
            Write::RunAgent => {
                let (name, input) = &self.agents[state.requests as usize % self.agents.len()];
                (
                    format!("/api/agents/{name}/runs"),
                    json!({ "input": input }),
                )
            }
        };
        let key = format!("soak-{}", Uuid::new_v4());
        self.tally.op(write.name(), |c| c.sent += 1);
        let mut lost_one = false;
        for _ in 0..WRITE_ATTEMPTS {
            let slot = state.next_slot();
            match self
                .attempt(slot, Method::POST, &path, Some(&body), Some(&key))
                .await
            {
                Attempt::Answer {
                    status,
                    body: answer,
                    replayed,
                } => {
                    if status == 503 && error_code(&answer) == Some("idempotency.in_progress") {
                        // The key's earlier attempt still holds its lock (a dying connection).
                        tokio::time::sleep(RETRY_PAUSE).await;
                        continue;
                    }
                    if !(200..300).contains(&status) {
                        self.tally.op(write.name(), |c| c.refused += 1);
                        return;
                    }
                    self.acknowledged(state, write, key, &answer, replayed, lost_one);
                    return;
                }
                Attempt::Failed => {
                    lost_one = true;
                    tokio::time::sleep(RETRY_PAUSE).await;
                }
            }
        }
        self.tally.op(write.name(), |c| c.unanswered += 1);
        self.tally
            .counts()
            .unanswered
            .push(Unanswered { write, key });
    }

    /// Records a 2xx answer to a write: what it wrote, where, and its token.
    fn acknowledged(
        &self,
        state: &mut ClientState,
        write: Write,
        key: String,
        answer: &Value,
        replayed: bool,
        retried: bool,
    ) {
        let parsed = match write {
            Write::RunAgent => serde_json::from_value::<AgentRunResponse>(answer.clone())
                .map(|r| (r.run.id, r.consistency)),
            _ => serde_json::from_value::<QueueItemResponse>(answer.clone())
                .map(|r| (r.item.id, r.consistency)),
        };
        let token = parsed
            .as_ref()
            .ok()
            .and_then(|(_, t)| t.parse::<ConsistencyToken>().ok());
        let (Ok((aggregate, raw_token)), Some(token)) = (parsed, token) else {
            // A 2xx answer without an id and a token is a broken contract: counted as
            // acknowledged with nothing to find, so the check reports it missing.
            self.tally.op(write.name(), |c| c.ok += 1);
            self.tally.counts().acks.push(Ack {
                write,
                key,
                aggregate: Uuid::nil(),
                token: Checkpoint::ZERO,
                replayed,
                retried,
            });
            return;
        };
        match write {
            Write::Propose => {
                state.pending.push_back(aggregate);
                if state.pending.len() > PENDING_KEPT {
                    state.pending.pop_front();
                }
                state.last_item = Some(aggregate);
            }
            Write::RunAgent => state.last_run = Some(aggregate),
            _ => {}
        }
        state.last_token = Some(raw_token);
        self.tally.op(write.name(), |c| c.ok += 1);
        self.tally.counts().acks.push(Ack {
            write,
            key,
            aggregate,
            token: token.0,
            replayed,
            retried,
        });
    }

    /// One read; after an attempt without an answer, once more on the other instance.
    async fn read(&self, state: &mut ClientState, read: Read) {
        let after = state.last_token.as_deref().unwrap_or_default();
        // Before a client's first write there is nothing to wait for: read Today's Moves.
        let (read, path) = match (read, state.last_item, state.last_run) {
            (Read::TodayAfter, ..) if !after.is_empty() => {
                (read, format!("/api/queue/today?after={after}"))
            }
            (Read::TodayEventual, ..) => (read, "/api/queue/today?consistency=eventual".into()),
            (Read::List, ..) => (
                read,
                "/api/queue?status=pending,snoozed&sort=-aps&limit=20".into(),
            ),
            (Read::Counts, ..) => (read, "/api/queue/counts".into()),
            (Read::Stats, ..) => (read, "/api/queue/stats".into()),
            (Read::ItemAfter, Some(item), _) => (read, format!("/api/queue/{item}?after={after}")),
            (Read::Runs, ..) => (read, "/api/agent-runs?limit=20".into()),
            (Read::RunAfter, _, Some(run)) => {
                (read, format!("/api/agent-runs/{run}?after={after}"))
            }
            _ => (Read::Today, "/api/queue/today".into()),
        };
        self.tally.op(read.name(), |c| c.sent += 1);
        for _ in 0..2 {
            let slot = state.next_slot();
            match self.attempt(slot, Method::GET, &path, None, None).await {
                Attempt::Answer { status, .. } if (200..300).contains(&status) => {
                    self.tally.op(read.name(), |c| c.ok += 1);
                    return;
                }
                Attempt::Answer { status, .. } => {
                    self.tally.op(read.name(), |c| c.refused += 1);
                    if status == 404 && matches!(read, Read::ItemAfter | Read::RunAfter) {
                        let mut counts = self.tally.counts();
                        counts.ryw_violations += 1;
                        if counts.ryw_examples.len() < VIOLATIONS_KEPT {
                            let name = self.slots.name(slot);
                            counts
                                .ryw_examples
                                .push(format!("GET {path} on instance {name}: 404"));
                        }
                    }
                    return;
                }
                Attempt::Failed => {}
            }
        }
        self.tally.op(read.name(), |c| c.unanswered += 1);
    }

    /// One request to one instance, tallied.
    async fn attempt(
        &self,
        slot: usize,
        method: Method,
        path: &str,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> Attempt {
        let (address, generation) = self.slots.target(slot);
        let mut request = self
            .http
            .request(method, format!("{address}{path}"))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let answer = async {
            let response = request.send().await?;
            let status = response.status().as_u16();
            let replayed = response
                .headers()
                .get("idempotent-replayed")
                .is_some_and(|v| v.as_bytes() == b"true");
            let bytes = response.bytes().await?;
            let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            Ok::<_, reqwest::Error>((status, body, replayed))
        }
        .await;
        match answer {
            Ok((status, body, replayed)) => {
                self.tally.answer(slot, generation, status, &body);
                Attempt::Answer {
                    status,
                    body,
                    replayed,
                }
            }
            Err(error) => {
                let kind = if error.is_timeout() {
                    NoAnswer::Timeout
                } else if error.is_connect() {
                    NoAnswer::Down
                } else {
                    NoAnswer::Lost
                };
                self.tally.no_answer(slot, kind);
                Attempt::Failed
            }
        }
    }
}

impl ClientState {
    /// The instance of the next request: each client alternates, so a read usually goes
    /// to the other instance than the write before it.
    fn next_slot(&mut self) -> usize {
        let slot = self.next_slot;
        self.next_slot = 1 - slot;
        slot
    }
}

fn error_code(body: &Value) -> Option<&str> {
    body.get("error")?.get("code")?.as_str()
}
