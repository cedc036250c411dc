//! Photos: uploads through the media pipeline, and `GET /media/{name}` (photos and attached
//! files, `files.rs`) with access checks.
//!
//! An upload is streamed field by field into a temp file with a hard size limit (it is
//! never held in memory whole), checked against the caller's rights *before* any decoding,
//! then handed to the `ImageOptimizer`, which decodes, orients, strips metadata, resizes
//! and stores it under a fresh random name. Only then does the use case reference it, in
//! one transaction with the file's record. The file's life from there on is the use case's:
//! if it refuses, it deletes the file; if a reference is dropped (message deleted, photo
//! replaced) and nothing else refers to the file, it deletes it after the commit (both
//! through the `MediaFiles` port). The handlers here only extract, call and map.

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, Auth};
use crate::files::FileUpload;
use axum::Json;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hubbub_app::ports::{Actor, PhotoInput};
use hubbub_app::usecases::media::read::Disposition;
use hubbub_app::usecases::{conversation, media as media_usecases, message, message::send::SendInput, user};
use hubbub_domain::{Conversation, ConversationId, MessageId, User};
use hubbub_media::storage::{ByteRange, FileStorage, PutSource};
use hubbub_media::{ImageOptimizer, MediaError, MediaPurpose, StoredName, UploadSink};
use std::sync::Arc;

/// The contract's upload limit.
pub const UPLOAD_LIMIT_BYTES: usize = 20 * 1024 * 1024;
/// The text fields of a photo message are small; anything bigger is not a caption.
const TEXT_FIELD_LIMIT: usize = 64 * 1024;

/// The media adapter: the optimizer around the storage it writes to.
#[derive(Clone)]
pub struct MediaState {
    pub storage: Arc<dyn FileStorage>,
    pub optimizer: Arc<ImageOptimizer>,
}

impl MediaState {
    pub fn new(storage: Arc<dyn FileStorage>) -> Self {
        let optimizer = Arc::new(ImageOptimizer::new(storage.clone()));
        Self { storage, optimizer }
    }
}

pub(crate) fn media_error(error: MediaError) -> ApiError {
    let status = StatusCode::from_u16(error.status_hint()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match status {
        StatusCode::UNPROCESSABLE_ENTITY => ApiError::validation("photo", error.to_string()),
        StatusCode::NOT_FOUND => ApiError::not_found("file not found"),
        // The disk is full: say so (an operator must act, a client may retry later), and
        // log the cause; the upload's temp files are already gone.
        StatusCode::SERVICE_UNAVAILABLE => ApiError {
            cause: Some(format!(
                "{error}: {}",
                std::error::Error::source(&error).map(|e| e.to_string()).unwrap_or_default()
            )),
            ..ApiError::new(status, "the server has no room for photos right now; try again later")
        },
        status if status.is_server_error() => ApiError::internal(error.to_string()),
        status => ApiError::new(status, error.to_string()),
    }
}

/// Upload routes take only multipart bodies. Checked before any access check or reading,
/// like the JSON routes' Content-Type: a wrong media type is 415, not a parse error.
fn require_multipart(request: &axum::extract::Request) -> ApiResult<()> {
    if crate::extract::media_type(request.headers()).as_deref() == Some("multipart/form-data") {
        Ok(())
    } else {
        Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "expected Content-Type: multipart/form-data"))
    }
}

fn media_of(state: &AppState) -> ApiResult<&MediaState> {
    state
        .media
        .as_ref()
        .ok_or_else(|| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "photo storage is not configured"))
}

/// A parsed upload form: the photo or file spooled to disk and the small text fields.
struct UploadForm {
    photo: Option<hubbub_media::TempUpload>,
    file: Option<FileUpload>,
    text: Option<String>,
    reply_to: Option<String>,
    client_id: Option<String>,
}

async fn read_form(media: &MediaState, request: axum::extract::Request, text_fields: bool) -> ApiResult<UploadForm> {
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("expected multipart/form-data: {e}")))?;
    let mut form = UploadForm { photo: None, file: None, text: None, reply_to: None, client_id: None };
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "the upload is larger than 20 MiB"));
            }
            Err(e) => return Err(ApiError::bad_request(format!("malformed multipart body: {e}"))),
        };
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "photo" => {
                if form.photo.is_some() {
                    return Err(ApiError::validation("photo", "send one photo per request"));
                }
                form.photo = Some(spool(media, field).await?);
            }
            // Files are message attachments only (not profile or group photos).
            "file" if text_fields => {
                if form.file.is_some() {
                    return Err(ApiError::validation("file", "send one file per request"));
                }
                let file_name = field.file_name().map(str::to_owned);
                let content_type = field.content_type().map(str::to_owned);
                form.file = Some(FileUpload { upload: spool(media, field).await?, file_name, content_type });
            }
            "text" | "reply_to" | "client_id" if text_fields => {
                let value = read_text(field).await?;
                match name.as_str() {
                    "text" => form.text = Some(value),
                    "reply_to" => form.reply_to = Some(value),
                    _ => form.client_id = Some(value),
                }
            }
            other => return Err(ApiError::validation("body", format!("unexpected form field `{other}`"))),
        }
    }
    Ok(form)
}

