use std::time::{Duration, Instant};

use hubbub_media::*;

use crate::{env, sample};

async fn refused(file: &str) -> MediaError {
    let env = env().await;
    let err = env.upload(file, MediaPurpose::Message).await.expect_err(file);
    assert!(env.all_files().is_empty(), "{file} left {:?}", env.all_files());
    assert!(env.media.list().await.unwrap().is_empty());
    err
}

#[tokio::test]
async fn empty_file_is_refused_with_422() {
    let err = refused("empty.jpg").await;
    assert!(matches!(err, MediaError::Empty), "{err:?}");
    assert_eq!(err.status_hint(), 422);
}

#[tokio::test]
async fn html_text_and_svg_are_refused_with_415() {
    for (file, label) in [("html-as.jpg", "HTML"), ("text-as.png", "text"), ("script.svg", "SVG")] {
        let err = refused(file).await;
        match &err {
            MediaError::UnsupportedType { detected } => assert_eq!(*detected, label, "{file}"),
            other => panic!("{file}: {other:?}"),
        }
        assert_eq!(err.status_hint(), 415);
        assert_eq!(err.code(), "unsupported_media_type");
    }
}

#[tokio::test]
async fn truncated_jpeg_is_refused_with_422() {
    let err = refused("truncated.jpg").await;
    assert!(matches!(err, MediaError::Undecodable(_)), "{err:?}");
    assert_eq!(err.status_hint(), 422);
}

#[tokio::test]
async fn bomb_is_refused_from_the_header_before_decoding() {
    let bytes = sample("bomb.png");
    // The probe alone refuses it: no pixel buffer is ever allocated.
    let err = hubbub_media::pipeline::probe(&bytes, &PipelineConfig::default()).unwrap_err();
    assert!(
        matches!(err, MediaError::TooManyPixels { width: 50_000, height: 50_000, max_pixels: 50_000_000 }),
        "{err:?}"
    );
    let started = Instant::now();
    let err = refused("bomb.png").await;
    assert!(matches!(err, MediaError::TooManyPixels { .. }), "{err:?}");
    assert_eq!(err.status_hint(), 422);
    // Decoding 2.5 gigapixels would take far longer (and 2.5 GB); this is only the header.
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[tokio::test]
async fn decoder_limits_stop_an_image_under_the_pixel_limit_but_over_the_memory_limit() {
    let env = env().await;
    let config = OptimizerConfig {
        pipeline: PipelineConfig { max_decoder_alloc: 1024 * 1024, ..PipelineConfig::default() },
        ..OptimizerConfig::default()
    };
    let media = ImageOptimizer::with_config(env.disk.clone(), config);
    let err = media.put(sample("photo-medium.jpg").into(), PutOptions::new(MediaPurpose::Avatar)).await.unwrap_err();
    assert_eq!(err.status_hint(), 422, "{err:?}");
    assert!(env.all_files().is_empty());
}

/// An endless body: counts how many chunks were pulled.
struct Endless {
    chunk: bytes::Bytes,
    pulled: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl futures_core::Stream for Endless {
    type Item = Result<bytes::Bytes, std::io::Error>;
    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.pulled.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        std::task::Poll::Ready(Some(Ok(self.chunk.clone())))
    }
}

#[tokio::test]
async fn upload_over_the_limit_is_refused_without_reading_the_rest() {
    let env = env().await;
    let pulled = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let body = Endless { chunk: bytes::Bytes::from(vec![0xFFu8; 64 * 1024]), pulled: pulled.clone() };
    let err = UploadSink::from_stream(env.media.staging_dir(), DEFAULT_UPLOAD_LIMIT, body).await.unwrap_err();
    assert!(matches!(err, MediaError::TooLarge { limit } if limit == 20 * 1024 * 1024), "{err:?}");
    assert_eq!(err.status_hint(), 413);
    // 320 chunks make exactly 20 MiB; the 321st is the one refused. Nothing after it is read.
    assert_eq!(pulled.load(std::sync::atomic::Ordering::SeqCst), 321);
    assert!(env.all_files().is_empty(), "{:?}", env.all_files());
}

#[tokio::test]
async fn a_failing_body_stream_is_a_400_and_leaves_nothing() {
    let env = env().await;
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = vec![
        Ok(bytes::Bytes::from_static(b"\xFF\xD8\xFF")),
        Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset")),
    ];
    let err = UploadSink::from_stream(env.media.staging_dir(), 1024, futures::stream::iter(chunks)).await.unwrap_err();
    assert!(matches!(err, MediaError::UploadAborted(_)), "{err:?}");
    assert_eq!(err.status_hint(), 400);
    assert!(env.all_files().is_empty());
}
