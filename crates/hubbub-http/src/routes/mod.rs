pub mod contacts;
pub mod conversations;
pub mod messages;
pub mod ops;
pub mod rooms;
pub mod session;
pub mod settings;
pub mod users;
