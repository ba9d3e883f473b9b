//! One `Config` read from the environment (original variable names kept), with zero-setup defaults.

mod expiry;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;

pub use expiry::parse_expiry;
/// A secret from the configuration: its `Debug` prints `[REDACTED]`, so printing a `Config` (or
/// anything holding one) never shows it; `expose_secret()` is the one way to read it.
pub use secrecy::{ExposeSecret, SecretString};

/// A configuration problem that stops startup; the message names the variable.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CorsOrigins {
    Any,
    List(Vec<String>),
}

impl CorsOrigins {
    pub fn allows(&self, origin: &str) -> bool {
        match self {
            CorsOrigins::Any => true,
            CorsOrigins::List(list) => list.iter().any(|o| o == origin),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SameSite {
    Lax,
    Strict,
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Size and length limits of docs/api.md (§1.2, §1.6, §1.11, §1.13).
#[derive(Clone, Debug)]
pub struct Limits {
    pub json_body_bytes: usize,
    pub image_bytes: u64,
    pub video_bytes: u64,
    pub title_chars: usize,
    pub description_chars: usize,
    pub content_chars: usize,
    pub playlist_name_chars: usize,
    pub query_chars: usize,
    pub page_limit_max: u32,
}

impl Limits {
    /// The defaults of docs/api.md §1.13, also the limits the OpenAPI document states.
    pub const DEFAULT: Limits = Limits {
        json_body_bytes: 16_384,
        image_bytes: 5_242_880,
        video_bytes: 2_147_483_648,
        title_chars: 200,
        description_chars: 5000,
        content_chars: 2000,
        playlist_name_chars: 100,
        query_chars: 200,
        page_limit_max: 100,
    };
}

/// `<count>/<window>` request budgets per client IP (`15/5m`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub window_secs: u64,
}

#[derive(Clone, Debug)]
pub struct RateLimits {
    pub enabled: bool,
    /// Login and register.
    pub auth: RateLimit,
    pub refresh: RateLimit,
    /// Routes that take file uploads.
    pub upload: RateLimit,
    /// Every API request.
    pub api: RateLimit,
    /// Reports a user files (docs/api.md §3.15.2), per user rather than per address.
    pub reports: RateLimit,
}

#[derive(Clone, Debug)]
pub struct CloudinaryCredentials {
    pub cloud_name: String,
    pub api_key: String,
    pub api_secret: SecretString,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub host: IpAddr,
    pub port: u16,
    /// Origin used to build absolute URLs of locally stored media.
    pub public_base_url: String,
    pub data_dir: PathBuf,
    /// May carry the database's credentials.
    pub mongodb_uri: Option<SecretString>,
    pub cors_origins: CorsOrigins,
    pub access_token_secret: Option<SecretString>,
    pub refresh_token_secret: Option<SecretString>,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_secs: u64,
    pub bcrypt_cost: u32,
    pub cookie_secure: bool,
    pub cookie_same_site: Option<SameSite>,
    pub public_reads: bool,
    pub refresh_sessions_max: u32,
    pub limits: Limits,
    pub view_window_secs: u64,
    pub history_max: u32,
    /// Serve repeated feed pages from the exact, write-invalidated cache.
    pub feed_cache_enabled: bool,
    pub rate_limits: RateLimits,
    /// Stored media no record references is deleted once older than this.
    pub media_orphan_grace_secs: u64,
    /// How often the orphan-media reconciliation runs (it also runs at startup).
    pub media_reconcile_interval_secs: u64,
    /// A resumable (tus) upload is deleted this long after its creation or last PATCH.
    pub upload_expiry_secs: u64,
    /// Notifications older than this many days are deleted by the maintenance sweep (0: every
    /// notification the sweep finds).
    pub notification_retention_days: u64,
    /// An open notification stream gets a comment line after this many idle seconds.
    pub notification_keepalive_secs: u64,
    pub trust_proxy: bool,
    pub cloudinary: Option<CloudinaryCredentials>,
    pub cloudinary_api_base_url: String,
    /// Uploads larger than this go to Cloudinary in parts of this size.
    pub cloudinary_part_bytes: u64,
    pub log_format: LogFormat,
    pub processing: ProcessingSettings,
    /// The most bytes of a request body left unread by its answer that are read and discarded, so
    /// the client, still sending, gets the answer (`src/http/drain.rs`).
    pub max_drain_bytes: u64,
    /// How long a SIGTERM/SIGINT waits for in-flight requests before the server stops anyway.
    pub shutdown_grace_secs: u64,
}

/// `PROCESSING_ENABLED`: `auto` turns video processing on when ffmpeg and ffprobe are found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcessingMode {
    Auto,
    Off,
    Required,
}

/// Video processing with ffmpeg (docs/api.md §3.14).
#[derive(Clone, Debug)]
pub struct ProcessingSettings {
    pub mode: ProcessingMode,
    /// Jobs run at once by this instance.
    pub concurrency: usize,
    /// HLS rendition heights, ascending, without duplicates.
    pub renditions: Vec<u32>,
    pub ffmpeg: PathBuf,
    pub ffprobe: PathBuf,
    /// How long a claimed job stays with its instance without a renewal.
    pub lease_secs: u64,
}

impl Config {
    /// Reads the process environment (after `.env` has been loaded by the binary).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(&std::env::vars().collect())
    }

    /// Builds a configuration from explicit variables; unset or empty values take their defaults.
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let env = Env(vars);
        let port: u16 = env.parse("PORT", 8000)?;
        let access_token_secret = env.get("ACCESS_TOKEN_SECRET");
        let refresh_token_secret = env.get("REFRESH_TOKEN_SECRET");
        check_secrets(access_token_secret.as_deref(), refresh_token_secret.as_deref())?;
        let cookie_secure = env.flag("COOKIE_SECURE", true)?;
        let cookie_same_site = match env.get("COOKIE_SAMESITE") {
            None => None,
            Some(v) => Some(match v.to_ascii_lowercase().as_str() {
                "lax" => SameSite::Lax,
                "strict" => SameSite::Strict,
                "none" => SameSite::None,
                _ => return Err(ConfigError(format!("COOKIE_SAMESITE must be Lax, Strict or None, got {v:?}"))),
            }),
        };
        if cookie_same_site == Some(SameSite::None) && !cookie_secure {
            return Err(ConfigError("COOKIE_SAMESITE=None requires COOKIE_SECURE=true".into()));
        }
        let bcrypt_cost = env.parse("BCRYPT_COST", 10u32)?;
        if !(4..=31).contains(&bcrypt_cost) {
            return Err(ConfigError(format!("BCRYPT_COST must be between 4 and 31, got {bcrypt_cost}")));
        }
        let d = Limits::DEFAULT;
        let limits = Limits {
            json_body_bytes: env.positive("MAX_JSON_BODY_BYTES", d.json_body_bytes)?,
            image_bytes: env.positive("MAX_IMAGE_BYTES", d.image_bytes)?,
            video_bytes: env.positive("MAX_VIDEO_BYTES", d.video_bytes)?,
            title_chars: env.positive("MAX_TITLE_CHARS", d.title_chars)?,
            description_chars: env.positive("MAX_DESCRIPTION_CHARS", d.description_chars)?,
            content_chars: env.positive("MAX_CONTENT_CHARS", d.content_chars)?,
            playlist_name_chars: env.positive("MAX_PLAYLIST_NAME_CHARS", d.playlist_name_chars)?,
            query_chars: env.positive("MAX_QUERY_CHARS", d.query_chars)?,
            page_limit_max: env.positive("PAGE_LIMIT_MAX", d.page_limit_max)?,
        };
        Ok(Config {
            host: env.parse("HOST", IpAddr::from([0, 0, 0, 0]))?,
            port,
            public_base_url: env
                .get("PUBLIC_BASE_URL")
                .map(|u| u.trim_end_matches('/').to_owned())
                .unwrap_or_else(|| format!("http://localhost:{port}")),
            data_dir: PathBuf::from(env.get("DATA_DIR").unwrap_or_else(|| "./data".into())),
            mongodb_uri: env.get("MONGODB_URI").map(SecretString::from),
            cors_origins: parse_cors(env.get("CORS_ORIGIN").as_deref().unwrap_or("*")),
            access_token_secret: access_token_secret.map(SecretString::from),
            refresh_token_secret: refresh_token_secret.map(SecretString::from),
            access_token_ttl_secs: env.expiry("ACCESS_TOKEN_EXPIRY", "1d")?,
            refresh_token_ttl_secs: env.expiry("REFRESH_TOKEN_EXPIRY", "10d")?,
            bcrypt_cost,
            cookie_secure,
            cookie_same_site,
            public_reads: env.flag("PUBLIC_READS", true)?,
            refresh_sessions_max: env.positive("REFRESH_SESSIONS_MAX", 10u32)?,
            limits,
            view_window_secs: env.parse("VIEW_WINDOW_SECS", 3600u64)?,
            history_max: env.positive("HISTORY_MAX", 50u32)?,
            feed_cache_enabled: env.flag("FEED_CACHE_ENABLED", true)?,
            rate_limits: RateLimits {
                enabled: env.flag("RATE_LIMIT_ENABLED", true)?,
                auth: env.rate("RATE_LIMIT_AUTH", "15/5m")?,
                refresh: env.rate("RATE_LIMIT_REFRESH", "30/5m")?,
                upload: env.rate("RATE_LIMIT_UPLOAD", "30/1h")?,
                api: env.rate("RATE_LIMIT_API", "600/1m")?,
                reports: env.rate("RATE_LIMIT_REPORTS", "20/1h")?,
            },
            media_orphan_grace_secs: env.parse("MEDIA_ORPHAN_GRACE_SECS", 3600u64)?,
            media_reconcile_interval_secs: env.positive("MEDIA_RECONCILE_INTERVAL_SECS", 3600u64)?,
            upload_expiry_secs: env.positive("UPLOAD_EXPIRY_SECS", 86_400u64)?,
            notification_retention_days: env.parse("NOTIFICATION_RETENTION_DAYS", 90u64)?,
            notification_keepalive_secs: env.positive("NOTIFICATION_KEEPALIVE_SECS", 15u64)?,
            trust_proxy: env.flag("TRUST_PROXY", false)?,
            cloudinary: cloudinary_credentials(&env)?,
            cloudinary_api_base_url: env
                .get("CLOUDINARY_API_BASE_URL")
                .unwrap_or_else(|| "https://api.cloudinary.com".into()),
            cloudinary_part_bytes: env.positive("CLOUDINARY_CHUNK_SIZE", 20_000_000u64)?,
            log_format: match env.get("LOG_FORMAT").as_deref() {
                None | Some("pretty") => LogFormat::Pretty,
                Some("json") => LogFormat::Json,
                Some(other) => return Err(ConfigError(format!("LOG_FORMAT must be pretty or json, got {other:?}"))),
            },
            processing: processing_settings(&env)?,
            max_drain_bytes: env.parse("MAX_DRAIN_BYTES", 8u64 << 20)?,
            shutdown_grace_secs: env.parse("SHUTDOWN_GRACE_SECS", 20u64)?,
        })
    }
}

