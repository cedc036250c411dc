//! The audit log's entries and filter.

use super::*;

/// An audit entry to append (`Store::record_audit`).
pub struct NewAuditEntry {
    pub id: Uuid,
    pub at: Timestamp,
    pub actor: Option<UserId>,
    pub action: hubbub_domain::AuditAction,
    pub target: Option<String>,
    pub ip: Option<String>,
    /// A JSON object, as text.
    pub details: String,
}

/// Which audit entries to read: newest first, older than `before` (an entry id) when set.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub actor: Option<UserId>,
    pub action: Option<hubbub_domain::AuditAction>,
    pub before: Option<Uuid>,
    pub limit: u32,
}
