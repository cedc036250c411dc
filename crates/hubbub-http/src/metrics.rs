//! `/metrics` in Prometheus' text format. Hand-written: a few counters need no library.

use crate::AppState;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct Metrics {
    /// Responses by status class: 1xx..5xx.
    responses: [AtomicU64; 5],
}

pub async fn count_requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let class = (response.status().as_u16() / 100).clamp(1, 5) as usize - 1;
    state.metrics.responses[class].fetch_add(1, Ordering::Relaxed);
    response
}

pub async fn render(State(state): State<AppState>) -> impl IntoResponse {
    let stats = state.app.hub.stats();
    let mut out = String::with_capacity(1024);
    let gauge = |out: &mut String, name: &str, help: &str, kind: &str, value: u64| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
    };
    gauge(
        &mut out,
        "hubbub_ws_connections",
        "Live WebSocket connections on this node.",
        "gauge",
        stats.connections.load(Ordering::Relaxed),
    );
    gauge(
        &mut out,
        "hubbub_ws_deliveries_total",
        "Events queued to sockets.",
        "counter",
        stats.deliveries.load(Ordering::Relaxed),
    );
    gauge(
        &mut out,
        "hubbub_ws_slow_consumers_closed_total",
        "Sockets closed because their queue was full.",
        "counter",
        stats.slow_consumers_closed.load(Ordering::Relaxed),
    );
    gauge(
        &mut out,
        "hubbub_ws_too_many_connections_refused_total",
        "Sockets refused because their user already held the most allowed.",
        "counter",
        stats.too_many_connections_refused.load(Ordering::Relaxed),
    );
    let _ = writeln!(
        out,
        "# HELP hubbub_http_responses_total API responses by status class.\n# TYPE hubbub_http_responses_total counter"
    );
    for (i, counter) in state.metrics.responses.iter().enumerate() {
        let _ =
            writeln!(out, "hubbub_http_responses_total{{class=\"{}xx\"}} {}", i + 1, counter.load(Ordering::Relaxed));
    }
    if let Some(rss) = resident_bytes() {
        gauge(&mut out, "process_resident_memory_bytes", "Resident memory.", "gauge", rss);
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out)
}

fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
