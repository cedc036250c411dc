use hubbub_media::*;

use crate::env;

#[tokio::test]
async fn put_open_range_stat_delete() {
    let env = env().await;
    let data: Vec<u8> = (0u8..=99).collect();
    let stored = env.disk.put(data.clone().into(), PutOptions::new(MediaPurpose::Message)).await.unwrap();
    assert!(stored.name.as_str().ends_with(".bin"), "unknown bytes get .bin");
    assert_eq!(stored.content_type, "application/octet-stream");
    assert_eq!(stored.size, 100);
    assert!(env.disk.exists(&stored.name).await.unwrap());
    assert_eq!(env.disk.stat(&stored.name).await.unwrap().unwrap().len, 100);

    let whole = env.disk.open(&stored.name, ByteRange::Full).await.unwrap();
    assert_eq!((whole.total_len, whole.content_length()), (100, 100));
    assert_eq!(whole.read_to_vec().await.unwrap(), data);

    let part = env.disk.open(&stored.name, ByteRange::Inclusive(10, 19)).await.unwrap();
    assert_eq!(part.content_range(), "bytes 10-19/100");
    assert_eq!(part.read_to_vec().await.unwrap(), (10u8..=19).collect::<Vec<_>>());
    let tail = env.disk.open(&stored.name, ByteRange::Suffix(3)).await.unwrap();
    assert_eq!(tail.read_to_vec().await.unwrap(), vec![97, 98, 99]);
    let from = env.disk.open(&stored.name, ByteRange::From(95)).await.unwrap();
    assert_eq!(from.read_to_vec().await.unwrap(), vec![95, 96, 97, 98, 99]);
    let err = env.disk.open(&stored.name, ByteRange::From(100)).await.unwrap_err();
    assert!(matches!(err, MediaError::RangeNotSatisfiable { len: 100 }));
    assert_eq!(err.status_hint(), 416);

    assert_eq!(env.disk.list().await.unwrap(), vec![stored.name.clone()]);
    assert!(env.disk.delete(&stored.name).await.unwrap());
    assert!(!env.disk.delete(&stored.name).await.unwrap(), "delete is idempotent");
    assert!(!env.disk.exists(&stored.name).await.unwrap());
    assert!(env.disk.stat(&stored.name).await.unwrap().is_none());
    assert!(matches!(env.disk.open(&stored.name, ByteRange::Full).await, Err(MediaError::NotFound)));
    assert!(env.all_files().is_empty());
}

#[tokio::test]
async fn puts_never_overwrite_and_names_are_fresh() {
    let env = env().await;
    let a = env.disk.put(b"same".to_vec().into(), PutOptions::new(MediaPurpose::Avatar)).await.unwrap();
    let b = env.disk.put(b"same".to_vec().into(), PutOptions::new(MediaPurpose::Avatar)).await.unwrap();
    assert_ne!(a.name, b.name);
    assert_eq!(env.disk.list().await.unwrap().len(), 2);
    // The no-clobber rename itself: persisting onto a taken name fails and keeps both.
    let taken = env.root.join(a.name.as_str());
    let tmp = tempfile::NamedTempFile::new_in(env.disk.staging_dir()).unwrap();
    let err = tmp.into_temp_path().persist_noclobber(&taken).unwrap_err();
    assert_eq!(err.error.kind(), std::io::ErrorKind::AlreadyExists);
    drop(err);
    assert_eq!(std::fs::read(&taken).unwrap(), b"same");
}

#[tokio::test]
async fn put_from_a_spooled_upload_moves_it_into_place() {
    let env = env().await;
    let upload = UploadSink::from_bytes(env.disk.staging_dir(), 1024, b"\xFF\xD8\xFFjpeg-ish").await.unwrap();
    let stored = env.disk.put(upload.into(), PutOptions::new(MediaPurpose::Message)).await.unwrap();
    assert!(stored.name.as_str().ends_with(".jpg"), "kind sniffed from bytes");
    let files = env.all_files();
    assert_eq!(files, vec![env.root.join(stored.name.as_str())], "temp file gone");
}

#[tokio::test]
async fn replace_is_atomic_and_only_for_existing_names() {
    let env = env().await;
    let stored = env.disk.put(b"old bytes".to_vec().into(), PutOptions::new(MediaPurpose::Avatar)).await.unwrap();
    let reader = env.disk.open(&stored.name, ByteRange::Full).await.unwrap();
    assert_eq!(env.disk.replace(&stored.name, b"new".to_vec().into()).await.unwrap(), 3);
    // A reader that opened before the replace still sees the old file whole.
    assert_eq!(reader.read_to_vec().await.unwrap(), b"old bytes");
    let now = env.disk.open(&stored.name, ByteRange::Full).await.unwrap();
    assert_eq!(now.read_to_vec().await.unwrap(), b"new");
    let missing = StoredName::generate(Some(ContentKind::Jpeg));
    assert!(matches!(env.disk.replace(&missing, b"x".to_vec().into()).await, Err(MediaError::NotFound)));
    assert_eq!(env.all_files().len(), 1);
}

#[tokio::test]
async fn hostile_names_cannot_escape_the_directory() {
    for bad in ["../secret", "..", ".staging", "a/b", "/etc/passwd", "x.jpg/.."] {
        assert!(matches!(StoredName::parse(bad), Err(MediaError::InvalidName)), "{bad}");
    }
}
