//! Hubbub's domain: entities, validated newtypes and events.
//!
//! This crate is the vocabulary every other crate speaks. It deliberately knows nothing of
//! tokio, axum, SQL or the network: values are validated once, in `parse()`, at the edge of
//! the system, and everything inside trusts the types.

pub mod attachment;
pub mod audit;
pub mod entities;
pub mod events;
pub mod ids;
pub mod media;
pub mod policy;
pub mod timestamp;
pub mod values;
pub mod versions;

pub use attachment::FileName;
pub use audit::{AuditAction, AuditEntry};
pub use entities::*;
pub use events::{Event, EventData};
pub use ids::{ConversationId, MessageId, SpaceId, UserId};
pub use media::media_path;
pub use timestamp::Timestamp;
pub use values::*;
pub use versions::MessageVersion;
