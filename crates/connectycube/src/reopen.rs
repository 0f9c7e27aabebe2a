//! Opening on what we had: with the network down, a login the store knows (same login name or
//! email as before) gives a session at once, whose dialogs and history come from the store and
//! whose sends wait on the queue; it logs in by itself once the network is back, then sends
//! what waited and catches up. Its password is checked then: a refusal ends the attempts.

use std::time::Duration;

use connectycube_rest::session::{CreateSession, SessionUser};

use crate::{Error, EventFilter, Retry, Session, Subscription};

/// Waits between login attempts of an offline session, doubling up to this.
const MAX_WAIT: Duration = Duration::from_secs(30);

/// What the store remembers a login by: its login name or email (never a secret); `None`
/// for logins by token, which cannot be checked offline.
pub(crate) fn identity(user: &SessionUser) -> Option<String> {
    match user {
        SessionUser::Login { login, .. } => Some(format!("login:{login}")),
        SessionUser::Email { email, .. } => Some(format!("email:{email}")),
        _ => None,
    }
}

/// The session, offline, with its events; it logs in in the background.
pub(crate) fn open_offline(session: Session, create: CreateSession) -> (Session, Subscription) {
    let events = session.events(EventFilter::ALL);
    tracing::info!(user = %session.user(), "the network is down: opening on the store");
    tokio::spawn(log_in_when_online(session.internal(), create));
    (session, events)
}

/// Tries until it logs in, the login is refused, the user logs out, or the app dropped every
/// handle of the session.
async fn log_in_when_online(session: Session, create: CreateSession) {
    let mut wait = Duration::from_secs(1);
    loop {
        if session.ended() {
            return;
        }
        match attempt(&session, &create).await {
            Ok(()) => return,
            Err(e) if e.retry() == Retry::Permanent => {
                tracing::warn!(error = %e, "the offline session's login was refused; it stays offline");
                return;
            }
            Err(e) => tracing::debug!(error = %e, "still offline"),
        }
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = session.chat().ended() => return,
        }
        wait = (wait * 2).min(MAX_WAIT);
    }
}

async fn attempt(session: &Session, create: &CreateSession) -> Result<(), Error> {
    if session.rest().token().is_none() {
        let mut create = create.clone();
        create.timestamp = crate::unix_now();
        session.rest().create_session(&create).await?;
    }
    session.chat().login().await?;
    session.chat().fill_gaps();
    session.resend_queued().await?;
    Ok(())
}
