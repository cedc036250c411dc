//! Each member's own settings of a conversation, and clearing a chat for oneself.

use super::*;

fn patch(archived: Option<bool>, pinned: Option<bool>, muted_until: Option<Option<Timestamp>>) -> SettingsPatch {
    SettingsPatch { archived, pinned, muted_until, notify: None }
}

pub async fn settings_change_field_by_field_and_pins_are_limited(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let mut chats = Vec::new();
    for name in ["bob1", "bob2", "bob3", "bob4", "bob5", "bob6"] {
        let other = user(&store, name).await;
        chats.push(direct(&store, alice, other).await);
    }
    let now = Timestamp::now();
    let first = chats[0];
    assert_eq!(store.conversation(alice, first).await.unwrap().unwrap().settings, ChatSettings::default());
    let archived = store.update_settings(alice, first, patch(Some(true), None, None), now).await.unwrap();
    assert_eq!(archived, ChatSettings { archived: true, pinned: false, muted_until: None, notify: NotifyLevel::All });
    let later = now.plus_millis(3_600_000);
    let muted = store.update_settings(alice, first, patch(None, None, Some(Some(later))), now).await.unwrap();
    assert_eq!(
        muted,
        ChatSettings { archived: true, pinned: false, muted_until: Some(later), notify: NotifyLevel::All }
    );
    assert_eq!(store.conversation(alice, first).await.unwrap().unwrap().settings, muted);
    let unmuted = store.update_settings(alice, first, patch(Some(false), None, Some(None)), now).await.unwrap();
    assert_eq!(unmuted, ChatSettings::default());
    let past = store.update_settings(alice, first, patch(None, None, Some(Some(now.plus_millis(-1)))), now).await;
    assert_eq!(past.unwrap().muted_until, None, "a mute already over is none");

    for chat in &chats[..5] {
        assert!(store.update_settings(alice, *chat, patch(None, Some(true), None), now).await.unwrap().pinned);
    }
    // Pinning a pinned one again is fine; a sixth is refused, and changes nothing.
    store.update_settings(alice, chats[0], patch(None, Some(true), None), now).await.unwrap();
    let sixth = store.update_settings(alice, chats[5], patch(Some(true), Some(true), None), now).await;
    assert!(matches!(sixth, Err(StoreError::InvalidState(_))));
    assert_eq!(store.conversation(alice, chats[5]).await.unwrap().unwrap().settings, ChatSettings::default());
    store.update_settings(alice, chats[1], patch(None, Some(false), None), now).await.unwrap();
    assert!(store.update_settings(alice, chats[5], patch(None, Some(true), None), now).await.unwrap().pinned);

    // Strangers have no settings to change.
    let stranger = user(&store, "stranger").await;
    let refused = store.update_settings(stranger, first, patch(Some(true), None, None), now).await;
    assert!(matches!(refused, Err(StoreError::NotFound)));
    let unknown = store.update_settings(alice, ConversationId::generate(), patch(Some(true), None, None), now).await;
    assert!(matches!(unknown, Err(StoreError::NotFound)));
}

pub async fn notify_is_the_kinds_default_until_the_member_chooses(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let chat = direct(&store, alice, bob).await;
    let (group, _) = group_of(&store, alice, vec![bob]).await;
    let (room, _) = room_of(&store, alice, "lobby", Visibility::Public, vec![bob]).await;
    let notify = |id| {
        let store = store.clone();
        async move { store.conversation(bob, id).await.unwrap().unwrap().settings.notify }
    };
    assert_eq!(notify(chat).await, NotifyLevel::All);
    assert_eq!(notify(group).await, NotifyLevel::All);
    assert_eq!(notify(room).await, NotifyLevel::Mentions, "a channel notifies only mentions until followed");
    let now = Timestamp::now();
    let follow = SettingsPatch { notify: Some(NotifyLevel::All), ..Default::default() };
    let followed = store.update_settings(bob, room, follow, now).await.unwrap();
    assert_eq!(followed.notify, NotifyLevel::All);
    let silence = SettingsPatch { notify: Some(NotifyLevel::None), ..Default::default() };
    assert_eq!(store.update_settings(bob, chat, silence, now).await.unwrap().notify, NotifyLevel::None);
    // Kept by other changes, shown in the views, and only for that member.
    let archive = store.update_settings(bob, room, patch(Some(true), None, None), now).await.unwrap();
    assert_eq!(archive.notify, NotifyLevel::All);
    assert_eq!(notify(room).await, NotifyLevel::All);
    assert_eq!(notify(chat).await, NotifyLevel::None);
    assert_eq!(store.conversation(alice, room).await.unwrap().unwrap().settings.notify, NotifyLevel::Mentions);
    let listed = store.list_conversations(bob).await.unwrap();
    let of = |id| listed.iter().find(|v| v.snapshot.id == id).unwrap().settings.notify;
    assert_eq!((of(chat), of(group), of(room)), (NotifyLevel::None, NotifyLevel::All, NotifyLevel::All));
    // A message that brings the archived room back says the level in its settings change.
    let outcome = store.send_message(text_message(room, alice, "hello", None)).await.unwrap();
    let change = outcome.settings_changed.iter().find(|c| c.user == bob).expect("bob's room came back");
    assert_eq!(change.settings.notify, NotifyLevel::All);
}

