use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::{Actor, MediaUse, Membership};
use crate::usecases::can_see;
use hubbub_domain::{ConversationId, UserId};

/// How an allowed file is served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// A photo: shown in place, as the type of its (re-encoded, sniffed) bytes.
    Inline,
    /// An attached file: always downloaded, under its sender's (cleaned) name, as
    /// `content_type`, which is the declared type only if no browser would run it.
    Attachment { file_name: String, content_type: &'static str },
}

/// Whether the caller may read a stored file, and how it is served; anything they may not
/// read is 404, exactly like a file that does not exist (no existence oracle). See
/// `may_read` for the rule.
pub async fn authorize_read(app: &App, actor: Actor, media_name: &str) -> AppResult<Disposition> {
    let uses = app.store.media_uses(media_name).await?;
    let mut memberships: Vec<(ConversationId, Membership)> = Vec::new();
    // Only the uses that depend on a membership need one looked up (an avatar needs none).
    for conversation in uses.iter().filter_map(needs_membership) {
        if memberships.iter().any(|(id, _)| *id == conversation) {
            continue;
        }
        if let Some(membership) = app.store.membership(actor.user_id, conversation).await? {
            memberships.push((conversation, membership));
        }
    }
    if !may_read(&uses, actor.user_id, &memberships) {
        return Err(AppError::NotFound("file"));
    }
    Ok(disposition(&uses))
}

/// A name is a photo or a file, never both (they come from different upload paths under
/// fresh random names), so the first attached use decides.
fn disposition(uses: &[MediaUse]) -> Disposition {
    uses.iter()
        .find_map(|place| match place {
            MediaUse::MessageFile { file_name, content_type, .. } => Some(Disposition::Attachment {
                file_name: file_name.clone(),
                content_type: hubbub_domain::attachment::served_content_type(content_type),
            }),
            _ => None,
        })
        .unwrap_or(Disposition::Inline)
}

fn needs_membership(place: &MediaUse) -> Option<ConversationId> {
    match place {
        MediaUse::GroupPhoto(conversation)
        | MediaUse::MessagePhoto { conversation, .. }
        | MediaUse::MessageFile { conversation, .. } => Some(*conversation),
        MediaUse::UserPhoto | MediaUse::FormerGroupPhoto { .. } => None,
    }
}

/// The rule, given where the file is used and the caller's memberships of those places:
/// - a profile photo: any signed-in user (profiles are visible to everyone signed in);
/// - a group's photo: its current members, while it is the group's photo;
/// - the photo a group had when someone left it: that former member, whose view of the
///   group still shows it (and nothing the group got later);
/// - a message photo or file: whoever can see one of the messages it is in; a member who
///   left keeps what they could see before leaving.
fn may_read(uses: &[MediaUse], me: UserId, memberships: &[(ConversationId, Membership)]) -> bool {
    let membership = |id: &ConversationId| memberships.iter().find(|(c, _)| c == id).map(|(_, m)| m);
    uses.iter().any(|place| match place {
        MediaUse::UserPhoto => true,
        MediaUse::GroupPhoto(conversation) => membership(conversation).is_some_and(Membership::is_current),
        MediaUse::FormerGroupPhoto { user, .. } => *user == me,
        MediaUse::MessagePhoto { conversation, seq } | MediaUse::MessageFile { conversation, seq, .. } => {
            membership(conversation).is_some_and(|m| can_see(m, *seq))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hubbub_domain::{ConversationKind, Role};

    fn member(visible_after: i64, left_seq: Option<i64>) -> Membership {
        Membership {
            kind: ConversationKind::Group,
            role: Role::Member,
            visible_after,
            left_seq,
            member_count: 2,
            cleared_seq: 0,
        }
    }

    #[test]
    fn a_group_photo_is_for_current_members_only() {
        let (me, group) = (UserId::generate(), ConversationId::generate());
        let uses = [MediaUse::GroupPhoto(group)];
        assert!(may_read(&uses, me, &[(group, member(0, None))]));
        assert!(!may_read(&uses, me, &[(group, member(0, Some(5)))]), "a former member: not the group's new photo");
        assert!(!may_read(&uses, me, &[]), "a stranger");
    }

    #[test]
    fn a_former_member_reads_the_group_photo_they_saw_and_only_their_own() {
        let (me, other, group) = (UserId::generate(), UserId::generate(), ConversationId::generate());
        let former = [(group, member(0, Some(5)))];
        assert!(may_read(&[MediaUse::FormerGroupPhoto { conversation: group, user: me }], me, &former));
        assert!(!may_read(&[MediaUse::FormerGroupPhoto { conversation: group, user: other }], me, &former));
    }

    #[test]
    fn avatars_are_for_everyone_and_message_photos_follow_the_window() {
        let (me, chat) = (UserId::generate(), ConversationId::generate());
        assert!(may_read(&[MediaUse::UserPhoto], me, &[]));
        let photo = |seq| [MediaUse::MessagePhoto { conversation: chat, seq }];
        let window = [(chat, member(2, Some(6)))];
        assert!(may_read(&photo(3), me, &window));
        assert!(!may_read(&photo(2), me, &window), "before joining");
        assert!(!may_read(&photo(7), me, &window), "after leaving");
        assert!(!may_read(&photo(3), me, &[]), "a stranger");
        assert!(!may_read(&[], me, &window), "a file used nowhere");
    }

    #[test]
    fn attached_files_follow_the_window_and_are_downloads_of_a_safe_type() {
        let (me, chat) = (UserId::generate(), ConversationId::generate());
        let file = |seq, content_type: &str| MediaUse::MessageFile {
            conversation: chat,
            seq,
            file_name: "a \"b\".html".into(),
            content_type: content_type.into(),
        };
        let window = [(chat, member(2, Some(6)))];
        assert!(may_read(&[file(3, "text/html")], me, &window));
        assert!(!may_read(&[file(7, "text/html")], me, &window), "after leaving");
        assert!(!may_read(&[file(3, "text/html")], me, &[]), "a stranger");
        assert_eq!(
            disposition(&[file(3, "text/html")]),
            Disposition::Attachment { file_name: "a \"b\".html".into(), content_type: "application/octet-stream" }
        );
        assert_eq!(
            disposition(&[file(3, "application/pdf")]),
            Disposition::Attachment { file_name: "a \"b\".html".into(), content_type: "application/pdf" }
        );
        assert_eq!(disposition(&[MediaUse::MessagePhoto { conversation: chat, seq: 3 }]), Disposition::Inline);
    }
}
