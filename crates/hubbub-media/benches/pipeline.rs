//! Pipeline benchmark over the shared sample photos (not a timed test).
//!
//! `cargo bench -p hubbub-media` — prints, per photo and target size, the median time of
//! our decode+orient+resize+encode path and of `image`'s own resize + JPEG encoder on the
//! same decoded pixels, plus bytes in → out. Medians of several runs, in one process, so
//! the ratios are comparable even on a shared machine.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use hubbub_media::MediaPurpose;
use hubbub_media::pipeline::{self, PipelineConfig, Pixels};

const SAMPLES: &[&str] = &[
    "photo-large.jpg",
    "photo-medium.jpg",
    "gps-and-camera.jpg",
    "orient-6.jpg",
    "screenshot.png",
    "photo.webp",
    "animated.gif",
];

fn median(f: &mut dyn FnMut(), iterations: usize) -> Duration {
    f(); // warm-up: page in the code and the allocator
    let mut times: Vec<Duration> = (0..iterations)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/media-samples");
    let config = PipelineConfig::default();
    let machine = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("hubbub-media pipeline benchmark ({machine} cores visible; medians)");
    println!();
    println!(
        "| photo | target | in → out (bytes) | out | ours: total ms | decode | resize | encode | image crate: resize+encode ms | resize | encode | total ratio | resize ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut totals = [(0usize, 0usize); 2];
    for name in SAMPLES {
        let input = std::fs::read(dir.join(name)).expect("sample");
        let big = input.len() > 2_000_000;
        let iterations = if big { 5 } else { 11 };
        for (slot, purpose) in [MediaPurpose::Message, MediaPurpose::Avatar].into_iter().enumerate() {
            // The whole pipeline as the server runs it.
            let out = pipeline::optimize(&input, purpose, &config).expect("optimize");
            totals[slot].0 += input.len();
            totals[slot].1 += out.bytes.len();
            let total = median(
                &mut || {
                    black_box(pipeline::optimize(black_box(&input), purpose, &config).unwrap());
                },
                iterations,
            );

            // Stage by stage, on the same input.
            let probe = pipeline::probe(&input, &config).unwrap();
            let decode = median(
                &mut || {
                    black_box(pipeline::decode(&input, &probe, &config).unwrap());
                },
                iterations,
            );
            let (image, _) = pipeline::decode(&input, &probe, &config).unwrap();
            let pixels = Pixels::from_image(image.clone());
            let target = pipeline::fit_within(pixels.width, pixels.height, purpose.max_side());
            let (tw, th) = target.unwrap_or((pixels.width, pixels.height));
            let fir_resize = match target {
                Some((w, h)) => median(
                    &mut || {
                        black_box(pipeline::resize(&pixels, w, h).unwrap());
                    },
                    iterations,
                ),
                None => Duration::ZERO,
            };
            let resized = match target {
                Some((w, h)) => pipeline::resize(&pixels, w, h).unwrap(),
                None => pixels.clone(),
            };
            let our_encode = match resized.layout {
                pipeline::Layout::Rgba => median(
                    &mut || {
                        black_box(pipeline::encode_png(&resized).unwrap());
                    },
                    iterations,
                ),
                _ => median(
                    &mut || {
                        black_box(pipeline::encode_jpeg(&resized, 80).unwrap());
                    },
                    iterations,
                ),
            };

            // `image`'s own path on the same decoded pixels: imageops Lanczos3 + its JPEG encoder.
            let rgb = image.to_rgb8();
            let img_resize = match target {
                Some(_) => median(
                    &mut || {
                        black_box(image::imageops::resize(&rgb, tw, th, image::imageops::FilterType::Lanczos3));
                    },
                    iterations,
                ),
                None => Duration::ZERO,
            };
            let img_resized = match target {
                Some(_) => image::imageops::resize(&rgb, tw, th, image::imageops::FilterType::Lanczos3),
                None => rgb.clone(),
            };
            let img_encode = median(
                &mut || {
                    let mut buf = Vec::new();
                    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, 80)
                        .encode_image(&img_resized)
                        .unwrap();
                    black_box(buf);
                },
                iterations,
            );
            let ours_work = fir_resize + our_encode;
            let theirs_work = img_resize + img_encode;
            let ratio = |a: Duration, b: Duration| {
                if a.is_zero() { "–".to_string() } else { format!("{:.1}×", b.as_secs_f64() / a.as_secs_f64()) }
            };
            println!(
                "| {name} | {} px | {} → {} | {}×{} {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                purpose.max_side(),
                input.len(),
                out.bytes.len(),
                out.width,
                out.height,
                out.kind.extension(),
                ms(total),
                ms(decode),
                ms(fir_resize),
                ms(our_encode),
                ms(decode + theirs_work),
                ms(img_resize),
                ms(img_encode),
                ratio(decode + ours_work, decode + theirs_work),
                ratio(fir_resize, img_resize),
            );
        }
    }
    println!();
    for (slot, label) in [(0, "message photos (1600 px)"), (1, "avatars (640 px)")] {
        let (i, o) = totals[slot];
        println!("all samples as {label}: {i} → {o} bytes ({:+.1}%)", (o as f64 / i as f64 - 1.0) * 100.0);
    }
}