/// docs/api.md §1.7: configured secrets are at least 32 bytes and differ from each other.
fn check_secrets(access: Option<&str>, refresh: Option<&str>) -> Result<(), ConfigError> {
    for (name, value) in [("ACCESS_TOKEN_SECRET", access), ("REFRESH_TOKEN_SECRET", refresh)] {
        if let Some(v) = value
            && v.len() < 32
        {
            return Err(ConfigError(format!("{name} must be at least 32 bytes long (got {} bytes)", v.len())));
        }
    }
    if access.is_some() && access == refresh {
        return Err(ConfigError("ACCESS_TOKEN_SECRET and REFRESH_TOKEN_SECRET must be different".into()));
    }
    Ok(())
}

fn parse_cors(raw: &str) -> CorsOrigins {
    let origins: Vec<String> =
        raw.split(',').map(|o| o.trim().trim_end_matches('/').to_owned()).filter(|o| !o.is_empty()).collect();
    if origins.is_empty() || origins.iter().any(|o| o == "*") { CorsOrigins::Any } else { CorsOrigins::List(origins) }
}

fn cloudinary_credentials(env: &Env) -> Result<Option<CloudinaryCredentials>, ConfigError> {
    if let Some(url) = env.get("CLOUDINARY_URL") {
        let bad =
            || ConfigError("CLOUDINARY_URL must look like cloudinary://<api_key>:<api_secret>@<cloud_name>".into());
        let rest = url.strip_prefix("cloudinary://").ok_or_else(bad)?;
        let (auth, cloud_name) = rest.rsplit_once('@').ok_or_else(bad)?;
        let (api_key, api_secret) = auth.split_once(':').ok_or_else(bad)?;
        if [api_key, api_secret, cloud_name].iter().any(|s| s.is_empty()) {
            return Err(bad());
        }
        return Ok(Some(CloudinaryCredentials {
            cloud_name: cloud_name.into(),
            api_key: api_key.into(),
            api_secret: SecretString::from(api_secret),
        }));
    }
    let parts = ["CLOUDINARY_CLOUD_NAME", "CLOUDINARY_API_KEY", "CLOUDINARY_API_SECRET"].map(|k| env.get(k));
    match parts {
        [None, None, None] => Ok(None),
        [Some(cloud_name), Some(api_key), Some(api_secret)] => {
            Ok(Some(CloudinaryCredentials { cloud_name, api_key, api_secret: api_secret.into() }))
        }
        _ => Err(ConfigError(
            "CLOUDINARY_CLOUD_NAME, CLOUDINARY_API_KEY and CLOUDINARY_API_SECRET must be set together".into(),
        )),
    }
}

