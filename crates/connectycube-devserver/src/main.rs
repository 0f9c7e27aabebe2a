//! `connectycube-devserver [--db FILE] [--seed FILE] [--port N] [--app-id N] [--auth-key KEY]
//! [--user LOGIN:PASSWORD]… [--ready-file FILE]`: runs the local ConnectyCube stand-in on
//! 127.0.0.1 until Ctrl-C (or SIGTERM).

use std::path::PathBuf;
use std::process::ExitCode;

use connectycube_devserver::{DevServer, DevServerConfig, SeedUser};

const USAGE: &str = "usage: connectycube-devserver [--db FILE] [--seed FILE] [--port N] \
                     [--app-id N] [--auth-key KEY] [--user LOGIN:PASSWORD]... \
                     [--max-ack-queue N] [--ready-file FILE]";

/// The command line: the server's config, and where to write its coordinates once it listens.
#[derive(Debug)]
struct Args {
    config: DevServerConfig,
    ready_file: Option<PathBuf>,
}

fn parse(args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut config = DevServerConfig::default();
    let mut ready_file = None;
    let mut args = args.peekable();
    while let Some(flag) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match flag.as_str() {
            "--db" => config.db = Some(PathBuf::from(value("--db")?)),
            "--seed" => config.seed_file = Some(PathBuf::from(value("--seed")?)),
            "--port" => {
                config.port = value("--port")?
                    .parse()
                    .map_err(|_| "--port takes a number".to_owned())?;
            }
            "--app-id" => {
                config.app_id = value("--app-id")?
                    .parse()
                    .map_err(|_| "--app-id takes a number".to_owned())?;
            }
            "--auth-key" => config.auth_key = Some(value("--auth-key")?),
            "--user" => {
                let v = value("--user")?;
                let (login, password) = v
                    .split_once(':')
                    .ok_or("--user takes LOGIN:PASSWORD".to_owned())?;
                config.users.push(SeedUser::new(login, password));
            }
            "--max-ack-queue" => {
                let n = value("--max-ack-queue")?
                    .parse()
                    .map_err(|_| "--max-ack-queue takes a number".to_owned())?;
                if let Some(chat) = config.chat.as_mut() {
                    chat.max_ack_queue = n;
                }
            }
            "--ready-file" => ready_file = Some(PathBuf::from(value("--ready-file")?)),
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(Args { config, ready_file })
}

/// `key=value` lines a program that started the binary reads (xtask's test run): the same
/// coordinates as the printed banner, with the CA in `{file}.ca.pem`. Written to a temporary
/// name and renamed, so a reader never sees half a file.
fn write_ready_file(path: &std::path::Path, server: &DevServer) -> std::io::Result<()> {
    let mut lines = vec![
        format!("api_url={}", server.api_url()),
        format!("app_id={}", server.app_id()),
        format!("auth_key={}", server.auth_key()),
    ];
    if let Some(chat) = server.chat() {
        let ca = path.with_extension("ca.pem");
        std::fs::write(&ca, chat.ca_pem())?;
        let ports = chat.ports();
        lines.extend([
            format!("chat_host={}", chat.host()),
            format!("chat_address={}", chat.address()),
            format!("direct_tls_port={}", ports.direct_tls),
            format!("starttls_port={}", ports.starttls),
            format!("ws_url={}", chat.ws_url()),
            format!("wss_url={}", chat.wss_url()),
            format!("ca_pem_file={}", ca.display()),
        ]);
    }
    let partial = path.with_extension("partial");
    std::fs::write(&partial, lines.join("\n") + "\n")?;
    std::fs::rename(&partial, path)
}

/// Ctrl-C, or SIGTERM on Unix (how a parent process such as xtask stops it).
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                eprintln!("cannot wait for SIGTERM: {e}");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("cannot wait for Ctrl-C: {e}");
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let Args { config, ready_file } = match parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let server = match DevServer::start(config).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("cannot start: {e} ({})", source_chain(&e));
                return ExitCode::FAILURE;
            }
        };
        // The credentials are the point of this output: the devserver runs on loopback.
        println!("ConnectyCube devserver");
        println!("  REST API:       {}", server.api_url());
        println!("  application id: {}", server.app_id());
        println!("  auth key:       {}", server.auth_key());
        if let Some(chat) = server.chat() {
            let ports = chat.ports();
            println!("  chat host:      {} at {}", chat.host(), chat.address());
            println!("  direct TLS:     {}", ports.direct_tls);
            println!("  STARTTLS:       {}", ports.starttls);
            println!("  WebSocket:      {} and {}", chat.ws_url(), chat.wss_url());
            println!("  chat CA (PEM, trust it explicitly):\n{}", chat.ca_pem());
        }
        // The test kit's own endpoints (docs/TESTING.md), authorised by the auth key.
        println!(
            "  test admin:     {0}/_devserver/pushes, {0}/_devserver/faults (CB-AuthKey)",
            server.api_url()
        );
        if let Some(path) = &ready_file
            && let Err(e) = write_ready_file(path, &server)
        {
            eprintln!("cannot write {}: {e}", path.display());
            server.shutdown().await;
            return ExitCode::FAILURE;
        }
        println!("Ctrl-C stops it.");
        stopped().await;
        server.shutdown().await;
        ExitCode::SUCCESS
    })
}

fn source_chain(e: &dyn std::error::Error) -> String {
    let mut out = Vec::new();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push(s.to_string());
        cur = s.source();
    }
    out.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> impl Iterator<Item = String> {
        a.iter()
            .map(|s| (*s).to_owned())
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn flags_fill_the_config() {
        let c = parse(args(&[
            "--db",
            "x.db",
            "--port",
            "8080",
            "--app-id",
            "7",
            "--user",
            "ann:pw123456",
            "--ready-file",
            "ready.txt",
            "--max-ack-queue",
            "100000",
        ]))
        .unwrap();
        assert_eq!(c.config.chat.as_ref().unwrap().max_ack_queue, 100_000);
        assert_eq!(c.ready_file, Some(PathBuf::from("ready.txt")));
        let c = c.config;
        assert_eq!(c.db, Some(PathBuf::from("x.db")));
        assert_eq!((c.port, c.app_id), (8080, 7));
        assert_eq!(c.users[0].login, "ann");
    }

    #[test]
    fn bad_flags_are_refused() {
        assert!(parse(args(&["--port", "x"])).is_err());
        assert!(parse(args(&["--user", "nocolon"])).is_err());
        assert!(parse(args(&["--what"])).is_err());
        assert!(parse(args(&["--db"])).is_err());
        assert!(parse(args(&["--max-ack-queue", "many"])).is_err());
    }
}
