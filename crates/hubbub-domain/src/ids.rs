//! Public identifiers. Internal integer row ids never leave the store; these UUIDs do.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! public_id {
    ($name:ident) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered id (UUID v7), so ids created later sort later.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            /// Parses the textual form; the HTTP layer turns a failure into 400.
            pub fn parse(text: &str) -> Result<Self, uuid::Error> {
                Uuid::parse_str(text).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

public_id!(UserId);
public_id!(ConversationId);
public_id!(MessageId);
public_id!(SpaceId);
