use crate::App;
use crate::error::AppResult;
use crate::ports::MediaRecord;

/// Every stored file the database references, for `hubbub media optimize`.
pub async fn records(app: &App) -> AppResult<Vec<MediaRecord>> {
    Ok(app.store.media_records().await?)
}

/// Records what re-optimising a file changed. When it was stored under a new name, every
/// reference moves to it in one transaction, and only then is the old file deleted.
pub async fn record(app: &App, old_name: &str, record: MediaRecord) -> AppResult<()> {
    let renamed = record.media_name != old_name;
    app.store.update_media(old_name, record).await?;
    if renamed {
        super::delete_unreferenced(app, [old_name.to_owned()]).await;
    }
    Ok(())
}
