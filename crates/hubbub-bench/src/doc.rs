//! Keeps the generated part of the "Server benchmarks" section of PERFORMANCE.md current,
//! touching nothing outside that section (other sections belong to other work).

use crate::report::RunReport;
use anyhow::{Result, bail};
use std::path::Path;

const HEADING: &str = "## Server benchmarks";
const BEGIN: &str = "<!-- bench:generated:begin (hubbub-bench run --doc rewrites this block) -->";
const END: &str = "<!-- bench:generated:end -->";

/// The generated block: machine, command, table, charts.
pub fn block(report: &RunReport, charts_rel: &str) -> String {
    let m = &report.machine;
    let mut s = String::new();
    s.push_str(BEGIN);
    s.push('\n');
    s.push_str(&format!(
        "Measured {} → {} with `{}`; {} cores, kernel {}, server on CPU {}, generator on CPU {} (taskset: {}), load average at start {}.\n\n",
        report.started_at,
        report.finished_at,
        report.command.split_whitespace().skip(1).collect::<Vec<_>>().join(" "),
        m.nproc,
        m.kernel,
        m.server_cpu.map(|c| c.to_string()).unwrap_or("any".into()),
        m.generator_cpu.map(|c| c.to_string()).unwrap_or("any".into()),
        m.taskset,
        m.load_avg_at_start
    ));
    s.push_str(&report.markdown());
    s.push('\n');
    let mut sizes: Vec<usize> = report.targets.iter().flat_map(|t| t.fanout.iter().map(|f| f.size)).collect();
    sizes.sort();
    sizes.dedup();
    for m in sizes {
        s.push_str(&format!("![fanout {m}]({charts_rel}/fanout-{m}.svg)\n"));
    }
    if report.targets.iter().any(|t| t.idle.is_some()) {
        s.push_str(&format!("![idle memory]({charts_rel}/idle-memory.svg)\n"));
    }
    for t in &report.targets {
        for e in &t.errors {
            s.push_str(&format!("\n- {} failed: `{}`\n", t.target, e.lines().next().unwrap_or("")));
        }
        for f in &t.fanout {
            if let Some(why) = &f.stopped_because {
                s.push_str(&format!("\n- {} {}: ramp stopped {why}\n", t.target, f.scenario));
            }
        }
    }
    s.push_str(END);
    s.push('\n');
    s
}

/// Replaces the generated block inside the section (or appends it at the section's end).
pub fn splice(doc: &str, block: &str) -> Result<String> {
    let Some(start) = doc.find(HEADING) else { bail!("no `{HEADING}` heading") };
    let body_start = start + doc[start..].find('\n').map(|i| i + 1).unwrap_or(doc.len() - start);
    let end = doc[body_start..].find("\n## ").map(|i| body_start + i + 1).unwrap_or(doc.len());
    let section = &doc[body_start..end];
    let new_section = match (section.find(BEGIN), section.find(END)) {
        (Some(b), Some(e)) if e > b => {
            let after = e + END.len() + section[e + END.len()..].starts_with('\n') as usize;
            format!("{}{block}{}", &section[..b], &section[after..])
        }
        _ => {
            let trimmed = section.trim_end_matches('\n');
            format!("{trimmed}{}{block}\n", if trimmed.is_empty() { "" } else { "\n\n" })
        }
    };
    Ok(format!("{}{new_section}{}", &doc[..body_start], &doc[end..]))
}

pub fn update(doc: &Path, report: &RunReport, charts_dir: &Path) -> Result<()> {
    // Charts are linked relative to the doc.
    let rel = match (doc.parent(), charts_dir.canonicalize(), doc.canonicalize()) {
        (Some(_), Ok(c), Ok(d)) => c
            .strip_prefix(d.parent().unwrap_or(Path::new("/")))
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| c.display().to_string()),
        _ => "perf".into(),
    };
    let text = std::fs::read_to_string(doc)?;
    std::fs::write(doc, splice(&text, &block(report, &rel))?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splice_only_touches_the_section() {
        let doc = "# P\n\n## Media\nmedia text\n\n## Server benchmarks\nmine\n\n## Idle\nother\n";
        let once = splice(doc, &format!("{BEGIN}\nA\n{END}\n")).unwrap();
        assert!(once.contains("## Media\nmedia text\n\n## Server benchmarks\nmine\n\n"));
        assert!(once.ends_with(&format!("{BEGIN}\nA\n{END}\n\n## Idle\nother\n")), "{once}");
        let twice = splice(&once, &format!("{BEGIN}\nB\n{END}\n")).unwrap();
        assert_eq!(twice, once.replace("\nA\n", "\nB\n"));
        // Last section of the file.
        let tail = splice("## Server benchmarks\n", &format!("{BEGIN}\nC\n{END}\n")).unwrap();
        assert_eq!(tail, format!("## Server benchmarks\n{BEGIN}\nC\n{END}\n\n"));
    }
}
