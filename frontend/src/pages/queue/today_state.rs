//! The state of Today's Moves: the ranked list, the focused row, the selection, moves in
//! flight, and moves decided here that must not reappear from an older read.

use std::collections::BTreeSet;
use std::rc::Rc;

use caseyos_domain::queue::QueueItemView;
use uuid::Uuid;
use yew::Reducible;

use crate::infra::live::{latest, order};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TodayState {
    pub items: Vec<QueueItemView>,
    /// The focused row (j/k move it).
    pub cursor: usize,
    pub selected: BTreeSet<Uuid>,
    /// Moves with a request running: their buttons are disabled.
    pub in_flight: BTreeSet<Uuid>,
    /// Moves decided or snoozed here, with the consistency token of that write: a list read
    /// before that token would still show them, so they stay hidden until a read at or past it.
    pub hidden: Vec<(Uuid, String)>,
    /// The newest token any read or write of this page has reached.
    pub consistency: Option<String>,
    pub loaded: bool,
}

#[derive(Clone, Debug)]
pub enum TodayAction {
    /// A fresh read of the list, at `consistency` (the server's checkpoint or our token).
    Loaded {
        items: Vec<QueueItemView>,
        consistency: Option<String>,
    },
    Next,
    Previous,
    Focus(usize),
    ToggleSelect(Uuid),
    SelectAll(bool),
    Started(Vec<Uuid>),
    Failed(Vec<Uuid>),
    /// Moves that left the list through our own write, which reached `consistency`.
    Left {
        ids: Vec<Uuid>,
        consistency: String,
    },
}

impl TodayState {
    pub fn focused(&self) -> Option<&QueueItemView> {
        self.items.get(self.cursor)
    }

    fn clamp(mut self) -> Self {
        if self.cursor >= self.items.len() {
            self.cursor = self.items.len().saturating_sub(1);
        }
        let present: BTreeSet<Uuid> = self.items.iter().map(|i| i.id).collect();
        self.selected.retain(|id| present.contains(id));
        self
    }
}

impl Reducible for TodayState {
    type Action = TodayAction;

    fn reduce(self: Rc<Self>, action: Self::Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            TodayAction::Loaded { items, consistency } => {
                let at = consistency.as_deref().map(order);
                // Hidden moves the read has caught up with are simply gone from it now.
                next.hidden
                    .retain(|(_, token)| at.is_none_or(|at| at < order(token)));
                let hidden: BTreeSet<Uuid> = next.hidden.iter().map(|(id, _)| *id).collect();
                let focused = self.focused().map(|i| i.id);
                next.items = items
                    .into_iter()
                    .filter(|i| !hidden.contains(&i.id))
                    .collect();
                if let Some(focused) = focused {
                    if let Some(index) = next.items.iter().position(|i| i.id == focused) {
                        next.cursor = index;
                    }
                }
                next.consistency = latest(next.consistency, consistency);
                next.loaded = true;
            }
            TodayAction::Next => {
                if next.cursor + 1 < next.items.len() {
                    next.cursor += 1;
                }
            }
            TodayAction::Previous => next.cursor = next.cursor.saturating_sub(1),
            TodayAction::Focus(index) => next.cursor = index,
            TodayAction::ToggleSelect(id) => {
                if !next.selected.remove(&id) {
                    next.selected.insert(id);
                }
            }
            TodayAction::SelectAll(all) => {
                next.selected = if all {
                    next.items.iter().map(|i| i.id).collect()
                } else {
                    BTreeSet::new()
                };
            }
            TodayAction::Started(ids) => next.in_flight.extend(ids),
            TodayAction::Failed(ids) => {
                for id in ids {
                    next.in_flight.remove(&id);
                }
            }
            TodayAction::Left { ids, consistency } => {
                for id in &ids {
                    next.in_flight.remove(id);
                    next.selected.remove(id);
                    next.hidden.push((*id, consistency.clone()));
                }
                next.items.retain(|i| !ids.contains(&i.id));
                next.consistency = latest(next.consistency, Some(consistency));
            }
        }
        Rc::new(next.clamp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::queue_item as item;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn loaded(items: Vec<QueueItemView>, token: &str) -> TodayAction {
        TodayAction::Loaded {
            items,
            consistency: Some(token.into()),
        }
    }

    fn run(actions: Vec<TodayAction>) -> Rc<TodayState> {
        actions
            .into_iter()
            .fold(Rc::new(TodayState::default()), |state, action| {
                state.reduce(action)
            })
    }

    #[wasm_bindgen_test]
    fn j_and_k_move_the_focus_within_the_list() {
        let state = run(vec![
            loaded(vec![item(1), item(2), item(3)], "1.1"),
            TodayAction::Next,
            TodayAction::Next,
            TodayAction::Next,
        ]);
        assert_eq!(state.cursor, 2);
        let state = state
            .reduce(TodayAction::Previous)
            .reduce(TodayAction::Previous)
            .reduce(TodayAction::Previous);
        assert_eq!(state.cursor, 0);
    }

    #[wasm_bindgen_test]
    fn a_decided_move_leaves_and_an_older_read_cannot_bring_it_back() {
        let state = run(vec![
            loaded(vec![item(1), item(2)], "5.10"),
            TodayAction::Started(vec![Uuid::from_u128(1)]),
            TodayAction::Left {
                ids: vec![Uuid::from_u128(1)],
                consistency: "6.12".into(),
            },
        ]);
        assert_eq!(state.items.len(), 1);
        assert!(state.in_flight.is_empty());
        // A read from before the decision still lists it: it stays hidden.
        let state = state.reduce(loaded(vec![item(1), item(2)], "5.11"));
        assert_eq!(
            state
                .items
                .iter()
                .map(|i| i.id.as_u128())
                .collect::<Vec<_>>(),
            vec![2]
        );
        // A read at the decision's token no longer lists it, and the guard is dropped.
        let state = state.reduce(loaded(vec![item(2)], "6.12"));
        assert!(state.hidden.is_empty());
        assert_eq!(state.consistency.as_deref(), Some("6.12"));
    }

    #[wasm_bindgen_test]
    fn selection_follows_the_items_and_the_focus_stays_in_bounds() {
        let state = run(vec![
            loaded(vec![item(1), item(2), item(3)], "1.1"),
            TodayAction::SelectAll(true),
            TodayAction::Focus(2),
            TodayAction::Left {
                ids: vec![Uuid::from_u128(3)],
                consistency: "2.2".into(),
            },
        ]);
        assert_eq!(state.selected.len(), 2);
        assert_eq!(state.cursor, 1);
        let state = state.reduce(TodayAction::ToggleSelect(Uuid::from_u128(1)));
        assert_eq!(state.selected.len(), 1);
        let state = state.reduce(TodayAction::SelectAll(false));
        assert!(state.selected.is_empty());
    }

    #[wasm_bindgen_test]
    fn a_failed_request_releases_its_buttons() {
        let state = run(vec![
            loaded(vec![item(1)], "1.1"),
            TodayAction::Started(vec![Uuid::from_u128(1)]),
            TodayAction::Failed(vec![Uuid::from_u128(1)]),
        ]);
        assert!(state.in_flight.is_empty());
        assert_eq!(state.items.len(), 1);
    }
}
