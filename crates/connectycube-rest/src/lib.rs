//! The ConnectyCube REST client for chat. Work in progress: see issue 4.
