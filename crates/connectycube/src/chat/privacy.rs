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
pub fn deny(user: UserId, mutual: bool) -> PrivacyRule {
    PrivacyRule {
        user,
        action: PrivacyAction::Deny,
        mutual,
    }
}

/// A rule allowing `user` (an exception in a list that denies more).
pub fn allow(user: UserId, mutual: bool) -> PrivacyRule {
    PrivacyRule {
        user,
        action: PrivacyAction::Allow,
        mutual,
    }
}

/// A list named `name` of `rules`, in order.
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
    pub async fn create_privacy_list(&self, list: &PrivacyList) -> Result<(), Error> {
        let iq = request::set_list(&iq_id(), list, &self.domain)?;
        self.request(iq).await.map(drop)
    }

    /// Makes the list named `name` the default (it applies to every session of the user).
    ///
    /// # Errors
    /// [`Error::Refused`] when there is no such list.
    pub async fn set_default_privacy_list(&self, name: &str) -> Result<(), Error> {
        self.request(request::set_default(&iq_id(), Some(name)))
            .await
            .map(drop)
    }

    /// Declines the default list: none applies until one is set again.
    ///
    /// # Errors
    /// [`Error::Iq`] when no answer came.
    pub async fn decline_default_privacy_list(&self) -> Result<(), Error> {
        self.request(request::set_default(&iq_id(), None))
            .await
            .map(drop)
    }

    /// Updates a list as the guide says: decline the default, write the list, set it default.
    ///
    /// # Errors
    /// As the three steps.
    pub async fn update_privacy_list(&self, list: &PrivacyList) -> Result<(), Error> {
        self.decline_default_privacy_list().await?;
        self.create_privacy_list(list).await?;
        self.set_default_privacy_list(&list.name).await
    }

    /// The names of the user's lists, and which are active and default.
    ///
    /// # Errors
    /// [`Error::Refused`] for an error or unreadable answer.
    pub async fn privacy_list_names(&self) -> Result<PrivacyListNames, Error> {
        let answer = self.request(request::names(&iq_id())).await?;
        Ok(PrivacyListNames::from(&query_of(&answer)?))
    }

    /// The list named `name`, one rule per user.
    ///
    /// # Errors
    /// [`Error::Refused`] when there is no such list.
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
