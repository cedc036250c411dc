use crate::App;
use crate::error::AppResult;
use crate::ports::MediaRecord;

/// Every stored file the database references, for `hubbub media optimize`.
pub async fn records(app: &App) -> AppResult<Vec<MediaRecord>> {
    Ok(app.store.media_records().await?)
}

/// Records what re-optimising a file changed (and moves references to a new name).
pub async fn record(app: &App, old_name: &str, record: MediaRecord) -> AppResult<()> {
    Ok(app.store.update_media(old_name, record).await?)
}
