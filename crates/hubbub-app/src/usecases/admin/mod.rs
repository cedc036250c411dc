//! Server administration: the audit log (recording and reading it) and who administers.

pub mod audit;
pub mod grant;
