//! Auto-approval's read models — `auto_approval_rules` (one row per rule: its kind,
//! priority, on/off) and `auto_approval_decisions` (one row per move: approved by which
//! rule or needs review, with every check) — their projectors and the queries that read
//! them: the rules in the order they run, a move's decision.

use std::collections::HashMap;

use async_trait::async_trait;
use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::auto_approval::{
    AutoApprovalDecision, AutoApprovalRule, AutoDecision, DecisionEvent, DecisionView, RuleEvent,
    RuleView,
};
use sqlx::types::Json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::projector::{
    load_docs, CopyIn, Held, InFlight, Jsonb, RowFold, RowProjector, RowsWrite, Tables, Window,
    Write,
};

mod queries;

pub use queries::*;

const RULES: &str = "auto_approval_rules";
const DECISIONS: &str = "auto_approval_decisions";

/// Writes `auto_approval_rules`.
pub struct AutoApprovalRulesProjector;

impl RowProjector for AutoApprovalRulesProjector {
    const NAME: &'static str = "auto_approval_rules";
    const TABLES: &'static [&'static str] = &[RULES];
    type Held = AutoApprovalRule;
    type Fold = RulesFold;

    fn fold_over(window: Window<AutoApprovalRule>) -> RulesFold {
        RulesFold { window }
    }
}

/// The one fold of rule events into rows, live and in a rebuild.
pub struct RulesFold {
    window: Window<AutoApprovalRule>,
}

#[async_trait]
impl RowFold for RulesFold {
    type Aggregate = AutoApprovalRule;

    async fn fold(
        &mut self,
        conn: &mut PgConnection,
        tables: &Tables,
        decoded: Vec<(Uuid, RuleEvent)>,
        in_flight: &mut InFlight,
    ) -> anyhow::Result<()> {
        let missing = self.window.missing(decoded.iter().map(|(id, _)| *id));
        if !missing.is_empty() {
            in_flight.settle().await?;
            for view in load_docs::<RuleView>(&mut *conn, &tables.name(RULES), &missing).await? {
                self.window
                    .hold_stored(view.id, AutoApprovalRule { rule: Some(view) });
            }
        }
        for (id, event) in decoded {
            self.window.state(id).apply(event);
        }
        Ok(())
    }

    fn held(&self) -> usize {
        self.window.len()
    }

    fn take(&mut self, keep: usize, how: Write) -> Box<dyn RowsWrite> {
        Box::new(RulesWrite {
            held: self.window.take(keep, |r| r.rule.is_some()),
            how,
        })
    }
}

struct RulesWrite {
    held: HashMap<Uuid, Held<AutoApprovalRule>>,
    how: Write,
}

const RULE_COLUMNS: &str = "id, kind, priority, enabled, archived, doc, created_at, updated_at";

#[async_trait]
impl RowsWrite for RulesWrite {
    async fn write(
        self: Box<Self>,
        conn: &mut PgConnection,
        tables: &Tables,
    ) -> anyhow::Result<()> {
        let RulesWrite { held, how } = *self;
        let table = tables.name(RULES);
        let mut copies = Vec::new();
        for Held { state, stored, .. } in held.values() {
            let Some(rule) = &state.rule else { continue };
            if how == Write::Copy && !stored {
                copies.push(rule);
                continue;
            }
            sqlx::query(&format!(
                "insert into {table} ({RULE_COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8) \
                 on conflict (id) do update set kind = excluded.kind, \
                   priority = excluded.priority, enabled = excluded.enabled, \
                   archived = excluded.archived, doc = excluded.doc, \
                   updated_at = excluded.updated_at"
            ))
            .bind(rule.id)
            .bind(rule.condition.kind())
            .bind(rule.priority as i32)
            .bind(rule.enabled)
            .bind(rule.archived)
            .bind(Json(rule))
            .bind(rule.created_at)
            .bind(rule.updated_at)
            .execute(&mut *conn)
            .await?;
        }
        if !copies.is_empty() {
            let mut copy = CopyIn::start(&mut *conn, &table, RULE_COLUMNS).await?;
            for rule in copies {
                copy.row(&[
                    &rule.id,
                    &rule.condition.kind(),
                    &(rule.priority as i32),
                    &rule.enabled,
                    &rule.archived,
                    &Jsonb(rule),
                    &rule.created_at,
                    &rule.updated_at,
                ])
                .await?;
            }
            copy.finish().await?;
        }
        Ok(())
    }
}

