//! The store contract suite: what every adapter of the `Store` port must do, exactly.
//!
//! Every test is written against the port (never against SQL), and `contract_tests!`
//! instantiates the whole suite for one backend, so a new adapter (PostgreSQL) proves itself
//! by adding one line in `main.rs`. The tests are split by area; `COVERAGE` below maps every
//! method of the port to the tests that exercise it, and `every_port_method_is_covered` (run
//! per backend) fails when the port gains a method that is not listed, or the list names a
//! test that does not exist.

mod accounts;
mod actors;
mod audit;
mod contacts;
mod conversations;
mod events;
mod files;
mod links;
mod media;
mod mentions;
mod messages;
mod push;
mod replay;
mod rooms;
mod settings;
mod spaces;
mod views;

pub use accounts::*;
pub use actors::*;
pub use audit::*;
pub use contacts::*;
pub use conversations::*;
pub use events::*;
pub use files::*;
pub use links::*;
pub use media::*;
pub use mentions::*;
pub use messages::*;
pub use push::*;
pub use replay::*;
pub use rooms::*;
pub use settings::*;
pub use spaces::*;
pub use views::*;

use hubbub_app::ports::*;
use hubbub_domain::*;
use std::sync::Arc;
use uuid::Uuid;

#[macro_export]
macro_rules! contract_tests {
    ($module:ident, $make:path) => {
        mod $module {
            $crate::contract_tests!(@each $make;
                // Accounts, sessions, users.
                accounts_are_unique_case_insensitively,
                sessions_and_tickets,
                sessions_and_tickets_of_unknown_rows,
                missing_sessions_are_those_that_ended,
                server_admins_are_granted_by_username,
                audit_entries_read_back_newest_first_filtered_and_paged,
                a_password_change_ends_every_other_session,
                profiles_change_field_by_field,
                search_matches_prefixes_of_usernames_and_display_name_words,
                a_user_photo_is_recorded_and_the_replaced_file_returned,
                contacts_are_everyone_sharing_a_current_conversation,
                last_seen_is_stored,
                health_accepts_writes,
                a_failing_write_does_not_spoil_its_batch,
                // Conversations and members.
                creating_a_group_commits_its_creation_to_every_member,
                a_group_with_an_unknown_member_is_not_created,
                direct_conversations_are_unique_per_pair,
                opening_a_direct_conversation_again_finds_it,
                renames_and_group_photos_commit_conversation_updated,
                changes_name_who_made_them_in_the_event_log,
                adding_members_tells_the_others_and_the_newcomer,
                a_former_member_added_back_starts_a_new_window,
                removing_a_member_ends_their_window,
                last_admin_leaving_promotes_the_longest_standing_member,
                marks_only_move_forward,
                marks_of_non_members_are_refused,
                // Views.
                conversations_are_listed_by_latest_activity,
                a_conversation_view_is_one_consistent_snapshot,
                a_former_members_view_stays_as_it_was_when_they_left,
                // Messages.
                seqs_are_gapless_under_concurrency,
                mixed_writes_commit_and_publish_in_seq_order,
                every_persisted_change_reaches_the_feed_once_in_seq_order,
                sending_stores_the_message_and_its_event,
                only_current_members_send,
                replies_must_be_visible_to_the_sender,
                client_ids_make_sends_idempotent,
                a_retried_send_returns_the_message_as_it_is_now,
                history_pages_back_and_forth,
                history_stays_inside_the_members_window,
                message_meta_and_content,
                edits_change_the_text_and_commit_message_updated,
                deletes_leave_a_tombstone,
                a_link_preview_is_a_change_of_its_own_not_an_edit,
                a_cached_preview_image_is_shared_and_checked,
                a_deleted_message_loses_its_preview_and_its_image,
                a_preview_is_taken_away_as_a_change_of_its_own,
                a_messages_content_carries_its_preview_to_copy,
                one_reaction_per_user,
                a_reaction_never_lands_on_a_tombstone,
                only_current_members_react,
                receipts_list_the_members_who_could_see_the_message,
                the_event_log_replays_in_order_within_the_members_view,
                event_pages_end_exactly,
                racing_duplicates_commit_once,
                // Replay for the realtime path.
                committed_events_read_back_in_seq_order_with_their_audience,
                events_since_a_time_come_from_every_conversation,
                // Media.
                media_records_list_every_recorded_file_once,
                media_uses_name_every_place_a_file_is_used,
                reoptimised_media_keeps_its_references,
                // Attached files.
                a_file_is_stored_with_its_message_and_shared_by_forwarded_copies,
                deleting_a_file_message_clears_it_and_frees_the_file_with_its_last_use,
                // Channels and rooms.
                creating_a_room_makes_its_creator_owner,
                the_directory_lists_open_rooms_by_name,
                topics_and_passwords_commit_conversation_updated,
                role_changes_commit_member_updated,
                a_rooms_owner_leaving_hands_it_to_the_longest_standing_admin,
                deleting_a_conversation_tells_its_members_and_hides_it,
                random_membership_changes_keep_a_manager_and_the_windows,
                // Spaces.
                creating_a_space_makes_its_general_channel,
                adding_space_members_adds_them_to_general,
                a_spaces_channels_are_its_public_ones_and_the_callers_private_ones,
                space_roles_names_and_removals_change_what_they_say,
                deleting_a_space_names_its_channels_and_hides_it,
                // Contacts and blocks.
                contacts_keep_one_alias_per_owner,
                an_alias_names_a_direct_conversation_for_its_owner_only,
                blocks_are_the_blockers_own_and_idempotent,
                a_blocked_user_cannot_post_to_the_blocker_directly,
                // Per-user chat settings.
                settings_change_field_by_field_and_pins_are_limited,
                pinned_conversations_come_first_in_the_order_pinned,
                notify_is_the_kinds_default_until_the_member_chooses,
                a_new_message_brings_an_archived_chat_back_unless_muted,
                clearing_a_chat_hides_its_past_from_that_member_only,
                conversation_seqs_are_the_seqs_the_views_show,
                // Web Push and the outbox.
                push_subscriptions_are_kept_per_endpoint,
                the_push_audience_is_the_other_current_members_with_their_settings,
                outbox_jobs_are_claimed_leased_retried_and_given_up,
                racing_claims_never_share_a_job,
                a_sends_job_is_stored_with_the_message_and_only_then,
                // Mentions, pins and edit history.
                mentions_are_stored_with_the_message_and_counted_from_the_read_mark,
                members_are_found_by_username_among_current_members,
                mentions_of_me_are_listed_newest_first_inside_my_window,
                pins_are_changes_of_the_conversation_listed_latest_first,
                edits_keep_the_earlier_versions,
            );
        }
    };
    (@each $make:path; $($(#[$attr:meta])* $test:ident),* $(,)?) => {
        $(
            #[tokio::test]
            $(#[$attr])*
            async fn $test() {
                let (store, _guard) = $make().await;
                $crate::contract::$test(store).await;
            }
        )*

        #[test]
        fn every_port_method_is_covered() {
            $crate::contract::check_coverage(&[$(stringify!($test)),*]);
        }
    };
}

/// Every method of the `Store` port, with the tests that pin its behaviour down.
pub const COVERAGE: &[(&str, &[&str])] = &[
    (
        "commit_feed",
        &["every_persisted_change_reaches_the_feed_once_in_seq_order", "mixed_writes_commit_and_publish_in_seq_order"],
    ),
    ("health", &["health_accepts_writes"]),
    ("create_account", &["accounts_are_unique_case_insensitively", "a_failing_write_does_not_spoil_its_batch"]),
    ("credentials", &["accounts_are_unique_case_insensitively"]),
    ("create_session", &["sessions_and_tickets", "sessions_and_tickets_of_unknown_rows"]),
    ("session_by_token", &["sessions_and_tickets", "sessions_and_tickets_of_unknown_rows"]),
    ("delete_session", &["sessions_and_tickets", "sessions_and_tickets_of_unknown_rows"]),
    ("missing_sessions", &["missing_sessions_are_those_that_ended"]),
    ("set_server_admin", &["server_admins_are_granted_by_username"]),
    ("is_server_admin", &["server_admins_are_granted_by_username"]),
    ("record_audit", &["audit_entries_read_back_newest_first_filtered_and_paged"]),
    ("audit_entries", &["audit_entries_read_back_newest_first_filtered_and_paged"]),
    ("password_hash", &["a_password_change_ends_every_other_session"]),
    ("change_password", &["a_password_change_ends_every_other_session"]),
    ("create_ws_ticket", &["sessions_and_tickets", "sessions_and_tickets_of_unknown_rows"]),
    ("redeem_ws_ticket", &["sessions_and_tickets", "a_password_change_ends_every_other_session"]),
    ("user", &["accounts_are_unique_case_insensitively", "profiles_change_field_by_field", "last_seen_is_stored"]),
    ("search_users", &["search_matches_prefixes_of_usernames_and_display_name_words"]),
    ("update_profile", &["profiles_change_field_by_field"]),
    ("set_user_photo", &["a_user_photo_is_recorded_and_the_replaced_file_returned"]),
    ("contacts", &["contacts_are_everyone_sharing_a_current_conversation"]),
    ("set_last_seen", &["last_seen_is_stored"]),
    (
        "list_conversations",
        &[
            "conversations_are_listed_by_latest_activity",
            "a_former_members_view_stays_as_it_was_when_they_left",
            "pinned_conversations_come_first_in_the_order_pinned",
            "clearing_a_chat_hides_its_past_from_that_member_only",
            "an_alias_names_a_direct_conversation_for_its_owner_only",
        ],
    ),
    ("conversation_seqs", &["conversation_seqs_are_the_seqs_the_views_show"]),
    (
        "conversation",
        &[
            "creating_a_group_commits_its_creation_to_every_member",
            "a_conversation_view_is_one_consistent_snapshot",
            "a_former_members_view_stays_as_it_was_when_they_left",
            "an_alias_names_a_direct_conversation_for_its_owner_only",
            "settings_change_field_by_field_and_pins_are_limited",
        ],
    ),
    (
        "membership",
        &[
            "creating_a_group_commits_its_creation_to_every_member",
            "removing_a_member_ends_their_window",
            "a_former_member_added_back_starts_a_new_window",
            "clearing_a_chat_hides_its_past_from_that_member_only",
        ],
    ),
    ("member_ids", &["creating_a_group_commits_its_creation_to_every_member", "removing_a_member_ends_their_window"]),
    (
        "create_group",
        &["creating_a_group_commits_its_creation_to_every_member", "a_group_with_an_unknown_member_is_not_created"],
    ),
    ("open_direct", &["direct_conversations_are_unique_per_pair", "opening_a_direct_conversation_again_finds_it"]),
    (
        "rename_group",
        &["renames_and_group_photos_commit_conversation_updated", "mixed_writes_commit_and_publish_in_seq_order"],
    ),
    (
        "set_group_photo",
        &[
            "renames_and_group_photos_commit_conversation_updated",
            "a_former_members_view_stays_as_it_was_when_they_left",
        ],
    ),
    (
        "add_members",
        &[
            "adding_members_tells_the_others_and_the_newcomer",
            "a_former_member_added_back_starts_a_new_window",
            "racing_duplicates_commit_once",
        ],
    ),
    (
        "remove_member",
        &[
            "removing_a_member_ends_their_window",
            "last_admin_leaving_promotes_the_longest_standing_member",
            "a_rooms_owner_leaving_hands_it_to_the_longest_standing_admin",
            "random_membership_changes_keep_a_manager_and_the_windows",
        ],
    ),
    (
        "advance_marks",
        &[
            "marks_only_move_forward",
            "marks_of_non_members_are_refused",
            "receipts_list_the_members_who_could_see_the_message",
        ],
    ),
    (
        "create_channel",
        &[
            "creating_a_room_makes_its_creator_owner",
            "a_spaces_channels_are_its_public_ones_and_the_callers_private_ones",
        ],
    ),
    ("create_space", &["creating_a_space_makes_its_general_channel"]),
    ("spaces", &["creating_a_space_makes_its_general_channel", "adding_space_members_adds_them_to_general"]),
    ("space_members", &["creating_a_space_makes_its_general_channel"]),
    ("add_space_members", &["adding_space_members_adds_them_to_general"]),
    (
        "space_channels",
        &[
            "a_spaces_channels_are_its_public_ones_and_the_callers_private_ones",
            "deleting_a_space_names_its_channels_and_hides_it",
        ],
    ),
    ("set_space_roles", &["space_roles_names_and_removals_change_what_they_say"]),
    ("remove_space_member", &["space_roles_names_and_removals_change_what_they_say"]),
    ("update_space", &["space_roles_names_and_removals_change_what_they_say"]),
    ("delete_space", &["deleting_a_space_names_its_channels_and_hides_it"]),
    (
        "conversation_access",
        &["creating_a_room_makes_its_creator_owner", "topics_and_passwords_commit_conversation_updated"],
    ),
    ("public_rooms", &["the_directory_lists_open_rooms_by_name"]),
    ("set_topic", &["topics_and_passwords_commit_conversation_updated"]),
    ("set_room_password", &["topics_and_passwords_commit_conversation_updated"]),
    (
        "set_member_role",
        &["role_changes_commit_member_updated", "random_membership_changes_keep_a_manager_and_the_windows"],
    ),
    (
        "delete_conversation",
        &["deleting_a_conversation_tells_its_members_and_hides_it", "the_directory_lists_open_rooms_by_name"],
    ),
    ("list_messages", &["history_pages_back_and_forth", "history_stays_inside_the_members_window"]),
    ("message_meta", &["message_meta_and_content"]),
    (
        "message_content",
        &[
            "message_meta_and_content",
            "a_file_is_stored_with_its_message_and_shared_by_forwarded_copies",
            "a_messages_content_carries_its_preview_to_copy",
        ],
    ),
    (
        "send_message",
        &[
            "sending_stores_the_message_and_its_event",
            "only_current_members_send",
            "replies_must_be_visible_to_the_sender",
            "client_ids_make_sends_idempotent",
            "a_retried_send_returns_the_message_as_it_is_now",
            "seqs_are_gapless_under_concurrency",
            "racing_duplicates_commit_once",
            "a_blocked_user_cannot_post_to_the_blocker_directly",
            "a_new_message_brings_an_archived_chat_back_unless_muted",
            "a_file_is_stored_with_its_message_and_shared_by_forwarded_copies",
            "a_sends_job_is_stored_with_the_message_and_only_then",
        ],
    ),
    ("edit_message", &["edits_change_the_text_and_commit_message_updated"]),
    (
        "delete_message",
        &[
            "deletes_leave_a_tombstone",
            "a_deleted_message_loses_its_preview_and_its_image",
            "deleting_a_file_message_clears_it_and_frees_the_file_with_its_last_use",
        ],
    ),
    (
        "set_link_preview",
        &[
            "a_link_preview_is_a_change_of_its_own_not_an_edit",
            "a_cached_preview_image_is_shared_and_checked",
            "a_deleted_message_loses_its_preview_and_its_image",
        ],
    ),
    ("clear_link_preview", &["a_preview_is_taken_away_as_a_change_of_its_own"]),
    ("set_reaction", &["one_reaction_per_user", "a_reaction_never_lands_on_a_tombstone", "only_current_members_react"]),
    ("reactions", &["one_reaction_per_user", "deletes_leave_a_tombstone"]),
    ("receipts", &["receipts_list_the_members_who_could_see_the_message"]),
    ("events_after", &["the_event_log_replays_in_order_within_the_members_view", "event_pages_end_exactly"]),
    ("committed_after", &["committed_events_read_back_in_seq_order_with_their_audience"]),
    ("committed_since", &["events_since_a_time_come_from_every_conversation"]),
    (
        "media_records",
        &[
            "media_records_list_every_recorded_file_once",
            "a_user_photo_is_recorded_and_the_replaced_file_returned",
            "a_file_is_stored_with_its_message_and_shared_by_forwarded_copies",
        ],
    ),
    (
        "update_media",
        &[
            "reoptimised_media_keeps_its_references",
            "media_uses_name_every_place_a_file_is_used",
            "a_link_preview_is_a_change_of_its_own_not_an_edit",
        ],
    ),
    (
        "media_uses",
        &[
            "media_uses_name_every_place_a_file_is_used",
            "a_link_preview_is_a_change_of_its_own_not_an_edit",
            "a_file_is_stored_with_its_message_and_shared_by_forwarded_copies",
            "deleting_a_file_message_clears_it_and_frees_the_file_with_its_last_use",
        ],
    ),
    ("contact_list", &["contacts_keep_one_alias_per_owner"]),
    ("set_contact", &["contacts_keep_one_alias_per_owner", "an_alias_names_a_direct_conversation_for_its_owner_only"]),
    ("delete_contact", &["contacts_keep_one_alias_per_owner"]),
    (
        "set_blocked",
        &["blocks_are_the_blockers_own_and_idempotent", "a_blocked_user_cannot_post_to_the_blocker_directly"],
    ),
    ("blocked_users", &["blocks_are_the_blockers_own_and_idempotent"]),
    ("blockers_of", &["blocks_are_the_blockers_own_and_idempotent"]),
    (
        "update_settings",
        &[
            "settings_change_field_by_field_and_pins_are_limited",
            "pinned_conversations_come_first_in_the_order_pinned",
            "a_new_message_brings_an_archived_chat_back_unless_muted",
            "notify_is_the_kinds_default_until_the_member_chooses",
        ],
    ),
    ("clear_history", &["clearing_a_chat_hides_its_past_from_that_member_only"]),
    ("members_named", &["members_are_found_by_username_among_current_members"]),
    ("set_pinned", &["pins_are_changes_of_the_conversation_listed_latest_first"]),
    ("pinned_messages", &["pins_are_changes_of_the_conversation_listed_latest_first"]),
    ("message_versions", &["edits_keep_the_earlier_versions"]),
    ("mentions_of", &["mentions_of_me_are_listed_newest_first_inside_my_window"]),
];

/// The methods declared inside `trait Store` in the port's source, in order.
fn port_methods() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../hubbub-app/src/ports.rs");
    let source = std::fs::read_to_string(path).expect("the port's source is readable");
    let start = source.find("pub trait Store").expect("ports.rs declares trait Store");
    let body = &source[start..];
    // The trait's body ends at the first line that is a lone closing brace.
    let end = body.find("\n}").expect("trait Store has an end");
    body[..end]
        .lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let rest = line.strip_prefix("async fn ").or_else(|| line.strip_prefix("fn "))?;
            Some(rest.split(['(', '<']).next().unwrap_or(rest).trim().to_owned())
        })
        .collect()
}

