//! The OpenAPI document's frame: info, security schemes and tags. The paths and schemas
//! come from the routes themselves (`utoipa-axum`), so the document and the router are one.
//!
//! The error statuses that come from the extractors rather than from a use case (no
//! credential, a malformed body, a path id that is not a UUID, ...) are added by one rule,
//! `StandardErrors`, from what each operation declares it takes, instead of being repeated
//! on every annotation, where they were forgotten on about thirty operations.

use crate::media::UPLOAD_LIMIT_BYTES;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::request_body::RequestBody;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{Ref, RefOr, Response};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hubbub API",
        version = "1",
        description = "Hubbub's public API (contract v1). Errors are `{\"error\": {\"code\", \"message\", \"field\"?}}`. \
Cookie-authenticated state changes must come from this origin. WebSocket events are \
`{\"type\", \"conversation_id\"?, \"seq\"?, \"data\"}`; inside events, `Message.status` is null and \
conversation snapshots carry no viewer-specific fields (clients derive them). Members inside events \
(`member.added`, the `members` of `conversation.created` / `conversation.updated`) are `EventMember`s: \
their user has no `online` and no `last_seen_at`, which depend on the moment and on who looks; presence \
comes from `presence` events and the REST views (events stored before this change may still carry them; \
clients ignore them). \
`Message.link_preview` is null when sent; when the server has link previews on, the preview of the text's \
first http(s) link arrives later as a `message.updated` with its own seq (`edited_at` unchanged), and its \
`image` is a media URL readable by whoever may see the message."
    ),
    modifiers(&SecurityAddon),
    components(schemas(
        hubbub_domain::Event,
        hubbub_domain::EventData,
        hubbub_domain::LinkPreview,
        crate::error::ErrorBody
    )),
    tags(
        (name = "session", description = "Accounts, sessions and WebSocket tickets"),
        (name = "users", description = "Profiles and search"),
        (name = "conversations", description = "Direct and group conversations, rooms, roles"),
        (name = "spaces", description = "Spaces: members with roles, and their channels"),
        (name = "contacts", description = "The caller's contacts (with aliases) and blocked users"),
        (name = "admin", description = "Server administration: the audit log"),
        (name = "messages", description = "Messages, reactions, receipts, link previews and the event log"),
        (name = "media", description = "Photos"),
        (name = "realtime", description = "The WebSocket stream"),
        (name = "push", description = "Web Push: the VAPID key and browser subscriptions"),
        (name = "operations", description = "Health and metadata"),
    )
)]
pub struct ApiDoc;

struct SecurityAddon;

impl Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components
            .add_security_scheme("cookie", SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("hubbub_session"))));
        // The WebSocket's third way in, for clients that cannot send headers.
        components.add_security_scheme("ticket", SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::new("ticket"))));
    }
}

/// Adds to every operation the error responses its inputs can produce, derived from what
/// the operation declares: a security requirement (the `Auth` extractor: 401, 403 for a
/// cookie-authenticated change from a foreign origin, 503 because resolving the session
/// reads the store), a JSON body (`ApiJson`: 400, 413, 415, 422), a multipart body (the
/// upload path: 400, 413, 415, 422, 503 without photo storage), path parameters (`ApiPath`:
/// 400) and query parameters (`ApiQuery`: 400). A status an annotation already documents
/// keeps its description, with the standard cause appended. Every 429 gets `Retry-After`.
///
/// It runs on the merged document in `api()`: a `modifiers(...)` entry on `ApiDoc` would
/// run before `utoipa-axum` adds the paths, and see none.
pub struct StandardErrors;

impl Modify for StandardErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for (safe_method, operation) in operations_mut(item) {
                for (status, cause) in standard_errors(operation, safe_method) {
                    document(operation, status, &cause);
                }
                for (status, response) in operation.responses.responses.iter_mut() {
                    if let RefOr::T(response) = response {
                        describe_empty(status, response);
                        if status == "429" {
                            add_retry_after(response);
                        }
                    }
                }
            }
        }
    }
}

/// Each operation of a path, with whether its method is safe (the Origin check of cookie
/// authentication applies only to the others).
fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = (bool, &mut Operation)> {
    [
        (true, item.get.as_mut()),
        (true, item.head.as_mut()),
        (true, item.options.as_mut()),
        (false, item.post.as_mut()),
        (false, item.put.as_mut()),
        (false, item.patch.as_mut()),
        (false, item.delete.as_mut()),
    ]
    .into_iter()
    .filter_map(|(safe, operation)| operation.map(|operation| (safe, operation)))
}

