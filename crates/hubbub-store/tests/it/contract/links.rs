//! Link previews: attached to a message as a change of its own, their images as media uses.

use super::*;

fn preview(url: &str, image: Option<LinkImage>) -> NewLinkPreview {
    NewLinkPreview {
        url: url.to_owned(),
        title: "A title".into(),
        description: Some("What it is".into()),
        site_name: None,
        image,
    }
}

pub async fn a_link_preview_is_a_change_of_its_own_not_an_edit(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let chat = direct(&store, alice, bob).await;
    let sent = send(&store, chat, alice, "see https://example.com/a").await;
    assert_eq!(sent.link_preview, None);

    let image = Some(LinkImage::Fresh(photo("og.jpg")));
    let (message, committed) =
        store.set_link_preview(chat, sent.id, preview("https://example.com/a", image), Timestamp::now()).await.unwrap();
    let expected = LinkPreview {
        url: "https://example.com/a".into(),
        title: "A title".into(),
        description: Some("What it is".into()),
        site_name: None,
        image: Some(Photo { url: "/media/og.jpg".into(), width: 4, height: 3 }),
    };
    assert_eq!(message.link_preview.as_ref(), Some(&expected));
    assert_eq!((message.edited_at, message.seq, message.text.as_str()), (None, sent.seq, sent.text.as_str()));
    assert_eq!((committed.seq, kind(&committed)), (sent.seq + 1, "message.updated".to_owned()));
    assert_eq!(json(&committed)["data"]["link_preview"], serde_json::to_value(&expected).unwrap());
    assert!(json(&committed)["data"]["edited_at"].is_null(), "not an edit");
    assert_eq!(sorted(&committed.recipients), sorted(&[alice, bob]));

    let bobs = store.membership(bob, chat).await.unwrap().unwrap();
    let page = store.list_messages(bob, chat, bobs, HistoryCursor::Latest, 50).await.unwrap();
    assert_eq!(page.messages.last().unwrap().link_preview.as_ref(), Some(&expected), "in the history too");
    assert_eq!(
        store.media_uses("og.jpg").await.unwrap(),
        vec![MediaUse::MessagePhoto { conversation: chat, seq: sent.seq }]
    );
    assert_eq!(store.media_records().await.unwrap().len(), 1, "the image is recorded");

    // A re-optimised image keeps its use under its new name.
    let record = MediaRecord {
        media_name: "og.webp".into(),
        content_type: "image/webp".into(),
        size_bytes: 5,
        width: 8,
        height: 6,
        purpose: MediaPurpose::Message,
    };
    store.update_media("og.jpg", record).await.unwrap();
    let page = store.list_messages(bob, chat, bobs, HistoryCursor::Latest, 50).await.unwrap();
    let image = page.messages.last().unwrap().link_preview.clone().unwrap().image.unwrap();
    assert_eq!(image, Photo { url: "/media/og.webp".into(), width: 8, height: 6 });

    // A preview without an image, and unknown messages.
    let other = send(&store, chat, bob, "https://example.org").await;
    let (plain, _) =
        store.set_link_preview(chat, other.id, preview("https://example.org", None), Timestamp::now()).await.unwrap();
    assert_eq!(plain.link_preview.unwrap().image, None);
    for (conversation, message) in [(chat, MessageId::generate()), (ConversationId::generate(), other.id)] {
        assert!(matches!(
            store.set_link_preview(conversation, message, preview("https://example.org", None), Timestamp::now()).await,
            Err(StoreError::NotFound)
        ));
    }
}

pub async fn a_cached_preview_image_is_shared_and_checked(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let chat = direct(&store, alice, bob).await;
    let first = send(&store, chat, alice, "https://example.com").await;
    let second = send(&store, chat, bob, "https://example.com again").await;
    let fresh = Some(LinkImage::Fresh(photo("shared.jpg")));
    store.set_link_preview(chat, first.id, preview("https://example.com", fresh), Timestamp::now()).await.unwrap();
    let cached = Some(LinkImage::Cached(photo("shared.jpg")));
    store.set_link_preview(chat, second.id, preview("https://example.com", cached), Timestamp::now()).await.unwrap();
    assert_eq!(store.media_uses("shared.jpg").await.unwrap().len(), 2);

    // The first message's delete keeps the file (the second uses it); the second's frees it.
    let (_, gone) = store.delete_message(chat, first.id, Timestamp::now()).await.unwrap();
    assert_eq!(gone, Vec::<String>::new());
    let (_, gone) = store.delete_message(chat, second.id, Timestamp::now()).await.unwrap();
    assert_eq!(gone, ["shared.jpg"]);

    // A cached image whose record went is refused: its file may be gone.
    let third = send(&store, chat, alice, "https://example.com third").await;
    let cached = Some(LinkImage::Cached(photo("shared.jpg")));
    assert!(matches!(
        store.set_link_preview(chat, third.id, preview("https://example.com", cached), Timestamp::now()).await,
        Err(StoreError::NotFound)
    ));
    let listed = store.message_meta(chat, third.id).await.unwrap().unwrap();
    assert!(!listed.deleted);
    assert!(store.media_records().await.unwrap().is_empty(), "nothing was recorded by the refused write");
}

