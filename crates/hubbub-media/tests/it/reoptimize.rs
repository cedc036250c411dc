use hubbub_media::*;

use crate::{env, sample};

#[tokio::test]
async fn old_large_avatar_is_replaced_in_place_and_then_left_alone() {
    let env = env().await;
    // An upload from before the pipeline: stored raw, metadata and all.
    let raw = env.disk.put(sample("gps-and-camera.jpg").into(), PutOptions::new(MediaPurpose::Avatar)).await.unwrap();
    assert!(raw.name.as_str().ends_with(".jpg"));

    let dry = env.media.reoptimize(&raw.name, MediaPurpose::Avatar, true).await.unwrap();
    assert!(dry.dry_run && dry.changed());
    assert_eq!(dry.outcome, ReoptimizeOutcome::Replaced);
    assert_eq!((dry.before.width, dry.before.height), (1600, 1000));
    assert_eq!((dry.after.width, dry.after.height), (640, 400));
    assert_eq!(env.disk.stat(&raw.name).await.unwrap().unwrap().len, raw.size, "dry run writes nothing");

    let done = env.media.reoptimize(&raw.name, MediaPurpose::Avatar, false).await.unwrap();
    assert_eq!(done.outcome, ReoptimizeOutcome::Replaced);
    assert_eq!(done.before.size, raw.size);
    assert!(done.after.size < raw.size / 4, "{} → {}", raw.size, done.after.size);
    assert_eq!(done.saved_bytes(), raw.size - done.after.size);
    assert_eq!(done.current_name(), &raw.name);
    let bytes = env.read(&raw.name).await;
    assert_eq!(bytes.len() as u64, done.after.size);
    assert!(!crate::contains(&bytes, b"ExampleCam"));
    assert_eq!(image::load_from_memory(&bytes).unwrap().width(), 640);

    // Running it again must not grind the photo down with another lossy pass.
    let again = env.media.reoptimize(&raw.name, MediaPurpose::Avatar, false).await.unwrap();
    eprintln!("{again:?}");
    assert_eq!(again.outcome, ReoptimizeOutcome::Unchanged);
    assert_eq!(env.read(&raw.name).await, bytes);
    assert_eq!(env.all_files().len(), 1);
}

#[tokio::test]
async fn type_change_goes_to_a_new_name_and_keeps_the_old_file() {
    let env = env().await;
    let raw = env.disk.put(sample("screenshot.png").into(), PutOptions::new(MediaPurpose::Message)).await.unwrap();
    let report = env.media.reoptimize(&raw.name, MediaPurpose::Message, false).await.unwrap();
    let ReoptimizeOutcome::StoredAsNew { new_name } = &report.outcome else {
        panic!("{report:?}");
    };
    assert!(new_name.as_str().ends_with(".jpg"));
    assert_eq!(report.after.kind, ContentKind::Jpeg);
    assert_eq!(report.before.kind, ContentKind::Png);
    assert!(env.disk.exists(&raw.name).await.unwrap(), "the caller deletes it after updating references");
    assert_eq!(env.disk.stat(new_name).await.unwrap().unwrap().len, report.after.size);
}

#[tokio::test]
async fn refused_files_are_errors_not_changes() {
    let env = env().await;
    let raw = env.disk.put(sample("html-as.jpg").into(), PutOptions::new(MediaPurpose::Message)).await.unwrap();
    let err = env.media.reoptimize(&raw.name, MediaPurpose::Message, false).await.unwrap_err();
    assert_eq!(err.status_hint(), 415);
    assert_eq!(env.all_files().len(), 1);
}
