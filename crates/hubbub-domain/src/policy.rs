//! The kind and role policy: what each kind of conversation allows (a name, members, roles,
//! joining, a password, being deleted) and what each role may do in it. This is the one
//! place kinds and roles grow: use cases ask these functions, one per rule, and compare no
//! kind or role themselves.
//!
//! The contract's table, as implemented here:
//!
//! | action                                   | direct | group            | channel / room          |
//! |------------------------------------------|--------|------------------|-------------------------|
//! | post                                     | both   | everyone         | everyone                |
//! | rename, topic, photo, add members, pin,  | —      | admins           | owner, admins           |
//! | delete others' messages                  |        |                  |                         |
//! | remove a member                          | —      | admins           | owner; admins, not the owner |
//! | change roles                             | —      | admins (member↔admin) | owner (any); admins (member↔admin) |
//! | set the password                         | —      | —                | owner (public rooms)    |
//! | delete the conversation                  | —      | admins           | owner                   |
//! | pin (direct: either person)              | both   | admins           | owner, admins           |
//! | mention everyone (`@channel`, `@all`)    | —      | everyone         | everyone                |
//! | leave                                    | —      | everyone         | everyone                |
//! | join without an invitation               | —      | —                | public channels         |
//!
//! "—" is a refusal of the kind (422: a direct chat has no name to change), the others a
//! refusal of the role (403). Groups keep `admin` as their top role: they have no owner.
//! A space's owner and admins manage every channel of their space (`Standing::space_admin`).

use crate::{ConversationKind, NotifyLevel, Role, Visibility};

/// Why a rule said no.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// This kind of conversation has no such thing (a direct chat has no members to add).
    #[error("{0}")]
    Kind(&'static str),
    /// The caller's role does not allow it.
    #[error("{0}")]
    Role(&'static str),
}

impl Refusal {
    /// The stable machine code of the refusal.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Kind(_) => "not_for_this_kind",
            Refusal::Role(_) => "role_not_allowed",
        }
    }
}

pub type Decision = Result<(), Refusal>;

/// The caller, as the role rules see them: a current member with a role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Standing {
    pub role: Role,
    /// Administers the space the conversation is a channel of (owner or admin of it).
    pub space_admin: bool,
}

impl Standing {
    pub fn member(role: Role) -> Self {
        Self { role, space_admin: false }
    }
}

/// What a conversation is, as the kind rules see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub kind: ConversationKind,
    pub visibility: Visibility,
    /// A channel of a space (false: a standalone room, a group, a direct chat).
    pub in_space: bool,
}

// What each kind allows.

/// The highest role of a kind, which its creator gets and which succession keeps filled:
/// `owner` for channels and rooms, `admin` for groups (older than owners), and nothing
/// above `member` in a direct chat.
pub fn top_role(kind: ConversationKind) -> Role {
    match kind {
        ConversationKind::Direct => Role::Member,
        ConversationKind::Group => Role::Admin,
        ConversationKind::Channel => Role::Owner,
    }
}

/// Whether a member of this kind may hold `role` at all.
pub fn allows_role(kind: ConversationKind, role: Role) -> bool {
    rank(role) <= rank(top_role(kind))
}

/// A name, a photo and a topic of its own (a direct chat shows the other person's).
pub fn has_settings(kind: ConversationKind) -> bool {
    kind != ConversationKind::Direct
}

/// Which messages notify a member who has not chosen: every message of a direct or group
/// chat, only mentions in channels and rooms (where "all" is a channel the user chose to
/// follow).
pub fn default_notify(kind: ConversationKind) -> NotifyLevel {
    match kind {
        ConversationKind::Direct | ConversationKind::Group => NotifyLevel::All,
        ConversationKind::Channel => NotifyLevel::Mentions,
    }
}

/// A member list that changes (adding, removing, leaving) and roles within it.
pub fn has_member_list(kind: ConversationKind) -> bool {
    kind != ConversationKind::Direct
}

