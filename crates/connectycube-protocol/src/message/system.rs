//! System messages: `type='headline'` with `extraParams/moduleIdentifier=SystemNotifications` and
//! any custom parameters; sent to a user JID only (the docs: group chats are not supported).

use minidom::Element;
use xmpp_parsers::jid::Jid;
use xmpp_parsers::message::MessageType;

use super::envelope::Envelope;
use super::extra_params::{ExtraParams, SYSTEM_NOTIFICATIONS};
use super::{BuildError, check_text};
use crate::ids::MessageId;
use crate::model::CustomProperties;

/// A system notification.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemMessage {
    /// A text, if the sender put one (the docs' example has none).
    pub body: Option<String>,
    /// The `extraParams`: `moduleIdentifier` and the custom parameters.
    pub params: ExtraParams,
}

impl SystemMessage {
    /// A system message carrying `properties`.
    pub fn new(properties: CustomProperties) -> Self {
        Self {
            body: None,
            params: ExtraParams {
                module_identifier: Some(SYSTEM_NOTIFICATIONS.to_owned()),
                custom: properties,
                ..ExtraParams::default()
            },
        }
    }

    /// Whether `params` marks a system message.
    pub fn is_system(params: &ExtraParams) -> bool {
        params.module_identifier.as_deref() == Some(SYSTEM_NOTIFICATIONS)
    }

    /// The custom parameters.
    pub fn properties(&self) -> &CustomProperties {
        &self.params.custom
    }

    /// The `<message type='headline'>` to send to `to` (a user JID), with a fresh id.
    ///
    /// # Errors
    /// [`BuildError`] when a parameter name is not an XML name or a text cannot be carried.
    pub fn to_stanza(&self, to: Jid) -> Result<Element, BuildError> {
        let mut env = Envelope::new(MessageType::Headline, Some(to));
        env.id = Some(MessageId::generate().to_string());
        self.build(&env)
    }

    pub(crate) fn build(&self, env: &Envelope) -> Result<Element, BuildError> {
        if let Some(b) = &self.body {
            check_text("body", b)?;
        }
        let mut params = self.params.borrowed();
        params.dialog_id = env.dialog_id.or(params.dialog_id);
        Ok(env.build(self.body.clone(), vec![params.to_element()?]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builds_the_documented_shape() {
        let mut props = CustomProperties::new();
        props.insert("param1".into(), json!("value1"));
        let to = Jid::new("4448514-105@chat.connectycube.com").unwrap();
        let e = SystemMessage::new(props).to_stanza(to).unwrap();
        assert_eq!(e.attr("type"), Some("headline"));
        let extra = e.get_child("extraParams", "jabber:client").unwrap();
        assert_eq!(
            extra
                .get_child("moduleIdentifier", "jabber:client")
                .unwrap()
                .text(),
            "SystemNotifications"
        );
        assert_eq!(
            extra.get_child("param1", "jabber:client").unwrap().text(),
            "value1"
        );
    }
}
