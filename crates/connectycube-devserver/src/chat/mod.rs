//! The real-time chat server (XMPP).
