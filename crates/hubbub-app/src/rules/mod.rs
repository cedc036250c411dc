//! Business rules that a store adapter applies inside its transaction, written once here so
//! that every adapter (SQLite today, PostgreSQL next) calls the same code and none of them
//! decides anything itself. Each rule is a pure function over domain data: the adapter
//! loads what the rule needs, calls it, and stores what it returns.
//!
//! They live in the app crate rather than in the use cases because they must run inside the
//! store's transaction (a promotion, a re-admission and the audience of an event have to
//! agree with the state they are committed with), which a use case cannot reach.

pub mod audience;
pub mod blocking;
pub mod history;
pub mod marks;
pub mod membership;
pub mod push;
pub mod reactions;
pub mod receipts;
pub mod settings;
pub mod view;
