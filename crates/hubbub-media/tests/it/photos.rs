use hubbub_media::*;
use image::GenericImageView;

use crate::{contains, env, jpeg_metadata_markers, sample};

fn decode(bytes: &[u8]) -> image::DynamicImage {
    image::load_from_memory(bytes).unwrap()
}

/// Mean absolute difference per channel sample, 0–255.
fn mean_abs_diff(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let sum: u64 = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| u64::from(x.abs_diff(*y))).sum();
    sum as f64 / a.as_raw().len() as f64
}

#[tokio::test]
async fn every_orientation_comes_out_upright_and_the_same_size() {
    let env = env().await;
    let mut outputs = Vec::new();
    for n in 1..=8 {
        let stored = env.upload(&format!("orient-{n}.jpg"), MediaPurpose::Message).await.unwrap();
        assert_eq!((stored.width, stored.height), (Some(1200), Some(750)), "orient-{n}");
        assert_eq!(stored.content_type, "image/jpeg");
        let bytes = env.read(&stored.name).await;
        assert!(!contains(&bytes, b"Exif\0\0"), "orient-{n} output has EXIF");
        let img = decode(&bytes).to_rgb8();
        assert_eq!(img.dimensions(), (1200, 750), "orient-{n}");
        outputs.push(img);
    }
    // Absolute check against the upright original (orient-1 has Orientation 1), so a
    // pipeline that garbled every output the same way would still fail.
    let reference = decode(&sample("orient-1.jpg")).to_rgb8();
    for (i, img) in outputs.iter().enumerate() {
        let diff = mean_abs_diff(&reference, img);
        eprintln!("orient-{} vs upright original: {diff:.2}", i + 1);
        // q80 with 4:2:0 chroma on a detailed photo: ~5/255 from the re-encode alone.
        assert!(diff < 8.0, "orient-{} differs from the upright photo by {diff:.2}", i + 1);
        // Against orient-1's own output: two independent q80 encodes (block grids differ
        // once the pixels are flipped back), so about twice the noise of one.
        let vs_first = mean_abs_diff(&outputs[0], img);
        eprintln!("orient-{} vs orient-1 output: {vs_first:.2}", i + 1);
        assert!(vs_first < 8.0, "orient-{} differs from orient-1's output by {vs_first:.2}", i + 1);
    }
    // And the metric does tell orientations apart: the mirrored photo is far off.
    let mirrored = image::imageops::flip_horizontal(&reference);
    let wrong = mean_abs_diff(&reference, &mirrored);
    eprintln!("mirrored: {wrong:.2}");
    assert!(wrong > 15.0, "mirror only {wrong:.2} away: the check proves nothing");
    assert_eq!(env.all_files().len(), 8);
}

#[tokio::test]
async fn gps_and_camera_metadata_never_reach_the_output() {
    let env = env().await;
    let input = sample("gps-and-camera.jpg");
    assert!(contains(&input, b"ExampleCam"), "sample has the metadata we look for");
    for purpose in [MediaPurpose::Message, MediaPurpose::Avatar] {
        let stored = env.upload("gps-and-camera.jpg", purpose).await.unwrap();
        let bytes = env.read(&stored.name).await;
        for needle in [
            &b"ExampleCam"[..],
            b"Phone X1",
            b"owner@example.com",
            b"Exif\0\0",
            b"GPS",
            b"2026:05:01",
            b"Martin Klapetek",
            b"Photoshop",
            b"http://ns.adobe.com",
            b"ICC_PROFILE",
        ] {
            assert!(!contains(&bytes, needle), "{purpose:?}: found {:?}", String::from_utf8_lossy(needle));
        }
        assert_eq!(jpeg_metadata_markers(&bytes), Vec::<u8>::new());
        assert!(bytes.len() < input.len());
    }
    let stored = env.upload("gps-and-camera.jpg", MediaPurpose::Message).await.unwrap();
    assert_eq!((stored.width, stored.height), (Some(1600), Some(1000)));
}

#[tokio::test]
async fn large_photo_becomes_a_small_jpeg_for_both_purposes() {
    let env = env().await;
    let message = env.upload("photo-large.jpg", MediaPurpose::Message).await.unwrap();
    assert_eq!((message.width, message.height), (Some(1600), Some(900)));
    assert_eq!(message.content_type, "image/jpeg");
    assert!(message.name.as_str().ends_with(".jpg"));
    assert!(message.size <= 500_000, "message photo is {} bytes", message.size);
    let bytes = env.read(&message.name).await;
    assert_eq!(bytes.len() as u64, message.size);
    assert_eq!(ContentKind::sniff(&bytes).unwrap(), ContentKind::Jpeg);
    assert_eq!(jpeg_metadata_markers(&bytes), Vec::<u8>::new());
    assert!(!contains(&bytes, b"Exif\0\0"));
    assert_eq!(decode(&bytes).dimensions(), (1600, 900));

    let avatar = env.upload("photo-large.jpg", MediaPurpose::Avatar).await.unwrap();
    assert_eq!((avatar.width, avatar.height), (Some(640), Some(360)));
    assert!(avatar.size < message.size);
    assert_ne!(avatar.name, message.name);
    assert_eq!(env.all_files().len(), 2, "{:?}", env.all_files());
}

