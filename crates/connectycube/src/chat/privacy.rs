//! Privacy (block) lists over chat (XEP-0016 as ConnectyCube uses it), one call per guide
//! step, plus `block`/`unblock`, which read, modify and write back the default list.

use connectycube_protocol::ids::UserId;
use connectycube_protocol::iq::privacy::{
    PrivacyAction, PrivacyList, PrivacyListNames, PrivacyQuery, PrivacyRule, request,
};
use minidom::Element;

use super::{ChatClient, iq_id};
use crate::Error;

/// The list `block` creates when the user has no default list yet.
pub const BLOCK_LIST: &str = "blocked";

/// The `<query/>` of a privacy answer (an empty result carries none).
fn query_of(answer: &Element) -> Result<PrivacyQuery, Error> {
    PrivacyQuery::of_answer(answer)
        .map_err(|e| Error::Refused(format!("unreadable privacy answer: {e}")))
}

/// A rule denying `user`: both ways when `mutual`, else only their stanzas to us.
///
/// ```
/// use connectycube::privacy::deny;
/// use connectycube::protocol::ids::UserId;
///
/// let rule = deny(UserId(56), true);
/// assert_eq!((rule.user, rule.mutual), (UserId(56), true));
/// ```
pub fn deny(user: UserId, mutual: bool) -> PrivacyRule {
    PrivacyRule {
        user,
        action: PrivacyAction::Deny,
        mutual,
    }
}

/// A rule allowing `user` (an exception in a list that denies more).
///
/// ```
/// use connectycube::privacy::{allow, deny};
/// use connectycube::protocol::ids::UserId;
///
/// assert_ne!(allow(UserId(56), false).action, deny(UserId(56), false).action);
/// ```
pub fn allow(user: UserId, mutual: bool) -> PrivacyRule {
    PrivacyRule {
        user,
        action: PrivacyAction::Allow,
        mutual,
    }
}

/// A list named `name` of `rules`, in order.
///
/// ```
/// use connectycube::privacy::{allow, deny, privacy_list};
/// use connectycube::protocol::ids::UserId;
///
/// let list = privacy_list("custom", [deny(UserId(1), false), allow(UserId(2), true)]);
/// assert_eq!(list.name, "custom");
/// assert_eq!(list.rules.len(), 2);
/// ```
pub fn privacy_list(name: &str, rules: impl IntoIterator<Item = PrivacyRule>) -> PrivacyList {
    PrivacyList {
        name: name.to_owned(),
        rules: rules.into_iter().collect(),
    }
}

