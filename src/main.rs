//! The `videotube` server: reads `.env` and the environment, then serves the API until SIGINT/SIGTERM.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::process::ExitCode;

use videotube::config::Config;

/// mimalloc: the request path allocates many small strings; glibc malloc showed up at ~15% in
/// profiles of the feed (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use videotube::{admin, app, backup, migrate, telemetry};

/// videotube: a video-sharing REST API (users, videos, comments, likes, subscriptions, playlists).
/// Configured by `.env` and the environment; see README.md.
#[derive(clap::Parser)]
#[command(name = "videotube", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Serve the API (what runs when no command is given)
    Serve,
    Migrate(migrate::Args),
    Admin(admin::Args),
    Backup(backup::BackupArgs),
    Restore(backup::RestoreArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    // clap prints help, the version and usage errors itself (exit codes 0 and 2).
    let cli = <Cli as clap::Parser>::parse();
    let _ = dotenvy::dotenv();
    match cli.command {
        None | Some(Command::Serve) => serve().await,
        Some(Command::Migrate(args)) => match migrate::run(args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("migration failed: {e:#}");
                ExitCode::FAILURE
            }
        },
        Some(Command::Admin(args)) => operate(|config| admin::run(args, config)).await,
        Some(Command::Backup(args)) => operate(|config| backup::backup(args, config)).await,
        Some(Command::Restore(args)) => operate(|config| backup::restore(args, config)).await,
    }
}

/// An operator's command on the configured store: prints what it did, or why it failed.
async fn operate<F: Future<Output = anyhow::Result<String>>>(command: impl FnOnce(Config) -> F) -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match command(config).await {
        Ok(done) => {
            println!("{done}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> ExitCode {
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
