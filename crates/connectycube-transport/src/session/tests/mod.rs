//! The session's rules over an in-memory server (`fake`): no sockets, every fault on demand.

mod basics;
mod fake;
mod flow;
mod sm_defence;
