//! `caseyos demo seed`, deals: a quarter's pipeline for the operator and two colleagues —
//! deals in every stage, some won and lost, months of logged calls, emails and meetings,
//! close dates pushed, a next step here and there — and the current quarter's quotas.
//!
//! Entered through the deal and quota commands, made by `system:demo`, every deal marked
//! `demo`; ids (deals and activities) derive from fixed keys, so seeding twice adds
//! nothing. When an activity happened (weeks or months ago) is data on the activity —
//! `happened_at` — never a forged recording time: every event is recorded when the seed
//! runs.

use caseyos_domain::deals::{
    ActivityKind, CreateDeal, Deal, DealCommand, DealError, DealSource, LogActivity, LoseDeal,
    MoveDeal, WinDeal,
};
use caseyos_domain::forecast::{FiscalCalendar, Period, PeriodKind};
use caseyos_domain::kernel::{CrmId, Money, Text, UserName};
use caseyos_domain::pipelines::Pipeline;
use caseyos_domain::quotas::{Quota, QuotaCommand};
use caseyos_store::{now, CommandBus, CommandError, CommandMeta};
use chrono::Duration;
use uuid::Uuid;

use crate::commands::pipelines;

/// The namespace of demo deal and activity ids.
const DEMO_DEALS: Uuid = Uuid::from_u128(0x9e3c_51d0_7a42_4b8e_a1f6_0d2c_8b57_e913);

