use crate::App;
use crate::error::AppResult;
use crate::ports::{Actor, ProfilePatch};
use hubbub_domain::{About, DisplayName, User, Username};

#[derive(Default)]
pub struct ProfileInput {
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub about: Option<String>,
}

/// Changes the caller's own profile; a taken username is 409. Contacts hear `user.updated`.
pub async fn update_profile(app: &App, actor: Actor, input: ProfileInput) -> AppResult<User> {
    let patch = ProfilePatch {
        username: input.username.as_deref().map(Username::parse).transpose()?,
        display_name: input.display_name.as_deref().map(DisplayName::parse).transpose()?.map(DisplayName::into_string),
        about: input.about.as_deref().map(About::parse).transpose()?.map(About::into_string),
    };
    let user = app.present_user(app.store.update_profile(actor.user_id, patch).await?);
    super::announce(app, &user).await;
    Ok(user)
}