/// Fails when the port and `COVERAGE` disagree, or `COVERAGE` names a test the suite lacks.
pub fn check_coverage(tests: &[&str]) {
    let methods = port_methods();
    assert!(methods.len() >= 40, "parsed too few methods from ports.rs: {methods:?}");
    let listed: Vec<&str> = COVERAGE.iter().map(|(method, _)| *method).collect();
    let missing: Vec<&String> = methods.iter().filter(|m| !listed.contains(&m.as_str())).collect();
    assert!(missing.is_empty(), "port methods with no contract test listed in COVERAGE: {missing:?}");
    let stale: Vec<&&str> = listed.iter().filter(|m| !methods.iter().any(|p| p == *m)).collect();
    assert!(stale.is_empty(), "COVERAGE lists methods the port no longer has: {stale:?}");
    for (method, covering) in COVERAGE {
        assert!(!covering.is_empty(), "{method} lists no test");
        for test in *covering {
            assert!(tests.contains(test), "COVERAGE says {test} covers {method}, but the suite has no such test");
        }
    }
}

// Helpers shared by the areas.

pub(crate) fn session() -> NewSession {
    let token = hubbub_app::security::issue_token();
    NewSession { id: SessionId(Uuid::now_v7()), token_digest: token.digest, now: Timestamp::now() }
}

