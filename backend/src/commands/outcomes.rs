//! What a new move's APS learns from outcomes: read from the outcomes read model for its
//! contact, company and action type, and turned into bounded, decaying adjustments with
//! their reasons (`caseyos_domain::outcomes::learning`). Every entry point that proposes a
//! move (the API, agent runs, signals) asks here, so a move scores the same wherever it
//! came from.

use caseyos_domain::hygiene::matching::is_company_domain;
use caseyos_domain::outcomes::learning::{learn, Learned, LearningTarget, DECAY_DAYS};
use caseyos_domain::queue::{ActionType, Target};
use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;

/// The company domain of an address, when it names a company (not free mail).
pub fn company_domain(email: &str) -> Option<String> {
    let domain = email.rsplit_once('@')?.1.trim().to_ascii_lowercase();
    is_company_domain(&domain).then_some(domain)
}

/// Who and what a move is about, for learning.
pub fn learning_target(target: &Target, action: ActionType) -> LearningTarget {
    let contact = target.contact.as_ref();
    let email = contact
        .and_then(|c| c.email.as_ref())
        .map(|e| e.as_str().to_string());
    LearningTarget {
        contact_id: contact.map(|c| c.id.as_str().to_string()),
        company_domain: email.as_deref().and_then(company_domain),
        email,
        action_type: Some(action),
    }
}

/// The adjustments outcomes make to a move about `target` of type `action`, at `now`.
pub async fn learned_for(
    pool: &PgPool,
    target: &Target,
    action: ActionType,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<Learned>> {
    let target = learning_target(target, action);
    let outcomes = caseyos_projections::outcomes::for_learning(
        pool,
        &target,
        now - Duration::days(DECAY_DAYS),
    )
    .await?;
    Ok(learn(&target, &outcomes, now))
}
