//! The CaseyOS single-page app. It is built in the next issue; until then this crate only
//! proves the shared domain types compile for it.

fn main() {
    let _ = caseyos_domain::queue::ActionType::ALL;
}