/// Whether someone who is not a member may see it (in the directory, or by id) and join it
/// without an invitation: public channels. (A public channel of a space will also need the
/// caller to be in the space; that check belongs to the spaces slice.)
pub fn is_open(shape: Shape) -> bool {
    shape.kind == ConversationKind::Channel && shape.visibility == Visibility::Public
}

/// Whether joining may ask for a password: public standalone rooms.
pub fn takes_password(shape: Shape) -> bool {
    is_open(shape) && !shape.in_space
}

/// Whether it can be deleted for everyone.
pub fn may_be_deleted(kind: ConversationKind) -> bool {
    kind != ConversationKind::Direct
}

// What each role may do. One function per rule of the contract's table.

/// The order of roles: member < admin < owner.
pub fn rank(role: Role) -> u8 {
    match role {
        Role::Member => 0,
        Role::Admin => 1,
        Role::Owner => 2,
    }
}

fn manages(who: Standing) -> bool {
    rank(who.role) >= rank(Role::Admin) || who.space_admin
}

fn settings(kind: ConversationKind) -> Decision {
    if has_settings(kind) {
        Ok(())
    } else {
        Err(Refusal::Kind("direct conversations have no name, photo, topic or member list to change"))
    }
}

fn manager(who: Standing, what: &'static str) -> Decision {
    if manages(who) { Ok(()) } else { Err(Refusal::Role(what)) }
}

/// Post a message: every current member, in every kind.
pub fn may_post(_kind: ConversationKind, _who: Standing) -> Decision {
    Ok(())
}

pub fn may_rename(kind: ConversationKind, who: Standing) -> Decision {
    settings(kind)?;
    manager(who, "only the owner and admins may rename this conversation")
}

pub fn may_set_topic(kind: ConversationKind, who: Standing) -> Decision {
    settings(kind)?;
    manager(who, "only the owner and admins may change the topic")
}

pub fn may_set_photo(kind: ConversationKind, who: Standing) -> Decision {
    settings(kind)?;
    manager(who, "only the owner and admins may change the photo")
}

pub fn may_add_members(kind: ConversationKind, who: Standing) -> Decision {
    settings(kind)?;
    manager(who, "only the owner and admins may add members")
}

/// Remove someone else: managers, and never someone above them (an admin cannot remove
/// the owner). Leaving is `may_leave`.
pub fn may_remove_member(kind: ConversationKind, who: Standing, target: Role) -> Decision {
    settings(kind)?;
    manager(who, "only the owner and admins may remove members")?;
    if rank(target) > rank(who.role) && !who.space_admin {
        return Err(Refusal::Role("an admin cannot remove the owner"));
    }
    Ok(())
}

/// Leave (remove oneself): anyone, where there is a member list. When the last holder of
/// the top role leaves, succession fills it (`hubbub_app::rules::membership::heir`).
pub fn may_leave(kind: ConversationKind, _who: Standing) -> Decision {
    if has_member_list(kind) { Ok(()) } else { Err(Refusal::Kind("direct conversations have no members to remove")) }
}

/// Pin a message (for the pins of the next issue): both people of a direct chat, the
/// managers elsewhere.
pub fn may_pin(kind: ConversationKind, who: Standing) -> Decision {
    if kind == ConversationKind::Direct {
        return Ok(());
    }
    manager(who, "only the owner and admins may pin messages")
}

/// Whether `@channel` and `@all` mention every member: in channels and groups, not in a
/// direct chat (where the other person is named anyway).
pub fn allows_mention_all(kind: ConversationKind) -> bool {
    kind != ConversationKind::Direct
}

/// Delete a message someone else sent (one's own is always allowed).
pub fn may_delete_others_message(kind: ConversationKind, who: Standing) -> Decision {
    if kind == ConversationKind::Direct {
        return Err(Refusal::Role("only the sender may delete a message in a direct conversation"));
    }
    manager(who, "only the sender, the owner or an admin may delete a message")
}