pub(crate) fn account(name: &str, display_name: &str) -> NewAccount {
    NewAccount {
        id: UserId::generate(),
        username: Username::parse(name).unwrap(),
        display_name: display_name.to_owned(),
        password_hash: "$argon2id$fake".to_owned(),
        now: Timestamp::now(),
    }
}

pub(crate) async fn user(store: &Arc<dyn Store>, name: &str) -> UserId {
    store.create_account(account(name, name), session()).await.unwrap().id
}

pub(crate) async fn direct(store: &Arc<dyn Store>, a: UserId, b: UserId) -> ConversationId {
    store.open_direct(a, b, ConversationId::generate(), Timestamp::now()).await.unwrap().0
}

/// A new group named "g" created by `creator` with `members`, and its `conversation.created`.
pub(crate) async fn group_of(
    store: &Arc<dyn Store>,
    creator: UserId,
    members: Vec<UserId>,
) -> (ConversationId, Committed) {
    let id = ConversationId::generate();
    let group =
        NewGroup { id, creator, name: GroupName::parse("g").unwrap(), member_ids: members, now: Timestamp::now() };
    (id, store.create_group(group).await.unwrap())
}

/// A photo as the media pipeline would hand it over (the store never opens the file).
pub(crate) fn photo(name: &str) -> PhotoInput {
    PhotoInput { media_name: name.to_owned(), content_type: "image/jpeg".into(), size_bytes: 10, width: 4, height: 3 }
}