/// How a demo deal ends up.
enum End {
    Open,
    Won,
    Lost(&'static str),
}

/// One demo deal: key, name, owner (`None`: the operator), stage, amount in dollars (0:
/// none), close date in days from today (`None`: none), activities, pushes, next step, end.
type DemoDeal = (
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    i64,
    Option<i64>,
    usize,
    u32,
    Option<&'static str>,
    End,
);

fn deals() -> Vec<DemoDeal> {
    use End::*;
    vec![
        (
            "acme-expansion",
            "Acme expansion",
            None,
            "decisionmakerboughtin",
            62_000,
            Some(12),
            9,
            0,
            Some("Security review call with their CISO"),
            Open,
        ),
        (
            "globex-platform",
            "Globex platform",
            None,
            "contractsent",
            118_000,
            Some(5),
            14,
            1,
            Some("Chase the signed order form"),
            Open,
        ),
        (
            "initech-pilot",
            "Initech pilot",
            None,
            "presentationscheduled",
            24_000,
            Some(21),
            5,
            0,
            None,
            Open,
        ),
        (
            "umbrella-renewal",
            "Umbrella renewal",
            None,
            "qualifiedtobuy",
            40_000,
            Some(-3),
            2,
            3,
            None,
            Open,
        ),
        (
            "hooli-analytics",
            "Hooli analytics",
            None,
            "appointmentscheduled",
            0,
            None,
            1,
            0,
            None,
            Open,
        ),
        (
            "stark-services",
            "Stark services",
            None,
            "contractsent",
            55_000,
            Some(-20),
            8,
            0,
            None,
            Won,
        ),
        (
            "wayne-security",
            "Wayne security",
            None,
            "presentationscheduled",
            30_000,
            Some(-10),
            6,
            1,
            None,
            Lost("Chose a competitor on price"),
        ),
        (
            "soylent-rollout",
            "Soylent rollout",
            Some("sam"),
            "decisionmakerboughtin",
            85_000,
            Some(18),
            11,
            0,
            Some("Procurement meeting Thursday"),
            Open,
        ),
        (
            "tyrell-audit",
            "Tyrell audit",
            Some("sam"),
            "qualifiedtobuy",
            12_000,
            Some(40),
            3,
            0,
            None,
            Open,
        ),
        (
            "cyberdyne-suite",
            "Cyberdyne suite",
            Some("sam"),
            "appointmentscheduled",
            150_000,
            Some(75),
            2,
            0,
            None,
            Open,
        ),
        (
            "oscorp-training",
            "Oscorp training",
            Some("sam"),
            "contractsent",
            9_500,
            Some(-35),
            7,
            0,
            None,
            Won,
        ),
        (
            "massive-dynamic",
            "Massive Dynamic",
            Some("priya"),
            "presentationscheduled",
            47_000,
            Some(9),
            10,
            2,
            Some("Send the revised proposal"),
            Open,
        ),
        (
            "aperture-labs",
            "Aperture labs",
            Some("priya"),
            "decisionmakerboughtin",
            33_000,
            Some(30),
            6,
            0,
            None,
            Open,
        ),
        (
            "vandelay-import",
            "Vandelay import",
            Some("priya"),
            "qualifiedtobuy",
            18_000,
            Some(-12),
            0,
            1,
            None,
            Open,
        ),
        (
            "pied-piper",
            "Pied Piper",
            Some("priya"),
            "contractsent",
            26_000,
            Some(-5),
            9,
            0,
            None,
            Lost("No budget this year"),
        ),
    ]
}

/// The activity kinds a demo deal's history cycles through.
const KINDS: [ActivityKind; 4] = [
    ActivityKind::Email,
    ActivityKind::Call,
    ActivityKind::Meeting,
    ActivityKind::Email,
];

/// Seeds the demo deals and quotas; returns (deals created, deals already there).
pub async fn seed(
    bus: &CommandBus,
    meta: &CommandMeta,
    operator: &UserName,
    calendar: &FiscalCalendar,
) -> anyhow::Result<(usize, usize)> {
    // The seed may run before the server ever started on this database.
    pipelines::ensure_default(bus)
        .await
        .map_err(|e| anyhow::anyhow!("defining the default pipeline: {e}"))?;
    let pipeline = pipelines::load(
        bus.pool(),
        &CrmId::parse(Pipeline::DEFAULT_ID).map_err(anyhow::Error::msg)?,
    )
    .await?
    .ok_or_else(|| anyhow::anyhow!("the default pipeline is not defined yet"))?;
    let (mut created, mut existing) = (0, 0);
    let today = now().date_naive();
    for (n, (key, name, owner, stage, dollars, close_in, activities, pushes, next_step, end)) in
        deals().into_iter().enumerate()
    {
        let id = Uuid::new_v5(&DEMO_DEALS, key.as_bytes());
        let owner = match owner {
            Some(owner) => UserName::parse(owner).map_err(anyhow::Error::msg)?,
            None => operator.clone(),
        };
        // A pushed deal starts from an earlier close date and is pushed to its own.
        let close = close_in.map(|days| today + Duration::days(days - 14 * i64::from(pushes)));
        let create = DealCommand::Create(Box::new(CreateDeal {
            id,
            name: Text::parse(name, 256).map_err(anyhow::Error::msg)?,
            pipeline: pipeline.clone(),
            stage: CrmId::parse(stage).map_err(anyhow::Error::msg)?,
            amount: (dollars > 0).then(|| Money::usd(dollars * 100)),
            close_date: close,
            owner,
            source: DealSource::Manual,
            crm_id: None,
            demo: true,
            by: meta.actor.clone(),
            at: now(),
        }));
        match bus.execute::<Deal>(id, create, meta).await {
            Ok(_) => created += 1,
            Err(CommandError::Rejected(DealError::AlreadyExists)) => {
                existing += 1;
                continue;
            }
            Err(e) => return Err(anyhow::anyhow!("demo deal {key}: {e}")),
        }
        let mut commands = Vec::new();
        // Months of history: the oldest activity about four months back, the newest a few
        // days ago (later stages have more, and more recent, activity).
        for i in 0..activities {
            let days_ago = 3 + ((activities - i) as i64) * 11 + (n as i64 % 5);
            commands.push(DealCommand::LogActivity(LogActivity {
                activity_id: Uuid::new_v5(&DEMO_DEALS, format!("{key}/activity/{i}").as_bytes()),
                kind: KINDS[(i + n) % KINDS.len()],
                happened_at: now() - Duration::days(days_ago),
                summary: None,
                by: meta.actor.clone(),
                at: now(),
            }));
        }
        for push in 1..=pushes {
            commands.push(DealCommand::ChangeCloseDate {
                close_date: close.map(|d| d + Duration::days(14 * i64::from(push))),
                by: meta.actor.clone(),
                at: now(),
            });
        }
        if let Some(step) = next_step {
            commands.push(DealCommand::SetNextStep {
                next_step: Some(Text::parse(step, 2000).map_err(anyhow::Error::msg)?),
                by: meta.actor.clone(),
                at: now(),
            });
        }
        match end {
            End::Open => {}
            End::Won => commands.push(DealCommand::Win(Box::new(WinDeal {
                pipeline: pipeline.clone(),
                by: meta.actor.clone(),
                at: now(),
            }))),
            End::Lost(reason) => commands.push(DealCommand::Lose(Box::new(LoseDeal {
                reason: Text::parse(reason, 2000).map_err(anyhow::Error::msg)?,
                pipeline: pipeline.clone(),
                by: meta.actor.clone(),
                at: now(),
            }))),
        }
        // One deal moved back a stage: the board shows a regression too.
        if key == "initech-pilot" {
            commands.push(DealCommand::Move(Box::new(MoveDeal {
                stage: CrmId::parse("qualifiedtobuy").map_err(anyhow::Error::msg)?,
                lost_reason: None,
                pipeline: pipeline.clone(),
                by: meta.actor.clone(),
                at: now(),
            })));
        }
        for command in commands {
            bus.execute::<Deal>(id, command, meta)
                .await
                .map_err(|e| anyhow::anyhow!("demo deal {key}: {e}"))?;
        }
    }
    // This quarter's quotas.
    let quarter = Period::containing(today, PeriodKind::Quarter, calendar);
    for (owner, dollars) in [
        (operator.as_str(), 250_000),
        ("sam", 200_000),
        ("priya", 150_000),
    ] {
        let owner = UserName::parse(owner).map_err(anyhow::Error::msg)?;
        let id = Quota::id_of(owner.as_str(), quarter);
        let set = QuotaCommand::Set {
            owner,
            period: quarter,
            amount: Money::usd(dollars * 100),
            by: meta.actor.clone(),
            at: now(),
        };
        bus.execute::<Quota>(id, set, meta)
            .await
            .map_err(|e| anyhow::anyhow!("demo quota: {e}"))?;
    }
    Ok((created, existing))
}