/// Change a member's role from `from` to `to`: the owner may give any role (giving
/// `owner` hands ownership over); admins (and space admins) move people between `member`
/// and `admin` only. Roles a kind does not have are refused whoever asks.
pub fn may_change_role(kind: ConversationKind, who: Standing, from: Role, to: Role) -> Decision {
    if !has_member_list(kind) {
        return Err(Refusal::Kind("direct conversations have no roles"));
    }
    if !allows_role(kind, to) {
        return Err(Refusal::Kind("groups have no owner: their top role is admin"));
    }
    if who.role == Role::Owner {
        return Ok(());
    }
    manager(who, "only the owner and admins may change roles")?;
    if rank(from) > rank(Role::Admin) || rank(to) > rank(Role::Admin) {
        return Err(Refusal::Role("only the owner may hand over ownership or change the owner's role"));
    }
    Ok(())
}

/// Set or remove a room's password: its owner, on a public standalone room.
pub fn may_set_password(shape: Shape, who: Standing) -> Decision {
    if !takes_password(shape) {
        return Err(Refusal::Kind("only public rooms have a password"));
    }
    if who.role == Role::Owner { Ok(()) } else { Err(Refusal::Role("only the owner may change the password")) }
}

/// Delete the conversation for everyone: the holder of its top role (a group's admins, a
/// channel's owner), or an admin of the channel's space.
pub fn may_delete_conversation(kind: ConversationKind, who: Standing) -> Decision {
    if !may_be_deleted(kind) {
        return Err(Refusal::Kind("direct conversations cannot be deleted for everyone"));
    }
    if who.role == top_role(kind) || who.space_admin {
        Ok(())
    } else {
        Err(Refusal::Role("only the owner may delete this conversation"))
    }
}

/// Join without an invitation: open conversations, and for an admin of a space (who
/// manages every channel of it) the space's private channels too, so that "manages every
/// channel" needs no invitation from the channel's owner. A use case answers 404 before
/// asking for anything the caller may not see, so this refusal is for what they may see
/// (a conversation they are or were in).
pub fn may_join(shape: Shape, space_admin: bool) -> Decision {
    if is_open(shape) || (shape.kind == ConversationKind::Channel && shape.in_space && space_admin) {
        Ok(())
    } else {
        Err(Refusal::Kind("only public channels and rooms can be joined"))
    }
}

/// Whether a channel shows in its space's channel list for someone not in it: public
/// channels for every member of the space, private ones for the space's admins (who may
/// join them, `may_join`).
pub fn listed_in_space(shape: Shape, space_admin: bool) -> bool {
    may_join(shape, space_admin).is_ok()
}

// Spaces. A space's roles are the same three; its owner and admins manage it and every
// channel in it (`Standing::space_admin`).

/// Whether this space role administers the space (and so every channel of it).
pub fn is_space_admin(role: Role) -> bool {
    rank(role) >= rank(Role::Admin)
}

/// Rename the space, change its description, add members, create channels: space admins.
pub fn may_manage_space(role: Role) -> Decision {
    if is_space_admin(role) { Ok(()) } else { Err(Refusal::Role("only the space's owner and admins may do this")) }
}

/// Delete the space and all its channels: its owner only.
pub fn may_delete_space(role: Role) -> Decision {
    if role == Role::Owner { Ok(()) } else { Err(Refusal::Role("only the space's owner may delete it")) }
}

/// Change someone's space role: the owner gives any role (`owner` hands ownership over);
/// admins move people between `member` and `admin`, never touching the owner's role.
pub fn may_change_space_role(who: Role, from: Role, to: Role) -> Decision {
    match who {
        Role::Owner => Ok(()),
        Role::Admin if from != Role::Owner && to != Role::Owner => Ok(()),
        Role::Admin => Err(Refusal::Role("only the space's owner may give or take ownership")),
        Role::Member => Err(Refusal::Role("only the space's owner and admins may change roles")),
    }
}