/// Writes `auto_approval_decisions`.
pub struct AutoApprovalDecisionsProjector;

impl RowProjector for AutoApprovalDecisionsProjector {
    const NAME: &'static str = "auto_approval_decisions";
    const TABLES: &'static [&'static str] = &[DECISIONS];
    type Held = AutoApprovalDecision;
    type Fold = DecisionsFold;

    fn fold_over(window: Window<AutoApprovalDecision>) -> DecisionsFold {
        DecisionsFold { window }
    }
}

/// The one fold of decision events into rows, live and in a rebuild.
pub struct DecisionsFold {
    window: Window<AutoApprovalDecision>,
}

#[async_trait]
impl RowFold for DecisionsFold {
    type Aggregate = AutoApprovalDecision;

    async fn fold(
        &mut self,
        conn: &mut PgConnection,
        tables: &Tables,
        decoded: Vec<(Uuid, DecisionEvent)>,
        in_flight: &mut InFlight,
    ) -> anyhow::Result<()> {
        let missing = self.window.missing(decoded.iter().map(|(id, _)| *id));
        if !missing.is_empty() {
            in_flight.settle().await?;
            for view in
                load_docs::<DecisionView>(&mut *conn, &tables.name(DECISIONS), &missing).await?
            {
                self.window.hold_stored(
                    view.id,
                    AutoApprovalDecision {
                        decision: Some(view),
                    },
                );
            }
        }
        for (id, event) in decoded {
            self.window.state(id).apply(event);
        }
        Ok(())
    }

    fn held(&self) -> usize {
        self.window.len()
    }

    fn take(&mut self, keep: usize, how: Write) -> Box<dyn RowsWrite> {
        Box::new(DecisionsWrite {
            held: self.window.take(keep, |d| d.decision.is_some()),
            how,
        })
    }
}

struct DecisionsWrite {
    held: HashMap<Uuid, Held<AutoApprovalDecision>>,
    how: Write,
}

const DECISION_COLUMNS: &str = "id, item_id, outcome, rule_id, decided_at, doc";

fn outcome_of(decision: &DecisionView) -> (&'static str, Option<Uuid>) {
    match &decision.decision {
        AutoDecision::Approved { rule_id, .. } => ("approved", Some(*rule_id)),
        AutoDecision::NeedsReview { .. } => ("needs_review", None),
    }
}

#[async_trait]
impl RowsWrite for DecisionsWrite {
    async fn write(
        self: Box<Self>,
        conn: &mut PgConnection,
        tables: &Tables,
    ) -> anyhow::Result<()> {
        let DecisionsWrite { held, how } = *self;
        let table = tables.name(DECISIONS);
        let mut copies = Vec::new();
        for Held { state, stored, .. } in held.values() {
            let Some(decision) = &state.decision else {
                continue;
            };
            if how == Write::Copy && !stored {
                copies.push(decision);
                continue;
            }
            let (outcome, rule_id) = outcome_of(decision);
            // A decision is one fact: written once.
            sqlx::query(&format!(
                "insert into {table} ({DECISION_COLUMNS}) values ($1, $2, $3, $4, $5, $6) \
                 on conflict (id) do nothing"
            ))
            .bind(decision.id)
            .bind(decision.item_id)
            .bind(outcome)
            .bind(rule_id)
            .bind(decision.decided_at)
            .bind(Json(decision))
            .execute(&mut *conn)
            .await?;
        }
        if !copies.is_empty() {
            let mut copy = CopyIn::start(&mut *conn, &table, DECISION_COLUMNS).await?;
            for decision in copies {
                let (outcome, rule_id) = outcome_of(decision);
                copy.row(&[
                    &decision.id,
                    &decision.item_id,
                    &outcome,
                    &rule_id,
                    &decision.decided_at,
                    &Jsonb(decision),
                ])
                .await?;
            }
            copy.finish().await?;
        }
        Ok(())
    }
}
