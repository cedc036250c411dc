//! Search: words match by prefix and without diacritics, only inside what the viewer may
//! see (membership windows, former ones included, cleared history, no deleted message or
//! conversation), an edit re-indexes and a delete leaves the index at once; filters and
//! paging by cursor, newest first.

use super::*;

fn query(viewer: UserId, q: &str) -> SearchQuery {
    SearchQuery {
        viewer,
        terms: hubbub_app::search::terms(q),
        conversation: None,
        sender: None,
        after: None,
        before: None,
        has_photo: false,
        cursor: None,
        limit: 50,
    }
}

async fn found(store: &Arc<dyn Store>, query: SearchQuery) -> Vec<MessageId> {
    store.search_messages(&query).await.unwrap().messages.into_iter().map(|m| m.id).collect()
}

async fn texts(store: &Arc<dyn Store>, viewer: UserId, q: &str) -> Vec<String> {
    store.search_messages(&query(viewer, q)).await.unwrap().messages.into_iter().map(|m| m.text).collect()
}

pub async fn search_matches_word_prefixes_without_diacritics(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let chat = direct(&store, alice, bob).await;
    send(&store, chat, alice, "Hello there").await;
    send(&store, chat, bob, "Meet at the Café Crème?").await;
    send(&store, chat, alice, "a seashell").await;
    send(&store, chat, bob, "naïve Ångström, hello again").await;

    assert_eq!(texts(&store, bob, "hel").await, vec!["naïve Ångström, hello again", "Hello there"], "newest first");
    assert_eq!(texts(&store, bob, "HELLO").await.len(), 2, "case does not matter");
    assert_eq!(texts(&store, bob, "cafe").await, vec!["Meet at the Café Crème?"]);
    assert_eq!(texts(&store, bob, "CRÈME café").await, vec!["Meet at the Café Crème?"]);
    assert_eq!(texts(&store, bob, "angstrom naive").await, vec!["naïve Ångström, hello again"]);
    assert_eq!(texts(&store, alice, "hello again").await.len(), 1, "every word must match");
    assert!(texts(&store, alice, "hello café").await.is_empty());
    assert!(texts(&store, alice, "shell").await.is_empty(), "a prefix of a word, not any part of it");
    assert_eq!(texts(&store, alice, "se").await, vec!["a seashell"], "two letters are a prefix too");
    // Query syntax of either backend is just text.
    for q in ["hello\" OR \"x", "hel* NOT there", "'hello':* | x", "hello & !there", "(hel"] {
        let found = texts(&store, alice, q).await;
        assert!(found.len() <= 2, "{q}: {found:?}");
    }
    let stranger = user(&store, "carol").await;
    assert!(texts(&store, stranger, "hello").await.is_empty(), "another conversation's messages are not found");
}

pub async fn search_keeps_to_the_viewers_membership_windows_and_cleared_history(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let carol = user(&store, "carol").await;
    let (group, _) = group_of(&store, alice, vec![bob]).await;
    let before_joining = send(&store, group, alice, "apple before carol").await;
    store.add_members(group, vec![carol], alice, Timestamp::now()).await.unwrap();
    let inside = send(&store, group, alice, "apple while carol is in").await;
    store.remove_member(group, carol, alice, Timestamp::now()).await.unwrap();
    let after_leaving = send(&store, group, alice, "apple after carol left").await;

    assert_eq!(found(&store, query(carol, "apple")).await, vec![inside.id], "a former member keeps their window");
    assert_eq!(
        found(&store, query(bob, "apple")).await,
        vec![after_leaving.id, inside.id, before_joining.id],
        "a member from the start sees all"
    );

    // Clearing the history hides what came before it, from that member only.
    store.clear_history(bob, group, false).await.unwrap();
    assert!(found(&store, query(bob, "apple")).await.is_empty());
    let later = send(&store, group, alice, "apple after the clear").await;
    assert_eq!(found(&store, query(bob, "apple")).await, vec![later.id]);
    assert_eq!(found(&store, query(alice, "apple")).await.len(), 4);

    // A user who never was a member finds nothing, even asking for the conversation.
    let dave = user(&store, "dave").await;
    let mut only_group = query(dave, "apple");
    only_group.conversation = Some(group);
    assert!(found(&store, only_group).await.is_empty());
}