#[tokio::test]
async fn medium_photo_is_never_upscaled() {
    let env = env().await;
    let input_len = sample("photo-medium.jpg").len() as u64;
    let message = env.upload("photo-medium.jpg", MediaPurpose::Message).await.unwrap();
    assert_eq!((message.width, message.height), (Some(1200), Some(750)));
    assert!(message.size <= input_len);
    let bytes = env.read(&message.name).await;
    assert_eq!(decode(&bytes).dimensions(), (1200, 750));
    assert_eq!(jpeg_metadata_markers(&bytes), Vec::<u8>::new());
    let input = decode(&sample("photo-medium.jpg")).to_rgb8();
    let fidelity = mean_abs_diff(&input, &decode(&bytes).to_rgb8());
    assert!(fidelity < 3.0, "q80 output is {fidelity:.2}/255 off the input");

    let avatar = env.upload("photo-medium.jpg", MediaPurpose::Avatar).await.unwrap();
    assert_eq!((avatar.width, avatar.height), (Some(640), Some(400)));
    // Lanczos3 via fast_image_resize matches image's own Lanczos3 closely.
    let expected = image::imageops::resize(&input, 640, 400, image::imageops::FilterType::Lanczos3);
    let got = decode(&env.read(&avatar.name).await).to_rgb8();
    let diff = mean_abs_diff(&expected, &got);
    assert!(diff < 4.0, "avatar is {diff:.2}/255 off image's resize");
}

#[tokio::test]
async fn opaque_screenshot_png_becomes_a_smaller_jpeg() {
    let env = env().await;
    let input_len = sample("screenshot.png").len() as u64;
    let stored = env.upload("screenshot.png", MediaPurpose::Message).await.unwrap();
    assert_eq!((stored.width, stored.height), (Some(1000), Some(625)));
    assert_eq!(stored.content_type, "image/jpeg");
    assert!(stored.name.as_str().ends_with(".jpg"));
    assert!(stored.size < input_len / 2, "{} of {input_len}", stored.size);
    let bytes = env.read(&stored.name).await;
    assert_eq!(ContentKind::sniff(&bytes).unwrap(), ContentKind::Jpeg);
}

#[tokio::test]
async fn webp_is_never_bigger_and_type_matches_bytes() {
    let env = env().await;
    let input_len = sample("photo.webp").len() as u64;
    let stored = env.upload("photo.webp", MediaPurpose::Message).await.unwrap();
    assert_eq!((stored.width, stored.height), (Some(800), Some(500)));
    assert!(stored.size <= input_len, "{} > {input_len}", stored.size);
    let bytes = env.read(&stored.name).await;
    let kind = ContentKind::sniff(&bytes).unwrap();
    assert_eq!(kind.mime(), stored.content_type);
    assert_eq!(stored.name.kind(), Some(kind));
    assert_eq!(decode(&bytes).dimensions(), (800, 500));
    let avatar = env.upload("photo.webp", MediaPurpose::Avatar).await.unwrap();
    assert_eq!((avatar.width, avatar.height), (Some(640), Some(400)));
}

#[tokio::test]
async fn animated_gif_keeps_only_its_first_frame() {
    use image::AnimationDecoder;
    let env = env().await;
    let input_len = sample("animated.gif").len() as u64;
    let stored = env.upload("animated.gif", MediaPurpose::Message).await.unwrap();
    assert_eq!((stored.width, stored.height), (Some(64), Some(64)));
    assert!(stored.size <= input_len);
    let bytes = env.read(&stored.name).await;
    let kind = ContentKind::sniff(&bytes).unwrap();
    assert_eq!(kind.mime(), stored.content_type);
    if kind == ContentKind::Gif {
        let frames = image::codecs::gif::GifDecoder::new(std::io::Cursor::new(&bytes))
            .unwrap()
            .into_frames()
            .collect_frames()
            .unwrap();
        assert_eq!(frames.len(), 1, "only the first frame is stored");
    }
    let img = decode(&bytes).to_rgb8();
    let px = img.get_pixel(32, 32).0;
    assert!(px[0] > 200 && px[1] < 60 && px[2] < 60, "first frame is red, got {px:?}");
}

#[tokio::test]
async fn transparent_png_stays_lossless_png() {
    let env = env().await;
    let mut img = image::RgbaImage::from_pixel(900, 300, image::Rgba([0, 128, 255, 255]));
    for y in 0..300 {
        for x in 0..300 {
            img.put_pixel(x, y, image::Rgba([0, 0, 0, 0]));
        }
    }
    let mut png = Vec::new();
    image::DynamicImage::ImageRgba8(img)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let stored = env.media.put(png.into(), PutOptions::new(MediaPurpose::Avatar)).await.unwrap();
    assert_eq!(stored.content_type, "image/png");
    assert_eq!((stored.width, stored.height), (Some(640), Some(213)));
    let out = decode(&env.read(&stored.name).await).to_rgba8();
    assert_eq!(out.get_pixel(10, 10).0[3], 0, "transparent stays transparent");
    assert_eq!(out.get_pixel(600, 100).0, [0, 128, 255, 255]);
}

#[tokio::test]
async fn optimizer_runs_many_uploads_concurrently_within_its_limit() {
    let env = env().await;
    let media = std::sync::Arc::new(env.media.clone());
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let media = media.clone();
            tokio::spawn(async move {
                media.put(sample("photo.webp").into(), PutOptions::new(MediaPurpose::Avatar)).await.unwrap().name
            })
        })
        .collect();
    let mut names = std::collections::HashSet::new();
    for t in tasks {
        assert!(names.insert(t.await.unwrap()), "names are never reused");
    }
    assert_eq!(env.all_files().len(), 6);
}
