//! Attached files: stored with their message, listed, replayed, shared by forwarded copies,
//! and let go of with the last message that uses them.

use super::*;

pub async fn a_file_is_stored_with_its_message_and_shared_by_forwarded_copies(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let chat = direct(&store, alice, bob).await;
    let (group, _) = group_of(&store, alice, vec![bob]).await;
    let mut new = text_message(chat, alice, "the report", None);
    new.file = Some(attached("f1.bin", "report \"final\" é.pdf"));
    let SendOutcome { message, committed, .. } = store.send_message(new).await.unwrap();
    let expected = Attachment {
        url: "/media/f1.bin".into(),
        name: "report \"final\" é.pdf".into(),
        size: 1234,
        content_type: "application/pdf".into(),
    };
    assert_eq!(message.file.as_ref(), Some(&expected));
    assert_eq!(message.photo, None);
    let event = json(&committed.unwrap());
    assert_eq!(event["data"]["file"]["name"], "report \"final\" é.pdf", "the event carries the file: {event}");
    assert_eq!(event["data"]["file"]["size"], 1234);

    // History, the stored content (what a forward copies) and the uses agree.
    let bobs = store.membership(bob, chat).await.unwrap().unwrap();
    let listed = store.list_messages(bob, chat, bobs, HistoryCursor::Latest, 10).await.unwrap().messages;
    assert_eq!(listed.last().unwrap().file.as_ref(), Some(&expected));
    let content = store.message_content(chat, message.id).await.unwrap().unwrap();
    assert_eq!(content.file, Some(attached("f1.bin", "report \"final\" é.pdf")));
    assert!(content.photo.is_none());
    let file_use = |conversation, seq| MediaUse::MessageFile {
        conversation,
        seq,
        file_name: "report \"final\" é.pdf".into(),
        content_type: "application/pdf".into(),
    };
    assert_eq!(store.media_uses("f1.bin").await.unwrap(), vec![file_use(chat, message.seq)]);

    // A forwarded copy shares the file under the same name; the record is kept once, and
    // is not a photo for `hubbub media optimize`.
    let mut copy = text_message(group, alice, "fwd", None);
    copy.file = content.file;
    copy.forwarded = true;
    let copy = store.send_message(copy).await.unwrap().message;
    assert_eq!(copy.file.as_ref(), Some(&expected));
    let uses = store.media_uses("f1.bin").await.unwrap();
    assert_eq!(uses.len(), 2, "{uses:?}");
    assert!(uses.contains(&file_use(group, copy.seq)));
    assert!(store.media_records().await.unwrap().iter().all(|r| r.media_name != "f1.bin"));
    // A plain message has none.
    assert_eq!(send(&store, chat, bob, "thanks").await.file, None);
}

pub async fn deleting_a_file_message_clears_it_and_frees_the_file_with_its_last_use(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let chat = direct(&store, alice, bob).await;
    let (group, _) = group_of(&store, alice, vec![bob]).await;
    let mut sends = Vec::new();
    for conversation in [chat, group] {
        let mut new = text_message(conversation, alice, "x", None);
        new.file = Some(attached("shared.bin", "a.zip"));
        sends.push(store.send_message(new).await.unwrap().message);
    }
    let (committed, orphan) = store.delete_message(chat, sends[0].id, Timestamp::now()).await.unwrap();
    assert_eq!(orphan, Vec::<String>::new(), "the forwarded copy still uses it");
    assert!(json(&committed)["data"]["file"].is_null(), "the tombstone carries no file");
    let mine = store.membership(alice, chat).await.unwrap().unwrap();
    let listed = store.list_messages(alice, chat, mine, HistoryCursor::Latest, 10).await.unwrap().messages;
    let tombstone = listed.iter().find(|m| m.id == sends[0].id).unwrap();
    assert!(tombstone.deleted && tombstone.file.is_none());
    assert!(store.message_content(chat, sends[0].id).await.unwrap().is_none());
    assert_eq!(store.media_uses("shared.bin").await.unwrap().len(), 1);

    let (_, orphan) = store.delete_message(group, sends[1].id, Timestamp::now()).await.unwrap();
    assert_eq!(orphan, vec!["shared.bin".to_owned()], "its last use gone: the caller deletes the file");
    assert_eq!(store.media_uses("shared.bin").await.unwrap(), vec![]);
}
