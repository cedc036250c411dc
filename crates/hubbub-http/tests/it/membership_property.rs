//! The membership property: for random sequences of joins, leaves, removals, role changes
//! and messages in a room, driven through the HTTP API,
//! - nobody ever sees a message sent while they were not a member (former members keep what
//!   they saw up to their leaving; someone who comes back starts over from their return), and
//!   every current member sees everything sent since they last joined;
//! - a room with members always has an owner or an admin (succession fills the top role).
//!
//! proptest draws the sequences and shrinks a failing one to a minimal case. The model of
//! who is in the room is built only from the server's answers (a 2xx moves it, a refusal
//! leaves it), and is checked against the member list the server reports after every step.

use crate::helpers::{TestApp, TestUser, spawn_app};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};

const PEOPLE: usize = 4;

#[derive(Clone, Debug)]
enum Step {
    Join(usize),
    Leave(usize),
    Remove { by: usize, whom: usize },
    Role { by: usize, whom: usize, role: &'static str },
    Send(usize),
}

fn step() -> impl Strategy<Value = Step> {
    let who = 0..PEOPLE;
    prop_oneof![
        1 => who.clone().prop_map(Step::Join),
        1 => who.clone().prop_map(Step::Leave),
        1 => (who.clone(), who.clone()).prop_map(|(by, whom)| Step::Remove { by, whom }),
        1 => (who.clone(), who.clone(), prop::sample::select(vec!["owner", "admin", "member"]))
            .prop_map(|(by, whom, role)| Step::Role { by, whom, role }),
        2 => who.prop_map(Step::Send),
    ]
}

/// What the test knows: who is in, and for each message who was in when it was sent.
struct Model {
    inside: [bool; PEOPLE],
    /// Message id → the people in the room when it was sent.
    sent: HashMap<String, [bool; PEOPLE]>,
    /// Per person, the messages sent since they last came in (while they stayed).
    since_joined: [HashSet<String>; PEOPLE],
}

async fn run(ops: Vec<Step>) {
    let app = spawn_app().await;
    let mut people = Vec::new();
    for i in 0..PEOPLE {
        people.push(app.register(&format!("person{i}")).await);
    }
    let created = app
        .post("/api/conversations", &people[0], json!({"kind": "channel", "name": "club", "visibility": "public"}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let room = created.body["id"].as_str().unwrap().to_owned();
    let mut model =
        Model { inside: [true, false, false, false], sent: HashMap::new(), since_joined: Default::default() };
    for (n, op) in ops.iter().enumerate() {
        apply(&app, &people, &room, &mut model, op).await;
        check_members(&app, &people, &room, &model, n, op).await;
    }
    check_history(&app, &people, &room, &model).await;
}

async fn apply(app: &TestApp, people: &[TestUser], room: &str, model: &mut Model, op: &Step) {
    let member_path = |whom: usize| format!("/api/conversations/{room}/members/{}", people[whom].id);
    match *op {
        Step::Join(who) => {
            let reply = app.post(&format!("/api/conversations/{room}/join"), &people[who], json!({})).await;
            if reply.status == StatusCode::OK && !model.inside[who] {
                model.inside[who] = true;
                model.since_joined[who].clear();
            }
        }
        Step::Leave(who) => {
            if app.delete(&member_path(who), &people[who]).await.status.is_success() {
                model.inside[who] = false;
            }
        }
        Step::Remove { by, whom } => {
            if app.delete(&member_path(whom), &people[by]).await.status.is_success() {
                model.inside[whom] = false;
            }
        }
        Step::Role { by, whom, role } => {
            let reply = app.put(&format!("{}/role", member_path(whom)), &people[by], json!({"role": role})).await;
            assert!(reply.status != StatusCode::INTERNAL_SERVER_ERROR, "{}", reply.body);
        }
        Step::Send(who) => {
            let reply = app
                .post(
                    &format!("/api/conversations/{room}/messages"),
                    &people[who],
                    json!({"text": "hello", "client_id": uuid::Uuid::new_v4()}),
                )
                .await;
            if reply.status == StatusCode::CREATED {
                assert!(model.inside[who], "someone outside the room posted in it");
                let id = reply.body["id"].as_str().unwrap().to_owned();
                model.sent.insert(id.clone(), model.inside);
                for (person, inside) in model.inside.iter().enumerate() {
                    if *inside {
                        model.since_joined[person].insert(id.clone());
                    }
                }
            } else {
                assert!(!model.inside[who], "a member could not post: {} {}", reply.status, reply.body);
            }
        }
    }
}

/// After every step: the server's member list is the model's, and has an owner or admin.
async fn check_members(app: &TestApp, people: &[TestUser], room: &str, model: &Model, n: usize, op: &Step) {
    let Some(viewer) = model.inside.iter().position(|inside| *inside) else {
        return;
    };
    let view = app.get(&format!("/api/conversations/{room}"), &people[viewer]).await;
    assert_eq!(view.status, StatusCode::OK, "{}", view.body);
    let members: Vec<(String, String)> = view.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["user"]["id"].as_str().unwrap().to_owned(), m["role"].as_str().unwrap().to_owned()))
        .collect();
    let expected: HashSet<&str> = (0..PEOPLE).filter(|p| model.inside[*p]).map(|p| people[p].id.as_str()).collect();
    let got: HashSet<&str> = members.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(got, expected, "members after step {n} ({op:?})");
    assert!(
        members.iter().any(|(_, role)| role == "owner" || role == "admin"),
        "no owner or admin after step {n} ({op:?}): {members:?}"
    );
}

/// At the end: each person's history holds only messages sent while they were in, and, for
/// those in the room now, everything sent since they last came in.
async fn check_history(app: &TestApp, people: &[TestUser], room: &str, model: &Model) {
    for (person, user) in people.iter().enumerate() {
        let reply = app.get(&format!("/api/conversations/{room}/messages?limit=100"), user).await;
        if reply.status == StatusCode::NOT_FOUND {
            assert!(!model.inside[person], "a member is refused the history");
            continue;
        }
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let seen: HashSet<String> = reply.body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m: &Value| m["id"].as_str().unwrap().to_owned())
            .collect();
        for id in &seen {
            let inside = model.sent.get(id).expect("a message the test sent");
            assert!(inside[person], "person{person} sees a message sent while they were out");
        }
        if model.inside[person] {
            let missing: Vec<_> = model.since_joined[person].difference(&seen).collect();
            assert!(missing.is_empty(), "person{person} misses messages of their stay: {missing:?}");
        }
    }
}

#[test]
fn nobody_sees_outside_their_membership_and_a_room_always_has_a_manager() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    // Each case is a fresh server and database: 24 sequences of up to 24 steps take a few
    // seconds on SQLite; on PostgreSQL (HUBBUB_TEST_DATABASE=postgres), where creating a
    // database per case is slow, 8 of them.
    let cases = if hubbub_store::testing::postgres_selected() { 8 } else { 24 };
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let result = runner.run(&prop::collection::vec(step(), 1..24), |ops| {
        runtime.block_on(run(ops));
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}
