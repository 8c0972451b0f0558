//! `caseyos demo seed`: a realistic Today's Moves for the operator, entered through the
//! same commands the API uses. Item ids are derived from fixed names, so seeding twice
//! adds nothing.
//!
//! Demo data says what it is: every move is marked `demo` (the SPA shows "Demo" on it and
//! the quick stats keep its decisions apart), every command is made by `system:demo` —
//! never by the operator — and every command is recorded at the time it really runs.

use caseyos_domain::kernel::{CrmId, EmailAddress, Text, UserName};
use caseyos_domain::queue::aps::{ApsOverrides, Fraction};
use caseyos_domain::queue::{
    ActionType, ApproveQueueItem, ContactRef, ProposeQueueItem, QueueError, QueueItem,
    QueueItemCommand, RecordRef, RejectQueueItem, SnoozeQueueItem, Source, Target, DEMO_ACTOR,
    MAX_TEXT_CHARS,
};
use caseyos_store::bus::Unobserved;
use caseyos_store::{now, CommandBus, CommandError, CommandMeta};
use chrono::Duration;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::config::Config;

#[derive(Debug, Default)]
pub struct SeedReport {
    pub proposed: usize,
    pub existing: usize,
    pub snoozed: usize,
    pub decided: usize,
    pub contacts: usize,
    pub contacts_existing: usize,
    pub deals: usize,
    pub deals_existing: usize,
}

