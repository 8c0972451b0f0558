//! The state of Today's Moves: the ranked list, the focused row, the selection, moves in
//! flight, moves decided here that must not reappear from an older read, and how many pages
//! of the list are read (every read reads them all, so the list stays ranked and live).

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
    pub selected: IdSet,
    /// Moves with a request running: their buttons are disabled.
    pub in_flight: IdSet,
    /// Moves decided or snoozed here, with the consistency token of that write: a list read
    /// before that token would still show them, so they stay hidden until a read at or past it.
    pub hidden: Vec<(Uuid, String)>,
    /// The newest token any read or write of this page has reached.
    pub consistency: Option<String>,
    pub loaded: bool,
    /// Pages read beyond the first ("Load more" adds one).
    pub more_pages: usize,
    /// A "Load more" read is running.
    pub loading_more: bool,
    /// Moves in Today's Moves over all pages, as of the last read.
    pub total: i64,
    /// Moves the last read returned (before hiding the ones decided here).
    pub read: usize,
}

#[derive(Clone, Debug)]
pub enum TodayAction {
    /// A fresh read of the list's first `pages` pages, at `consistency` (the server's
    /// checkpoint or our token); `total` moves are in Today's Moves over all pages.
    Loaded {
        items: Vec<QueueItemView>,
        consistency: Option<String>,
        total: i64,
        pages: usize,
    },
    /// Read one more page from now on.
    LoadMore,
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

    /// How many pages a read reads.
    pub fn pages(&self) -> usize {
        self.more_pages + 1
    }

    /// Moves in Today's Moves beyond the pages read ("N more").
    pub fn more(&self) -> i64 {
        (self.total - self.read as i64).max(0)
    }

    fn clamp(mut self) -> Self {
        if self.cursor >= self.items.len() {
            self.cursor = self.items.len().saturating_sub(1);
        }
        let items = &self.items;
        self.selected.retain(|id| items.iter().any(|i| i.id == *id));
        self
    }
}

/// A set of moves (the selection, the moves in flight), kept sorted. These sets are small;
/// a sorted list is as quick for them and costs the wasm far less code than a `BTreeSet`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IdSet(Vec<Uuid>);

impl IdSet {
    pub fn contains(&self, id: &Uuid) -> bool {
        self.0.binary_search(id).is_ok()
    }

    /// Adds `id`; false if it was there.
    pub fn insert(&mut self, id: Uuid) -> bool {
        match self.0.binary_search(&id) {
            Ok(_) => false,
            Err(at) => {
                self.0.insert(at, id);
                true
            }
        }
    }

    /// Takes `id` out; false if it was not there.
    pub fn remove(&mut self, id: &Uuid) -> bool {
        match self.0.binary_search(id) {
            Ok(at) => {
                self.0.remove(at);
                true
            }
            Err(_) => false,
        }
    }

    pub fn retain(&mut self, keep: impl FnMut(&Uuid) -> bool) {
        self.0.retain(keep);
    }

    /// In order.
    pub fn iter(&self) -> impl Iterator<Item = &Uuid> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Extend<Uuid> for IdSet {
    fn extend<I: IntoIterator<Item = Uuid>>(&mut self, ids: I) {
        for id in ids {
            self.insert(id);
        }
    }
}

impl FromIterator<Uuid> for IdSet {
    fn from_iter<I: IntoIterator<Item = Uuid>>(ids: I) -> Self {
        let mut set = IdSet::default();
        set.extend(ids);
        set
    }
}

impl Reducible for TodayState {
    type Action = TodayAction;

