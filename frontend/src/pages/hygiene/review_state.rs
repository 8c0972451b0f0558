//! The state of duplicate review: the open pairs by score, the focused one (j/k), and for it
//! the primary (1/2), the per-field choices (a click on a cell takes that side's value) and
//! the last preview; and the merge request they make.
//!
//! A choice names the contact whose value wins, as the merge request does, so it means the
//! same whichever record is the primary.

use std::rc::Rc;

use serde_json::{json, Map, Value};
use uuid::Uuid;
use yew::Reducible;

use crate::api::hygiene::PairSummary;
use crate::components::contacts::{at, is_empty, FIELDS};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReviewState {
    /// The open pairs, highest score first, without the ones decided here.
    pub pairs: Vec<PairSummary>,
    pub loaded: bool,
    /// The focused pair.
    pub cursor: usize,
    /// The pair the page was opened on (`/hygiene/duplicates/{id}`), focused once listed.
    pub wanted: Option<Uuid>,
    /// The primary picked for the focused pair; its first record when none is.
    pub primary: Option<Uuid>,
    /// Per field (its API name), the contact whose value wins, in the order picked.
    pub choices: Vec<(String, Uuid)>,
    /// The dry run's merged record for the request it answered.
    pub preview: Option<(Value, Value)>,
    /// Pairs decided here: they leave the list at once and stay out of older reads.
    pub decided: Vec<Uuid>,
}

#[derive(Clone, Debug)]
pub enum ReviewAction {
    Loaded(Vec<PairSummary>),
    Next,
    Previous,
    Focus(usize),
    /// Make this contact the primary.
    Primary(Uuid),
    /// The record whose number (1 or 2) the key names is the primary.
    PrimaryNumber(usize),
    /// Take `contact`'s value of `field`; taking the value already taken goes back to the
    /// default rule.
    Take {
        field: String,
        contact: Uuid,
    },
    /// The dry run answered `fields` for `request`.
    Previewed {
        request: Value,
        fields: Value,
    },
    /// The pair was merged, marked not a duplicate or ignored here.
    Decided(Uuid),
}

impl ReviewState {
    /// Opened on pair `wanted`, if any.
    pub fn new(wanted: Option<Uuid>) -> Self {
        ReviewState {
            wanted,
            ..ReviewState::default()
        }
    }

    pub fn focused(&self) -> Option<&PairSummary> {
        self.pairs.get(self.cursor)
    }

    /// The focused pair's records in order, `(first, second)`.
    fn records(&self) -> Option<(Uuid, Uuid)> {
        self.focused().map(|p| (p.a.id, p.b.id))
    }

    /// The primary of the focused pair: the one picked, else its first record.
    pub fn primary_id(&self) -> Option<Uuid> {
        let (a, b) = self.records()?;
        Some(self.primary.filter(|p| *p == a || *p == b).unwrap_or(a))
    }

    /// The contact picked for `field`, if one was.
    pub fn choice(&self, field: &str) -> Option<Uuid> {
        self.choices
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, contact)| *contact)
    }

    /// The merge request for the focused pair: `{"primary", "fields"?, "dry_run"}`
    /// (`fields` only when a value was picked, each the contact whose value wins).
    pub fn merge_request(&self, dry_run: bool) -> Option<Value> {
        let primary = self.primary_id()?;
        let mut request = json!({ "primary": primary.to_string(), "dry_run": dry_run });
        if !self.choices.is_empty() {
            let mut fields = Map::new();
            for (field, contact) in &self.choices {
                fields.insert(field.clone(), Value::String(contact.to_string()));
            }
            request["fields"] = Value::Object(fields);
        }
        Some(request)
    }

    /// The preview, if it answered the request as it now stands.
    pub fn current_preview(&self) -> Option<&Value> {
        let request = self.merge_request(true)?;
        self.preview
            .as_ref()
            .filter(|(asked, _)| *asked == request)
            .map(|(_, fields)| fields)
    }

    /// Focuses the pair at `cursor`; what was picked is forgotten unless it is still the
    /// pair `before` (the one focused before).
    fn refocus(&mut self, before: Option<Uuid>, cursor: usize) {
        self.cursor = cursor;
        if self.focused().map(|p| p.id) != before {
            self.primary = None;
            self.choices.clear();
            self.preview = None;
        }
    }
}

/// Which record's value of `field` (a key of the records' `fields`) the merge keeps, by
/// the merge's rule: the one picked; else the primary's, unless it has none and the other
/// has one. Lists (emails, phones) keep both, the winner's first.
pub fn winner(
    field: &str,
    chosen: Option<Uuid>,
    (primary, primary_fields): (Uuid, &Value),
    (other, other_fields): (Uuid, &Value),
) -> Uuid {
    if let Some(chosen) = chosen.filter(|c| *c == primary || *c == other) {
        return chosen;
    }
    if is_empty(at(primary_fields, field)) && !is_empty(at(other_fields, field)) {
        other
    } else {
        primary
    }
}