pub async fn edits_reindex_and_deleted_messages_leave_the_index(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let chat = direct(&store, alice, bob).await;
    let message = send(&store, chat, alice, "the old wording").await;
    let kept = send(&store, chat, alice, "wording kept").await;

    let text = MessageText::parse("the new phrasing", 4096, false).unwrap();
    store.edit_message(chat, message.id, text, Mentions::default(), Timestamp::now()).await.unwrap();
    assert!(texts(&store, bob, "old").await.is_empty(), "the old word is gone");
    assert_eq!(texts(&store, bob, "phras").await, vec!["the new phrasing"]);
    assert_eq!(texts(&store, bob, "the").await, vec!["the new phrasing"], "a word the edit kept is still found");
    let text = MessageText::parse("the new phrasing, again", 4096, false).unwrap();
    store.edit_message(chat, message.id, text, Mentions::default(), Timestamp::now()).await.unwrap();
    assert_eq!(texts(&store, bob, "phrasing again").await, vec!["the new phrasing, again"]);
    assert_eq!(found(&store, query(bob, "wording")).await, vec![kept.id]);

    store.delete_message(chat, message.id, Timestamp::now()).await.unwrap();
    assert!(texts(&store, bob, "phrasing").await.is_empty(), "a deleted message is not found");
    assert!(texts(&store, bob, "the").await.is_empty());

    // A deleted conversation takes its messages out of every result.
    let (group, _) = group_of(&store, alice, vec![bob]).await;
    send(&store, group, alice, "wording in a group").await;
    assert_eq!(found(&store, query(bob, "wording")).await.len(), 2);
    store.delete_conversation(group, alice, Timestamp::now()).await.unwrap();
    assert_eq!(found(&store, query(bob, "wording")).await, vec![kept.id]);
}

pub async fn search_filters_by_conversation_sender_time_and_photo(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let chat = direct(&store, alice, bob).await;
    let (group, _) = group_of(&store, alice, vec![bob]).await;
    let at = |millis: i64| Timestamp::from_millis(1_800_000_000_000 + millis);
    let mut sent = Vec::new();
    for (i, (conversation, sender, with_photo)) in
        [(chat, alice, false), (chat, bob, true), (group, alice, true), (group, bob, false)].into_iter().enumerate()
    {
        let mut new = text_message(conversation, sender, &format!("report {i}"), None);
        new.now = at(i as i64 * 1000);
        if with_photo {
            new.photo = Some(photo(&format!("p{i}.jpg")));
        }
        sent.push(store.send_message(new).await.unwrap().message.id);
    }
    let all = found(&store, query(alice, "report")).await;
    assert_eq!(all, vec![sent[3], sent[2], sent[1], sent[0]]);

    let mut q = query(alice, "report");
    q.conversation = Some(group);
    assert_eq!(found(&store, q).await, vec![sent[3], sent[2]]);
    let mut q = query(alice, "report");
    q.sender = Some(bob);
    assert_eq!(found(&store, q).await, vec![sent[3], sent[1]]);
    let mut q = query(alice, "report");
    q.sender = Some(UserId::generate());
    assert!(found(&store, q).await.is_empty(), "an unknown sender sent nothing");
    let mut q = query(alice, "report");
    q.has_photo = true;
    assert_eq!(found(&store, q).await, vec![sent[2], sent[1]]);
    let mut q = query(alice, "report");
    q.after = Some(at(1000));
    q.before = Some(at(3000));
    assert_eq!(found(&store, q).await, vec![sent[2], sent[1]], "after is inclusive, before is not");
    let mut q = query(alice, "report");
    q.conversation = Some(chat);
    q.sender = Some(bob);
    q.has_photo = true;
    assert_eq!(found(&store, q).await, vec![sent[1]], "filters combine");
}

pub async fn search_pages_newest_first_by_cursor(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let chat = direct(&store, alice, bob).await;
    let (group, _) = group_of(&store, bob, vec![alice]).await;
    let mut sent = Vec::new();
    for i in 0..5 {
        let conversation = if i % 2 == 0 { chat } else { group };
        sent.push(send(&store, conversation, alice, &format!("page {i}")).await.id);
        send(&store, chat, alice, "noise").await;
    }
    sent.reverse();
    let mut q = query(bob, "page");
    q.limit = 2;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = store.search_messages(&q).await.unwrap();
        assert!(page.messages.len() <= 2);
        pages += 1;
        seen.extend(page.messages.iter().map(|m| m.id));
        match page.next {
            Some(next) => {
                let last = page.messages.last().unwrap();
                assert_eq!((next.message, next.created_at), (last.id, last.created_at));
                q.cursor = Some(next);
            }
            None => break,
        }
    }
    assert_eq!((seen, pages), (sent.clone(), 3), "every match once, newest first");

    // A full last page says there is no more.
    let mut q = query(bob, "page");
    q.limit = 5;
    assert!(store.search_messages(&q).await.unwrap().next.is_none());

    let mut q = query(bob, "page");
    q.cursor = Some(SearchCursor { created_at: Timestamp::now(), message: MessageId::generate() });
    assert!(matches!(store.search_messages(&q).await, Err(StoreError::UnknownReference("cursor"))));
}
