//! What both adapters share: the tenant every query binds, the stored form of an event's
//! audience, error mapping, and which write results carry committed events. None of it is
//! a business rule (those are in `hubbub_app::rules`); it is how rows are written and read,
//! kept in one place so the two backends cannot drift apart.

use hubbub_app::ports::*;
use hubbub_domain::{ConversationId, Message, User, UserId};
use std::sync::Arc;

/// Which tenant a store instance serves. Every query binds it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tenant(pub i64);

/// The tenant every deployment starts with.
pub(crate) const DEFAULT_TENANT: Tenant = Tenant(1);

/// A database error as the port reports it: the database out of reach (a pool that timed
/// out, a lost connection) is `Unavailable` (503, retry later); anything else is `Other`.
pub(crate) fn db(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
            StoreError::Unavailable(error.to_string())
        }
        sqlx::Error::Database(ref e) if e.code().is_some_and(|code| out_of_reach(&code)) => {
            StoreError::Unavailable(error.to_string())
        }
        other => StoreError::Other(Box::new(other)),
    }
}

/// PostgreSQL's SQLSTATEs for a server that cannot serve us right now (as opposed to a
/// statement it refused): connection exceptions (class 08), shutting down or starting up
/// (57P01-57P03), too many connections (53300), and the database gone (3D000).
fn out_of_reach(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300" | "3D000")
}

/// A stored kind, role or visibility this build does not know: the row is unreadable, an
/// error (500 with the cause in the log), never guessed at.
pub(crate) fn unknown(error: hubbub_domain::UnknownValue) -> StoreError {
    StoreError::Other(Box::new(error))
}

pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// The stored form of an event's audience (`events.audience`): the recipients' UUIDs,
/// lower-case and hyphenated, joined by ",". One string built per event: ~37 bytes per
/// recipient, written in the same insert as the event.
pub(crate) fn audience_text(recipients: &[UserId]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(recipients.len() * 37);
    for (i, user) in recipients.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{}", user.0);
    }
    out
}

/// Reads `events.audience` back; an unreadable entry is skipped (the column is only ever
/// written by `audience_text`).
pub(crate) fn parse_audience(text: &str) -> Arc<[UserId]> {
    text.split(',').filter(|s| !s.is_empty()).filter_map(|s| uuid::Uuid::parse_str(s).ok()).map(UserId).collect()
}

/// What a write's result says it committed, so the adapter can hand those events on in
/// commit order. There is no default: a result type either lists its events here or is
/// declared `CommitsNothing`, so a new write that returns events cannot compile into one
/// whose events are silently never published.
pub(crate) trait Commits {
    fn commits(&self, out: &mut Vec<Committed>);
}

/// The results of writes that change no conversation, so commit no event.
pub(crate) trait CommitsNothing {}

impl<T: CommitsNothing> Commits for T {
    fn commits(&self, _out: &mut Vec<Committed>) {}
}

// Which write results carry committed events (for the commit feed). Marks moving is not a
// persisted event: the mark use case sends the receipt itself, as an ephemeral one.
impl CommitsNothing for () {}
impl CommitsNothing for bool {}
impl CommitsNothing for User {}
impl CommitsNothing for Vec<SessionId> {}
impl CommitsNothing for Option<Actor> {}
impl CommitsNothing for MarksChange {}
impl CommitsNothing for (User, Option<String>) {}
impl CommitsNothing for hubbub_domain::Contact {}
impl CommitsNothing for hubbub_domain::ChatSettings {}
impl CommitsNothing for Vec<Job> {}
impl Commits for Committed {
    fn commits(&self, out: &mut Vec<Committed>) {
        out.push(self.clone());
    }
}
impl Commits for Vec<Committed> {
    fn commits(&self, out: &mut Vec<Committed>) {
        out.extend(self.iter().cloned());
    }
}
impl Commits for Option<Committed> {
    fn commits(&self, out: &mut Vec<Committed>) {
        out.extend(self.iter().cloned());
    }
}
impl Commits for AddedMembers {
    fn commits(&self, out: &mut Vec<Committed>) {
        out.extend(self.committed.iter().cloned());
    }
}
impl Commits for (ConversationId, Option<Committed>) {
    fn commits(&self, out: &mut Vec<Committed>) {
        self.1.commits(out);
    }
}
impl Commits for (Committed, Option<String>) {
    fn commits(&self, out: &mut Vec<Committed>) {
        self.0.commits(out);
    }
}
impl Commits for (Committed, Vec<String>) {
    fn commits(&self, out: &mut Vec<Committed>) {
        self.0.commits(out);
    }
}
impl Commits for Option<ClearedLinkPreview> {
    fn commits(&self, out: &mut Vec<Committed>) {
        out.extend(self.iter().map(|cleared| cleared.committed.clone()));
    }
}
impl Commits for (Message, Committed) {
    fn commits(&self, out: &mut Vec<Committed>) {
        self.1.commits(out);
    }
}
impl Commits for SendOutcome {
    fn commits(&self, out: &mut Vec<Committed>) {
        self.committed.commits(out);
    }
}
impl Commits for RemoveOutcome {
    fn commits(&self, out: &mut Vec<Committed>) {
        if let RemoveOutcome::Removed { committed, promoted } = self {
            committed.commits(out);
            promoted.commits(out);
        }
    }
}

/// A member row's settings columns, as `hubbub_app::rules::settings` sees them.
pub(crate) fn stored_settings(
    archived: bool,
    pin_order: Option<i64>,
    muted_until: Option<i64>,
    hidden: bool,
    notify: Option<&str>,
) -> StoreResult<hubbub_app::rules::settings::Stored> {
    Ok(hubbub_app::rules::settings::Stored {
        archived,
        pin_order,
        muted_until: muted_until.map(hubbub_domain::Timestamp::from_millis),
        hidden,
        notify: notify.map(hubbub_domain::NotifyLevel::from_db).transpose().map_err(unknown)?,
    })
}

/// The `media.purpose` of an attached file: a record like a photo's (so the file's life is
/// the same), but never an image, so `media_records` (what `hubbub media optimize` works
/// through) leaves it out.
pub(crate) const FILE_PURPOSE: &str = "file";

pub(crate) fn purpose_text(purpose: MediaPurpose) -> &'static str {
    match purpose {
        MediaPurpose::Avatar => "avatar",
        MediaPurpose::Message => "message",
    }
}

pub(crate) fn purpose_from_text(text: &str) -> MediaPurpose {
    if text == "avatar" { MediaPurpose::Avatar } else { MediaPurpose::Message }
}
