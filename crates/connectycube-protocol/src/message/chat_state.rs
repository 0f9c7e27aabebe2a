//! Typing notifications: XEP-0085 `<composing/>` and `<paused/>`, with xmpp-parsers' `ChatState`.

pub use xmpp_parsers::chatstates::ChatState;

/// What ConnectyCube clients send about typing: started or stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TypingState {
    /// `<composing/>`: the user is typing.
    Composing,
    /// `<paused/>`: the user stopped typing.
    Paused,
}

impl TypingState {
    /// The chat state reporting this.
    pub fn chat_state(self) -> ChatState {
        match self {
            Self::Composing => ChatState::Composing,
            Self::Paused => ChatState::Paused,
        }
    }

    /// The typing state a chat state reports, if any: `active`, `inactive` and `gone` are not
    /// typing notifications (ConnectyCube clients do not send them).
    pub fn from_chat_state(state: &ChatState) -> Option<Self> {
        match state {
            ChatState::Composing => Some(Self::Composing),
            ChatState::Paused => Some(Self::Paused),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_both_ways() {
        for t in [TypingState::Composing, TypingState::Paused] {
            assert_eq!(TypingState::from_chat_state(&t.chat_state()), Some(t));
        }
        assert_eq!(TypingState::from_chat_state(&ChatState::Active), None);
    }
}