/// Remove someone else from the space: its owner and admins, and an admin not the owner.
pub fn may_remove_space_member(who: Role, target: Role) -> Decision {
    may_manage_space(who)?;
    if rank(target) > rank(who) {
        return Err(Refusal::Role("an admin cannot remove the space's owner"));
    }
    Ok(())
}

#[cfg(test)]
mod space_tests {
    use super::*;
    use Role::*;

    #[test]
    fn space_admins_manage_and_only_the_owner_deletes() {
        let got: Vec<(bool, bool)> =
            [Member, Admin, Owner].map(|r| (may_manage_space(r).is_ok(), may_delete_space(r).is_ok())).to_vec();
        assert_eq!(got, vec![(false, false), (true, false), (true, true)]);
        assert!(!is_space_admin(Member) && is_space_admin(Admin) && is_space_admin(Owner));
    }

    #[test]
    fn space_roles_change_as_the_table_says() {
        // (who, from, to) -> allowed
        for who in [Member, Admin, Owner] {
            for from in [Member, Admin, Owner] {
                for to in [Member, Admin, Owner] {
                    let expected = match who {
                        Owner => true,
                        Admin => from != Owner && to != Owner,
                        Member => false,
                    };
                    assert_eq!(may_change_space_role(who, from, to).is_ok(), expected, "{who:?} {from:?}->{to:?}");
                }
            }
            for target in [Member, Admin, Owner] {
                let expected = who != Member && rank(target) <= rank(who);
                assert_eq!(may_remove_space_member(who, target).is_ok(), expected, "{who:?} removes {target:?}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConversationKind::*;
    use Role::*;

    const KINDS: [ConversationKind; 3] = [Direct, Group, Channel];

    #[test]
    fn directs_and_groups_notify_every_message_and_channels_only_mentions() {
        assert_eq!(default_notify(Direct), NotifyLevel::All);
        assert_eq!(default_notify(Group), NotifyLevel::All);
        assert_eq!(default_notify(Channel), NotifyLevel::Mentions);
        assert!(NotifyLevel::Mentions.allows(true) && !NotifyLevel::Mentions.allows(false));
        assert!(!NotifyLevel::None.allows(true) && NotifyLevel::All.allows(false));
    }

    /// The expected answer: 'y' allowed, 'k' refused for the kind, 'r' refused for the role.
    fn outcome(decision: Decision) -> char {
        match decision {
            Ok(()) => 'y',
            Err(Refusal::Kind(_)) => 'k',
            Err(Refusal::Role(_)) => 'r',
        }
    }

    /// For each kind (direct, group, channel), the answers for owner, admin, member.
    fn check(name: &str, rule: impl Fn(ConversationKind, Standing) -> Decision, expected: [&str; 3]) {
        for (kind, row) in KINDS.into_iter().zip(expected) {
            let got: String = Role::ALL.into_iter().map(|role| outcome(rule(kind, Standing::member(role)))).collect();
            assert_eq!(got, row, "{name} in a {kind:?} (owner, admin, member)");
        }
    }

    #[test]
    fn everyone_posts() {
        check("post", may_post, ["yyy", "yyy", "yyy"]);
    }

    #[test]
    fn the_managers_rename_set_the_topic_and_the_photo_and_add_members() {
        for (name, rule) in [
            ("rename", may_rename as fn(_, _) -> _),
            ("topic", may_set_topic),
            ("photo", may_set_photo),
            ("add members", may_add_members),
        ] {
            check(name, rule, ["kkk", "yyr", "yyr"]);
        }
    }

    #[test]
    fn everyone_is_mentioned_at_once_in_channels_and_groups_only() {
        assert!(!allows_mention_all(ConversationKind::Direct));
        assert!(allows_mention_all(ConversationKind::Group));
        assert!(allows_mention_all(ConversationKind::Channel));
    }

    #[test]
    fn the_managers_pin_and_delete_others_messages() {
        check("pin", may_pin, ["yyy", "yyr", "yyr"]);
        check("delete others' messages", may_delete_others_message, ["rrr", "yyr", "yyr"]);
    }

    #[test]
    fn managers_remove_people_not_above_them() {
        for (target, expected) in
            [(Member, ["kkk", "yyr", "yyr"]), (Admin, ["kkk", "yyr", "yyr"]), (Owner, ["kkk", "yrr", "yrr"])]
        {
            check(&format!("remove a {target:?}"), |kind, who| may_remove_member(kind, who, target), expected);
        }
    }

    #[test]
    fn everyone_leaves_where_there_is_a_member_list() {
        check("leave", may_leave, ["kkk", "yyy", "yyy"]);
    }

    #[test]
    fn roles_change_as_the_table_says() {
        // (from, to) → answers per kind.
        let cases = [
            ((Member, Admin), ["kkk", "yyr", "yyr"]),
            ((Admin, Member), ["kkk", "yyr", "yyr"]),
            ((Member, Owner), ["kkk", "kkk", "yrr"]),
            ((Admin, Owner), ["kkk", "kkk", "yrr"]),
            ((Owner, Admin), ["kkk", "yrr", "yrr"]),
            ((Owner, Member), ["kkk", "yrr", "yrr"]),
            ((Member, Member), ["kkk", "yyr", "yyr"]),
        ];
        for ((from, to), expected) in cases {
            check(&format!("{from:?} to {to:?}"), |kind, who| may_change_role(kind, who, from, to), expected);
        }
    }

    #[test]
    fn only_the_top_role_deletes_the_conversation() {
        check("delete", may_delete_conversation, ["kkk", "ryr", "yrr"]);
    }

    #[test]
    fn passwords_and_joining_are_for_public_rooms() {
        for kind in KINDS {
            for visibility in [Visibility::Public, Visibility::Private] {
                for in_space in [false, true] {
                    let shape = Shape { kind, visibility, in_space };
                    let open = kind == Channel && visibility == Visibility::Public;
                    assert_eq!(may_join(shape, false).is_ok(), open, "{shape:?}");
                    let admin_joins = open || (kind == Channel && in_space);
                    assert_eq!(may_join(shape, true).is_ok(), admin_joins, "a space admin joins {shape:?}");
                    assert_eq!(listed_in_space(shape, true), admin_joins);
                    assert_eq!(is_open(shape), open);
                    let got: String = Role::ALL
                        .into_iter()
                        .map(|role| outcome(may_set_password(shape, Standing::member(role))))
                        .collect();
                    let expected = if open && !in_space { "yrr" } else { "kkk" };
                    assert_eq!(got, expected, "password of {shape:?}");
                }
            }
        }
    }

    #[test]
    fn a_space_admin_manages_the_channels_of_their_space() {
        let space_admin = Standing { role: Member, space_admin: true };
        assert!(may_rename(Channel, space_admin).is_ok());
        assert!(may_remove_member(Channel, space_admin, Owner).is_ok());
        assert!(may_delete_conversation(Channel, space_admin).is_ok());
        assert!(may_change_role(Channel, space_admin, Member, Admin).is_ok());
        assert!(may_change_role(Channel, space_admin, Member, Owner).is_err());
    }

    #[test]
    fn each_kind_has_its_top_role() {
        assert_eq!(KINDS.map(top_role), [Member, Admin, Owner]);
        assert!(!allows_role(Group, Owner) && allows_role(Group, Admin) && allows_role(Channel, Owner));
        assert!(!allows_role(Direct, Admin));
    }

    #[test]
    fn stored_kinds_and_roles_are_never_guessed() {
        for kind in KINDS {
            assert_eq!(ConversationKind::from_db(kind.as_str()), Ok(kind));
        }
        for role in Role::ALL {
            assert_eq!(Role::from_db(role.as_str()), Ok(role));
        }
        assert_eq!(ConversationKind::from_db("room").unwrap_err().what, "conversation kind");
        assert!(ConversationKind::from_db("").is_err());
        assert!(Role::from_db("moderator").is_err());
        assert!(Role::from_db("Admin").is_err());
        assert!(Visibility::from_db("secret").is_err());
    }
}
