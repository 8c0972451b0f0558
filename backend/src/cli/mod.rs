//! The `caseyos` command line: serve, migrate, projections, replay, tokens, sign-in links,
//! agents, demo data.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use serde_json::Value;

use caseyos_store::history::{history, Page, Point};

use crate::app::Application;
use crate::auth::tokens::{
    create_token, issue_token, list_tokens, revoke_token, Lifetime, NewToken,
};
use crate::auth::{sessions, Role};
use crate::config::Config;
use crate::infra::db::Database;

mod contacts;
mod contacts_export;
mod demo;
mod demo_contacts;
mod demo_deals;
mod guardrails;

#[derive(Debug, Parser)]
#[command(
    name = "caseyos",
    version,
    about = "CaseyOS — the go-to-market command center"
)]
pub struct Cli {
    /// A TOML configuration file (also CASEYOS_CONFIG).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The embedded database's folder (also CASEYOS_DATA_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (API, projections, schedules).
    Serve {
        /// Address to listen on (also CASEYOS_BIND); default 127.0.0.1:8080.
        #[arg(long, value_name = "ADDR")]
        bind: Option<SocketAddr>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Inspect or rebuild read models.
    Projections {
        #[command(subcommand)]
        command: ProjectionsCommand,
    },
    /// Show an aggregate's history: every event with actor and time, and its state.
    Replay {
        /// e.g. `queue_item`.
        aggregate_type: String,
        id: String,
        /// The state after this sequence.
        #[arg(long)]
        at: Option<i64>,
        /// The state at this instant (RFC 3339).
        #[arg(long, value_name = "TIME")]
        as_of: Option<DateTime<Utc>>,
        /// Show the events after this sequence (a page's `next_cursor`).
        #[arg(long, value_name = "SEQUENCE", default_value_t = 0)]
        cursor: i64,
        /// Events per page, as the API pages them.
        #[arg(long, default_value_t = crate::api::audit::DEFAULT_AUDIT_PAGE,
              value_parser = clap::value_parser!(i64).range(1..=crate::api::audit::MAX_AUDIT_PAGE))]
        limit: i64,
        /// Print the same JSON as GET /api/audit/{type}/{id}.
        #[arg(long)]
        json: bool,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Create a one-time sign-in link for the web app (usable once, within 24 hours) and
    /// print it.
    SigninLink {
        /// Who signs in with it (default: the configured operator).
        #[arg(long)]
        user: Option<String>,
        #[arg(long, value_parser = ["admin", "operator", "viewer"], default_value = "admin")]
        role: String,
    },
    /// Demo data.
    Demo {
        #[command(subcommand)]
        command: DemoCommand,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Serve MCP (the Model Context Protocol) on stdin/stdout for an MCP host, calling a
    /// running CaseyOS as the user of an API token: its tools are CaseyOS's operations.
    Mcp {
        /// The running CaseyOS (also CASEYOS_URL); default http://127.0.0.1:8080.
        #[arg(long, value_name = "URL", env = "CASEYOS_URL")]
        url: Option<String>,
        /// An API token (`caseyos token create`); also CASEYOS_TOKEN.
        #[arg(long, env = "CASEYOS_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
    /// List agents, or run one.
    Agents {
        #[command(subcommand)]
        command: AgentsCommand,
    },
    /// Contacts: import them from a CSV file, export them as CSV.
    Contacts {
        #[command(subcommand)]
        command: ContactsCommand,
    },
    /// The global kill switch of executions (as POST /api/admin/kill-switch): while it is
    /// engaged no approved move executes. Works with the server down.
    KillSwitch {
        #[command(subcommand)]
        command: KillSwitchCommand,
    },
}

#[derive(Debug, Subcommand)]
enum KillSwitchCommand {
    /// Stop every execution that has not started yet (they are blocked with the reason).
    Engage {
        /// Why (at most 2,000 characters), recorded with the change.
        #[arg(long)]
        reason: Option<String>,
        /// Print the switches as JSON (the switch fields of GET /api/admin/guardrails).
        #[arg(long)]
        json: bool,
    },
    /// Let approved moves execute again (blocked ones wait for a retry).
    Release {
        #[arg(long)]
        reason: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Whether it is engaged, who changed it last and why, and the send mode.
    Status {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
// Parsed once per process: the size of the export's filters does not matter.
#[allow(clippy::large_enum_variant)]
enum ContactsCommand {
    /// Write the contacts the filters match as CSV (the columns of GET
    /// /api/contacts/export.csv, which the CSV import reads back), to a file or stdout.
    Export(contacts_export::ExportArgs),
    /// Import contacts from a CSV file (the header aliases of `POST /api/contacts/imports`),
    /// with a progress bar and a summary; re-importing a file creates nothing new.
    Import {
        file: PathBuf,
        /// Also print the import as GET /api/contacts/imports/{id} shows it.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum AgentsCommand {
    /// Every agent that can run: name, domain, whether it writes with a language model.
    List {
        /// Print each agent with its input schema and an example input, as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Request a run as the operator; with --wait, execute it here unless a server's
    /// worker takes it first, and print how it ended (exit 1 unless it succeeded).
    Run {
        /// The agent, e.g. `DraftWriter` (case and `-`/`_` are ignored).
        name: String,
        /// The input as a JSON object (default `{}`).
        #[arg(long, value_name = "JSON", default_value = "{}")]
        input: String,
        /// Wait for the run to end.
        #[arg(long)]
        wait: bool,
        /// Print the run as JSON (the same as GET /api/agent-runs/{id}).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ProjectionsCommand {
    /// Per projection: checkpoint, lag, leader and state.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Rebuild read models beside the live ones and switch over without downtime.
    Rebuild {
        /// One projection (default: all).
        name: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a bearer token and print it (only its hash is stored).
    Create {
        /// Unique: 1–64 letters, digits and . _ : @ + -
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["admin", "operator", "viewer"])]
        role: String,
        /// The user the token acts as (default: the name).
        #[arg(long)]
        user: Option<String>,
        /// Stop working after this long: a number and d, h or m (`90d`, `12h`, `30m`; at
        /// most 3650d). Default: until revoked.
        #[arg(long, value_name = "DURATION")]
        expires_in: Option<String>,
    },
    /// Every token: id, name, user, role, created, expires, last used, revoked (never the
    /// secret).
    List {
        /// Print the same JSON items as GET /api/tokens.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by id or name; the browser sessions signed in with it end too.
    /// Revoking a revoked token changes nothing.
    Revoke {
        /// The token's id (`token list`), or else its name.
        #[arg(value_name = "NAME|ID")]
        token: String,
    },
}

#[derive(Debug, Subcommand)]
enum DemoCommand {
    /// Fill Today's Moves with a realistic queue, through the same commands the API uses.
    Seed,
}

fn init_tracing(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CASEYOS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Runs the CLI; the binary's `main` is just this.
pub async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(dir) = cli.data_dir {
        config.data_dir = dir;
    }
    init_tracing(&config.log_format);
    match cli.command {
        Command::Serve { bind } => {
            if let Some(bind) = bind {
                config.bind = bind;
            }
            serve(config).await
        }
        Command::Agents {
            command: AgentsCommand::List { json },
        } => {
            agents_list(json);
            Ok(())
        }
        Command::Mcp { url, token } => {
            let Some(token) = token.filter(|t| !t.trim().is_empty()) else {
                anyhow::bail!("caseyos mcp needs an API token: set CASEYOS_TOKEN or pass --token");
            };
            let url = url.unwrap_or_else(|| format!("http://{}", config.bind));
            crate::api::mcp::serve_stdio(&url, token.trim()).await
        }
        Command::Openapi => {
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::api::openapi_json())?
            );
            Ok(())
        }
        command => {
            let database = Database::open(&config).await?;
            let result = run_offline(command, &config, &database).await;
            database.close().await;
            result
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config.clone()).await?;
    let model = config.llm_model.clone();
    tokio::task::spawn_blocking(move || crate::api::chat::tokens::warm(&model));
    let url = config.public_url(app.address());
    let pool = app.state().pool.clone();
    let first_run: bool = sqlx::query_scalar(
        "select not exists(select 1 from api_tokens) and not exists(select 1 from sessions)",
    )
    .fetch_one(&pool)
    .await?;
    println!("CaseyOS is running at {url}");
    println!("  API:      {url}/api   (OpenAPI: {url}/api/openapi.json)");
    println!("  Health:   {url}/health");
    if app.state().web.is_built() {
        println!("  Web app:  {url}/   (a sign-in link: caseyos signin-link)");
    } else {
        println!("  Web app:  not built (run `trunk build --release` in the workspace)");
    }
    if first_run {
        let token = create_token(&pool, "first-run", &config.operator, Role::Admin).await?;
        println!(
            "  First run: an admin token for {} was created; it is shown only now:",
            config.operator
        );
        println!("    {token}");
        println!("    curl -H 'Authorization: Bearer {token}' {url}/api/queue/today");
        let link = sessions::create_sign_in_link(&pool, &config.operator, Role::Admin).await?;
        println!(
            "  Open this link to sign in: {}",
            sessions::sign_in_url(&url, &link)
        );
        println!("    (it works once, within 24 hours; `caseyos signin-link` makes another)");
    }
    std::io::stdout().flush()?;
    let shutdown = app.shutdown_token();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        shutdown.cancel();
    });
    app.run_until_stopped().await
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("a SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("a SIGINT handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

async fn run_offline(command: Command, config: &Config, database: &Database) -> anyhow::Result<()> {
    let pool = &database.pool;
    match command {
        Command::Serve { .. } | Command::Openapi | Command::Mcp { .. } => {
            unreachable!("handled by main")
        }
        Command::Migrate => {
            println!("Migrations applied to {}.", database.description);
            Ok(())
        }
        Command::Contacts { command } => match command {
            ContactsCommand::Export(args) => contacts_export::export(pool, args).await,
            ContactsCommand::Import { file, json } => {
                contacts::import(pool, config, &file, json).await
            }
        },
        Command::KillSwitch { command } => {
            let (change, json) = match command {
                KillSwitchCommand::Engage { reason, json } => {
                    (guardrails::Change::Engage { reason }, json)
                }
                KillSwitchCommand::Release { reason, json } => {
                    (guardrails::Change::Release { reason }, json)
                }
                KillSwitchCommand::Status { json } => (guardrails::Change::Status, json),
            };
            guardrails::kill_switch(pool, config, change, json).await
        }
        Command::Projections { command } => match command {
            ProjectionsCommand::Status { json } => projections_status(pool, json).await,
            ProjectionsCommand::Rebuild { name } => projections_rebuild(pool, name).await,
        },
        Command::Replay {
            aggregate_type,
            id,
            at,
            as_of,
            cursor,
            limit,
            json,
        } => {
            let page = Page {
                after: cursor.max(0),
                limit,
            };
            let response = history(pool, &aggregate_type, &id, Point { at, as_of }, page)
                .await
                .map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?
                .page;
            if json {
                println!("{}", serde_json::to_string_pretty(&response)?);
            } else {
                print_timeline(&response);
            }
            Ok(())
        }
        Command::Token { command } => match command {
            TokenCommand::Create {
                name,
                role,
                user,
                expires_in,
            } => {
                let role = Role::parse(&role).context("role must be admin, operator or viewer")?;
                let user = user.unwrap_or_else(|| name.clone());
                let lifetime = expires_in.as_deref().map(Lifetime::parse).transpose()?;
                let new = NewToken {
                    name: &name,
                    user: &user,
                    role,
                    lifetime,
                };
                let issued = issue_token(pool, new).await?;
                let until = match issued.token.expires_at {
                    Some(at) => format!("it expires {}", at.format("%Y-%m-%d %H:%M UTC")),
                    None => "it works until revoked".into(),
                };
                eprintln!(
                    "Token `{}` for {user} ({role}) created; {until}. It is shown only now:",
                    issued.token.name
                );
                println!("{}", issued.secret);
                Ok(())
            }
            TokenCommand::List { json } => tokens_list(pool, json).await,
            TokenCommand::Revoke { token } => {
                let revoked = revoke_token(pool, &token).await?;
                let name = &revoked.token.name;
                if revoked.already {
                    println!(
                        "Token `{name}` ({}) was already revoked; nothing changed.",
                        revoked.token.id
                    );
                } else {
                    println!(
                        "Token `{name}` ({}) revoked; {} browser session(s) signed in with it ended.",
                        revoked.token.id, revoked.sessions_ended
                    );
                }
                Ok(())
            }
        },
        Command::SigninLink { user, role } => {
            let role = Role::parse(&role).context("role must be admin, operator or viewer")?;
            let user = user.unwrap_or_else(|| config.operator.clone());
            let link = sessions::create_sign_in_link(pool, &user, role).await?;
            eprintln!("A sign-in link for {user} ({role}); it works once, within 24 hours:");
            println!(
                "{}",
                sessions::sign_in_url(&config.public_url(config.bind), &link)
            );
            Ok(())
        }
        Command::Agents { command } => match command {
            AgentsCommand::List { .. } => unreachable!("handled by main"),
            AgentsCommand::Run {
                name,
                input,
                wait,
                json,
            } => agents_run(pool, config, &name, &input, wait, json).await,
        },
        Command::Demo { command } => match command {
            DemoCommand::Seed => {
                let report = demo::seed(pool, config).await?;
                println!(
                    "Demo queue for {}: {} moves proposed, {} already there, {} snoozed, {} decided.",
                    config.operator, report.proposed, report.existing, report.snoozed, report.decided
                );
                println!(
                    "Demo contacts: {} created, {} already there (run DuplicateWatcher to review their duplicates).",
                    report.contacts, report.contacts_existing
                );
                println!(
                    "Demo deals: {} created, {} already there, with months of activity and this quarter's quotas.",
                    report.deals, report.deals_existing
                );
                Ok(())
            }
        },
    }
}

/// `caseyos token list`: a table (or the JSON items of `GET /api/tokens`).
async fn tokens_list(pool: &sqlx::PgPool, json: bool) -> anyhow::Result<()> {
    let mut tokens = Vec::new();
    let mut after = None;
    loop {
        let (page, _) = list_tokens(pool, after, 100).await?;
        after = page.last().map(|t| t.id);
        let done = page.len() < 100;
        tokens.extend(page);
        if done {
            break;
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&tokens)?);
        return Ok(());
    }
    if tokens.is_empty() {
        println!("No API tokens (caseyos token create makes one).");
        return Ok(());
    }
    let time = |at: Option<DateTime<Utc>>, none: &str| {
        at.map_or_else(
            || none.to_string(),
            |at| at.format("%Y-%m-%d %H:%M").to_string(),
        )
    };
    let now = Utc::now();
    let rows: Vec<[String; 8]> = tokens
        .iter()
        .map(|t| {
            let expires = match t.expires_at {
                Some(at) if at <= now && t.revoked_at.is_none() => {
                    format!("{} (expired)", time(Some(at), ""))
                }
                at => time(at, "never"),
            };
            [
                t.id.to_string(),
                t.name.clone(),
                t.user.clone(),
                t.role.to_string(),
                time(Some(t.created_at), ""),
                expires,
                time(t.last_used_at, "never"),
                time(t.revoked_at, "-"),
            ]
        })
        .collect();
    let head = [
        "ID",
        "NAME",
        "USER",
        "ROLE",
        "CREATED",
        "EXPIRES",
        "LAST USED",
        "REVOKED",
    ];
    let mut widths = head.map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(head.to_vec());
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }
    println!("Times are UTC.");
    Ok(())
}

fn agents_list(json: bool) {
    if json {
        let agents: Vec<Value> = caseyos_agents::REGISTRY
            .iter()
            .map(|spec| {
                serde_json::json!({
                    "name": spec.name,
                    "domain": spec.domain,
                    "description": spec.description,
                    "uses_llm": spec.uses_llm,
                    "proposes_moves": spec.proposes_moves,
                    "input_schema": spec.input_schema(),
                    "example_input": (spec.example)(),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "agents": agents }))
                .unwrap_or_default()
        );
        return;
    }
    println!("{:<20} {:<12} {:<5} DESCRIPTION", "NAME", "DOMAIN", "LLM");
    for spec in caseyos_agents::REGISTRY {
        println!(
            "{:<20} {:<12} {:<5} {}",
            spec.name,
            spec.domain.as_str(),
            if spec.uses_llm { "yes" } else { "no" },
            spec.description
        );
    }
}

async fn agents_run(
    pool: &sqlx::PgPool,
    config: &Config,
    name: &str,
    input: &str,
    wait: bool,
    json: bool,
) -> anyhow::Result<()> {
    use crate::commands::agent_runs::request_run;
    use crate::workers::agent_runs::Workers;
    use caseyos_domain::agent_run::{AgentRun, RunStatus, RunTrigger};
    use caseyos_domain::kernel::Actor;
    use caseyos_store::history::state_at;
    use caseyos_store::{CommandBus, CommandMeta};

    let spec = caseyos_agents::find(name)
        .with_context(|| format!("no agent named `{name}`; `caseyos agents list` shows them"))?;
    let input: Value = serde_json::from_str(input).context("--input must be JSON")?;
    if !input.is_object() {
        anyhow::bail!("--input must be a JSON object");
    }
    if let Err(fields) = spec.validate(&input) {
        for field in &fields {
            eprintln!("{}: {}", field.field, field.message);
        }
        anyhow::bail!("the input does not match {}'s schema", spec.name);
    }
    let bus = std::sync::Arc::new(CommandBus::new(
        pool.clone(),
        config.snapshot_every,
        config.command_retries,
        std::sync::Arc::new(caseyos_store::bus::Unobserved),
    ));
    let operator = Actor::user(config.operator.clone());
    let mut meta = CommandMeta::system("cli");
    meta.actor = operator.clone();
    let committed = request_run(
        &bus,
        config,
        spec,
        input,
        RunTrigger::Manual,
        None,
        operator,
        &meta,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
    let run = committed.state.run.context("the run was not recorded")?;
    eprintln!(
        "Run {} of {} requested ({}).",
        run.id,
        spec.name,
        run.status.as_str()
    );
    if !wait {
        if json {
            println!("{}", serde_json::to_string_pretty(&run)?);
        } else {
            println!("{}", run.id);
        }
        return Ok(());
    }
    let workers = Workers::new(
        pool.clone(),
        bus,
        std::sync::Arc::new(config.clone()),
        caseyos_agents::Agents::registry(),
        &format!("cli:{}", std::process::id()),
    )?;
    let worker = format!("cli:{}", std::process::id());
    let shutdown = tokio_util::sync::CancellationToken::new();
    let run = loop {
        if workers.claim(&worker, run.id).await? {
            workers.execute(&worker, run.id, &shutdown).await?;
        }
        let state = state_at::<AgentRun>(pool, &run.id.to_string(), i64::MAX)
            .await?
            .run
            .context("the run disappeared")?;
        if state.status.is_finished() {
            break state;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&run)?);
    } else {
        if let Some(output) = &run.output {
            println!("{}", serde_json::to_string_pretty(output)?);
        }
        if let Some(text) = &run.text {
            println!("\n{text}");
        }
    }
    eprintln!(
        "Run {} {} after {} ms.",
        run.id,
        run.status.as_str(),
        run.duration_ms.unwrap_or(0)
    );
    match (run.status, &run.error) {
        (RunStatus::Succeeded, _) => Ok(()),
        (status, Some(error)) => {
            anyhow::bail!("run {}: {}: {}", status.as_str(), error.code, error.message)
        }
        (status, None) => anyhow::bail!("run {}", status.as_str()),
    }
}

async fn projections_status(pool: &sqlx::PgPool, json: bool) -> anyhow::Result<()> {
    let statuses = caseyos_projections::status::projection_status(
        pool,
        &caseyos_projections::all_projectors(),
    )
    .await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&statuses)?);
        return Ok(());
    }
    println!(
        "{:<12} {:<12} {:>12} {:>10} {:>9} {:>12}  leader",
        "projection", "state", "position", "processed", "lag", "lag (s)"
    );
    for s in statuses {
        println!(
            "{:<12} {:<12} {:>12} {:>10} {:>9} {:>12.3}  {}",
            s.name,
            s.state,
            s.position,
            s.events_processed,
            s.lag_events,
            s.lag_seconds,
            s.leader.as_deref().unwrap_or("-")
        );
        if let Some(error) = s.last_error {
            println!("  last error: {error}");
        }
    }
    Ok(())
}

async fn projections_rebuild(pool: &sqlx::PgPool, name: Option<String>) -> anyhow::Result<()> {
    let projectors = match name {
        Some(name) => vec![
            caseyos_projections::projector_named(&name).with_context(|| {
                let known: Vec<&str> = caseyos_projections::all_projectors()
                    .iter()
                    .map(|p| p.name())
                    .collect();
                format!("no projection named `{name}`; known: {}", known.join(", "))
            })?,
        ],
        None => caseyos_projections::all_projectors(),
    };
    for projector in projectors {
        let name = projector.name();
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{prefix:>10} [{bar:40}] {pos}/{len} events ({per_sec}, {eta})",
            )?
            .progress_chars("=> "),
        );
        bar.set_prefix(name.to_string());
        let started = Instant::now();
        let progress = caseyos_projections::rebuild::rebuild(pool, projector.clone(), |p| {
            bar.set_length(p.events_total as u64);
            bar.set_position(p.events_processed as u64);
        })
        .await?;
        bar.finish();
        let secs = started.elapsed().as_secs_f64().max(0.001);
        println!(
            "{name}: rebuilt from {} events in {:.2} s ({:.0} events/s), switched over at {}.",
            progress.events_processed,
            secs,
            progress.events_processed as f64 / secs,
            caseyos_domain::kernel::ConsistencyToken(progress.checkpoint)
        );
    }
    Ok(())
}

