//! System messages sent through REST: a signal delivered over XMPP, never stored in history.

use connectycube_protocol::ids::{MessageId, UserId};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::RestError;
use crate::endpoint::Endpoint;
use crate::route::Metadata;

/// `POST /chat/Message/system`: a system message to one user, carrying custom parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct SendSystemMessage {
    recipient: UserId,
    params: Map<String, Value>,
}

impl SendSystemMessage {
    /// A system message to `recipient` with no parameters yet.
    pub fn new(recipient: UserId) -> Self {
        Self {
            recipient,
            params: Map::new(),
        }
    }

    /// A parameter: a string or a nested object. `recipientId` is reserved and ignored here.
    pub fn param(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        let key = key.into();
        if key != "recipientId" {
            self.params.insert(key, value.into());
        }
        self
    }
}

impl Endpoint for SendSystemMessage {
    type Response = SystemMessageSent;
    const METADATA: Metadata = Metadata::post("SendSystemMessage", "/chat/Message/system");
    fn body(&self) -> Result<Option<Value>, RestError> {
        let mut b = self.params.clone();
        b.insert("recipientId".into(), json!(self.recipient));
        Ok(Some(Value::Object(b)))
    }
}

/// The answer to [`SendSystemMessage`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemMessageSent {
    /// The id of the sent message.
    pub message_id: MessageId,
    /// Who it went to.
    pub recipient_id: UserId,
    /// The parameters, as the server forwarded them.
    #[serde(default)]
    pub extension_params: Map<String, Value>,
}
