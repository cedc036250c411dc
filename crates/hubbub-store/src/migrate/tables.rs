//! What is copied: every Hubbub table in foreign-key order, each column with its type on
//! both sides, and the reading and writing of one batch of rows.
//!
//! The two schemas are the same tables one to one (`migrations/sqlite` 0001-0007,
//! `migrations/postgres` 0001-0005); only the types differ: UUIDs are BLOB(16) in SQLite and
//! UUID in PostgreSQL, token hashes BLOB and BYTEA, `forwarded` INTEGER 0/1 and BOOLEAN.

use super::MigrateError;
use sqlx::postgres::Postgres;
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, PgConnection, QueryBuilder, Row, SqliteConnection};
use uuid::Uuid;

/// How a column is read from SQLite and written to PostgreSQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Int,
    OptInt,
    Text,
    OptText,
    /// BLOB(16) → UUID.
    Uuid,
    /// BLOB → BYTEA.
    Bytes,
    /// INTEGER 0/1 → BOOLEAN.
    Bool,
}

pub(super) struct Column {
    pub name: &'static str,
    pub kind: Kind,
    /// What a source without this column gives (a column PostgreSQL has that an older
    /// SQLite schema may lack); `None`: the column must exist in the source.
    pub if_missing: Option<&'static str>,
}

pub(super) struct Table {
    pub name: &'static str,
    pub columns: &'static [Column],
}

const fn col(name: &'static str, kind: Kind) -> Column {
    Column { name, kind, if_missing: None }
}

use Kind::*;