/// Top-level fields that differ between two states, as `field: old → new`.
pub fn changes(before: &Value, after: &Value) -> Vec<String> {
    let empty = serde_json::Map::new();
    let before_map = before.as_object().unwrap_or(&empty);
    let Some(after_map) = after.as_object() else {
        return vec![];
    };
    let ignored = ["version", "updated_at"];
    after_map
        .iter()
        .filter(|(k, v)| !ignored.contains(&k.as_str()) && before_map.get(*k) != Some(*v))
        .map(|(k, v)| match before_map.get(k) {
            Some(old) if !before.is_null() => format!("{k}: {} → {}", short(old), short(v)),
            _ => format!("{k}: {}", short(v)),
        })
        .collect()
}

fn short(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(59).collect::<String>())
    } else {
        text
    }
}

fn print_timeline(response: &caseyos_domain::api::AuditResponse) {
    println!(
        "{} {} — {} of {} events",
        response.aggregate_type,
        response.aggregate_id,
        response.events.len(),
        response.total_events
    );
    // What changed needs the state before: a later page's first event has it on the page
    // before.
    let mut before = Some(Value::Null);
    if let Some(first) = response.events.first().filter(|e| e.sequence > 1) {
        println!();
        println!("… {} earlier events", first.sequence - 1);
        before = None;
    }
    for e in &response.events {
        println!();
        println!(
            "#{:<3} {}  {}  by {}",
            e.sequence,
            e.recorded_at.format("%Y-%m-%d %H:%M:%S%.3fZ"),
            e.event_type,
            e.actor.as_deref().unwrap_or("unknown")
        );
        println!(
            "     request {}  correlation {}{}",
            e.request_id.as_deref().unwrap_or("-"),
            e.correlation_id.as_deref().unwrap_or("-"),
            e.idempotency_key
                .as_deref()
                .map(|k| format!("  idempotency-key {k}"))
                .unwrap_or_default()
        );
        for change in before.iter().flat_map(|b| changes(b, &e.state_after)) {
            println!("     {change}");
        }
        before = Some(e.state_after.clone());
    }
    if let Some(cursor) = &response.next_cursor {
        println!();
        println!(
            "… {} more events up to #{}: --cursor {cursor}",
            response.unread(),
            response.sequence
        );
    }
    println!();
    println!("State at #{}:", response.sequence);
    println!(
        "{}",
        serde_json::to_string_pretty(&response.state).unwrap_or_default()
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_list_only_the_fields_that_moved() {
        let before = json!({"status": "pending", "title": "A", "version": 1});
        let after = json!({"status": "approved", "title": "A", "version": 2});
        assert_eq!(changes(&before, &after), vec!["status: pending → approved"]);
        assert_eq!(
            changes(&Value::Null, &json!({"title": "A"})),
            vec!["title: A"]
        );
    }
}
