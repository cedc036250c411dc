//! Media bookkeeping: records of stored files and where each is used.

use super::*;

pub async fn media_records_list_every_recorded_file_once(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    assert!(store.media_records().await.unwrap().is_empty());
    store.set_user_photo(alice, Some(photo("face.jpg"))).await.unwrap();
    let (group, _) = group_of(&store, alice, vec![bob]).await;
    store.set_group_photo(group, Some(photo("group.jpg")), alice, Timestamp::now()).await.unwrap();
    let chat = direct(&store, alice, bob).await;
    for conversation in [chat, group] {
        let mut message = text_message(conversation, alice, "look", None);
        message.photo = Some(PhotoInput { size_bytes: 99, width: 40, height: 30, ..photo("shared.png") });
        message.photo.as_mut().unwrap().content_type = "image/png".into();
        store.send_message(message).await.unwrap();
    }
    let records: Vec<(String, String, u64, u32, u32, MediaPurpose)> = store
        .media_records()
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.media_name, r.content_type, r.size_bytes, r.width, r.height, r.purpose))
        .collect();
    let jpeg = |name: &str| (name.to_owned(), "image/jpeg".to_owned(), 10, 4, 3, MediaPurpose::Avatar);
    assert_eq!(
        records,
        vec![
            jpeg("face.jpg"),
            jpeg("group.jpg"),
            ("shared.png".to_owned(), "image/png".to_owned(), 99, 40, 30, MediaPurpose::Message),
        ],
        "in the order they were recorded; a file shared by copies once"
    );
}

pub async fn reoptimised_media_keeps_its_references(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let chat = direct(&store, alice, bob).await;
    store.set_user_photo(alice, Some(photo("face.jpg"))).await.unwrap();
    let mut message = text_message(chat, alice, "look", None);
    message.photo = Some(photo("big.jpg"));
    let sent = store.send_message(message).await.unwrap().message;
    let record = |name: &str, purpose| MediaRecord {
        media_name: name.to_owned(),
        content_type: "image/webp".into(),
        size_bytes: 7,
        width: 2,
        height: 1,
        purpose,
    };

    // Same name, new facts: the record and the message's dimensions follow.
    store.update_media("big.jpg", record("big.jpg", MediaPurpose::Message)).await.unwrap();
    let content = store.message_content(chat, sent.id).await.unwrap().unwrap().photo.unwrap();
    assert_eq!(
        (content.content_type.as_str(), content.size_bytes, content.width, content.height),
        ("image/webp", 7, 2, 1)
    );
    let mine = store.membership(alice, chat).await.unwrap().unwrap();
    let listed = store.list_messages(alice, chat, mine, HistoryCursor::Latest, 1).await.unwrap().messages;
    assert_eq!(listed[0].photo, Some(Photo { url: "/media/big.jpg".into(), width: 2, height: 1 }));

    // A new name: every reference moves with it.
    store.update_media("big.jpg", record("small.webp", MediaPurpose::Message)).await.unwrap();
    store.update_media("face.jpg", record("face.webp", MediaPurpose::Avatar)).await.unwrap();
    let listed = store.list_messages(alice, chat, mine, HistoryCursor::Latest, 1).await.unwrap().messages;
    assert_eq!(listed[0].photo.as_ref().map(|p| p.url.as_str()), Some("/media/small.webp"));
    assert_eq!(store.user(alice).await.unwrap().unwrap().photo_url.as_deref(), Some("/media/face.webp"));
    let names: Vec<(String, MediaPurpose)> =
        store.media_records().await.unwrap().into_iter().map(|r| (r.media_name, r.purpose)).collect();
    assert_eq!(
        names,
        [("face.webp".to_owned(), MediaPurpose::Avatar), ("small.webp".to_owned(), MediaPurpose::Message)],
        "renamed in place: the order of recording stays, the purpose too"
    );
    assert!(store.media_uses("big.jpg").await.unwrap().is_empty());
    assert!(matches!(
        store.update_media("nothing.jpg", record("x.webp", MediaPurpose::Avatar)).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn media_uses_name_every_place_a_file_is_used(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    store.set_user_photo(alice, Some(photo("face.jpg"))).await.unwrap();
    assert_eq!(store.media_uses("face.jpg").await.unwrap(), vec![MediaUse::UserPhoto]);

    let (group, _) = group_of(&store, alice, vec![bob]).await;
    store.set_group_photo(group, Some(photo("group.jpg")), alice, Timestamp::now()).await.unwrap();
    assert_eq!(store.media_uses("group.jpg").await.unwrap(), vec![MediaUse::GroupPhoto(group)]);
    store.remove_member(group, bob, bob, Timestamp::now()).await.unwrap();
    let uses = store.media_uses("group.jpg").await.unwrap();
    assert_eq!(uses.len(), 2, "{uses:?}");
    assert!(uses.contains(&MediaUse::GroupPhoto(group)));
    assert!(uses.contains(&MediaUse::FormerGroupPhoto { conversation: group, user: bob }));
    store.set_group_photo(group, None, alice, Timestamp::now()).await.unwrap();
    assert_eq!(
        store.media_uses("group.jpg").await.unwrap(),
        vec![MediaUse::FormerGroupPhoto { conversation: group, user: bob }]
    );

    // A re-optimised file keeps every use under its new name.
    let record = |name: &str| MediaRecord {
        media_name: name.to_owned(),
        content_type: "image/webp".into(),
        size_bytes: 5,
        width: 4,
        height: 3,
        purpose: MediaPurpose::Avatar,
    };
    store.update_media("group.jpg", record("group.webp")).await.unwrap();
    assert_eq!(store.media_uses("group.jpg").await.unwrap(), vec![]);
    assert_eq!(
        store.media_uses("group.webp").await.unwrap(),
        vec![MediaUse::FormerGroupPhoto { conversation: group, user: bob }]
    );

    let chat = direct(&store, alice, bob).await;
    let mut message = text_message(chat, alice, "look", None);
    message.photo = Some(photo("message.jpg"));
    let sent = store.send_message(message).await.unwrap().message;
    assert_eq!(
        store.media_uses("message.jpg").await.unwrap(),
        vec![MediaUse::MessagePhoto { conversation: chat, seq: sent.seq }]
    );
    assert_eq!(store.media_uses("nothing.jpg").await.unwrap(), vec![]);
    // A deleted message uses its file no more.
    store.delete_message(chat, sent.id, Timestamp::now()).await.unwrap();
    assert_eq!(store.media_uses("message.jpg").await.unwrap(), vec![]);
}