/// Every table, parents before children, so each batch's foreign keys already resolve
/// (`messages.reply_to_id` points at an earlier message, and rows are copied by id).
/// `health` is not copied: it holds one row the health check rewrites.
pub(super) const TABLES: &[Table] = &[
    Table { name: "tenants", columns: &[col("id", Int), col("uuid", Uuid), col("name", Text), col("created_at", Int)] },
    Table {
        name: "users",
        columns: &[
            col("id", Int),
            col("tenant_id", Int),
            col("uuid", Uuid),
            col("username", Text),
            col("display_name", Text),
            col("display_name_lower", Text),
            col("about", Text),
            col("password_hash", Text),
            col("photo_name", OptText),
            col("last_seen_at", OptInt),
            col("created_at", Int),
            col("deleted_at", OptInt),
            col("is_admin", Bool),
        ],
    },
    Table {
        name: "sessions",
        columns: &[
            col("id", Int),
            col("tenant_id", Int),
            col("uuid", Uuid),
            col("user_id", Int),
            col("token_hash", Bytes),
            col("created_at", Int),
        ],
    },
    Table {
        name: "ws_tickets",
        columns: &[
            col("id", Int),
            col("tenant_id", Int),
            col("session_id", Int),
            col("token_hash", Bytes),
            col("expires_at", Int),
        ],
    },
    // Spaces (sqlite 0007, postgres 0005), before the conversations that are their channels.
    Table {
        name: "spaces",
        columns: &[
            col("id", Int),
            col("tenant_id", Int),
            col("uuid", Uuid),
            col("name", Text),
            col("description", Text),
            col("photo_name", OptText),
            col("created_at", Int),
            col("updated_at", Int),
            col("deleted_at", OptInt),
        ],
    },
    Table {
        name: "space_members",
        columns: &[
            col("id", Int),
            col("tenant_id", Int),
            col("space_id", Int),
            col("user_id", Int),
            col("role", Text),
            col("joined_at", Int),
        ],
    },
    Table {
        name: "conversations",
        columns: &[
            col("id", Int),
            col("tenant_id", Int),
            col("uuid", Uuid),
            col("kind", Text),
            col("name", OptText),
            col("photo_name", OptText),
            col("direct_key", OptText),
            col("last_seq", Int),
            col("last_activity_at", Int),
            col("created_at", Int),
            col("updated_at", Int),
            col("deleted_at", OptInt),
            // Channels and rooms (sqlite 0004, postgres 0002); an older source has none.
            Column { name: "visibility", kind: Text, if_missing: Some("'private'") },
            Column { name: "topic", kind: Text, if_missing: Some("''") },
            Column { name: "password_hash", kind: OptText, if_missing: Some("NULL") },
            Column { name: "space_id", kind: OptInt, if_missing: Some("NULL") },
        ],
    },
    Table {
        name: "members",
        columns: &[
            col("id", Int),
            col("tenant_id", Int),
            col("conversation_id", Int),
            col("user_id", Int),
            col("role", Text),
            col("joined_seq", Int),
            col("joined_at", Int),
            col("left_seq", OptInt),
            col("left_at", OptInt),
            col("delivered_seq", Int),
            col("read_seq", Int),
            col("left_name", OptText),
            col("left_photo_name", OptText),
            Column { name: "left_topic", kind: OptText, if_missing: Some("NULL") },
            col("archived", Bool),
            col("pin_order", OptInt),
            col("muted_until", OptInt),
            col("cleared_seq", Int),
            col("hidden", Bool),
            Column { name: "notify", kind: OptText, if_missing: Some("NULL") },
        ],
    },
    Table {
        name: "messages",
        columns: &[
            col("id", Int),
            col("tenant_id", Int),
            col("uuid", Uuid),
            col("conversation_id", Int),
            col("seq", Int),
            col("sender_id", Int),
            col("text", Text),
            col("photo_name", OptText),
            col("photo_width", OptInt),
            col("photo_height", OptInt),
            col("reply_to_id", OptInt),
            col("forwarded", Bool),
            col("client_id", OptText),
            col("created_at", Int),
            col("edited_at", OptInt),
            col("deleted_at", OptInt),
            col("file_name", OptText),
            col("file_display_name", OptText),
            col("file_content_type", OptText),
            col("file_size", OptInt),
            col("link_url", OptText),
            col("link_title", OptText),
            col("link_description", OptText),
            col("link_site_name", OptText),
            col("link_image_name", OptText),
            col("link_image_width", OptInt),
            col("link_image_height", OptInt),
            col("mentions", Text),
            col("mentions_all", Bool),
            col("pinned_at", OptInt),
        ],
    },
    Table {
        name: "reactions",
        columns: &[
            col("id", Int),
            col("tenant_id", Int),
            col("message_id", Int),
            col("user_id", Int),
            col("emoji", Text),
            col("created_at", Int),
        ],
    },
    Table {
        name: "events",
        columns: &[
            col("id", Int),
            col("tenant_id", Int),
            col("conversation_id", Int),
            col("seq", Int),
            col("kind", Text),
            col("payload", Text),
            // PostgreSQL keeps each event's audience; a SQLite schema without the column
            // gives '' (the PostgreSQL default: no replay audience recorded).
            Column { name: "audience", kind: Text, if_missing: Some("''") },
            col("created_at", Int),
        ],
    },
    Table {
        name: "mark_moves",
        columns: &[
            col("id", Int),
            col("tenant_id", Int),
            col("conversation_id", Int),
            col("user_id", Int),
            col("kind", Text),
            col("seq", Int),
            col("at", Int),
        ],
    },
    Table {
        name: "contacts",
        columns: &[
            col("id", Int),
            col("tenant_id", Int),
            col("owner_id", Int),
            col("user_id", Int),
            col("alias", OptText),
            col("created_at", Int),
        ],
    },
    Table {
        name: "blocks",
        columns: &[
            col("id", Int),
            col("tenant_id", Int),
            col("blocker_id", Int),
            col("blocked_id", Int),
            col("created_at", Int),
        ],
    },
    Table {
        name: "media",
        columns: &[
            col("id", Int),
            col("tenant_id", Int),
            col("name", Text),
            col("content_type", Text),
            col("width", Int),
            col("height", Int),
            col("size_bytes", Int),
            col("purpose", Text),
            col("created_at", Int),
        ],
    },
    Table {
        name: "audit_log",
        columns: &[
            col("id", Int),
            col("tenant_id", Int),
            col("uuid", Uuid),
            col("at", Int),
            col("actor_id", OptInt),
            col("action", Text),
            col("target", OptText),
            col("ip", OptText),
            col("details", Text),
        ],
    },
    Table {
        name: "message_mentions",
        columns: &[col("id", Int), col("tenant_id", Int), col("message_id", Int), col("user_id", Int)],
    },
    Table {
        name: "message_versions",
        columns: &[
            col("id", Int),
            col("tenant_id", Int),
            col("message_id", Int),
            col("text", Text),
            col("edited_at", OptInt),
            col("replaced_at", Int),
        ],
    },
    Table {
        name: "push_subscriptions",
        columns: &[
            col("id", Int),
            col("tenant_id", Int),
            col("user_id", Int),
            col("endpoint", Text),
            col("p256dh", Text),
            col("auth", Text),
            col("created_at", Int),
        ],
    },
    Table {
        name: "outbox",
        columns: &[
            col("id", Int),
            col("tenant_id", Int),
            col("kind", Text),
            col("payload", Text),
            col("attempts", Int),
            col("next_attempt_at", Int),
            col("lease_until", OptInt),
            col("failed_at", OptInt),
            col("created_at", Int),
        ],
    },
];

/// The most columns of any table: a batch binds `rows × columns` parameters, which must
/// stay under PostgreSQL's 65,535. Computed, so a new column can never outgrow it.
pub(super) const MAX_COLUMNS: usize = {
    let mut most = 0;
    let mut i = 0;
    while i < TABLES.len() {
        if TABLES[i].columns.len() > most {
            most = TABLES[i].columns.len();
        }
        i += 1;
    }
    most
};

/// One value in flight, already in the type PostgreSQL wants.
enum Value {
    Int(i64),
    OptInt(Option<i64>),
    Text(String),
    OptText(Option<String>),
    Uuid(Uuid),
    Bytes(Vec<u8>),
    Bool(bool),
}