impl ChatClient {
    /// Creates (or replaces) a privacy list; it takes effect once it is the default.
    ///
    /// # Errors
    /// [`Error::Privacy`] for a list with no rules, [`Error::Refused`] when the server
    /// refuses (e.g. replacing the default list: decline it first).
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::privacy::{deny, privacy_list};
    /// use connectycube::protocol::model::Message;
    ///
    /// let chat = bob.chat();
    /// chat.create_privacy_list(&privacy_list("custom", [deny(ann.user(), false)])).await?;
    /// chat.set_default_privacy_list("custom").await?;
    /// let sent = ann.chat().send_private(bob.user(), &Message::new("are you there?")).await;
    /// assert!(sent.is_err_and(|e| e.bounce().is_some()), "bounced: bob blocks ann");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create_privacy_list(&self, list: &PrivacyList) -> Result<(), Error> {
        let iq = request::set_list(&iq_id(), list, &self.domain)?;
        self.request(iq).await.map(drop)
    }

    /// Makes the list named `name` the default (it applies to every session of the user).
    ///
    /// # Errors
    /// [`Error::Refused`] when there is no such list.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::privacy::{deny, privacy_list};
    ///
    /// let chat = bob.chat();
    /// chat.create_privacy_list(&privacy_list("custom", [deny(ann.user(), false)])).await?;
    /// chat.set_default_privacy_list("custom").await?;
    /// assert_eq!(chat.privacy_list_names().await?.default.as_deref(), Some("custom"));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn set_default_privacy_list(&self, name: &str) -> Result<(), Error> {
        self.request(request::set_default(&iq_id(), Some(name)))
            .await
            .map(drop)
    }

    /// Declines the default list: none applies until one is set again.
    ///
    /// # Errors
    /// [`Error::Iq`] when no answer came.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::privacy::{deny, privacy_list};
    ///
    /// let chat = bob.chat();
    /// chat.create_privacy_list(&privacy_list("custom", [deny(ann.user(), false)])).await?;
    /// chat.set_default_privacy_list("custom").await?;
    /// chat.decline_default_privacy_list().await?;
    /// assert_eq!(chat.privacy_list_names().await?.default, None);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn decline_default_privacy_list(&self) -> Result<(), Error> {
        self.request(request::set_default(&iq_id(), None))
            .await
            .map(drop)
    }

    /// Updates a list as the guide says: decline the default, write the list, set it default.
    ///
    /// # Errors
    /// As the three steps.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::privacy::{allow, deny, privacy_list};
    ///
    /// let chat = bob.chat();
    /// let rules = [deny(ann.user(), false), allow(bob.user(), false)];
    /// chat.create_privacy_list(&privacy_list("custom", rules)).await?;
    /// let mut list = chat.privacy_list("custom").await?;
    /// list.rules.retain(|r| r.user != ann.user());
    /// chat.update_privacy_list(&list).await?;
    /// assert_eq!(chat.privacy_list("custom").await?.rules.len(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn update_privacy_list(&self, list: &PrivacyList) -> Result<(), Error> {
        self.decline_default_privacy_list().await?;
        self.create_privacy_list(list).await?;
        self.set_default_privacy_list(&list.name).await
    }

    /// The names of the user's lists, and which are active and default.
    ///
    /// # Errors
    /// [`Error::Refused`] for an error or unreadable answer.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::privacy::{deny, privacy_list};
    ///
    /// let chat = bob.chat();
    /// chat.create_privacy_list(&privacy_list("custom", [deny(ann.user(), false)])).await?;
    /// assert_eq!(chat.privacy_list_names().await?.names, ["custom"]);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn privacy_list_names(&self) -> Result<PrivacyListNames, Error> {
        let answer = self.request(request::names(&iq_id())).await?;
        Ok(PrivacyListNames::from(&query_of(&answer)?))
    }

    /// The list named `name`, one rule per user.
    ///
    /// # Errors
    /// [`Error::Refused`] when there is no such list.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::privacy::{deny, privacy_list};
    ///
    /// let chat = bob.chat();
    /// chat.create_privacy_list(&privacy_list("custom", [deny(ann.user(), true)])).await?;
    /// let list = chat.privacy_list("custom").await?;
    /// assert_eq!(list.rules[0].user, ann.user());
    /// assert!(chat.privacy_list("missing").await.is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn privacy_list(&self, name: &str) -> Result<PrivacyList, Error> {
        let answer = self.request(request::list(&iq_id(), name)).await?;
        let query = query_of(&answer)?;
        let list = query
            .lists
            .iter()
            .find(|l| l.name == name)
            .ok_or_else(|| Error::Refused(format!("no privacy list `{name}` in the answer")))?;
        Ok(PrivacyList::from_list(list)?)
    }

    /// Removes the list named `name` (decline it first if it is the default).
    ///
    /// # Errors
    /// [`Error::Refused`] when the server refuses.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::privacy::{deny, privacy_list};
    ///
    /// let chat = bob.chat();
    /// chat.create_privacy_list(&privacy_list("custom", [deny(ann.user(), false)])).await?;
    /// chat.remove_privacy_list("custom").await?;
    /// assert!(chat.privacy_list_names().await?.names.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn remove_privacy_list(&self, name: &str) -> Result<(), Error> {
        self.request(request::remove_list(&iq_id(), name))
            .await
            .map(drop)
    }

    /// Blocks `user` both ways in the default list (created as [`BLOCK_LIST`] if there is
    /// none); other rules in it are kept.
    ///
    /// # Errors
    /// As reading and updating the list.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::BLOCK_LIST;
    ///
    /// bob.chat().block(ann.user()).await?;
    /// let blocked = bob.chat().privacy_list(BLOCK_LIST).await?;
    /// assert!(blocked.rules.iter().any(|r| r.user == ann.user()));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn block(&self, user: UserId) -> Result<(), Error> {
        let mut list = self.default_privacy_list().await?;
        list.rules.retain(|r| r.user != user);
        list.rules.push(deny(user, true));
        self.update_privacy_list(&list).await
    }

    /// Lets `user` through again: removes their rules from the default list (and the list
    /// itself, declined first, when nothing is left in it).
    ///
    /// # Errors
    /// As reading and updating the list.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/doc.rs"));
    /// # #[tokio::main]
    /// # async fn main() -> DocResult {
    /// # let Pair { srv, client, ann, mut ann_events, bob, mut bob_events, mut dialog, mut bobs } = pair().await?;
    /// use connectycube::BLOCK_LIST;
    ///
    /// bob.chat().block(ann.user()).await?;
    /// bob.chat().unblock(ann.user()).await?;
    /// let still = match bob.chat().privacy_list(BLOCK_LIST).await {
    ///     Ok(list) => list.rules.iter().any(|r| r.user == ann.user()),
    ///     Err(_) => false, // the list went with its last rule
    /// };
    /// assert!(!still);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn unblock(&self, user: UserId) -> Result<(), Error> {
        let mut list = self.default_privacy_list().await?;
        let before = list.rules.len();
        list.rules.retain(|r| r.user != user);
        if list.rules.len() == before {
            return Ok(());
        }
        if list.rules.is_empty() {
            self.decline_default_privacy_list().await?;
            return self.remove_privacy_list(&list.name).await;
        }
        self.update_privacy_list(&list).await
    }

    /// The default list, or an empty [`BLOCK_LIST`] when the user has none.
    async fn default_privacy_list(&self) -> Result<PrivacyList, Error> {
        match self.privacy_list_names().await?.default {
            Some(name) => self.privacy_list(&name).await,
            None => Ok(privacy_list(BLOCK_LIST, [])),
        }
    }
}