    fn reduce(self: Rc<Self>, action: Self::Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            TodayAction::Loaded {
                items,
                consistency,
                total,
                pages,
            } => {
                // A read of fewer pages than asked for now started before "Load more": the
                // read of all of them follows.
                if pages < self.pages() {
                    return self;
                }
                next.total = total;
                next.read = items.len();
                next.loading_more = false;
                let at = consistency.as_deref().map(order);
                // Hidden moves the read has caught up with are simply gone from it now.
                next.hidden
                    .retain(|(_, token)| at.is_none_or(|at| at < order(token)));
                let focused = self.focused().map(|i| i.id);
                let hidden = &next.hidden;
                next.items = items
                    .into_iter()
                    .filter(|i| !hidden.iter().any(|(id, _)| *id == i.id))
                    .collect();
                if let Some(focused) = focused {
                    if let Some(index) = next.items.iter().position(|i| i.id == focused) {
                        next.cursor = index;
                    }
                }
                next.consistency = latest(next.consistency, consistency);
                next.loaded = true;
            }
            TodayAction::LoadMore => {
                next.more_pages += 1;
                next.loading_more = true;
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
                    IdSet::default()
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

    #[wasm_bindgen_test]
    fn an_id_set_holds_each_id_once_in_order() {
        let id = Uuid::from_u128;
        let mut set: IdSet = [id(3), id(1), id(3), id(2)].into_iter().collect();
        assert_eq!(
            set.iter().copied().collect::<Vec<_>>(),
            vec![id(1), id(2), id(3)]
        );
        assert!(!set.insert(id(2)));
        assert!(set.insert(id(0)));
        assert!(set.remove(&id(3)));
        assert!(!set.remove(&id(3)));
        assert!(set.contains(&id(0)) && !set.contains(&id(3)));
        set.retain(|i| *i != id(0));
        assert_eq!(set.len(), 2);
        assert!(!set.is_empty());
    }

    fn loaded(items: Vec<QueueItemView>, token: &str) -> TodayAction {
        let total = items.len() as i64;
        TodayAction::Loaded {
            items,
            consistency: Some(token.into()),
            total,
            pages: 1,
        }
    }

    fn page_of(ids: std::ops::RangeInclusive<u128>, total: i64, pages: usize) -> TodayAction {
        TodayAction::Loaded {
            items: ids.map(item).collect(),
            consistency: Some("1.1".into()),
            total,
            pages,
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
    fn the_moves_beyond_the_pages_read_are_counted_and_load_more_reads_them_in_rank_order() {
        let state = run(vec![page_of(1..=50, 73, 1)]);
        assert_eq!((state.items.len(), state.more()), (50, 23));
        let state = state.reduce(TodayAction::LoadMore);
        assert!(state.loading_more);
        assert_eq!(state.pages(), 2);
        // A read of one page that was already running changes nothing.
        let state = state.reduce(page_of(1..=50, 73, 1));
        assert_eq!(state.items.len(), 50);
        assert!(state.loading_more);
        // The read of both pages shows all of them, in the server's order.
        let state = state.reduce(page_of(1..=73, 73, 2));
        assert!(!state.loading_more);
        assert_eq!(state.more(), 0);
        let ids: Vec<u128> = state.items.iter().map(|i| i.id.as_u128()).collect();
        assert_eq!(ids, (1..=73).collect::<Vec<_>>());
        // A live refresh reads both pages again: a new move joins, in rank order.
        let mut refreshed: Vec<QueueItemView> = (1..=73).map(item).collect();
        refreshed.insert(3, item(100));
        let state = state.reduce(TodayAction::Loaded {
            items: refreshed,
            consistency: Some("2.1".into()),
            total: 74,
            pages: 2,
        });
        assert_eq!(state.items[3].id.as_u128(), 100);
        assert_eq!((state.items.len(), state.more()), (74, 0));
    }

    #[wasm_bindgen_test]
    fn moves_decided_here_do_not_change_how_many_more_there_are() {
        let state = run(vec![
            page_of(1..=50, 60, 1),
            TodayAction::Left {
                ids: vec![Uuid::from_u128(1)],
                consistency: "2.2".into(),
            },
        ]);
        assert_eq!((state.items.len(), state.more()), (49, 10));
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