/// The SELECT list for `table` on this source: every column, or its stand-in where the
/// source lacks it. Fails on a column the source lacks and that has no stand-in.
pub(super) async fn select_list(source: &mut SqliteConnection, table: &Table) -> Result<String, MigrateError> {
    let present: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?1)")
        .bind(table.name)
        .fetch_all(&mut *source)
        .await
        .map_err(|source| MigrateError::SourceRead { table: table.name, source })?;
    if present.is_empty() {
        return Err(MigrateError::SourceSchema { table: table.name, detail: "the table does not exist".into() });
    }
    let mut list = Vec::with_capacity(table.columns.len());
    for column in table.columns {
        if present.iter().any(|name| name == column.name) {
            list.push(column.name.to_owned());
        } else if let Some(stand_in) = column.if_missing {
            list.push(format!("{stand_in} AS {}", column.name));
        } else {
            return Err(MigrateError::SourceSchema {
                table: table.name,
                detail: format!("the column {} does not exist", column.name),
            });
        }
    }
    Ok(list.join(", "))
}

/// Up to `limit` rows of `table` with an id above `after`, in id order.
pub(super) async fn read_batch(
    source: &mut SqliteConnection,
    table: &Table,
    select: &str,
    after: i64,
    limit: usize,
) -> Result<Vec<SqliteRow>, MigrateError> {
    let sql = format!("SELECT {select} FROM {} WHERE id > ?1 ORDER BY id LIMIT ?2", table.name);
    sqlx::query(AssertSqlSafe(sql))
        .bind(after)
        .bind(limit as i64)
        .fetch_all(source)
        .await
        .map_err(|source| MigrateError::SourceRead { table: table.name, source })
}

/// Converts one SQLite row, refusing a value PostgreSQL's column could not take as it is.
fn convert(table: &Table, row: &SqliteRow) -> Result<Vec<Value>, MigrateError> {
    let id: i64 = row.try_get("id").map_err(|source| MigrateError::SourceRead { table: table.name, source })?;
    let bad =
        |column: &Column, detail: String| MigrateError::BadValue { table: table.name, id, column: column.name, detail };
    let mut values = Vec::with_capacity(table.columns.len());
    for column in table.columns {
        let name = column.name;
        let value = match column.kind {
            Int => Value::Int(row.try_get(name).map_err(|e| bad(column, e.to_string()))?),
            OptInt => Value::OptInt(row.try_get(name).map_err(|e| bad(column, e.to_string()))?),
            Text => Value::Text(row.try_get(name).map_err(|e| bad(column, e.to_string()))?),
            OptText => Value::OptText(row.try_get(name).map_err(|e| bad(column, e.to_string()))?),
            Bytes => Value::Bytes(row.try_get(name).map_err(|e| bad(column, e.to_string()))?),
            Kind::Uuid => {
                let bytes: Vec<u8> = row.try_get(name).map_err(|e| bad(column, e.to_string()))?;
                let uuid = Uuid::from_slice(&bytes)
                    .map_err(|_| bad(column, format!("a UUID must be 16 bytes, found {}", bytes.len())))?;
                Value::Uuid(uuid)
            }
            Bool => match row.try_get::<i64, _>(name).map_err(|e| bad(column, e.to_string()))? {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                other => return Err(bad(column, format!("a flag must be 0 or 1, found {other}"))),
            },
        };
        values.push(value);
    }
    Ok(values)
}

/// Writes one batch with a single multi-row INSERT, ids as they are. Returns the last id.
pub(super) async fn write_batch(
    target: &mut PgConnection,
    table: &Table,
    rows: &[SqliteRow],
) -> Result<i64, MigrateError> {
    let converted = rows.iter().map(|row| convert(table, row)).collect::<Result<Vec<_>, _>>()?;
    let first_id = match converted.first().and_then(|values| values.first()) {
        Some(Value::Int(id)) => *id,
        _ => return Ok(0),
    };
    let last_id = match converted.last().and_then(|values| values.first()) {
        Some(Value::Int(id)) => *id,
        _ => first_id,
    };
    let names: Vec<&str> = table.columns.iter().map(|column| column.name).collect();
    // OVERRIDING SYSTEM VALUE is not needed (the identities are BY DEFAULT), so the ids of
    // the source are simply written.
    let mut insert = QueryBuilder::<Postgres>::new(format!("INSERT INTO {} ({}) ", table.name, names.join(", ")));
    insert.push_values(converted, |mut row, values| {
        for value in values {
            match value {
                Value::Int(v) => row.push_bind(v),
                Value::OptInt(v) => row.push_bind(v),
                Value::Text(v) => row.push_bind(v),
                Value::OptText(v) => row.push_bind(v),
                Value::Uuid(v) => row.push_bind(v),
                Value::Bytes(v) => row.push_bind(v),
                Value::Bool(v) => row.push_bind(v),
            };
        }
    });
    insert.build().execute(target).await.map_err(|source| MigrateError::TargetWrite {
        table: table.name,
        first_id,
        source,
    })?;
    Ok(last_id)
}
