//! Assembly: connect the store and media backend chosen by configuration, build the router, serve.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use tokio::net::TcpListener;

use crate::auth::{Tokens, secrets};
use crate::config::{Config, ExposeSecret, ProcessingMode};
use crate::http::{AppState, router};
use crate::media::MediaStore;
use crate::media::cloudinary::CloudinaryMedia;
use crate::media::cloudinary::client::CloudinaryClient;
use crate::media::ffmpeg::Tools;
use crate::media::local::LocalMedia;
use crate::media::routed::RoutedMedia;
use crate::media::tus::TusStorage;
use crate::media::tus::disk::TusArea;
use crate::media::upload::prepare_temp_dir;
use crate::services::processing::Processor;
use crate::services::{Services, UploadDirs};
use crate::store::Store;
use crate::store::mongo::MongoStore;
use crate::store::sqlite::SqliteStore;

/// A ready-to-serve application.
pub struct App {
    pub router: Router,
    pub config: Arc<Config>,
    /// For the shutdown steps after the last request.
    services: Arc<Services>,
}

/// Connects the backends, applies migrations and builds the router.
pub async fn build(config: Config) -> anyhow::Result<App> {
    // reqwest is built without a bundled TLS provider; ring is the one we ship.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let data_dir = config.data_dir.clone();
    std::fs::create_dir_all(&data_dir).with_context(|| format!("cannot create DATA_DIR {}", data_dir.display()))?;
    let secrets_dir = data_dir.join("secrets");
    let access = secrets::resolve(
        config.access_token_secret.as_ref().map(ExposeSecret::expose_secret),
        &secrets_dir,
        "access_token_secret",
    )?;
    let refresh = secrets::resolve(
        config.refresh_token_secret.as_ref().map(ExposeSecret::expose_secret),
        &secrets_dir,
        "refresh_token_secret",
    )?;
    if access == refresh {
        anyhow::bail!("ACCESS_TOKEN_SECRET and REFRESH_TOKEN_SECRET must be different");
    }
    let tokens = Tokens::new(&access, config.access_token_ttl_secs, &refresh, config.refresh_token_ttl_secs);

    if config.mongodb_uri.is_some() && config.access_token_secret.is_none() {
        tracing::warn!(
            "MONGODB_URI without ACCESS_TOKEN_SECRET/REFRESH_TOKEN_SECRET: secrets generated in DATA_DIR are \
             this machine's own; every instance sharing the database needs the same secrets"
        );
    }
    let (store, tus) = open_store_and_uploads(&config).await?;
    // Other instances write to the same database, so an in-process page cache could serve pages
    // they have changed: it is only used in front of the embedded store.
    let store = if config.feed_cache_enabled && config.mongodb_uri.is_none() { store.with_feed_cache() } else { store };
    let media_root: PathBuf = data_dir.join("media");
    let local: Arc<dyn MediaStore> = Arc::new(LocalMedia::new(media_root.clone(), &config.public_base_url)?);
    let (media, cloudinary) = match &config.cloudinary {
        Some(credentials) => {
            let client = CloudinaryClient::new(
                &config.cloudinary_api_base_url,
                credentials.clone(),
                config.cloudinary_part_bytes,
            )?;
            let cloudinary = Arc::new(CloudinaryMedia::new(client));
            (RoutedMedia::new(cloudinary.clone(), vec![local]), Some(cloudinary))
        }
        None => (RoutedMedia::new(local, Vec::new()), None),
    };
    let temp_dir = Arc::new(prepare_temp_dir(&data_dir.join("tmp"))?);

    let config = Arc::new(config);
    let processing = &config.processing;
    let tools = match processing.mode {
        ProcessingMode::Off => None,
        ProcessingMode::Auto | ProcessingMode::Required => Tools::detect(&processing.ffmpeg, &processing.ffprobe).await,
    };
    if processing.mode == ProcessingMode::Required && tools.is_none() {
        anyhow::bail!(
            "PROCESSING_ENABLED=true but ffmpeg ({}) or ffprobe ({}) could not be run; set FFMPEG_PATH and FFPROBE_PATH",
            processing.ffmpeg.display(),
            processing.ffprobe.display()
        );
    }
    let runs_jobs = cloudinary.is_none();
    let dirs = UploadDirs { tus, temp: temp_dir.clone() };
    let mut services = Services::new(config.clone(), store, Arc::new(media), tokens, cloudinary, dirs);
    if let Some(tools) = tools {
        tracing::info!(ffmpeg = %tools.version, runs_jobs, "video processing is on");
        services = services.with_processing(Processor::new(tools, runs_jobs));
    }
    services.spawn_maintenance();
    services.spawn_processing();
    services.spawn_notification_poller();
    let services = Arc::new(services);
    let state = AppState { services: services.clone(), temp_dir };
    Ok(App { router: router::build(state, Some(media_root)), config, services })
}

/// The store the configuration names and the home of resumable uploads that goes with it: on
/// MongoDB the database, so that any instance on it serves any upload (no sticky routing); on
/// SQLite, a single process, the disk (`DATA_DIR/tus`), where a finished upload is renamed into
/// the media store rather than copied (docs/decisions.md D15).
async fn open_store_and_uploads(config: &Config) -> anyhow::Result<(Store, Arc<dyn TusStorage>)> {
    Ok(match &config.mongodb_uri {
        Some(uri) => {
            let mongo = MongoStore::connect(uri.expose_secret()).await?;
            let tus: Arc<dyn TusStorage> = Arc::new(mongo.tus_storage().await?);
            (Store::from_backend(mongo), tus)
        }
        None => {
            let store = open_store(config).await?;
            (store, Arc::new(TusArea::open(&config.data_dir.join("tus"))?))
        }
    })
}

/// The store the configuration names: MongoDB at `MONGODB_URI`, else SQLite in `DATA_DIR`
/// (created if missing), migrated or indexed as needed.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    Ok(match &config.mongodb_uri {
        Some(uri) => Store::from_backend(MongoStore::connect(uri.expose_secret()).await?),
        None => {
            let data_dir = &config.data_dir;
            std::fs::create_dir_all(data_dir)
                .with_context(|| format!("cannot create DATA_DIR {}", data_dir.display()))?;
            Store::from_backend(SqliteStore::open(&data_dir.join("videotube.db")).await?)
        }
    })
}

/// Serves until `shutdown` resolves; then stops accepting connections, gives the requests in
/// flight `SHUTDOWN_GRACE_SECS` to finish, gives processing jobs back to the queue and lets the
/// store finish its writes (SQLite: queued watches applied, WAL checkpointed into the file).
pub async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let App { router, config, services } = app;
    let (signalled, signal) = tokio::sync::oneshot::channel::<()>();
    let streams = services.clone();
    let shutdown = async move {
        shutdown.await;
        // Open notification streams would hold the graceful shutdown until the grace is over.
        streams.close_streams();
        let _ = signalled.send(());
    };
    let server = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .into_future();
    let grace = std::time::Duration::from_secs(config.shutdown_grace_secs);
    let grace_over = async move {
        match signal.await {
            Ok(()) => tokio::time::sleep(grace).await,
            // The server ended without a signal: it is the server's outcome that counts.
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        served = server => served?,
        () = grace_over => tracing::warn!(
            grace_secs = config.shutdown_grace_secs,
            "requests still running after SHUTDOWN_GRACE_SECS; stopping without them"
        ),
    }
    services.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
