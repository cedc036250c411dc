use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::{Actor, NewSpace, StoreError};
use hubbub_domain::{ConversationId, EventData, GroupName, Space, SpaceId, Timestamp, Topic, UserId};

/// Creates a space with the caller as its owner, the people of `member_ids` as members
/// (duplicates and the caller ignored; an unknown id is 422) and its public channel
/// `general`, which all of them are in. Every member hears `space.created`, and
/// `conversation.created` of `general`.
pub async fn create(
    app: &App,
    actor: Actor,
    name: &str,
    description: Option<&str>,
    member_ids: Vec<UserId>,
) -> AppResult<Space> {
    let name = GroupName::parse(name)?;
    let description = parse_description(description.unwrap_or_default())?;
    let member_ids = crate::usecases::conversation::create_group::initial_members(app, actor.user_id, member_ids)?;
    let id = SpaceId::generate();
    let mut audience = member_ids.clone();
    audience.push(actor.user_id);
    let space = NewSpace {
        id,
        creator: actor.user_id,
        name,
        description,
        member_ids,
        general: ConversationId::generate(),
        now: Timestamp::now(),
    };
    app.store.create_space(space).await.map_err(|e| match e {
        StoreError::UnknownReference(field) => AppError::validation(field, "unknown user"),
        other => other.into(),
    })?;
    let space = super::my_space(app, actor.user_id, id).await?;
    super::announce(app, audience, EventData::SpaceCreated(super::data(&space))).await;
    Ok(space)
}

/// A description: what a topic may be (at most 250 characters, one line), `""` for none.
pub(crate) fn parse_description(text: &str) -> AppResult<String> {
    Topic::parse(text)
        .map(|t| t.as_str().to_owned())
        .map_err(|_| AppError::validation("description", "must be at most 250 characters on one line"))
}