fn processing_settings(env: &Env) -> Result<ProcessingSettings, ConfigError> {
    let mode = match env.get("PROCESSING_ENABLED").map(|v| v.to_ascii_lowercase()).as_deref() {
        None | Some("auto") => ProcessingMode::Auto,
        Some("false") => ProcessingMode::Off,
        Some("true") => ProcessingMode::Required,
        Some(v) => return Err(ConfigError(format!("PROCESSING_ENABLED must be auto, true or false, got {v:?}"))),
    };
    let raw = env.get("HLS_RENDITIONS").unwrap_or_else(|| "240,480,720,1080".to_owned());
    let mut renditions = raw
        .split(',')
        .map(|h| h.trim().parse::<u32>().ok().filter(|h| (2..=4320).contains(h)))
        .collect::<Option<Vec<u32>>>()
        .ok_or_else(|| {
            ConfigError(format!("HLS_RENDITIONS must be heights between 2 and 4320 separated by commas, got {raw:?}"))
        })?;
    renditions.sort_unstable();
    renditions.dedup();
    Ok(ProcessingSettings {
        mode,
        concurrency: env.positive("PROCESSING_CONCURRENCY", 1usize)?,
        renditions,
        ffmpeg: PathBuf::from(env.get("FFMPEG_PATH").unwrap_or_else(|| "ffmpeg".into())),
        ffprobe: PathBuf::from(env.get("FFPROBE_PATH").unwrap_or_else(|| "ffprobe".into())),
        lease_secs: env.positive("PROCESSING_LEASE_SECS", 60u64)?,
    })
}

