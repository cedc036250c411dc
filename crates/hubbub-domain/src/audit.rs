//! The audit log's vocabulary: which security-relevant actions are recorded, and an entry
//! as server administrators read it (`GET /api/admin/audit`).

use crate::{Timestamp, UserId};
use serde::Serialize;

/// What an entry records. Stored and sent as its `as_str` text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuditAction {
    Login,
    LoginFailed,
    Logout,
    PasswordChanged,
    /// A member's role in a conversation changed.
    RoleChanged,
    /// Someone removed another member from a conversation (leaving is not audited).
    MemberRemoved,
    /// A message was deleted by someone other than its sender.
    MessageDeletedByOther,
    ConversationDeleted,
    /// A server administrator was granted or revoked (from the command line).
    AdminGranted,
    AdminRevoked,
}

impl AuditAction {
    pub const ALL: [AuditAction; 10] = [
        AuditAction::Login,
        AuditAction::LoginFailed,
        AuditAction::Logout,
        AuditAction::PasswordChanged,
        AuditAction::RoleChanged,
        AuditAction::MemberRemoved,
        AuditAction::MessageDeletedByOther,
        AuditAction::ConversationDeleted,
        AuditAction::AdminGranted,
        AuditAction::AdminRevoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Login => "login",
            AuditAction::LoginFailed => "login.failed",
            AuditAction::Logout => "logout",
            AuditAction::PasswordChanged => "password.changed",
            AuditAction::RoleChanged => "member.role_changed",
            AuditAction::MemberRemoved => "member.removed",
            AuditAction::MessageDeletedByOther => "message.deleted_by_other",
            AuditAction::ConversationDeleted => "conversation.deleted",
            AuditAction::AdminGranted => "admin.granted",
            AuditAction::AdminRevoked => "admin.revoked",
        }
    }

    pub fn parse(text: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|action| action.as_str() == text)
    }
}

/// One recorded action.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: uuid::Uuid,
    pub at: Timestamp,
    /// Who acted; null when nobody signed in did (a failed login) or it came from the
    /// command line.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub actor_id: Option<UserId>,
    /// One of `login`, `login.failed`, `logout`, `password.changed`, `member.role_changed`,
    /// `member.removed`, `message.deleted_by_other`, `conversation.deleted`,
    /// `admin.granted`, `admin.revoked`.
    pub action: String,
    /// What it was about: a conversation or message id, or the username tried.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub target: Option<String>,
    /// The client address, where the action came over HTTP.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub ip: Option<String>,
    /// More about it (a JSON object: the role set, the member removed...).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub details: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_reads_back_from_its_text() {
        for action in AuditAction::ALL {
            assert_eq!(AuditAction::parse(action.as_str()), Some(action));
        }
        assert_eq!(AuditAction::parse("group"), None);
    }
}
