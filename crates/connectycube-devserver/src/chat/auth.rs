//! SASL PLAIN on the first stream: the password or a live REST session token of the user named
//! by the JID's local part `{user_id}-{app_id}`.

use connectycube_protocol::ids::{AppId, UserId};
use connectycube_transport::xml_stream::{Frame, STREAM_NS};
use minidom::Element;
use xmpp_parsers::sasl::{Auth, Mechanism};

use super::Shared;
use super::session::{refuse, stream_id};
use super::wire::{Wire, close_with};

const SASL_NS: &str = "urn:ietf:params:xml:ns:xmpp-sasl";
const MAX_AUTH_ATTEMPTS: usize = 3;

fn sasl_features() -> Element {
    Element::builder("features", STREAM_NS)
        .append(
            Element::builder("mechanisms", SASL_NS)
                .append(
                    Element::builder("mechanism", SASL_NS)
                        .append("PLAIN")
                        .build(),
                )
                .build(),
        )
        .build()
}

/// `authzid \0 authcid \0 password`: the user is the local part of the authcid (or of the
/// authzid's JID), `{user_id}-{app_id}`.
fn parse_plain(data: &[u8]) -> Option<(AppId, UserId, String)> {
    let mut parts = data.split(|b| *b == 0);
    let authzid = std::str::from_utf8(parts.next()?).ok()?;
    let authcid = std::str::from_utf8(parts.next()?).ok()?;
    let password = std::str::from_utf8(parts.next()?).ok()?;
    if parts.next().is_some() {
        return None;
    }
    let local = if authcid.is_empty() {
        authzid.split('@').next()?
    } else {
        authcid.split('@').next()?
    };
    let (user, app) = local.split_once('-')?;
    Some((app.parse().ok()?, user.parse().ok()?, password.to_owned()))
}

fn failure(condition: &str) -> Element {
    Element::builder("failure", SASL_NS)
        .append(Element::builder(condition, SASL_NS).build())
        .build()
}

/// The first stream: features with PLAIN, then `<auth/>` until it succeeds (a few tries).
pub(crate) async fn authenticate<W: Wire>(wire: &mut W, ctx: &Shared) -> Option<(AppId, UserId)> {
    match wire.recv().await {
        Ok(Some(Frame::Header(_))) => {}
        Ok(_) => return None,
        Err(e) => {
            refuse(wire, &e).await;
            return None;
        }
    }
    wire.header(ctx.host(), &stream_id());
    wire.queue(&sasl_features()).ok()?;
    wire.flush().await.ok()?;
    for _ in 0..MAX_AUTH_ATTEMPTS {
        let el = match wire.recv().await {
            Ok(Some(Frame::Stanza(el))) => el,
            Ok(_) => return None,
            Err(e) => {
                refuse(wire, &e).await;
                return None;
            }
        };
        if !el.is("auth", SASL_NS) {
            close_with(wire, "not-authorized", None).await;
            return None;
        }
        let plain = match Auth::try_from(el) {
            Ok(Auth {
                mechanism: Mechanism::Plain,
                data,
            }) => parse_plain(&data),
            Ok(_) => {
                let _ = wire.queue(&failure("invalid-mechanism"));
                wire.flush().await.ok()?;
                continue;
            }
            Err(_) => None,
        };
        let ok = plain.as_ref().is_some_and(|(app, user, pw)| {
            ctx.backend.authenticate(*app, *user, pw).unwrap_or(false)
        });
        match plain {
            Some((app, user, _)) if ok => {
                wire.queue(&Element::builder("success", SASL_NS).build())
                    .ok()?;
                wire.flush().await.ok()?;
                wire.restart().ok()?;
                return Some((app, user));
            }
            _ => {
                wire.queue(&failure("not-authorized")).ok()?;
                wire.flush().await.ok()?;
            }
        }
    }
    close_with(
        wire,
        "policy-violation",
        Some("too many authentication attempts"),
    )
    .await;
    None
}
