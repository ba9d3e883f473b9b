//! The `videotube` server: reads `.env` and the environment, then serves the API until SIGINT/SIGTERM.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::process::ExitCode;

use videotube::config::Config;

/// mimalloc: the request path allocates many small strings; glibc malloc showed up at ~15% in
/// profiles of the feed (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use videotube::{app, migrate, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => serve().await,
        Some("migrate") => migrate_command(&args[1..]).await,
        Some("--help" | "-h" | "help") => {
            println!(
                "usage: videotube            serve the API (configured by .env and the environment)\n\n{}",
                migrate::USAGE
            );
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("unknown command `{other}`\n\n{}", migrate::USAGE);
            ExitCode::from(2)
        }
    }
}

async fn migrate_command(args: &[String]) -> ExitCode {
    let _ = dotenvy::dotenv();
    let args = match migrate::Args::parse(args) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("{e}\n\n{}", migrate::USAGE);
            return ExitCode::from(2);
        }
    };
    match migrate::run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("migration failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> ExitCode {
    let _ = dotenvy::dotenv();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return ExitCode::FAILURE;
        }
    };
    telemetry::init(config.log_format);
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("startup failed: {e:#}");
            eprintln!("startup failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    let addr = SocketAddr::new(config.host, config.port);
    let application = app::build(config).await?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "videotube listening");
    app::serve(listener, application, app::shutdown_signal()).await?;
    Ok(())
}