struct Env<'a>(&'a HashMap<String, String>);

impl Env<'_> {
    fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    fn parse<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| ConfigError(format!("{name} has an invalid value: {v:?}"))),
        }
    }

    fn positive<T: std::str::FromStr + PartialOrd + Default>(&self, name: &str, default: T) -> Result<T, ConfigError> {
        let value = self.parse(name, default)?;
        if value <= T::default() {
            return Err(ConfigError(format!("{name} must be greater than zero")));
        }
        Ok(value)
    }

    fn flag(&self, name: &str, default: bool) -> Result<bool, ConfigError> {
        match self.get(name).map(|v| v.to_ascii_lowercase()).as_deref() {
            None => Ok(default),
            Some("true" | "1" | "yes" | "on") => Ok(true),
            Some("false" | "0" | "no" | "off") => Ok(false),
            Some(v) => Err(ConfigError(format!("{name} must be true or false, got {v:?}"))),
        }
    }

    fn rate(&self, name: &str, default: &str) -> Result<RateLimit, ConfigError> {
        let raw = self.get(name).unwrap_or_else(|| default.to_owned());
        let parsed = raw.split_once('/').and_then(|(count, window)| {
            let requests = count.trim().parse().ok().filter(|n| *n > 0)?;
            Some(RateLimit { requests, window_secs: parse_expiry(window)? })
        });
        parsed.ok_or_else(|| ConfigError(format!("{name} must look like 15/5m (requests per window), got {raw:?}")))
    }

    fn expiry(&self, name: &str, default: &str) -> Result<u64, ConfigError> {
        let raw = self.get(name).unwrap_or_else(|| default.to_owned());
        parse_expiry(&raw).ok_or_else(|| {
            ConfigError(format!("{name} must be a duration of at least 1 second like 15m, 1d or 2 hours, got {raw:?}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_vars(&pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn empty_environment_gives_the_documented_defaults() {
        let c = config(&[]).unwrap();
        assert_eq!(c.port, 8000);
        assert_eq!(c.cors_origins, CorsOrigins::Any);
        assert_eq!(c.access_token_ttl_secs, 86_400);
        assert_eq!(c.refresh_token_ttl_secs, 864_000);
        assert_eq!(c.bcrypt_cost, 10);
        assert!(c.cookie_secure && c.public_reads && c.rate_limits.enabled && !c.trust_proxy);
        assert_eq!(c.rate_limits.auth, RateLimit { requests: 15, window_secs: 300 });
        assert_eq!(c.limits.image_bytes, 5 * 1024 * 1024);
        assert_eq!(c.limits.video_bytes, 2 * 1024 * 1024 * 1024);
        assert!(c.cloudinary.is_none() && c.mongodb_uri.is_none());
        assert_eq!(c.processing.mode, ProcessingMode::Auto);
        assert_eq!((c.processing.concurrency, c.processing.renditions.as_slice()), (1, &[240, 480, 720, 1080][..]));
        assert_eq!((c.max_drain_bytes, c.shutdown_grace_secs), (8 * 1024 * 1024, 20));
    }

    #[test]
    fn processing_settings_are_parsed_and_checked() {
        let c = config(&[("PROCESSING_ENABLED", "TRUE"), ("HLS_RENDITIONS", "720, 240,720")]).unwrap();
        assert_eq!((c.processing.mode, c.processing.renditions), (ProcessingMode::Required, vec![240, 720]));
        let bad = [("PROCESSING_ENABLED", "maybe"), ("HLS_RENDITIONS", "240,big"), ("PROCESSING_CONCURRENCY", "0")];
        for (name, value) in bad {
            let message = config(&[(name, value)]).unwrap_err().0;
            assert!(message.starts_with(name), "{message}");
        }
    }

    #[test]
    fn short_or_identical_secrets_stop_startup_naming_the_variable() {
        let err = config(&[("ACCESS_TOKEN_SECRET", "0123456789")]).unwrap_err();
        assert!(err.0.contains("ACCESS_TOKEN_SECRET"), "{err}");
        let err = config(&[("REFRESH_TOKEN_SECRET", "short")]).unwrap_err();
        assert!(err.0.contains("REFRESH_TOKEN_SECRET"), "{err}");
        let same = "x".repeat(40);
        let err = config(&[("ACCESS_TOKEN_SECRET", &same), ("REFRESH_TOKEN_SECRET", &same)]).unwrap_err();
        assert!(err.0.contains("must be different"), "{err}");
    }

    #[test]
    fn printing_the_configuration_shows_no_secret() {
        let (access, refresh) = ("a".repeat(32) + "-access-secret", "r".repeat(32) + "-refresh-secret");
        let c = config(&[
            ("ACCESS_TOKEN_SECRET", &access),
            ("REFRESH_TOKEN_SECRET", &refresh),
            ("MONGODB_URI", "mongodb://admin:db-password@db.test/videotube"),
            ("CLOUDINARY_URL", "cloudinary://key:cloudinary-secret@demo"),
        ])
        .unwrap();
        let printed = format!("{c:?} {c:#?}");
        for secret in [access.as_str(), refresh.as_str(), "db-password", "cloudinary-secret"] {
            assert!(!printed.contains(secret), "{secret} printed in {printed}");
        }
        assert!(printed.contains("REDACTED"), "the secrets are there, redacted: {printed}");
        let secret = |s: &Option<SecretString>| s.as_ref().map(|s| s.expose_secret().to_owned());
        assert_eq!(secret(&c.access_token_secret), Some(access));
        assert_eq!(secret(&c.mongodb_uri).as_deref(), Some("mongodb://admin:db-password@db.test/videotube"));
    }

    #[test]
    fn cookie_same_site_none_needs_secure_cookies() {
        assert!(config(&[("COOKIE_SAMESITE", "None"), ("COOKIE_SECURE", "false")]).is_err());
        assert_eq!(config(&[("COOKIE_SAMESITE", "strict")]).unwrap().cookie_same_site, Some(SameSite::Strict));
    }

    #[test]
    fn cors_list_and_cloudinary_url_are_parsed() {
        let c = config(&[
            ("CORS_ORIGIN", "http://a.test, http://b.test/"),
            ("CLOUDINARY_URL", "cloudinary://key:secret@demo"),
        ])
        .unwrap();
        assert!(c.cors_origins.allows("http://b.test") && !c.cors_origins.allows("http://c.test"));
        let cl = c.cloudinary.unwrap();
        assert_eq!(
            (cl.api_key.as_str(), cl.api_secret.expose_secret(), cl.cloud_name.as_str()),
            ("key", "secret", "demo")
        );
        assert!(config(&[("CLOUDINARY_API_KEY", "k")]).is_err());
    }

    #[test]
    fn rate_limits_are_parsed() {
        let c = config(&[("RATE_LIMIT_API", "100 / 30s")]).unwrap();
        assert_eq!(c.rate_limits.api, RateLimit { requests: 100, window_secs: 30 });
        for bad in ["100", "0/1m", "x/1m", "10/soon"] {
            assert!(config(&[("RATE_LIMIT_AUTH", bad)]).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_expiry_stops_startup() {
        let err = config(&[("ACCESS_TOKEN_EXPIRY", "soon")]).unwrap_err();
        assert!(err.0.contains("ACCESS_TOKEN_EXPIRY"));
    }
}