/// The fields either record has (the named ones in order, then `custom.<key>`), each with
/// whether the two differ.
pub fn compared(a: &Value, b: &Value) -> Vec<(String, bool)> {
    let mut keys: Vec<String> = FIELDS.iter().map(|(_, k)| k.to_string()).collect();
    for record in [a, b] {
        if let Some(custom) = record.get("custom").and_then(Value::as_object) {
            for key in custom.keys() {
                let key = format!("custom.{key}");
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
    }
    keys.into_iter()
        .filter(|k| !(is_empty(at(a, k)) && is_empty(at(b, k))))
        .map(|k| {
            let differs = at(a, &k) != at(b, &k);
            (k, differs)
        })
        .collect()
}

impl Reducible for ReviewState {
    type Action = ReviewAction;

    fn reduce(self: Rc<Self>, action: ReviewAction) -> Rc<Self> {
        let mut next = (*self).clone();
        let before = self.focused().map(|p| p.id);
        match action {
            ReviewAction::Loaded(pairs) => {
                let decided = &next.decided;
                next.pairs = pairs
                    .into_iter()
                    .filter(|p| !decided.contains(&p.id))
                    .collect();
                next.loaded = true;
                next.wanted = None;
                let last = next.pairs.len().saturating_sub(1);
                let at = before
                    .or(self.wanted)
                    .and_then(|id| next.pairs.iter().position(|p| p.id == id))
                    .unwrap_or(self.cursor.min(last));
                next.refocus(before, at);
            }
            ReviewAction::Next => {
                if self.cursor + 1 < self.pairs.len() {
                    next.refocus(before, self.cursor + 1);
                }
            }
            ReviewAction::Previous => next.refocus(before, self.cursor.saturating_sub(1)),
            ReviewAction::Focus(at) if at < self.pairs.len() => next.refocus(before, at),
            ReviewAction::Focus(_) => return self,
            ReviewAction::Primary(contact) => {
                if self
                    .records()
                    .is_some_and(|(a, b)| contact == a || contact == b)
                {
                    next.primary = Some(contact);
                }
            }
            ReviewAction::PrimaryNumber(n) => {
                if let Some((a, b)) = self.records() {
                    match n {
                        1 => next.primary = Some(a),
                        2 => next.primary = Some(b),
                        _ => {}
                    }
                }
            }
            ReviewAction::Take { field, contact } => {
                if self
                    .records()
                    .is_some_and(|(a, b)| contact == a || contact == b)
                {
                    let was = self.choice(&field);
                    next.choices.retain(|(f, _)| *f != field);
                    if was != Some(contact) {
                        next.choices.push((field, contact));
                    }
                }
            }
            ReviewAction::Previewed { request, fields } => {
                next.preview = Some((request, fields));
            }
            ReviewAction::Decided(id) => {
                next.decided.push(id);
                next.pairs.retain(|p| p.id != id);
                let at = self.cursor.min(next.pairs.len().saturating_sub(1));
                next.refocus(before, at);
            }
        }
        Rc::new(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::hygiene::PairContact;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    /// Pair `n` of contacts `10n` and `10n + 1`.
    fn pair(n: u128) -> PairSummary {
        let side = |id: Uuid| PairContact {
            id,
            label: "Dana Lee".into(),
        };
        PairSummary {
            id: id(n),
            score: 0.9,
            reasons: vec!["same email".into()],
            a: side(id(10 * n)),
            b: side(id(10 * n + 1)),
        }
    }

    fn run(actions: Vec<ReviewAction>) -> ReviewState {
        let mut state = Rc::new(ReviewState::default());
        for action in actions {
            state = state.reduce(action);
        }
        Rc::try_unwrap(state).unwrap_or_else(|s| (*s).clone())
    }

    fn take(field: &str, contact: u128) -> ReviewAction {
        ReviewAction::Take {
            field: field.into(),
            contact: id(contact),
        }
    }

    #[wasm_bindgen_test]
    fn picks_make_the_merge_request() {
        use ReviewAction::*;
        let loaded = || Loaded(vec![pair(1), pair(2)]);
        // (what was done, the request it makes)
        let table = [
            (
                vec![loaded()],
                json!({"primary": id(10).to_string(), "dry_run": false}),
            ),
            (
                vec![loaded(), PrimaryNumber(2)],
                json!({"primary": id(11).to_string(), "dry_run": false}),
            ),
            (
                vec![
                    loaded(),
                    PrimaryNumber(2),
                    take("job_title", 10),
                    take("emails", 11),
                ],
                json!({"primary": id(11).to_string(), "dry_run": false,
                       "fields": {"job_title": id(10).to_string(), "emails": id(11).to_string()}}),
            ),
            // Taking the same value again goes back to the default rule.
            (
                vec![loaded(), take("job_title", 11), take("job_title", 11)],
                json!({"primary": id(10).to_string(), "dry_run": false}),
            ),
            // Taking the other side's value replaces the choice.
            (
                vec![loaded(), take("job_title", 11), take("job_title", 10)],
                json!({"primary": id(10).to_string(), "dry_run": false,
                       "fields": {"job_title": id(10).to_string()}}),
            ),
            // A contact of another pair is no choice here.
            (
                vec![loaded(), take("job_title", 21), Primary(id(20))],
                json!({"primary": id(10).to_string(), "dry_run": false}),
            ),
            // Moving on forgets the picks of the pair left.
            (
                vec![loaded(), PrimaryNumber(2), take("owner", 10), Next],
                json!({"primary": id(20).to_string(), "dry_run": false}),
            ),
            (
                vec![loaded(), Next, Primary(id(21)), take("owner", 20)],
                json!({"primary": id(21).to_string(), "dry_run": false,
                       "fields": {"owner": id(20).to_string()}}),
            ),
        ];
        for (actions, expected) in table {
            let row = format!("{actions:?}");
            assert_eq!(run(actions).merge_request(false), Some(expected), "{row}");
        }
        assert_eq!(ReviewState::default().merge_request(true), None);
    }

    #[wasm_bindgen_test]
    fn j_and_k_move_within_the_list_and_decided_pairs_leave_for_good() {
        use ReviewAction::*;
        let focused = |s: &ReviewState| s.focused().map(|p| p.id);
        let state = run(vec![
            Loaded(vec![pair(1), pair(2), pair(3)]),
            Next,
            Next,
            Next,
        ]);
        assert_eq!(focused(&state), Some(id(3)));
        let state = run(vec![Loaded(vec![pair(1), pair(2)]), Previous]);
        assert_eq!(focused(&state), Some(id(1)));

        let state = run(vec![
            Loaded(vec![pair(1), pair(2), pair(3)]),
            Next,
            Decided(id(2)),
        ]);
        assert_eq!(
            focused(&state),
            Some(id(3)),
            "the next pair takes its place"
        );
        // An older read still lists it: it stays out.
        let state = run(vec![
            Loaded(vec![pair(1), pair(2), pair(3)]),
            Next,
            Decided(id(2)),
            Loaded(vec![pair(1), pair(2), pair(3)]),
        ]);
        assert_eq!(state.pairs.len(), 2);
        assert_eq!(focused(&state), Some(id(3)), "a new read keeps the focus");
        let state = run(vec![Loaded(vec![pair(1)]), Decided(id(1))]);
        assert_eq!(focused(&state), None);
        assert_eq!(state.merge_request(false), None);
    }

    #[wasm_bindgen_test]
    fn a_page_opened_on_a_pair_focuses_it_and_a_reread_keeps_the_picks() {
        let mut state = Rc::new(ReviewState::new(Some(id(2))));
        state = state.reduce(ReviewAction::Loaded(vec![pair(1), pair(2)]));
        assert_eq!(state.focused().map(|p| p.id), Some(id(2)));
        state = state.reduce(take("job_title", 20));
        state = state.reduce(ReviewAction::Loaded(vec![pair(1), pair(2), pair(3)]));
        assert_eq!(state.choice("job_title"), Some(id(20)));
        assert_eq!(state.focused().map(|p| p.id), Some(id(2)));
    }

    #[wasm_bindgen_test]
    fn a_preview_holds_only_for_the_request_it_answered() {
        let fields = json!({"job_title": "CTO"});
        let mut state = Rc::new(ReviewState::default());
        state = state.reduce(ReviewAction::Loaded(vec![pair(1)]));
        let request = state.merge_request(true).unwrap();
        state = state.reduce(ReviewAction::Previewed {
            request,
            fields: fields.clone(),
        });
        assert_eq!(state.current_preview(), Some(&fields));
        state = state.reduce(ReviewAction::PrimaryNumber(2));
        assert_eq!(state.current_preview(), None, "the primary changed");
    }

    #[wasm_bindgen_test]
    fn the_merge_keeps_the_picked_value_else_the_primarys_else_the_others() {
        let (p, o) = (id(1), id(2));
        let with = |title: Option<&str>| json!({ "job_title": title });
        let title = "job_title";
        // (primary's title, other's title, picked, winner)
        let table = [
            (Some("CEO"), Some("CTO"), None, p),
            (None, Some("CTO"), None, o),
            (Some("CEO"), None, None, p),
            (Some("CEO"), Some("CTO"), Some(o), o),
            (None, Some("CTO"), Some(p), p),
            (Some("CEO"), Some("CTO"), Some(id(9)), p),
        ];
        for (mine, theirs, picked, expected) in table {
            let (mine, theirs) = (with(mine), with(theirs));
            assert_eq!(
                winner(title, picked, (p, &mine), (o, &theirs)),
                expected,
                "{mine:?} / {theirs:?} picked {picked:?}"
            );
        }
    }

    #[wasm_bindgen_test]
    fn the_comparison_lists_filled_fields_and_marks_the_differing_ones() {
        let a = json!({"first_name": "Dana", "job_title": "CEO", "emails": ["dana@acme.io"],
                       "phones": [], "custom": {"plan": "pro"}});
        let b = json!({"first_name": "Dana", "job_title": "CTO", "emails": [], "owner": null,
                       "custom": {"plan": "pro", "tier": ""}});
        let rows = compared(&a, &b);
        assert_eq!(
            rows,
            vec![
                ("first_name".to_string(), false),
                ("emails".to_string(), true),
                ("job_title".to_string(), true),
                ("custom.plan".to_string(), false),
            ]
        );
    }
}