/// Streams one field into a temp file, stopping at the limit without reading the rest.
async fn spool(
    media: &MediaState,
    mut field: axum::extract::multipart::Field<'_>,
) -> ApiResult<hubbub_media::TempUpload> {
    let mut sink =
        UploadSink::create(media.storage.staging_dir(), UPLOAD_LIMIT_BYTES as u64).await.map_err(media_error)?;
    loop {
        match field.chunk().await {
            Ok(Some(chunk)) => sink.write(&chunk).await.map_err(media_error)?,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "the upload is larger than 20 MiB"));
            }
            Err(e) => return Err(ApiError::bad_request(format!("the upload was interrupted: {e}"))),
        }
    }
    sink.finish().await.map_err(media_error)
}

async fn read_text(mut field: axum::extract::multipart::Field<'_>) -> ApiResult<String> {
    let mut bytes = Vec::new();
    while let Some(chunk) =
        field.chunk().await.map_err(|e| ApiError::bad_request(format!("malformed multipart body: {e}")))?
    {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > TEXT_FIELD_LIMIT {
            return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "a text field is too large"));
        }
    }
    String::from_utf8(bytes).map_err(|_| ApiError::validation("text", "must be UTF-8"))
}

/// Runs the pipeline over the spooled photo and stores the result.
async fn store_photo(
    media: &MediaState,
    photo: Option<hubbub_media::TempUpload>,
    purpose: MediaPurpose,
) -> ApiResult<PhotoInput> {
    let photo = photo.ok_or_else(|| ApiError::validation("photo", "a `photo` file field is required"))?;
    let stored = media.optimizer.put_image(PutSource::File(photo), purpose).await.map_err(media_error)?;
    Ok(PhotoInput {
        media_name: stored.name.as_str().to_owned(),
        content_type: stored.content_type().to_owned(),
        size_bytes: stored.size,
        width: stored.width,
        height: stored.height,
    })
}

/// The multipart form of `POST /api/conversations/{id}/messages`: a `photo` or a `file`.
pub async fn photo_message_input(
    state: &AppState,
    actor: Actor,
    id: ConversationId,
    request: axum::extract::Request,
) -> ApiResult<SendInput> {
    let media = media_of(state)?;
    message::send::authorize(&state.app, actor, id).await?;
    let form = read_form(media, request, true).await?;
    let reply_to = form
        .reply_to
        .filter(|r| !r.is_empty())
        .map(|r| MessageId::parse(&r).map_err(|_| ApiError::validation("reply_to", "must be a message id")))
        .transpose()?;
    // Checked before anything is decoded or stored (the use case checks it again), so a
    // request with both costs no image decode.
    hubbub_domain::attachment::one_attachment(form.photo.is_some(), form.file.is_some())
        .map_err(hubbub_app::error::AppError::from)?;
    if form.photo.is_none() && form.file.is_none() {
        return Err(ApiError::validation("photo", "a `photo` or a `file` field is required"));
    }
    let (photo, file) = match form.file {
        Some(file) => (None, Some(crate::files::store_file(media, file).await?)),
        None => (Some(store_photo(media, form.photo, MediaPurpose::Message).await?), None),
    };
    Ok(SendInput { text: form.text.unwrap_or_default(), reply_to, client_id: form.client_id, photo, file })
}

/// Set the caller's profile photo (multipart field `photo`).
#[utoipa::path(put, path = "/api/users/me/photo", tag = "media", security(("bearer" = [])),
    request_body(content = PhotoForm, content_type = "multipart/form-data"),
    responses((status = 200, body = User)))]
pub async fn set_my_photo(
    State(state): State<AppState>,
    Auth(actor): Auth,
    request: axum::extract::Request,
) -> ApiResult<Json<User>> {
    require_multipart(&request)?;
    let media = media_of(&state)?;
    let form = read_form(media, request, false).await?;
    let photo = store_photo(media, form.photo, MediaPurpose::Avatar).await?;
    Ok(Json(user::set_photo::set_photo(&state.app, actor, Some(photo)).await?))
}

