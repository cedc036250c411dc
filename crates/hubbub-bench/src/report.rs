//! Result types (the JSON in `bench-results/`), the terminal table and the Markdown section.

use crate::stats::{Accounting, LatencySummary};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StepResult {
    pub rate: f64,
    pub duration_s: f64,
    pub sent: u64,
    pub acked: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    /// Acks per second over the step.
    pub send_rate: f64,
    pub deliveries_per_s: f64,
    /// Sender stamp to receiver socket.
    pub latency: LatencySummary,
    /// POST round trip.
    pub ack: LatencySummary,
    pub accounting: Accounting,
    pub pacing_lag_p99_ms: f64,
    pub loop_lag_p99_ms: f64,
    pub gen_cpu_cores: f64,
    pub server_cpu_cores: Option<f64>,
    /// Sends that had to wait for an in-flight slot: the server was not keeping up.
    pub backlogged: u64,
    pub drained: bool,
    pub drain_ms: f64,
    pub valid: bool,
    pub invalid_reasons: Vec<String>,
    /// The machine's 1-minute load average at the end of the step (others share the cores).
    #[serde(default)]
    pub load_avg_1m: f64,
    /// Frames other than our messages that the receivers got during the step.
    #[serde(default)]
    pub other_frames: u64,
    /// Fraction of the step the generator / server spent runnable but waiting for a CPU.
    #[serde(default)]
    pub gen_runqueue_wait: f64,
    #[serde(default)]
    pub server_runqueue_wait: Option<f64>,
    /// Nothing lost or duplicated, all sends acked, drained, p99 under the limit (the ramp
    /// continues while this holds; reordering alone does not stop it).
    #[serde(default)]
    pub keeps_up: bool,
    /// The generator itself was the limit (the ramp stops).
    #[serde(default)]
    pub generator_saturated: bool,
    pub pass: bool,
    pub fail_reasons: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RatesResult {
    pub scenario: String,
    /// Members of the group (fanout) or pairs (direct).
    pub size: usize,
    pub receivers: usize,
    pub senders: usize,
    pub connect_s: f64,
    /// Frames other than our messages received while connecting and settling (presence...).
    #[serde(default)]
    pub connect_other_frames: u64,
    pub steps: Vec<StepResult>,
    /// Highest rate that passed (valid, nothing lost/duplicated/reordered, p99 under the limit).
    pub best_rate: Option<f64>,
    /// Highest rate at which nothing was lost and p99 stayed under the limit (order ignored).
    #[serde(default)]
    pub best_rate_keeping_up: Option<f64>,
    pub stopped_because: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IdleResult {
    pub conns: usize,
    pub users: usize,
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
    pub bytes_per_conn: f64,
    /// (connections, server RSS KiB) after each batch.
    pub points: Vec<(usize, u64)>,
    pub closed_early: u64,
    pub connect_s: f64,
    pub fd_limit: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WriteResult {
    pub label: String,
    pub server_args: Vec<String>,
    pub senders: usize,
    pub conversations: usize,
    pub duration_s: f64,
    pub acked: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub msgs_per_s: f64,
    pub ack: LatencySummary,
    /// Messages found again by paging through every conversation afterwards.
    pub verified: Option<u64>,
    pub lost: Option<u64>,
    pub gen_cpu_cores: f64,
    pub server_cpu_cores: Option<f64>,
    pub valid: bool,
    pub invalid_reasons: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HistoryResult {
    pub messages: u64,
    pub fill_msgs_per_s: f64,
    pub page_limit: u32,
    pub passes: u32,
    pub pages: u64,
    pub pages_per_s: f64,
    pub msgs_per_s: f64,
    pub page: LatencySummary,
    pub complete: bool,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StartupResult {
    pub runs: usize,
    pub healthy_ms: Vec<f64>,
    pub median_ms: f64,
    pub idle_rss_kib: Vec<u64>,
    pub median_rss_kib: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TargetReport {
    pub target: String,
    pub program: Option<String>,
    pub startup: Option<StartupResult>,
    pub idle: Option<IdleResult>,
    pub direct: Option<RatesResult>,
    pub fanout: Vec<RatesResult>,
    pub write: Vec<WriteResult>,
    pub history: Option<HistoryResult>,
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Machine {
    pub nproc: usize,
    pub kernel: String,
    pub generator_cpu: Option<usize>,
    pub server_cpu: Option<usize>,
    pub taskset: bool,
    pub fd_limit: u64,
    pub load_avg_at_start: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunReport {
    pub tool: String,
    pub started_at: String,
    pub finished_at: String,
    pub command: String,
    pub machine: Machine,
    pub targets: Vec<TargetReport>,
}

fn f1(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

fn kib(x: u64) -> String {
    format!("{:.1} MiB", x as f64 / 1024.0)
}

fn ratio(h: Option<f64>, f: Option<f64>) -> String {
    match (h, f) {
        (Some(h), Some(f)) if f > 0.0 => format!("{:.2}×", h / f),
        _ => "–".into(),
    }
}

impl RunReport {
    fn target(&self, name: &str) -> Option<&TargetReport> {
        self.targets.iter().find(|t| t.target == name)
    }

    /// The side-by-side table as Markdown (also printed on the terminal).
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let names: Vec<&str> = self.targets.iter().map(|t| t.target.as_str()).collect();
        let (fl, hb) = (self.target("floor"), self.targets.iter().find(|t| t.target != "floor"));
        let ratio_col = fl.is_some() && hb.is_some();
        let mut header = format!("| | {} |", names.join(" | "));
        let mut sep = format!("|---|{}", "---|".repeat(names.len()));
        if ratio_col {
            header.push_str(&format!(" {}/floor |", hb.unwrap().target));
            sep.push_str("---|");
        }
        out.push_str(&header);
        out.push('\n');
        out.push_str(&sep);
        out.push('\n');
        let mut row = |label: &str, cell: &dyn Fn(&TargetReport) -> Option<(String, f64)>| {
            let cells: Vec<Option<(String, f64)>> = self.targets.iter().map(cell).collect();
            if cells.iter().all(Option::is_none) {
                return;
            }
            let mut line = format!("| {label} |");
            for c in &cells {
                line.push_str(&format!(" {} |", c.as_ref().map(|c| c.0.as_str()).unwrap_or("–")));
            }
            if ratio_col {
                let v = |t: Option<&TargetReport>| t.and_then(cell).map(|c| c.1);
                line.push_str(&format!(" {} |", ratio(v(hb), v(fl))));
            }
            out.push_str(&line);
            out.push('\n');
        };
        row("start to healthy (median)", &|t| {
            t.startup.as_ref().map(|s| (format!("{} ms", f1(s.median_ms)), s.median_ms))
        });
        row("idle RSS after start", &|t| t.startup.as_ref().map(|s| (kib(s.median_rss_kib), s.median_rss_kib as f64)));
        row("RSS per idle connection", &|t| {
            t.idle
                .as_ref()
                .map(|i| (format!("{:.1} KB ({} conns)", i.bytes_per_conn / 1000.0, i.conns), i.bytes_per_conn))
        });
        if let Some(d) = self.targets.iter().find_map(|t| t.direct.as_ref()) {
            for (k, step) in d.steps.iter().enumerate() {
                let label = format!("direct {} msg/s: p50 / p99 / max", step.rate);
                row(&label, &|t| {
                    let s = t.direct.as_ref()?.steps.get(k)?;
                    Some((step_cell(s), s.latency.p99_ms))
                });
            }
        }
        let sizes: Vec<usize> = {
            let mut v: Vec<usize> = self.targets.iter().flat_map(|t| t.fanout.iter().map(|f| f.size)).collect();
            v.sort();
            v.dedup();
            v
        };
        for m in sizes {
            let label = format!("fanout {m}: highest passing rate");
            row(&label, &|t| {
                let f = t.fanout.iter().find(|f| f.size == m)?;
                let best = f.best_rate.unwrap_or(0.0);
                let at = f.steps.iter().find(|s| s.rate == best);
                let txt = match at {
                    Some(s) => format!(
                        "{} msg/s ({} deliveries/s, p99 {} ms)",
                        best,
                        f1(s.deliveries_per_s),
                        f1(s.latency.p99_ms)
                    ),
                    None => "none passed".into(),
                };
                Some((txt, best))
            });
            let label = format!("fanout {m}: highest rate keeping up (order ignored)");
            row(&label, &|t| {
                let f = t.fanout.iter().find(|f| f.size == m)?;
                let best = f.best_rate_keeping_up.unwrap_or(0.0);
                let txt = match f.steps.iter().find(|s| s.rate == best) {
                    Some(s) => format!(
                        "{best} msg/s ({} deliveries/s, p99 {} ms)",
                        f1(s.deliveries_per_s),
                        f1(s.latency.p99_ms)
                    ),
                    None => "none".into(),
                };
                Some((txt, best))
            });
            let rates: Vec<f64> = {
                let mut v: Vec<f64> = self
                    .targets
                    .iter()
                    .flat_map(|t| t.fanout.iter().filter(|f| f.size == m))
                    .flat_map(|f| f.steps.iter().map(|s| s.rate))
                    .collect();
                v.sort_by(f64::total_cmp);
                v.dedup();
                v
            };
            for r in rates {
                let label = format!("fanout {m} @ {r} msg/s: p50 / p99 / max");
                row(&label, &|t| {
                    let s = t.fanout.iter().find(|f| f.size == m)?.steps.iter().find(|s| s.rate == r)?;
                    Some((step_cell(s), s.latency.p99_ms))
                });
            }
        }
        for label in ["default", "synchronous=FULL"] {
            row(&format!("write ({label}): msgs/s, ack p99"), &|t| {
                let w = t.write.iter().find(|w| w.label == label)?;
                let lost = match w.lost {
                    Some(0) => ", 0 lost".to_string(),
                    Some(n) => format!(", **{n} lost**"),
                    None => String::new(),
                };
                let inv = if w.valid { String::new() } else { format!(" (invalid: {})", w.invalid_reasons.join("; ")) };
                Some((format!("{} msg/s, p99 {} ms{lost}{inv}", f1(w.msgs_per_s), f1(w.ack.p99_ms)), w.msgs_per_s))
            });
        }
        row("history: pages/s, page p99", &|t| {
            let h = t.history.as_ref()?;
            Some((
                format!(
                    "{} pages/s ({} msgs/s), p99 {} ms, {} msgs",
                    f1(h.pages_per_s),
                    f1(h.msgs_per_s),
                    f1(h.page.p99_ms),
                    h.messages
                ),
                h.pages_per_s,
            ))
        });
        out
    }
}

fn step_cell(s: &StepResult) -> String {
    let mut c = format!("{} / {} / {} ms", f1(s.latency.p50_ms), f1(s.latency.p99_ms), f1(s.latency.max_ms));
    let a = &s.accounting;
    if !a.clean() {
        c.push_str(&format!(" (lost {}, dup {}, ooo {})", a.lost, a.duplicates, a.out_of_order));
    }
    if !s.valid {
        c.push_str(if s.generator_saturated {
            " (invalid: generator saturated)"
        } else {
            " (invalid: generator starved, machine busy)"
        });
    } else if !s.pass {
        c.push_str(" ✗");
    }
    c
}