pub async fn a_deleted_message_loses_its_preview_and_its_image(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let chat = direct(&store, alice, bob).await;
    let mut new = text_message(chat, alice, "https://example.com", None);
    new.photo = Some(photo("own.jpg"));
    let sent = store.send_message(new).await.unwrap().message;
    let image = Some(LinkImage::Fresh(photo("og.jpg")));
    store.set_link_preview(chat, sent.id, preview("https://example.com", image), Timestamp::now()).await.unwrap();

    let (committed, mut gone) = store.delete_message(chat, sent.id, Timestamp::now()).await.unwrap();
    gone.sort();
    assert_eq!(gone, ["og.jpg", "own.jpg"], "both files lost their last use");
    assert!(json(&committed)["data"]["link_preview"].is_null());
    assert_eq!(store.media_uses("og.jpg").await.unwrap(), vec![]);
    assert!(store.media_records().await.unwrap().is_empty());

    // A preview that arrives after the delete is refused and records nothing.
    let image = Some(LinkImage::Fresh(photo("late.jpg")));
    assert!(matches!(
        store.set_link_preview(chat, sent.id, preview("https://example.com", image), Timestamp::now()).await,
        Err(StoreError::InvalidState(_))
    ));
    assert!(store.media_records().await.unwrap().is_empty());
}

pub async fn a_preview_is_taken_away_as_a_change_of_its_own(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let chat = direct(&store, alice, bob).await;
    let sent = send(&store, chat, alice, "see https://example.com/a").await;
    assert!(store.clear_link_preview(chat, sent.id, Timestamp::now()).await.unwrap().is_none(), "none to take");
    let image = Some(LinkImage::Fresh(photo("og.jpg")));
    let (_, set) =
        store.set_link_preview(chat, sent.id, preview("https://example.com/a", image), Timestamp::now()).await.unwrap();
    // A forwarded copy shares the image (as the forward use case attaches it).
    let copy = send(&store, chat, bob, "see https://example.com/a").await;
    let shared = store.message_content(chat, sent.id).await.unwrap().unwrap().link_preview.unwrap();
    store.set_link_preview(chat, copy.id, shared, Timestamp::now()).await.unwrap();

    let mut feed = store.commit_feed().expect("a fresh store hands out its feed");
    while feed.try_recv().is_ok() {}
    let cleared = store.clear_link_preview(chat, sent.id, Timestamp::now()).await.unwrap().unwrap();
    assert_eq!(feed.try_recv().expect("the change is fed").json, cleared.committed.json);
    assert_eq!(cleared.message.link_preview, None);
    assert_eq!(cleared.message.text, sent.text, "only the preview goes");
    assert_eq!(
        (cleared.committed.seq, kind(&cleared.committed)),
        (set.seq + 3, "message.updated".to_owned()),
        "after the copy and its preview"
    );
    assert!(json(&cleared.committed)["data"]["link_preview"].is_null());
    assert_eq!(sorted(&cleared.committed.recipients), sorted(&[alice, bob]));
    assert_eq!(cleared.unreferenced, None, "the copy still uses the image");
    let stored = store.committed_after(chat, cleared.committed.seq - 1, 10).await.unwrap();
    assert_eq!(stored.iter().map(|c| c.json.clone()).collect::<Vec<_>>(), vec![cleared.committed.json.clone()]);
    let bobs = store.membership(bob, chat).await.unwrap().unwrap();
    let page = store.list_messages(bob, chat, bobs, HistoryCursor::Latest, 50).await.unwrap();
    let first = page.messages.iter().find(|m| m.id == sent.id).unwrap();
    assert_eq!(first.link_preview, None, "gone from the history too");
    assert!(store.message_content(chat, sent.id).await.unwrap().unwrap().link_preview.is_none());
    assert!(store.clear_link_preview(chat, sent.id, Timestamp::now()).await.unwrap().is_none(), "twice: no change");

    let last = store.clear_link_preview(chat, copy.id, Timestamp::now()).await.unwrap().unwrap();
    assert_eq!(last.unreferenced.as_deref(), Some("og.jpg"), "its last use went");
    assert!(store.media_records().await.unwrap().is_empty());
    assert!(matches!(
        store.clear_link_preview(chat, MessageId::generate(), Timestamp::now()).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn a_messages_content_carries_its_preview_to_copy(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let chat = direct(&store, alice, bob).await;
    let sent = send(&store, chat, alice, "https://example.com/b").await;
    assert!(store.message_content(chat, sent.id).await.unwrap().unwrap().link_preview.is_none());
    let image = Some(LinkImage::Fresh(photo("b.jpg")));
    store.set_link_preview(chat, sent.id, preview("https://example.com/b", image), Timestamp::now()).await.unwrap();
    let content = store.message_content(chat, sent.id).await.unwrap().unwrap().link_preview.unwrap();
    assert_eq!(
        (content.url.as_str(), content.title.as_str(), content.description.as_deref(), content.site_name.as_deref()),
        ("https://example.com/b", "A title", Some("What it is"), None)
    );
    assert_eq!(content.image, Some(LinkImage::Cached(photo("b.jpg"))), "the same file, as recorded");
}