/// Multipart form with one `photo` file.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct PhotoForm {
    #[schema(value_type = String, format = Binary)]
    pub photo: Vec<u8>,
}

/// Remove the caller's profile photo.
#[utoipa::path(delete, path = "/api/users/me/photo", tag = "media", security(("bearer" = [])),
    responses((status = 200, body = User)))]
pub async fn delete_my_photo(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<User>> {
    Ok(Json(user::set_photo::set_photo(&state.app, actor, None).await?))
}

/// Set a group's photo (admins; multipart field `photo`).
#[utoipa::path(put, path = "/api/conversations/{id}/photo", tag = "media", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    request_body(content = PhotoForm, content_type = "multipart/form-data"),
    responses((status = 200, body = Conversation), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_group_photo(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ConversationId>,
    request: axum::extract::Request,
) -> ApiResult<Json<Conversation>> {
    require_multipart(&request)?;
    let media = media_of(&state)?;
    conversation::set_photo::authorize(&state.app, actor, id).await?;
    let form = read_form(media, request, false).await?;
    let photo = store_photo(media, form.photo, MediaPurpose::Avatar).await?;
    Ok(Json(conversation::set_photo::set_photo(&state.app, actor, id, Some(photo)).await?))
}

/// Remove a group's photo (admins).
#[utoipa::path(delete, path = "/api/conversations/{id}/photo", tag = "media", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = Conversation), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_group_photo(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ConversationId>,
) -> ApiResult<Json<Conversation>> {
    Ok(Json(conversation::set_photo::set_photo(&state.app, actor, id, None).await?))
}

/// `GET|HEAD /media/{name}`: the stored bytes, to those allowed to see them, with the
/// caching and safety headers of the contract, ETag, and single `Range` requests.
pub async fn serve(
    State(state): State<AppState>,
    Auth(actor): Auth,
    axum::extract::Path(name): axum::extract::Path<String>,
    method: Method,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let media = media_of(&state)?;
    let name = StoredName::parse(&name).map_err(|_| ApiError::not_found("file not found"))?;
    let disposition = media_usecases::read::authorize_read(&state.app, actor, name.as_str()).await?;
    let meta =
        media.storage.stat(&name).await.map_err(media_error)?.ok_or_else(|| ApiError::not_found("file not found"))?;
    let etag = meta.etag(&name);
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        insert_common(response.headers_mut(), &etag, &name, &disposition);
        return Ok(response);
    }
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(ByteRange::parse_header)
        .unwrap_or(ByteRange::Full);
    let opened = match media.storage.open(&name, range).await {
        Ok(opened) => opened,
        Err(MediaError::RangeNotSatisfiable { len }) => {
            let mut response =
                ApiError::new(StatusCode::RANGE_NOT_SATISFIABLE, "range not satisfiable").into_response();
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{len}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            return Ok(response);
        }
        Err(error) => return Err(media_error(error)),
    };
    let status = if range.is_partial() { StatusCode::PARTIAL_CONTENT } else { StatusCode::OK };
    let mut response_headers = HeaderMap::new();
    insert_common(&mut response_headers, &etag, &name, &disposition);
    // A photo is the type of its re-encoded bytes; a file, what the use case allows.
    let content_type = match &disposition {
        Disposition::Inline => opened.content_type,
        Disposition::Attachment { content_type, .. } => content_type,
    };
    response_headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response_headers.insert(header::CONTENT_LENGTH, HeaderValue::from(opened.content_length()));
    response_headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if range.is_partial()
        && let Ok(value) = HeaderValue::from_str(&opened.content_range())
    {
        response_headers.insert(header::CONTENT_RANGE, value);
    }
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        Body::from_stream(tokio_util::io::ReaderStream::new(opened.body))
    };
    Ok((status, response_headers, body).into_response())
}

fn insert_common(headers: &mut HeaderMap, etag: &str, name: &StoredName, disposition: &Disposition) {
    // Names are random and never reused, so a response can be cached for good, privately.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=31536000, immutable"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
    match disposition {
        // The stored name is a UUID and an extension: safe to quote as it is.
        Disposition::Inline => {
            if let Ok(value) = HeaderValue::from_str(&format!("inline; filename=\"{}\"", name.as_str())) {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
        }
        Disposition::Attachment { file_name, .. } => {
            headers.insert(header::CONTENT_DISPOSITION, crate::files::attachment_disposition(file_name));
        }
    }
}
