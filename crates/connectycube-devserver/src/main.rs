//! `connectycube-devserver`: runs the local ConnectyCube stand-in until interrupted.

fn main() {}
