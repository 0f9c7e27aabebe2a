//! `connectycube-devserver [--db FILE] [--seed FILE] [--port N] [--app-id N] [--auth-key KEY]
//! [--user LOGIN:PASSWORD]…`: runs the local ConnectyCube stand-in on 127.0.0.1 until Ctrl-C.

use std::path::PathBuf;
use std::process::ExitCode;

use connectycube_devserver::{DevServer, DevServerConfig, SeedUser};

const USAGE: &str = "usage: connectycube-devserver [--db FILE] [--seed FILE] [--port N] \
                     [--app-id N] [--auth-key KEY] [--user LOGIN:PASSWORD]...";

fn parse(args: impl Iterator<Item = String>) -> Result<DevServerConfig, String> {
    let mut config = DevServerConfig::default();
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
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(config)
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let config = match parse(std::env::args().skip(1)) {
        Ok(c) => c,
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
        println!("Ctrl-C stops it.");
        if let Err(e) = tokio::signal::ctrl_c().await {
            eprintln!("cannot wait for Ctrl-C: {e}");
        }
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
        ]))
        .unwrap();
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
    }
}
