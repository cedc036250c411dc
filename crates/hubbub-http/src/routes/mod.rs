pub mod contacts;
pub mod conversations;
pub mod messages;
pub mod ops;
pub mod session;
pub mod users;
pub mod settings;