/// A file as the upload path would hand it over (stored as uploaded, its name cleaned).
pub(crate) fn attached(name: &str, file_name: &str) -> FileInput {
    FileInput {
        media_name: name.to_owned(),
        file_name: file_name.to_owned(),
        content_type: "application/pdf".into(),
        size_bytes: 1234,
    }
}

pub(crate) fn text_message(
    conversation: ConversationId,
    sender: UserId,
    text: &str,
    client_id: Option<&str>,
) -> NewMessage {
    NewMessage {
        id: MessageId::generate(),
        conversation_id: conversation,
        sender,
        text: MessageText::parse(text, 4096, false).unwrap(),
        photo: None,
        file: None,
        reply_to: None,
        client_id: client_id.map(str::to_owned),
        forwarded: false,
        now: Timestamp::now(),
        mentions: Default::default(),
        outbox: None,
    }
}

/// Sends a plain text message and returns it as stored.
pub(crate) async fn send(store: &Arc<dyn Store>, conversation: ConversationId, sender: UserId, text: &str) -> Message {
    store.send_message(text_message(conversation, sender, text, None)).await.unwrap().message
}

/// A committed event's JSON, parsed.
pub(crate) fn json(committed: &Committed) -> serde_json::Value {
    serde_json::from_slice(&committed.json).unwrap()
}

/// An event's `type`.
pub(crate) fn kind(committed: &Committed) -> String {
    json(committed)["type"].as_str().unwrap().to_owned()
}

/// Recipients as a sorted list, for comparisons that do not depend on order.
pub(crate) fn sorted(ids: &[UserId]) -> Vec<UserId> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids
}

/// The (seq, type) of each stored event JSON of a page.
pub(crate) fn seqs_and_types(events: &[bytes::Bytes]) -> Vec<(i64, String)> {
    events
        .iter()
        .map(|e| {
            let value: serde_json::Value = serde_json::from_slice(e).unwrap();
            (value["seq"].as_i64().unwrap(), value["type"].as_str().unwrap().to_owned())
        })
        .collect()
}