pub async fn pinned_conversations_come_first_in_the_order_pinned(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let mut chats = Vec::new();
    for name in ["bob1", "bob2", "bob3", "bob4"] {
        let other = user(&store, name).await;
        let chat = direct(&store, alice, other).await;
        send(&store, chat, other, "hi").await;
        chats.push(chat);
    }
    let order = |views: Vec<ConversationView>| views.into_iter().map(|v| v.snapshot.id).collect::<Vec<_>>();
    assert_eq!(order(store.list_conversations(alice).await.unwrap()), [chats[3], chats[2], chats[1], chats[0]]);
    let now = Timestamp::now();
    store.update_settings(alice, chats[1], patch(None, Some(true), None), now).await.unwrap();
    store.update_settings(alice, chats[0], patch(None, Some(true), None), now).await.unwrap();
    assert_eq!(order(store.list_conversations(alice).await.unwrap()), [chats[1], chats[0], chats[3], chats[2]]);
    // Activity does not reorder the pinned ones; unpinning puts one back by its activity.
    send(&store, chats[0], alice, "again").await;
    assert_eq!(order(store.list_conversations(alice).await.unwrap()), [chats[1], chats[0], chats[3], chats[2]]);
    store.update_settings(alice, chats[1], patch(None, Some(false), None), now).await.unwrap();
    store.update_settings(alice, chats[1], patch(None, Some(true), None), now).await.unwrap();
    assert_eq!(order(store.list_conversations(alice).await.unwrap()), [chats[0], chats[1], chats[3], chats[2]]);
}

pub async fn a_new_message_brings_an_archived_chat_back_unless_muted(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let chat = direct(&store, alice, bob).await;
    let now = Timestamp::now();
    store.update_settings(bob, chat, patch(Some(true), None, None), now).await.unwrap();
    store.update_settings(alice, chat, patch(Some(true), None, None), now).await.unwrap();
    let outcome = store.send_message(text_message(chat, alice, "hello", None)).await.unwrap();
    let back = ChatSettings { archived: false, pinned: false, muted_until: None, notify: NotifyLevel::All };
    assert_eq!(outcome.settings_changed, [SettingsChange { user: bob, conversation: chat, settings: back }]);
    assert_eq!(store.conversation(bob, chat).await.unwrap().unwrap().settings, back);
    assert!(store.conversation(alice, chat).await.unwrap().unwrap().settings.archived, "the sender's own stays");

    // Muted: it stays archived.
    let later = Timestamp::now().plus_millis(3_600_000);
    store.update_settings(bob, chat, patch(Some(true), None, Some(Some(later))), now).await.unwrap();
    let outcome = store.send_message(text_message(chat, alice, "again", None)).await.unwrap();
    assert!(outcome.settings_changed.is_empty());
    assert!(store.conversation(bob, chat).await.unwrap().unwrap().settings.archived);
    // A retried send changes nothing either.
    let first = store.send_message(text_message(chat, alice, "retry", Some("c1"))).await.unwrap();
    assert!(first.settings_changed.is_empty());
    store.update_settings(bob, chat, patch(None, None, Some(None)), now).await.unwrap();
    let retried = store.send_message(text_message(chat, alice, "retry", Some("c1"))).await.unwrap();
    assert!(retried.committed.is_none() && retried.settings_changed.is_empty());
    assert!(store.conversation(bob, chat).await.unwrap().unwrap().settings.archived);
}

