//! ConnectyCube's XMPP addresses: user, room and occupant JIDs.
//!
//! A user is `{user_id}-{app_id}@{chat host}`, a group or public dialog's room is
//! `{app_id}_{dialog_id}@muc.{chat host}`, and an occupant is `{room}/{user_id}`.

use xmpp_parsers::jid::{BareJid, FullJid, Jid};

use crate::ids::{AppId, DialogId, UserId};

/// A JID that is not one of ConnectyCube's shapes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddressError {
    /// The JID's local part is not `{user_id}-{app_id}`.
    #[error("`{0}` is not a ConnectyCube user JID")]
    NotAUser(String),
    /// The JID is not `{app_id}_{dialog_id}@muc.…`.
    #[error("`{0}` is not a ConnectyCube room JID")]
    NotARoom(String),
    /// The JID's resource is not a user id.
    #[error("`{0}` is not a ConnectyCube room occupant JID")]
    NotAnOccupant(String),
    /// The built string is not a valid JID (bad host name).
    #[error("`{0}` is not a valid JID")]
    Invalid(String),
}

/// The chat host of a deployment (`chat.connectycube.com` or a self-hosted one) and the app on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatDomain {
    host: String,
    muc_host: String,
    app_id: AppId,
}

impl ChatDomain {
    /// The domain for `app_id` on `host`; the MUC service is `muc.{host}`, as on ConnectyCube.
    ///
    /// ```
    /// use connectycube_protocol::address::ChatDomain;
    /// use connectycube_protocol::ids::AppId;
    ///
    /// let domain = ChatDomain::new("chat.connectycube.com", AppId(105));
    /// assert_eq!(domain.muc_host(), "muc.chat.connectycube.com");
    /// assert_eq!(domain.app_id(), AppId(105));
    /// ```
    pub fn new(host: impl Into<String>, app_id: AppId) -> Self {
        let host = host.into();
        let muc_host = format!("muc.{host}");
        Self {
            host,
            muc_host,
            app_id,
        }
    }

    /// The chat host, e.g. `chat.connectycube.com`.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The MUC service host, e.g. `muc.chat.connectycube.com`.
    pub fn muc_host(&self) -> &str {
        &self.muc_host
    }

    /// The application id.
    pub fn app_id(&self) -> AppId {
        self.app_id
    }

    /// `{user_id}-{app_id}@{host}`.
    ///
    /// # Errors
    /// [`AddressError::Invalid`] when the configured host is not a valid domain.
    ///
    /// ```
    /// use connectycube_protocol::address::ChatDomain;
    /// use connectycube_protocol::ids::{AppId, UserId};
    ///
    /// let domain = ChatDomain::new("chat.connectycube.com", AppId(105));
    /// assert_eq!(domain.user_jid(UserId(56))?.to_string(), "56-105@chat.connectycube.com");
    /// assert!(ChatDomain::new("not a host", AppId(105)).user_jid(UserId(56)).is_err());
    /// # Ok::<(), connectycube_protocol::address::AddressError>(())
    /// ```
    pub fn user_jid(&self, user: UserId) -> Result<BareJid, AddressError> {
        parse_bare(&format!("{user}-{}@{}", self.app_id, self.host))
    }

    /// `{app_id}_{dialog_id}@muc.{host}`.
    ///
    /// # Errors
    /// [`AddressError::Invalid`] when the configured host is not a valid domain.
    ///
    /// ```
    /// use connectycube_protocol::address::ChatDomain;
    /// use connectycube_protocol::ids::AppId;
    ///
    /// let domain = ChatDomain::new("chat.connectycube.com", AppId(105));
    /// let room = domain.room_jid("5356c64ab35c12bd3b108a41".parse()?)?;
    /// assert_eq!(room.to_string(), "105_5356c64ab35c12bd3b108a41@muc.chat.connectycube.com");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn room_jid(&self, dialog: DialogId) -> Result<BareJid, AddressError> {
        parse_bare(&format!("{}_{dialog}@{}", self.app_id, self.muc_host))
    }

    /// `{room}/{user_id}`: how a user appears inside a room.
    ///
    /// # Errors
    /// [`AddressError::Invalid`] when the configured host is not a valid domain.
    ///
    /// ```
    /// use connectycube_protocol::address::ChatDomain;
    /// use connectycube_protocol::ids::{AppId, UserId};
    ///
    /// let domain = ChatDomain::new("chat.connectycube.com", AppId(105));
    /// let me = domain.occupant_jid("5356c64ab35c12bd3b108a41".parse()?, UserId(56))?;
    /// assert_eq!(me.resource().as_str(), "56");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn occupant_jid(&self, dialog: DialogId, user: UserId) -> Result<FullJid, AddressError> {
        let room = self.room_jid(dialog)?;
        room.with_resource_str(&user.to_string())
            .map_err(|_| AddressError::Invalid(format!("{room}/{user}")))
    }

    /// Whether `jid` lives on this deployment's MUC service.
    ///
    /// ```
    /// use connectycube_protocol::address::ChatDomain;
    /// use connectycube_protocol::ids::{AppId, UserId};
    /// use xmpp_parsers::jid::Jid;
    ///
    /// let domain = ChatDomain::new("chat.connectycube.com", AppId(105));
    /// let room = Jid::from(domain.room_jid("5356c64ab35c12bd3b108a41".parse()?)?);
    /// let user = Jid::from(domain.user_jid(UserId(56))?);
    /// assert!(domain.is_room(&room) && !domain.is_room(&user));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_room(&self, jid: &Jid) -> bool {
        jid.domain().as_str() == self.muc_host
    }
}

