//! `POST|GET|DELETE /session` and `POST|DELETE /login` (`server-auth.mdx`).
//!
//! The docs define no request signature: the auth key itself is checked. A session names a
//! user by login or email and password (created on the fly for an unknown login, as the
//! cloud's default allows), as a guest, or through a provider. The devserver cannot ask
//! Facebook or Firebase, so a provider's access token stands for the identity: the same
//! token logs in the same user.

use http::StatusCode;
use serde_json::{Value, json};

use super::reply::Reply;
use super::request::{Req, as_text, as_u64, is_true};
use super::route::{session_of, user_of};
use super::{ApiError, RestState, render};
use crate::store::{NewUser, User, random_hex};

pub(crate) fn create(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let app_id = req
        .param("application_id")
        .and_then(|v| as_u64(&v))
        .ok_or_else(|| ApiError::required("application_id"))?;
    let key = req
        .text("auth_key")
        .ok_or_else(|| ApiError::required("auth_key"))?;
    if !st.store.check_app(app_id, &key)? {
        return Err(ApiError::unauthorized(
            "Unexpected application id or auth key",
        ));
    }
    let ts = req.param("timestamp").and_then(|v| as_u64(&v)).unwrap_or(0) as i64;
    let mut ttl = st.settings.session_ttl.as_secs() as i64;
    let user = match (req.text("provider"), req.body.get("user")) {
        (Some(provider), _) => Some(provider_user(st, req, app_id, &provider)?),
        (None, Some(Value::Object(u))) if u.get("guest").is_some_and(is_true) => {
            ttl = st.settings.guest_session_ttl.as_secs() as i64;
            let new = NewUser {
                login: Some(format!("guest_login_{}", random_hex(18).to_uppercase())),
                full_name: u.get("full_name").and_then(as_text),
                // The cloud gives guests an empty phone rather than none.
                phone: Some(String::new()),
                is_guest: true,
                ..NewUser::default()
            };
            Some(st.store.create_user(app_id, &new)?)
        }
        (None, Some(Value::Object(u))) => Some(password_user(st, app_id, u)?),
        (None, Some(_)) => return Err(ApiError::invalid("user", "is not an object")),
        (None, None) => None,
    };
    let s = st
        .store
        .create_session(app_id, user.as_ref().map(|u| u.id), ts, ttl)?;
    if let Some(u) = &user {
        st.store.touch_user(u.id)?;
    }
    let user = match user {
        Some(u) => st.store.user(u.id)?,
        None => None,
    };
    Ok(Reply::Json(
        StatusCode::CREATED,
        json!({ "session": render::session(&s, user.as_ref()) }),
    ))
}

/// The user a login or email and password name; created when unknown and allowed.
fn password_user(
    st: &RestState,
    app_id: u64,
    u: &serde_json::Map<String, Value>,
) -> Result<User, ApiError> {
    let login = u.get("login").and_then(as_text);
    let email = u.get("email").and_then(as_text);
    let name = login
        .clone()
        .or_else(|| email.clone())
        .ok_or_else(|| ApiError::required("login"))?;
    let password = u
        .get("password")
        .and_then(as_text)
        .ok_or_else(|| ApiError::required("password"))?;
    match st.store.check_password(app_id, &name, &password)? {
        Some(Ok(user)) => Ok(user),
        Some(Err(())) => Err(ApiError::unauthorized("Unauthorized")),
        None if st.settings.create_users_on_session => {
            let new = NewUser {
                login,
                email,
                password: Some(password),
                ..NewUser::default()
            };
            Ok(st.store.create_user(app_id, &new)?)
        }
        None => Err(ApiError::unauthorized("Unauthorized")),
    }
}

/// The identity a provider's access token stands for on the devserver: `dev-` and a stable
/// 64-bit FNV-1a hash of provider and token (the token itself, a secret, is never stored).
///
/// A Facebook or Twitter login finds the user whose `facebook_id` / `twitter_id` is this
/// value, a Firebase login the user whose `login` is; an unknown one is created. Seed a user
/// with it to log in as that user through a provider.
pub fn provider_identity(provider: &str, token: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in provider.bytes().chain([0]).chain(token.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("dev-{h:016x}")
}

/// The user a provider's token stands for, created on first use.
fn provider_user(st: &RestState, req: &Req, app_id: u64, provider: &str) -> Result<User, ApiError> {
    let token = match provider {
        "facebook" | "twitter" => req
            .body
            .get("keys")
            .and_then(|k| k.get("token"))
            .and_then(as_text),
        "firebase_phone" | "firebase_email" => req
            .body
            .get(provider)
            .and_then(|k| k.get("access_token"))
            .and_then(as_text),
        _ => return Err(ApiError::invalid("provider", "is not supported")),
    }
    .ok_or_else(|| ApiError::required("keys"))?;
    let identity = provider_identity(provider, &token);
    let field = |u: &User| -> Option<String> {
        match provider {
            "facebook" => u.facebook_id.clone(),
            "twitter" => u.twitter_id.clone(),
            _ => u.login.clone(),
        }
    };
    let existing = st
        .store
        .users(app_id)?
        .into_iter()
        .find(|u| field(u).as_deref() == Some(identity.as_str()));
    if let Some(u) = existing {
        return Ok(u);
    }
    let mut new = NewUser::default();
    match provider {
        "facebook" => new.facebook_id = Some(identity.clone()),
        "twitter" => new.twitter_id = Some(identity.clone()),
        _ => {}
    }
    new.login = Some(identity);
    Ok(st.store.create_user(app_id, &new)?)
}

pub(crate) fn get(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let s = session_of(st, req)?;
    let user = match s.user_id {
        Some(id) => st.store.user(id)?,
        None => None,
    };
    Ok(Reply::ok(
        json!({ "session": render::session(&s, user.as_ref()) }),
    ))
}

pub(crate) fn destroy(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let s = session_of(st, req)?;
    st.store.delete_session(&s.token)?;
    Ok(Reply::Empty)
}

/// `POST /login`: logs a user into the application session; answers the user.
pub(crate) fn login(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let s = session_of(st, req)?;
    let name = req
        .text("login")
        .or_else(|| req.text("email"))
        .ok_or_else(|| ApiError::required("login"))?;
    let password = req
        .text("password")
        .ok_or_else(|| ApiError::required("password"))?;
    let user = match st.store.check_password(s.app_id, &name, &password)? {
        Some(Ok(u)) => u,
        _ => return Err(ApiError::unauthorized("Unauthorized")),
    };
    st.store.set_session_user(&s.token, Some(user.id))?;
    st.store.touch_user(user.id)?;
    let user = st.store.user(user.id)?.ok_or_else(ApiError::not_found)?;
    // Wrapped, as the JS SDK reads it (`res.user`); a bare user crashes its `login`.
    Ok(Reply::ok(json!({ "user": render::user(&user) })))
}

/// `DELETE /login`: the session goes back to application-only.
pub(crate) fn logout(st: &RestState, req: &Req) -> Result<Reply, ApiError> {
    let (s, _) = user_of(st, req)?;
    st.store.set_session_user(&s.token, None)?;
    Ok(Reply::Empty)
}
