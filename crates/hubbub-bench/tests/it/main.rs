//! Smoke tests: every scenario with tiny numbers against the floor, and against a real
//! Hubbub when `HUBBUB_BIN` points at one. Nothing here asserts a timing; only that the
//! tool runs end to end and that its accounting holds on a correct server.

use futures::StreamExt;
use hubbub_bench::bench::{self, Config, Scenario};
use hubbub_bench::client::{Api, WsAuth};
use hubbub_bench::report::RunReport;
use hubbub_bench::server::{Placement, Running, Target};
use hubbub_bench::stamp::{Stamp, scan_frame};
use std::path::PathBuf;
use std::time::Duration;

fn floor() -> Target {
    Target::Floor { exe: PathBuf::from(env!("CARGO_BIN_EXE_hubbub-bench")) }
}

fn hubbub() -> Option<Target> {
    match std::env::var_os("HUBBUB_BIN") {
        Some(p) if !p.is_empty() => Some(Target::Hubbub { bin: PathBuf::from(p), extra: vec![] }),
        _ => {
            eprintln!("note: HUBBUB_BIN is not set; skipping the smoke run against Hubbub");
            None
        }
    }
}

fn check_report(r: &RunReport, persisted: bool) {
    for t in &r.targets {
        assert!(t.errors.is_empty(), "{}: {:?}", t.target, t.errors);
        let s = t.startup.as_ref().expect("startup ran");
        assert_eq!(s.runs, 1);
        let idle = t.idle.as_ref().expect("idle ran");
        assert_eq!(idle.conns, 20);
        assert_eq!(idle.closed_early, 0, "{}: sockets closed while idle", t.target);
        assert!(idle.rss_after_kib > 0);
        let d = t.direct.as_ref().expect("direct ran");
        assert_eq!(d.steps.len(), 1);
        for step in d.steps.iter().chain(t.fanout.iter().flat_map(|f| f.steps.iter())) {
            assert_eq!(step.errors, 0, "{}: {:?}", t.target, step.first_error);
            let a = &step.accounting;
            assert!(a.lost == 0 && a.duplicates == 0, "{}: {a:?}", t.target);
            if t.target == "floor" {
                assert_eq!(a.out_of_order, 0, "floor: {a:?}");
            } else if a.out_of_order > 0 {
                // Hubbub publishes after commit from each request task, so overlapping sends can
                // reach sockets out of seq order (docs/PERFORMANCE.md, findings). Reported, not
                // asserted, so that this smoke test stays about the tool.
                eprintln!("note: {} delivered {} frames out of seq order", t.target, a.out_of_order);
            }
            assert_eq!(step.accounting.received, step.accounting.expected, "{}", t.target);
            assert!(step.latency.count > 0);
        }
        assert_eq!(t.fanout.len(), 1);
        assert_eq!(t.fanout[0].size, 5);
        assert!(!t.fanout[0].steps.is_empty());
        if persisted {
            assert_eq!(t.write.len(), 1);
            let w = &t.write[0];
            assert!(w.acked > 0 && w.errors == 0, "{w:?}");
            assert_eq!(w.lost, Some(0), "{w:?}");
            let h = t.history.as_ref().expect("history ran");
            assert!(h.complete, "{h:?}");
            assert!(h.pages >= 2);
        } else {
            assert!(t.write.is_empty() && t.history.is_none());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_every_scenario_against_the_floor() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = Config::smoke(vec![floor()]);
    cfg.results_dir = Some(dir.path().join("results"));
    cfg.charts_dir = Some(dir.path().join("perf"));
    let r = bench::run(&cfg).await.unwrap();
    check_report(&r, false);
    // Outputs exist and the JSON reads back.
    let json = std::fs::read_to_string(dir.path().join("results/latest.json")).unwrap();
    let back: RunReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back.targets.len(), 1);
    let svg = std::fs::read_to_string(dir.path().join("perf/fanout-5.svg")).unwrap();
    assert!(svg.contains("<svg"));
    assert!(dir.path().join("perf/idle-memory.svg").exists());
    let md = r.markdown();
    assert!(md.contains("RSS per idle connection") && md.contains("fanout 5"), "{md}");
    // The doc splice keeps everything around the section.
    let doc = dir.path().join("PERFORMANCE.md");
    std::fs::write(&doc, "# P\n\n## Server benchmarks\nintro\n\n## Other\nkeep\n").unwrap();
    hubbub_bench::doc::update(&doc, &r, &dir.path().join("perf")).unwrap();
    let text = std::fs::read_to_string(&doc).unwrap();
    assert!(text.starts_with("# P\n\n## Server benchmarks\nintro\n") && text.ends_with("## Other\nkeep\n"), "{text}");
    assert!(text.contains("fanout-5.svg"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_every_scenario_against_hubbub() {
    let Some(h) = hubbub() else { return };
    let mut cfg = Config::smoke(vec![h]);
    cfg.scenarios =
        vec![Scenario::Startup, Scenario::Idle, Scenario::Direct, Scenario::Fanout, Scenario::Write, Scenario::History];
    let r = bench::run(&cfg).await.unwrap();
    check_report(&r, true);
}

/// The contract details the generator relies on, checked on the floor (and on Hubbub when
/// present): a socket authenticated by bearer and one by ticket both receive a stamped
/// `message.created` that the scanner understands; no auth is refused before the upgrade.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_ws_auth_modes_receive_stamped_messages() {
    let mut targets = vec![floor()];
    targets.extend(hubbub());
    for t in targets {
        let s = Running::start(&t, Placement { server_cpu: None }).await.unwrap();
        let api = Api::new(&s.base).unwrap();
        let a = api.register("smoke_alice", "bench-password-1").await.unwrap();
        let b = api.register("smoke_bob", "bench-password-1").await.unwrap();
        assert!(api.register("smoke_alice", "bench-password-1").await.is_err(), "duplicate username accepted");
        let again = api.login("smoke_bob", "bench-password-1").await.unwrap();
        assert_eq!(again.user_id, b.user_id);
        let conv = api.direct(&a.token, &b.user_id).await.unwrap();
        assert_eq!(api.direct(&a.token, &b.user_id).await.unwrap(), conv, "two direct conversations for one pair");
        assert!(api.connect_ws("not-a-token", WsAuth::Bearer).await.is_err());
        let mut by_bearer = api.connect_ws(&b.token, WsAuth::Bearer).await.unwrap();
        let mut by_ticket = api.connect_ws(&again.token, WsAuth::Ticket).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let stamp = Stamp { step: 9, conv: 0, n: 0, sent_ns: 1 };
        let posted = api.post_message(&a.token, &conv, &stamp.encode()).await.unwrap();
        for ws in [&mut by_bearer, &mut by_ticket] {
            let d = tokio::time::timeout(Duration::from_secs(10), async {
                loop {
                    let m = ws.next().await.expect("socket open").expect("frame");
                    if let Some(d) = m.to_text().ok().and_then(|t| scan_frame(t.as_bytes())) {
                        return d;
                    }
                }
            })
            .await
            .expect("message delivered");
            assert_eq!(d.stamp, stamp, "{}", t.name());
            assert_eq!(d.seq, posted.seq, "{}", t.name());
        }
        s.stop().await;
    }
}