fn parse_bare(s: &str) -> Result<BareJid, AddressError> {
    BareJid::new(s).map_err(|_| AddressError::Invalid(s.to_owned()))
}

/// The user id in a user JID's local part (`{user_id}-{app_id}@…`, any resource).
///
/// # Errors
/// [`AddressError::NotAUser`] for any other shape.
pub fn user_id_of(jid: &Jid) -> Result<UserId, AddressError> {
    user_of(jid).ok_or_else(|| AddressError::NotAUser(jid.to_string()))
}

/// The dialog id in a room JID's local part (`{app_id}_{dialog_id}@muc.…`, any resource).
///
/// # Errors
/// [`AddressError::NotARoom`] for any other shape.
pub fn dialog_id_of(jid: &Jid) -> Result<DialogId, AddressError> {
    room_of(jid).ok_or_else(|| AddressError::NotARoom(jid.to_string()))
}

/// The user id in an occupant JID's resource (`{room}/{user_id}`).
///
/// # Errors
/// [`AddressError::NotAnOccupant`] when the resource is missing or not a user id.
pub fn occupant_user_id(jid: &Jid) -> Result<UserId, AddressError> {
    jid.resource()
        .and_then(|r| r.as_str().parse().ok())
        .ok_or_else(|| AddressError::NotAnOccupant(jid.to_string()))
}

/// [`user_id_of`] without the error, for checks that expect a miss (no string is built).
pub(crate) fn user_of(jid: &Jid) -> Option<UserId> {
    let (user, app) = jid.node()?.as_str().split_once('-')?;
    app.parse::<AppId>().ok()?;
    user.parse().ok()
}

/// [`dialog_id_of`] without the error, for checks that expect a miss (no string is built).
pub(crate) fn room_of(jid: &Jid) -> Option<DialogId> {
    let (app, dialog) = jid.node()?.as_str().split_once('_')?;
    app.parse::<AppId>().ok()?;
    dialog.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain() -> ChatDomain {
        ChatDomain::new("chat.connectycube.com", AppId(105))
    }

    #[test]
    fn builds_the_three_shapes() {
        let d = domain();
        let dialog: DialogId = "5c094c0ce588ce6856f87422".parse().unwrap();
        assert_eq!(
            d.user_jid(UserId(4448514)).unwrap().to_string(),
            "4448514-105@chat.connectycube.com"
        );
        assert_eq!(
            d.room_jid(dialog).unwrap().to_string(),
            "105_5c094c0ce588ce6856f87422@muc.chat.connectycube.com"
        );
        assert_eq!(
            d.occupant_jid(dialog, UserId(7)).unwrap().to_string(),
            "105_5c094c0ce588ce6856f87422@muc.chat.connectycube.com/7"
        );
    }

    #[test]
    fn parses_the_three_shapes_back() {
        let user = Jid::new("4448514-105@chat.connectycube.com/res").unwrap();
        assert_eq!(user_id_of(&user), Ok(UserId(4448514)));
        let occ = Jid::new("105_5c094c0ce588ce6856f87422@muc.chat.connectycube.com/7").unwrap();
        assert_eq!(
            dialog_id_of(&occ).unwrap().to_string(),
            "5c094c0ce588ce6856f87422"
        );
        assert_eq!(occupant_user_id(&occ), Ok(UserId(7)));
        assert!(domain().is_room(&occ));
    }

    #[test]
    fn foreign_jids_are_typed_errors() {
        for s in [
            "alice@example.org",
            "chat.connectycube.com",
            "x-105@h",
            "5-x@h",
            "-5@h",
        ] {
            let jid = Jid::new(s).unwrap();
            assert!(
                matches!(user_id_of(&jid), Err(AddressError::NotAUser(_))),
                "{s}"
            );
            assert!(
                matches!(dialog_id_of(&jid), Err(AddressError::NotARoom(_))),
                "{s}"
            );
        }
        let bare = Jid::new("105_5c094c0ce588ce6856f87422@muc.h").unwrap();
        assert!(occupant_user_id(&bare).is_err());
    }

    #[test]
    fn bad_host_is_an_error_not_a_panic() {
        let d = ChatDomain::new("bad host/with@chars", AppId(1));
        assert!(d.user_jid(UserId(1)).is_err());
    }
}
