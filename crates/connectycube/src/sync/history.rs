//! One dialog's history since a time, page by page, as events: never more than asked per
//! page, never more than [`MAX_PER_DIALOG`] new ones per fill (and one page of overlap with
//! what was shown), whatever the server answers.

use connectycube_protocol::address::ChatDomain;
use connectycube_protocol::event::{ChatEvent, Inbound};
use connectycube_protocol::ids::{DialogId, UserId};
use connectycube_protocol::message::Envelope;
use connectycube_protocol::model::Message;
use connectycube_rest::RestClient;
use connectycube_rest::chat::messages::{ListMessages, MessageField};
use connectycube_rest::query::FilterOp;
use xmpp_parsers::jid::Jid;
use xmpp_parsers::message::MessageType;

use super::{GapFill, Injected, MAX_PER_DIALOG, SLACK, Stop, Target};

/// Messages kept per history page.
const PAGE: u32 = 100;

/// Keeps at most `asked` of `items`: a server that answers more than a request's `limit`
/// ignored it, and what it sent beyond is not read (the caller treats the page as full, so
/// the rest comes on later pages, bounded by the caller's own cap). Says whether it did.
pub(super) fn keep_asked<T>(items: &mut Vec<T>, asked: usize, what: &'static str) -> bool {
    let answered = items.len();
    if answered <= asked {
        return false;
    }
    // Counts only: the items are the user's messages or dialogs.
    tracing::warn!(
        what,
        asked,
        answered,
        "the server answered more than the limit asked for; kept what was asked"
    );
    items.truncate(asked);
    true
}

/// One page of a history: at most `want` messages, and whether more follow. One message
/// more than wanted is asked for, to know whether more follow without another request.
pub(super) fn page_of(mut items: Vec<Message>, want: u32) -> (Vec<Message>, bool) {
    let want = want as usize;
    keep_asked(&mut items, want + 1, "history messages");
    let more = items.len() > want;
    items.truncate(want);
    (items, more)
}

impl GapFill {
    /// Hands over what `target` got since its since-time, oldest first; `Ok(false)` when
    /// [`MAX_PER_DIALOG`] messages were taken and more follow.
    pub(super) async fn fill_dialog(
        &self,
        rest: &RestClient,
        target: &Target,
        me: &Me,
    ) -> Result<bool, Stop> {
        self.hand_over(Injected::Begin(target.dialog)).await?;
        let from = target.since.saturating_sub(SLACK);
        // `taken`: read so far (the next page's skip). `new`: those after the since-time,
        // which the cap counts; the overlap before it (shown already, dropped by the event
        // task) is bounded apart, by one page.
        let (mut taken, mut new) = (0u32, 0u32);
        while new < MAX_PER_DIALOG && taken < MAX_PER_DIALOG + PAGE {
            let want = PAGE.min(MAX_PER_DIALOG - new);
            let request = ListMessages::new(target.dialog)
                .filter(MessageField::DateSent, FilterOp::Gte, from)
                .sort_asc(MessageField::DateSent)
                .keep_unread()
                .limit(want + 1)
                .skip(taken);
            let items = rest.send(&request).await.map_err(Stop::Failed)?.items;
            let (items, more) = page_of(items, want);
            // `page_of` keeps at most `want` (≤ 100): `new` stays within `MAX_PER_DIALOG`.
            taken += u32::try_from(items.len()).unwrap_or(want);
            let after = items
                .iter()
                .filter(|m| m.date_sent.is_none_or(|d| d > target.since));
            new += u32::try_from(after.count()).unwrap_or(want);
            // Our own messages were sent from here or show on the other device's side; the
            // app already has those it sent.
            for message in items.into_iter().filter(|m| m.sender_id != Some(me.user)) {
                let event = me.event(target.dialog, target.group, message);
                self.hand_over(Injected::History(Box::new(event))).await?;
            }
            if !more {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// Who the history messages are for, to address them as the live ones are.
#[derive(Debug, Clone)]
pub(crate) struct Me {
    pub domain: ChatDomain,
    pub user: UserId,
}

impl Me {
    /// A history message as the event a live one makes: from the room's occupant (group) or
    /// the sender (1-1), to us, with its dialog id.
    pub(super) fn event(&self, dialog: DialogId, group: bool, mut message: Message) -> ChatEvent {
        message.dialog_id = Some(dialog);
        let sender = message.sender_id;
        let from = match (group, sender) {
            (true, Some(s)) => self.domain.occupant_jid(dialog, s).ok().map(Jid::from),
            (false, Some(s)) => self.domain.user_jid(s).ok().map(Jid::from),
            (_, None) => None,
        };
        let kind = if group {
            MessageType::Groupchat
        } else {
            MessageType::Chat
        };
        let mut envelope = Envelope::new(kind, self.domain.user_jid(self.user).ok().map(Jid::from));
        envelope.id = Some(message.id.to_string());
        envelope.from = from;
        envelope.dialog_id = Some(dialog);
        ChatEvent::ChatMessage(Box::new(Inbound {
            envelope,
            payload: message,
        }))
    }
}
