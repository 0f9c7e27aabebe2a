//! What the devserver's end-to-end tests share: a devserver with users, their REST clients and
//! chat connections, and waiting for a stanza.

#![allow(dead_code)]

use std::time::Duration;

use connectycube_devserver::{DevServer, DevServerConfig, SeedUser};
use connectycube_protocol::ids::{AppId, UserId};
use connectycube_rest::session::{CreateSession, Secret, SessionUser};
use connectycube_rest::{RestClient, RestConfig};
use connectycube_transport::connector::Credentials;
use connectycube_transport::connectors::XmppConnector;
use connectycube_transport::session::{ChatConnection, Incoming, SessionSettings};
use minidom::Element;
use xmpp_parsers::jid::BareJid;

/// How long anything may take.
pub const WAIT: Duration = Duration::from_secs(15);

/// A devserver with a user per login (password `{login}-password1`).
pub async fn server(logins: &[&str]) -> DevServer {
    server_with(DevServerConfig::default(), logins).await
}

/// A devserver of `config` with a user per login (password `{login}-password1`) added.
pub async fn server_with(mut config: DevServerConfig, logins: &[&str]) -> DevServer {
    for l in logins {
        config
            .users
            .push(SeedUser::new(l, &format!("{l}-password1")));
    }
    DevServer::start(config).await.unwrap()
}

/// A REST client with a session of `login`, its user id and token.
pub async fn rest(srv: &DevServer, login: &str) -> (RestClient, UserId, String) {
    let mut config = RestConfig::new().with_api_url(&srv.api_url()).unwrap();
    config.allow_plain_http = true;
    let client = RestClient::new(config).unwrap();
    let who = SessionUser::Login {
        login: login.into(),
        password: Secret(format!("{login}-password1")),
    };
    let s = client
        .create_session(&CreateSession::new(
            AppId(srv.app_id()),
            srv.auth_key(),
            who,
        ))
        .await
        .unwrap();
    let token = s.token.expose().to_owned();
    (client, s.user_id.unwrap(), token)
}

/// `user` logged in to chat with a REST token, with `settings`.
pub async fn chat(
    srv: &DevServer,
    user: UserId,
    token: &str,
    settings: SessionSettings,
) -> (ChatConnection, Incoming) {
    let chat = srv.chat().unwrap();
    let credentials = Credentials {
        jid: BareJid::new(&format!("{}-{}@{}", user.0, srv.app_id(), chat.host())).unwrap(),
        password: token.to_owned(),
    };
    let (conn, incoming) = ChatConnection::new(
        XmppConnector::new(chat.connection_config()).unwrap(),
        credentials,
        settings,
    );
    tokio::time::timeout(WAIT, conn.login())
        .await
        .unwrap()
        .unwrap();
    (conn, incoming)
}

/// A 1-1 chat message to `to` with `body` and `extra` inside `<extraParams>`.
pub fn message_to(srv: &DevServer, to: UserId, id: &str, body: &str, extra: &str) -> Element {
    let host = srv.chat().unwrap().host().to_owned();
    format!(
        "<message xmlns='jabber:client' type='chat' to='{}-{}@{host}' id='{id}'>\
         <body>{body}</body><extraParams xmlns='jabber:client'>{extra}</extraParams></message>",
        to.0,
        srv.app_id()
    )
    .parse()
    .unwrap()
}

/// The first element `wanted` picks, within [`WAIT`].
pub async fn next(incoming: &mut Incoming, wanted: impl Fn(&Element) -> bool) -> Element {
    tokio::time::timeout(WAIT, async {
        loop {
            let el = incoming.recv().await.expect("session ended");
            if wanted(&el) {
                return el;
            }
        }
    })
    .await
    .expect("nothing wanted arrived")
}

/// The message with id `id`.
pub async fn message(incoming: &mut Incoming, id: &str) -> Element {
    next(incoming, |e| {
        e.name() == "message" && e.attr("id") == Some(id)
    })
    .await
}
