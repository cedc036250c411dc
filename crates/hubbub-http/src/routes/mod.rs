pub mod conversations;
pub mod messages;
pub mod ops;
pub mod session;
pub mod users;
