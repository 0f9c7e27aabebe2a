//! Message reactions: put, take back or swap one, and list who reacted how.

use std::collections::BTreeMap;

use connectycube_protocol::ids::{MessageId, UserId};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::RestError;
use crate::endpoint::{Empty, Endpoint};
use crate::route::Metadata;

/// `PUT /chat/Message/{id}/reactions`: adds and/or removes the current user's reaction; the
/// server then tells the occupants over XMPP.
///
/// A user has one reaction type at a time, so changing it is an add and a remove together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateReactions {
    id: MessageId,
    add: Option<String>,
    remove: Option<String>,
}

impl UpdateReactions {
    /// Puts `reaction` on message `id`.
    pub fn add(id: MessageId, reaction: impl Into<String>) -> Self {
        Self {
            id,
            add: Some(reaction.into()),
            remove: None,
        }
    }

    /// Takes `reaction` off message `id`.
    pub fn remove(id: MessageId, reaction: impl Into<String>) -> Self {
        Self {
            id,
            add: None,
            remove: Some(reaction.into()),
        }
    }

    /// Replaces `old` with `new` on message `id` in one request.
    pub fn replace(id: MessageId, old: impl Into<String>, new: impl Into<String>) -> Self {
        Self {
            id,
            add: Some(new.into()),
            remove: Some(old.into()),
        }
    }
}

impl Endpoint for UpdateReactions {
    type Response = Empty;
    const METADATA: Metadata = Metadata::put("UpdateReactions", "/chat/Message/{id}/reactions");
    fn path_params(&self) -> Vec<String> {
        vec![self.id.to_string()]
    }
    fn body(&self) -> Result<Option<Value>, RestError> {
        let mut b = Map::new();
        if let Some(r) = &self.add {
            b.insert("add".into(), json!(r));
        }
        if let Some(r) = &self.remove {
            b.insert("remove".into(), json!(r));
        }
        Ok(Some(Value::Object(b)))
    }
}

/// `GET /chat/Message/{id}/reactions`: every reaction on a message and who put it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListReactions {
    /// The message.
    pub id: MessageId,
}

/// The answer to [`ListReactions`]: reaction → the users who put it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct MessageReactions {
    /// Users per reaction.
    pub users: BTreeMap<String, Vec<UserId>>,
}

impl MessageReactions {
    /// Who put `reaction` (empty when nobody did).
    pub fn users_of(&self, reaction: &str) -> &[UserId] {
        self.users.get(reaction).map(Vec::as_slice).unwrap_or(&[])
    }
}

impl Endpoint for ListReactions {
    type Response = MessageReactions;
    const METADATA: Metadata = Metadata::get("ListReactions", "/chat/Message/{id}/reactions");
    fn path_params(&self) -> Vec<String> {
        vec![self.id.to_string()]
    }
}