fn standard_errors(operation: &Operation, safe_method: bool) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if is_authenticated(operation) {
        out.push(("401", "No valid credential, or its session has ended".into()));
        if !safe_method {
            out.push((
                "403",
                "A cookie-authenticated change whose Origin is not this server's or an allowed one".into(),
            ));
        }
        out.push(("503", "The database is temporarily unavailable; retry later".into()));
    }
    let body_types = body_content_types(operation);
    if body_types.iter().any(|t| t == "application/json") {
        let limit = crate::JSON_BODY_LIMIT / 1024;
        out.push(("400", "The body is not valid JSON".into()));
        out.push(("413", format!("The JSON body is larger than {limit} KiB")));
        out.push(("415", "The Content-Type is not application/json".into()));
        out.push(("422", "The JSON body does not match the schema (`error.field` is `body`)".into()));
    }
    if body_types.iter().any(|t| t == "multipart/form-data") {
        let limit = UPLOAD_LIMIT_BYTES / (1024 * 1024);
        out.push(("400", "The multipart body is malformed or cut short".into()));
        out.push(("413", format!("The upload is larger than {limit} MiB")));
        out.push((
            "415",
            "The Content-Type is not multipart/form-data, or the file is not a JPEG, PNG, WebP or GIF image".into(),
        ));
        out.push((
            "422",
            "No `photo` field, more than one, an unexpected field, or an image over 50 megapixels".into(),
        ));
        out.push(("503", "Photo storage is not configured on this server".into()));
    }
    if has_parameter(operation, ParameterIn::Path) {
        out.push(("400", "A path parameter is malformed (ids are UUIDs)".into()));
    }
    if has_parameter(operation, ParameterIn::Query) {
        out.push(("400", "A query parameter is malformed (e.g. not a number) or a required one is missing".into()));
    }
    out
}

/// An operation with a security requirement that is not optional (an empty requirement
/// would mean "anonymous is fine too").
fn is_authenticated(operation: &Operation) -> bool {
    operation
        .security
        .as_ref()
        .is_some_and(|requirements| !requirements.is_empty() && !requirements.contains(&SecurityRequirement::default()))
}

fn body_content_types(operation: &Operation) -> Vec<String> {
    match &operation.request_body {
        Some(RefOr::T(RequestBody { content, .. })) => content.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

fn has_parameter(operation: &Operation, location: ParameterIn) -> bool {
    operation
        .parameters
        .iter()
        .flatten()
        .any(|parameter| matches!(parameter, RefOr::T(p) if p.parameter_in == location))
}

/// Documents `status` on `operation` with `cause`: a new response with the error body, or
/// the cause appended to the description of the one already there.
fn document(operation: &mut Operation, status: &str, cause: &str) {
    let responses = &mut operation.responses.responses;
    match responses.get_mut(status) {
        Some(RefOr::T(existing)) => {
            describe_empty(status, existing);
            let alternative = lower_first(cause);
            if !existing.description.contains(cause) && !existing.description.contains(&alternative) {
                existing.description = format!("{}; or: {alternative}", existing.description);
            }
            if existing.content.is_empty() {
                existing.content.insert("application/json".into(), error_content().into());
            }
        }
        Some(RefOr::Ref(_)) => {}
        None => {
            let response =
                ResponseBuilder::new().description(cause).content("application/json", error_content()).build();
            responses.insert(status.to_owned(), RefOr::T(response));
        }
    }
}

fn error_content() -> utoipa::openapi::Content {
    ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build()
}

/// A response an annotation left without a description gets the contract's meaning of its
/// status, so that appended causes read as alternatives to it.
fn describe_empty(status: &str, response: &mut Response) {
    if !response.description.trim().is_empty() {
        return;
    }
    let meaning = match status {
        "400" => "Bad request",
        "401" => "Not signed in",
        "403" => "The caller may not do this",
        "404" => "Not found, or not visible to the caller",
        "409" => "Conflicts with the current state",
        "410" => "No longer kept",
        "413" => "Too large",
        "415" => "Unsupported media type",
        "422" => "Validation failed (`error.field` names the field)",
        "429" => "Too many requests",
        "503" => "Temporarily unavailable",
        _ => return,
    };
    response.description = meaning.to_owned();
}

fn add_retry_after(response: &mut Response) {
    response.headers.entry("Retry-After".to_owned()).or_insert_with(|| {
        HeaderBuilder::new()
            .schema(Some(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0))))
            .description(Some("Seconds to wait before trying again"))
            .build()
            .into()
    });
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