/// What happens to a demo move after it is proposed.
enum Then {
    Nothing,
    /// Snoozed for this many hours from now.
    Snooze(u32),
    Approve,
    Reject(&'static str),
}

struct Move {
    key: &'static str,
    action: ActionType,
    contact: Option<(&'static str, &'static str, &'static str)>,
    deal: Option<(&'static str, &'static str)>,
    company: Option<(&'static str, &'static str)>,
    due_in_hours: Option<i64>,
    urgency: Option<f64>,
    revenue: Option<f64>,
    rationale: &'static str,
    payload: serde_json::Value,
    then: Then,
}

fn moves() -> Vec<Move> {
    let m = |key, action, rationale| Move {
        key,
        action,
        contact: None,
        deal: None,
        company: None,
        due_in_hours: None,
        urgency: None,
        revenue: None,
        rationale,
        payload: json!({}),
        then: Then::Nothing,
    };
    vec![
        Move {
            contact: Some((
                "c-1001",
                "Dana Whitfield",
                "dana.whitfield@northwind-logistics.com",
            )),
            company: Some(("co-301", "Northwind Logistics")),
            due_in_hours: Some(2),
            urgency: Some(0.95),
            payload: json!({
                "to": "dana.whitfield@northwind-logistics.com",
                "subject": "Re: pricing for the Q1 rollout",
                "body": "Hi Dana,\n\nThanks for the quick reply. The three-site rollout comes to $48,000 for the first year; I've attached the breakdown. Would Thursday at 2pm work to walk your ops lead through it?\n\nBest,\nCasey"
            }),
            ..m(
                "reply-dana-pricing",
                ActionType::ReplyResponse,
                "Dana replied asking for pricing within the hour of our demo",
            )
        },
        Move {
            contact: Some(("c-1002", "Marcus Oyelaran", "m.oyelaran@brightpath.io")),
            deal: Some(("d-501", "BrightPath — platform expansion")),
            due_in_hours: Some(6),
            revenue: Some(0.9),
            ..m(
                "book-marcus-review",
                ActionType::BookMeeting,
                "Deal moved to decision-maker bought in; book the commercial review",
            )
        },
        Move {
            deal: Some(("d-502", "Helio Health — annual renewal")),
            company: Some(("co-302", "Helio Health")),
            due_in_hours: Some(24),
            ..m(
                "review-helio-renewal",
                ActionType::ReviewDeal,
                "Renewal closes in 9 days and has had no activity for 16 days",
            )
        },
        Move {
            contact: Some(("c-1003", "Priya Raman", "priya@quantaforge.ai")),
            deal: Some(("d-503", "QuantaForge — pilot")),
            due_in_hours: Some(4),
            payload: json!({
                "to": "priya@quantaforge.ai",
                "subject": "Pilot proposal",
                "body": "Hi Priya,\n\nAs promised, here is the pilot proposal: six weeks, two teams, success criteria agreed up front. Happy to adjust scope before you take it to your CFO.\n\nCasey"
            }),
            ..m(
                "proposal-quantaforge",
                ActionType::SendProposal,
                "Priya asked for the proposal before her Friday budget meeting",
            )
        },
        Move {
            contact: Some(("c-1004", "Tom Becker", "tom.becker@alpinecraft.de")),
            due_in_hours: Some(48),
            payload: json!({
                "to": "tom.becker@alpinecraft.de",
                "subject": "Following up on our call",
                "body": "Hi Tom,\n\nFollowing up on last week's call about consolidating your field-event tooling. Is this still a priority for Q1?\n\nCasey"
            }),
            ..m(
                "follow-up-tom",
                ActionType::EmailFollowUp,
                "No reply in 7 days after a positive first call",
            )
        },
        Move {
            contact: Some(("c-1005", "Aiko Tanaka", "aiko.tanaka@lumenretail.jp")),
            company: Some(("co-303", "Lumen Retail")),
            due_in_hours: Some(30),
            ..m(
                "prep-aiko",
                ActionType::PrepMeeting,
                "Discovery call tomorrow with their VP Marketing",
            )
        },
        Move {
            contact: Some(("c-1006", "Grace Mensah", "grace@fieldnote.co")),
            ..m(
                "check-in-grace",
                ActionType::CheckIn,
                "Customer for 11 months; quarterly check-in is due",
            )
        },
        Move {
            company: Some(("co-304", "Corvid Analytics")),
            due_in_hours: Some(72),
            ..m(
                "health-corvid",
                ActionType::CsHealthCheck,
                "Usage fell 35% over the last month",
            )
        },
        Move {
            deal: Some(("d-504", "Corvid Analytics — renewal")),
            company: Some(("co-304", "Corvid Analytics")),
            due_in_hours: Some(96),
            ..m(
                "renewal-corvid",
                ActionType::RenewalOutreach,
                "Renewal in 60 days; open the conversation early",
            )
        },
        Move {
            payload: json!({"source_url": "https://example.com/blog/field-events-playbook", "formats": ["linkedin", "x_thread"]}),
            ..m(
                "repurpose-playbook",
                ActionType::ContentRepurpose,
                "The field-events playbook post is the best performer this month",
            )
        },
        Move {
            due_in_hours: Some(20),
            ..m(
                "newsletter-december",
                ActionType::NewsletterDraft,
                "December newsletter goes out Tuesday",
            )
        },
        Move {
            contact: Some(("c-1007", "Luis Ortega", "luis.ortega@ridgeline.mx")),
            deal: Some(("d-505", "Ridgeline — multi-year")),
            due_in_hours: Some(1),
            urgency: Some(1.0),
            revenue: Some(1.0),
            ..m(
                "escalate-ridgeline",
                ActionType::RiskEscalation,
                "Competitor named in the last call; legal review stalled for 10 days",
            )
        },
        Move {
            contact: Some(("c-1008", "Hannah Kowalski", "hannah.k@eastgate.edu")),
            due_in_hours: Some(26),
            ..m(
                "onboarding-eastgate",
                ActionType::OnboardingFollowUp,
                "Kick-off was Monday; two of five admins have not logged in",
            )
        },
        Move {
            contact: Some(("c-1009", "Samir Haddad", "samir@olivetree.ventures")),
            then: Then::Snooze(20),
            ..m(
                "follow-up-samir",
                ActionType::FollowUp,
                "Samir is travelling until tomorrow",
            )
        },
        Move {
            contact: Some(("c-1010", "Elena Petrova", "elena.petrova@northstar.bg")),
            then: Then::Snooze(3),
            ..m(
                "thread-bump-elena",
                ActionType::ThreadBump,
                "Elena asked to pick the thread up after her afternoon meetings",
            )
        },
        Move {
            contact: Some(("c-1011", "Noah Williams", "noah@brightpath.io")),
            deal: Some(("d-501", "BrightPath — platform expansion")),
            then: Then::Approve,
            ..m(
                "send-noah-case-study",
                ActionType::SendEmail,
                "Noah asked for the logistics case study",
            )
        },
        Move {
            contact: Some(("c-1012", "Ivy Chen", "ivy.chen@meridian.sg")),
            then: Then::Reject("Ivy moved to a new company last week"),
            ..m(
                "check-in-ivy",
                ActionType::CheckIn,
                "Six weeks since last touch",
            )
        },
        Move {
            company: Some(("co-305", "Saltmarsh Foods")),
            ..m(
                "crm-saltmarsh",
                ActionType::UpdateCrm,
                "Three contacts at Saltmarsh have bounced emails",
            )
        },
    ]
}

fn id_of(key: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("caseyos:demo:{key}").as_bytes(),
    )
}

fn target_of(m: &Move) -> anyhow::Result<Target> {
    let crm = |id: &str| CrmId::parse(id).map_err(|e| anyhow::anyhow!("demo id {id}: {e}"));
    Ok(Target {
        contact: match m.contact {
            Some((id, name, email)) => Some(ContactRef {
                id: crm(id)?,
                name: Some(name.into()),
                email: Some(
                    EmailAddress::parse(email).map_err(|e| anyhow::anyhow!("{email}: {e}"))?,
                ),
            }),
            None => None,
        },
        deal: match m.deal {
            Some((id, name)) => Some(RecordRef {
                id: crm(id)?,
                name: Some(name.into()),
            }),
            None => None,
        },
        company: match m.company {
            Some((id, name)) => Some(RecordRef {
                id: crm(id)?,
                name: Some(name.into()),
            }),
            None => None,
        },
    })
}

/// Seeds the demo queue. Safe to run again: existing moves are left alone.
pub async fn seed(pool: &PgPool, config: &Config) -> anyhow::Result<SeedReport> {
    let bus = CommandBus::new(
        pool.clone(),
        config.snapshot_every,
        config.command_retries,
        std::sync::Arc::new(Unobserved),
    );
    let meta = CommandMeta::system(DEMO_ACTOR);
    let owner = UserName::parse(&config.operator)
        .map_err(|message| anyhow::anyhow!("the operator name {message}"))?;
    let mut report = SeedReport::default();
    (report.contacts, report.contacts_existing) =
        super::demo_contacts::seed(&bus, &meta, &owner).await?;
    (report.deals, report.deals_existing) =
        super::demo_deals::seed(&bus, &meta, &owner, &config.forecast().calendar).await?;
    for m in moves() {
        let id = id_of(m.key);
        let aps = ApsOverrides {
            urgency: m.urgency.and_then(Fraction::from_f64_clamped),
            revenue: m.revenue.and_then(Fraction::from_f64_clamped),
            ..ApsOverrides::default()
        };
        let at = now();
        let propose = QueueItemCommand::Propose(Box::new(ProposeQueueItem {
            id,
            title: None,
            action_type: m.action,
            domain: None,
            target: target_of(&m)?,
            payload: m.payload.clone(),
            owner: owner.clone(),
            due_by: m.due_in_hours.map(|h| at + Duration::hours(h)),
            expires_at: None,
            source: Source::Signal {
                provider: "demo".into(),
                signal_id: m.key.into(),
            },
            aps,
            rationale: Some(demo_text(m.rationale)?),
            draft: None,
            demo: true,
            learned: Vec::new(),
            by: meta.actor.clone(),
            at,
        }));
        match bus.execute::<QueueItem>(id, propose, &meta).await {
            Ok(_) => report.proposed += 1,
            Err(CommandError::Rejected(QueueError::AlreadyProposed)) => {
                report.existing += 1;
                continue;
            }
            Err(e) => return Err(anyhow::anyhow!("proposing demo move {}: {e}", m.key)),
        }
        let follow_up = match m.then {
            Then::Nothing => None,
            Then::Snooze(hours) => {
                report.snoozed += 1;
                let at = now();
                Some(QueueItemCommand::Snooze(SnoozeQueueItem {
                    until: at + Duration::hours(hours.into()),
                    preset: None,
                    by: meta.actor.clone(),
                    at,
                }))
            }
            Then::Approve => {
                report.decided += 1;
                Some(QueueItemCommand::Approve(ApproveQueueItem {
                    note: None,
                    by: meta.actor.clone(),
                    at: now(),
                }))
            }
            Then::Reject(reason) => {
                report.decided += 1;
                Some(QueueItemCommand::Reject(RejectQueueItem {
                    reason: demo_text(reason)?,
                    by: meta.actor.clone(),
                    at: now(),
                }))
            }
        };
        if let Some(command) = follow_up {
            bus.execute::<QueueItem>(id, command, &meta)
                .await
                .map_err(|e| anyhow::anyhow!("demo move {}: {e}", m.key))?;
        }
    }
    Ok(report)
}

/// The demo's own words, as a handler would parse them.
fn demo_text(raw: &str) -> anyhow::Result<Text> {
    Text::parse(raw, MAX_TEXT_CHARS).map_err(|message| anyhow::anyhow!("demo text {message}"))
}
