//! The OpenAPI document's frame: info, security schemes and tags. The paths and schemas
//! come from the routes themselves (`utoipa-axum`), so the document and the router are one.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hubbub API",
        version = "1",
        description = "Hubbub's public API (contract v1). Errors are `{\"error\": {\"code\", \"message\", \"field\"?}}`. \
Cookie-authenticated state changes must come from this origin. WebSocket events are \
`{\"type\", \"conversation_id\"?, \"seq\"?, \"data\"}`; inside events, `Message.status` is null and \
conversation snapshots carry no viewer-specific fields (clients derive them)."
    ),
    modifiers(&SecurityAddon),
    components(schemas(hubbub_domain::Event, hubbub_domain::EventData, crate::error::ErrorBody)),
    tags(
        (name = "session", description = "Accounts, sessions and WebSocket tickets"),
        (name = "users", description = "Profiles and search"),
        (name = "conversations", description = "Direct and group conversations"),
        (name = "messages", description = "Messages, reactions, receipts and the event log"),
        (name = "media", description = "Photos"),
        (name = "realtime", description = "The WebSocket stream"),
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
    }
}
