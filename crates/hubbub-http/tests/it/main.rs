//! Hubbub's HTTP and WebSocket integration tests: the real router on a real port with a
//! real SQLite database per test, driven by real clients.

mod accounts;
mod accounts_limits;
mod admin;
mod app_start;
mod cluster;
mod cluster_presence;
mod connections;
mod contacts;
mod conversations;
mod database_outage;
mod files;
mod helpers;
mod link_previews;
mod media;
mod membership_property;
mod mentions;
mod messages;
mod openapi;
mod openapi_errors;
mod push;
mod realtime;
mod rooms;
mod search;
mod settings;
mod spaces;
