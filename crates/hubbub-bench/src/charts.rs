//! SVG charts for `docs/PERFORMANCE.md`: latency percentiles vs rate, memory vs connections.

use crate::report::RunReport;
use anyhow::Result;
use plotters::prelude::*;
use std::path::Path;

/// (colour index, target name, points) for one line group.
type Series<P> = Vec<(usize, String, Vec<P>)>;

fn color(i: usize) -> RGBColor {
    [RGBColor(90, 90, 90), RGBColor(214, 39, 40), RGBColor(31, 119, 180), RGBColor(44, 160, 44)][i % 4]
}

/// Writes every chart the report has data for; returns the file names written.
pub fn draw_all(report: &RunReport, dir: &Path) -> Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    let mut sizes: Vec<usize> = report.targets.iter().flat_map(|t| t.fanout.iter().map(|f| f.size)).collect();
    sizes.sort();
    sizes.dedup();
    for m in sizes {
        let name = format!("fanout-{m}.svg");
        fanout_chart(report, m, &dir.join(&name))?;
        written.push(name);
    }
    if report.targets.iter().any(|t| t.idle.is_some()) {
        idle_chart(report, &dir.join("idle-memory.svg"))?;
        written.push("idle-memory.svg".into());
    }
    Ok(written)
}

fn fanout_chart(report: &RunReport, m: usize, path: &Path) -> Result<()> {
    // (target index, name, [(rate, p50, p99)]) for the valid steps only: invalid ones measure the generator.
    let series: Series<(f64, f64, f64, bool)> = report
        .targets
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            let f = t.fanout.iter().find(|f| f.size == m)?;
            let pts = f
                .steps
                .iter()
                .filter(|s| s.latency.count > 0)
                .map(|s| (s.rate, s.latency.p50_ms.max(0.001), s.latency.p99_ms.max(0.001), s.valid))
                .collect();
            Some((i, t.target.clone(), pts))
        })
        .collect();
    let all = series.iter().flat_map(|s| s.2.iter());
    let (mut xmax, mut ymin, mut ymax) = (10.0f64, 1.0f64, 10.0f64);
    for &(r, p50, p99, _) in all {
        xmax = xmax.max(r * 1.5);
        ymin = ymin.min(p50 * 0.7);
        ymax = ymax.max(p99 * 1.5);
    }
    let root = SVGBackend::new(path, (820, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("Fanout to a {m}-member group: delivery latency vs send rate (hollow: invalid step)"),
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(64)
        .build_cartesian_2d((0.8f64..xmax).log_scale(), (ymin..ymax).log_scale())?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(238, 238, 238))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| if *y >= 1.0 { format!("{y:.0}") } else { format!("{y:.2}") })
        .x_desc("messages/s sent to the group (log)")
        .y_desc("latency, ms (log)")
        .draw()?;
    for (i, name, pts) in &series {
        let c = color(*i);
        chart
            .draw_series(LineSeries::new(pts.iter().map(|p| (p.0, p.2)), c.stroke_width(2)))?
            .label(format!("{name} p99"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
        // Hollow markers: steps marked invalid (the generator, not the server, was the limit).
        chart.draw_series(
            pts.iter().map(|p| Circle::new((p.0, p.2), 3, if p.3 { c.filled() } else { c.stroke_width(1) })),
        )?;
        chart
            .draw_series(LineSeries::new(pts.iter().map(|p| (p.0, p.1)), c.mix(0.5).stroke_width(1)))?
            .label(format!("{name} p50"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.mix(0.5).stroke_width(1)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

fn idle_chart(report: &RunReport, path: &Path) -> Result<()> {
    let series: Series<(f64, f64)> = report
        .targets
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            let idle = t.idle.as_ref()?;
            Some((i, t.target.clone(), idle.points.iter().map(|&(c, k)| (c as f64, k as f64 / 1024.0)).collect()))
        })
        .collect();
    let xmax = series.iter().flat_map(|s| s.2.iter().map(|p| p.0)).fold(10.0, f64::max);
    let ymax = series.iter().flat_map(|s| s.2.iter().map(|p| p.1)).fold(1.0, f64::max) * 1.15;
    let root = SVGBackend::new(path, (820, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Server RSS vs idle authenticated WebSocket connections", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..xmax, 0f64..ymax)?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(238, 238, 238))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .x_desc("open connections")
        .y_desc("server RSS, MiB")
        .draw()?;
    for (i, name, pts) in &series {
        let c = color(*i);
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))?
            .label(name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, c.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
