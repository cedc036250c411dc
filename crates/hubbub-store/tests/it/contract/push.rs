//! Web Push subscriptions, the audience of a message, and the durable outbox.

use super::*;

fn subscription(endpoint: &str) -> PushSubscription {
    PushSubscription { endpoint: endpoint.into(), p256dh: format!("key-{endpoint}"), auth: "auth".into() }
}

pub async fn push_subscriptions_are_kept_per_endpoint(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let now = Timestamp::now();
    store.save_push_subscription(alice, subscription("https://a/1"), now).await.unwrap();
    store.save_push_subscription(alice, subscription("https://a/2"), now).await.unwrap();
    // The same endpoint again: new keys, no second row.
    let renewed = PushSubscription { auth: "new".into(), ..subscription("https://a/1") };
    store.save_push_subscription(alice, renewed.clone(), now).await.unwrap();
    assert_eq!(store.push_subscriptions(alice).await.unwrap(), [renewed.clone(), subscription("https://a/2")]);
    // Signed in as someone else on that browser: the endpoint is theirs now.
    store.save_push_subscription(bob, subscription("https://a/2"), now).await.unwrap();
    assert_eq!(store.push_subscriptions(alice).await.unwrap(), [renewed]);
    assert_eq!(store.push_subscriptions(bob).await.unwrap(), [subscription("https://a/2")]);
    // Removing is the owner's; dropping (the service said gone) is anyone's.
    assert!(!store.delete_push_subscription(alice, "https://a/2").await.unwrap());
    assert!(store.delete_push_subscription(alice, "https://a/1").await.unwrap());
    assert!(!store.delete_push_subscription(alice, "https://a/1").await.unwrap());
    store.drop_push_subscription("https://a/2").await.unwrap();
    store.drop_push_subscription("https://a/unknown").await.unwrap();
    assert!(store.push_subscriptions(bob).await.unwrap().is_empty());
    let unknown = store.save_push_subscription(UserId::generate(), subscription("https://a/3"), now).await;
    assert!(matches!(unknown, Err(StoreError::NotFound)));
}

pub async fn the_push_audience_is_the_other_current_members_with_their_settings(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let carol = user(&store, "carol").await;
    let dave = user(&store, "dave").await;
    let (group, _) = group_of(&store, alice, vec![bob, carol, dave]).await;
    let now = Timestamp::now();
    let later = now.plus_millis(3_600_000);
    let mute =
        SettingsPatch { muted_until: Some(Some(later)), notify: Some(NotifyLevel::Mentions), ..Default::default() };
    store.update_settings(bob, group, mute, now).await.unwrap();
    store.set_blocked(carol, alice, true, now).await.unwrap();
    store.remove_member(group, dave, alice, now).await.unwrap();
    for (who, endpoint) in [(alice, "https://p/a"), (bob, "https://p/b"), (carol, "https://p/c"), (dave, "https://p/d")]
    {
        store.save_push_subscription(who, subscription(endpoint), now).await.unwrap();
    }
    let erin = user(&store, "erin").await;
    store.add_members(group, vec![erin], alice, now).await.unwrap();
    let audience = store.push_audience(group, alice).await.unwrap();
    assert_eq!(
        (audience.kind, audience.name.as_deref(), audience.sender_name.as_str()),
        (ConversationKind::Group, Some("g"), "alice")
    );
    assert_eq!(
        audience.members,
        [
            PushMember {
                user: bob,
                notify: Some(NotifyLevel::Mentions),
                muted_until: Some(later),
                blocks_sender: false
            },
            PushMember { user: carol, notify: None, muted_until: None, blocks_sender: true },
        ]
    );
    // Erin has no subscription: nothing to push to, not read at all.
    let chat = direct(&store, alice, bob).await;
    let audience = store.push_audience(chat, bob).await.unwrap();
    assert_eq!((audience.kind, audience.members.len()), (ConversationKind::Direct, 1));
    assert_eq!(audience.members[0].user, alice);
    assert!(matches!(store.push_audience(ConversationId::generate(), alice).await, Err(StoreError::NotFound)));
}

fn job(kind: &str, payload: &str, run_at: Timestamp) -> NewJob {
    NewJob { kind: kind.into(), payload: payload.into(), run_at }
}