pub async fn clearing_a_chat_hides_its_past_from_that_member_only(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let (group, _) = group_of(&store, alice, vec![bob]).await;
    send(&store, group, alice, "one").await;
    let two = send(&store, group, alice, "two").await;
    store.clear_history(bob, group, false).await.unwrap();
    let bobs = store.membership(bob, group).await.unwrap().unwrap();
    assert_eq!(bobs.cleared_seq, two.seq);
    let page = store.list_messages(bob, group, bobs, HistoryCursor::Latest, 50).await.unwrap();
    assert!(page.messages.is_empty() && !page.has_more);
    assert!(store.events_after(group, bobs, 0, 100).await.unwrap().events.is_empty());
    let view = store.conversation(bob, group).await.unwrap().unwrap();
    assert_eq!((view.unread_count, view.last_message.is_none(), view.hidden), (0, true, false));
    // Nobody else is affected.
    let alices = store.membership(alice, group).await.unwrap().unwrap();
    assert_eq!(alices.cleared_seq, 0);
    assert_eq!(store.list_messages(alice, group, alices, HistoryCursor::Latest, 50).await.unwrap().messages.len(), 2);

    // What comes after is seen; `hide` keeps the chat out of the list until a message.
    let three = send(&store, group, alice, "three").await;
    let page = store.list_messages(bob, group, bobs, HistoryCursor::Latest, 50).await.unwrap();
    assert_eq!(page.messages.iter().map(|m| m.seq).collect::<Vec<_>>(), [three.seq]);
    assert_eq!(store.conversation(bob, group).await.unwrap().unwrap().unread_count, 1);
    store.clear_history(bob, group, true).await.unwrap();
    assert!(store.list_conversations(bob).await.unwrap().is_empty());
    assert!(store.conversation(bob, group).await.unwrap().unwrap().hidden, "still there when asked for");
    assert_eq!(store.list_conversations(alice).await.unwrap().len(), 1);
    store.rename_group(group, GroupName::parse("renamed").unwrap(), alice, Timestamp::now()).await.unwrap();
    assert!(store.list_conversations(bob).await.unwrap().is_empty(), "only a message brings it back");
    send(&store, group, alice, "four").await;
    let listed = store.list_conversations(bob).await.unwrap();
    assert_eq!((listed.len(), listed[0].unread_count), (1, 1));

    let stranger = user(&store, "stranger").await;
    assert!(matches!(store.clear_history(stranger, group, false).await, Err(StoreError::NotFound)));
    assert!(matches!(store.clear_history(bob, ConversationId::generate(), true).await, Err(StoreError::NotFound)));
}

/// The seqs of the sync point are those the views show, for current and former members,
/// hidden ones marked, deleted ones absent.
pub async fn conversation_seqs_are_the_seqs_the_views_show(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let carol = user(&store, "carol").await;
    let (kept, _) = group_of(&store, alice, vec![bob]).await;
    let (left, _) = group_of(&store, alice, vec![bob, carol]).await;
    let (gone, _) = group_of(&store, alice, vec![bob]).await;
    let chat = direct(&store, alice, bob).await;
    send(&store, kept, alice, "one").await;
    send(&store, left, alice, "before bob left").await;
    store.remove_member(left, bob, bob, Timestamp::now()).await.unwrap();
    send(&store, left, alice, "after bob left").await;
    send(&store, chat, alice, "hi").await;
    store.clear_history(bob, chat, true).await.unwrap();
    store.delete_conversation(gone, alice, Timestamp::now()).await.unwrap();

    let mut seqs = store.conversation_seqs(bob).await.unwrap();
    seqs.sort_by_key(|entry| entry.id.0);
    let mut expected = Vec::new();
    for id in [kept, left, chat] {
        let view = store.conversation(bob, id).await.unwrap().unwrap();
        expected.push(ConversationSeq { id, last_seq: view.snapshot.last_seq, hidden: view.hidden });
    }
    expected.sort_by_key(|entry| entry.id.0);
    assert_eq!(seqs, expected);
    let former = seqs.iter().find(|entry| entry.id == left).unwrap();
    assert!(former.last_seq < store.conversation(alice, left).await.unwrap().unwrap().snapshot.last_seq, "capped");
    assert!(seqs.iter().any(|entry| entry.id == chat && entry.hidden));
    let listed: Vec<_> = store.list_conversations(bob).await.unwrap().into_iter().map(|v| v.snapshot.id).collect();
    let shown: Vec<_> = seqs.iter().filter(|entry| !entry.hidden).map(|entry| entry.id).collect();
    assert_eq!(listed.len(), shown.len());
    assert!(shown.iter().all(|id| listed.contains(id)));
    let stranger = user(&store, "stranger").await;
    assert!(store.conversation_seqs(stranger).await.unwrap().is_empty());
}
