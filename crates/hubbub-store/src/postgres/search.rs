//! Search on PostgreSQL: the `tsvector` column and its GIN index of `migrations/postgres/0010_search.sql`, queried by the
//! shared `search_sql::matching_keys`.

use super::{PgStore, db, load};
use crate::search_sql::{self, Bind, Dialect};
use hubbub_app::ports::{SearchPage, SearchQuery, StoreError, StoreResult};
use sqlx::AssertSqlSafe;

pub(super) async fn search_messages(store: &PgStore, query: &SearchQuery) -> StoreResult<SearchPage> {
    let mut conn = store.read().await?;
    let Some(viewer) = load::user_key(&mut conn, store.tenant, query.viewer).await? else {
        return Ok(SearchPage { messages: Vec::new(), next: None });
    };
    let before = match query.cursor {
        None => None,
        Some(cursor) => Some(
            sqlx::query_scalar::<_, i64>("SELECT id FROM messages WHERE uuid = $1 AND tenant_id = $2")
                .bind(cursor.message.0)
                .bind(store.tenant.0)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db)?
                .ok_or(StoreError::UnknownReference("cursor"))?,
        ),
    };
    let built = search_sql::matching_keys(Dialect::Postgres, query, store.tenant.0, viewer, before);
    let mut select = sqlx::query_scalar::<_, i64>(AssertSqlSafe(built.sql));
    for bind in built.binds {
        select = match bind {
            Bind::Int(v) => select.bind(v),
            Bind::Text(v) => select.bind(v),
            Bind::Uuid(v) => select.bind(v),
        };
    }
    let keys = select.fetch_all(&mut *conn).await.map_err(db)?;
    if keys.is_empty() {
        return Ok(SearchPage { messages: Vec::new(), next: None });
    }
    // Keys are integers read back from the database: safe to write into the statement.
    let list = keys.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let messages = load::messages_where(&mut conn, &format!("m.id IN ({list}) ORDER BY m.id DESC"), &[]).await?;
    Ok(search_sql::page(messages, query.limit))
}