pub async fn outbox_jobs_are_claimed_leased_retried_and_given_up(store: Arc<dyn Store>) {
    let t = Timestamp::now();
    let at = |ms: i64| t.plus_millis(ms);
    store.enqueue_jobs(vec![job("a", "1", at(0)), job("a", "2", at(0)), job("b", "3", at(0))]).await.unwrap();
    store.enqueue_jobs(vec![job("a", "later", at(10_000))]).await.unwrap();
    store.enqueue_jobs(Vec::new()).await.unwrap();
    // Due jobs of the kind, oldest first, up to the limit; attempts counted.
    let claimed = store.claim_jobs("a", at(0), at(1_000), 1).await.unwrap();
    assert_eq!(claimed.iter().map(|j| (j.payload.as_str(), j.attempts)).collect::<Vec<_>>(), [("1", 1)]);
    let rest = store.claim_jobs("a", at(0), at(1_000), 10).await.unwrap();
    assert_eq!(rest.iter().map(|j| j.payload.as_str()).collect::<Vec<_>>(), ["2"], "leased ones and later ones wait");
    assert_eq!(rest[0].kind, "a");
    // A lease that ran out makes the job claimable again (a node died mid-job).
    let again = store.claim_jobs("a", at(1_000), at(2_000), 10).await.unwrap();
    assert_eq!(again.iter().map(|j| (j.payload.as_str(), j.attempts)).collect::<Vec<_>>(), [("1", 2), ("2", 2)]);
    // Complete deletes; retry waits for its time; fail is never claimed again.
    store.complete_job(again[0].id).await.unwrap();
    store.complete_job(again[0].id).await.unwrap();
    store.retry_job(again[1].id, at(5_000)).await.unwrap();
    assert!(store.claim_jobs("a", at(4_000), at(4_500), 10).await.unwrap().is_empty());
    let retried = store.claim_jobs("a", at(5_000), at(6_000), 10).await.unwrap();
    assert_eq!(retried.iter().map(|j| (j.payload.as_str(), j.attempts)).collect::<Vec<_>>(), [("2", 3)]);
    store.fail_job(retried[0].id, at(5_000)).await.unwrap();
    let late = store.claim_jobs("a", at(20_000), at(21_000), 10).await.unwrap();
    assert_eq!(late.iter().map(|j| j.payload.as_str()).collect::<Vec<_>>(), ["later"]);
    let b = store.claim_jobs("b", at(0), at(1_000), 10).await.unwrap();
    assert_eq!(b.iter().map(|j| j.payload.as_str()).collect::<Vec<_>>(), ["3"]);
}

pub async fn racing_claims_never_share_a_job(store: Arc<dyn Store>) {
    let t = Timestamp::now();
    let jobs = (0..40).map(|i| job("race", &i.to_string(), t)).collect();
    store.enqueue_jobs(jobs).await.unwrap();
    let mut claims = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        claims.push(tokio::spawn(async move { store.claim_jobs("race", t, t.plus_millis(60_000), 7).await.unwrap() }));
    }
    let mut payloads = Vec::new();
    for claim in claims {
        payloads.extend(claim.await.unwrap().into_iter().map(|j| j.payload));
    }
    payloads.sort_by_key(|p| p.parse::<i32>().unwrap());
    let expected: Vec<String> = (0..40).map(|i| i.to_string()).collect();
    assert_eq!(payloads, expected, "every job claimed exactly once");
}

pub async fn a_sends_job_is_stored_with_the_message_and_only_then(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let stranger = user(&store, "stranger").await;
    let chat = direct(&store, alice, bob).await;
    let with_job = |sender, text: &str, client_id| NewMessage {
        outbox: Some(job("send-test", text, Timestamp::now())),
        ..text_message(chat, sender, text, client_id)
    };
    store.send_message(with_job(alice, "first", Some("c1"))).await.unwrap();
    // A retry of the same client_id stores nothing, the job neither; a refused send neither.
    let retry = store.send_message(with_job(alice, "again", Some("c1"))).await.unwrap();
    assert!(retry.committed.is_none());
    assert!(store.send_message(with_job(stranger, "refused", None)).await.is_err());
    store.send_message(text_message(chat, bob, "no job", None)).await.unwrap();
    let now = Timestamp::now();
    let jobs = store.claim_jobs("send-test", now, now.plus_millis(1_000), 10).await.unwrap();
    assert_eq!(jobs.iter().map(|j| j.payload.as_str()).collect::<Vec<_>>(), ["first"]);
}
