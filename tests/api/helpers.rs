//! `TestApp`: a real server on 127.0.0.1:0 with a temp DATA_DIR, plus client helpers and assertions.

use std::collections::HashMap;
use std::path::PathBuf;

use reqwest::multipart::{Form, Part};
use reqwest::{Client, Method, RequestBuilder, StatusCode};
use serde_json::Value;
use tempfile::TempDir;

use super::fake_cloudinary::FakeCloudinary;
use super::fixtures;

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub data_dir: TempDir,
    /// The fake Cloudinary when the app runs with the Cloudinary media backend.
    pub cloudinary: Option<FakeCloudinary>,
    /// The URI of this app's own MongoDB database when the suite runs on MongoDB; dropped on drop.
    pub mongodb: Option<String>,
}

/// Which store a test app uses: SQLite always, MongoDB when `TEST_MONGODB_URI` names a deployment
/// (each app then gets a fresh database of its own, dropped when the app is dropped).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum StoreBackend {
    Sqlite,
    Mongo,
}

impl StoreBackend {
    pub fn from_env() -> Self {
        if test_mongodb_uri().is_some() { StoreBackend::Mongo } else { StoreBackend::Sqlite }
    }
}

pub fn test_mongodb_uri() -> Option<String> {
    std::env::var("TEST_MONGODB_URI").ok().filter(|uri| !uri.is_empty())
}

/// A URI naming a database no other test uses.
pub fn fresh_mongodb_database() -> Option<String> {
    let name = format!("videotube_test_{}", videotube::domain::Id::generate());
    test_mongodb_uri().map(|uri| videotube::store::mongo::with_database(&uri, &name))
}

/// The `host:port` of the (first) server a MongoDB URI names, as written in the URI.
pub async fn mongodb_address(uri: &str) -> String {
    let options = mongodb::options::ClientOptions::parse(uri).await.unwrap();
    options.hosts[0].to_string()
}

/// Drops a test database from a thread of its own, since drops run outside async code.
pub fn drop_mongodb_database(uri: &str) {
    let uri = uri.to_owned();
    let dropped = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let options = mongodb::options::ClientOptions::parse(&uri).await.unwrap();
            let name = videotube::store::mongo::database_name(&options);
            mongodb::Client::with_options(options).unwrap().database(&name).drop().await
        })
    });
    if let Ok(Err(e)) = dropped.join() {
        eprintln!("could not drop test database: {e}");
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(uri) = &self.mongodb {
            drop_mongodb_database(uri);
        }
    }
}

/// Which media backend a test app uses. The suite runs on local media by default and on the
/// Cloudinary backend (against the fake) with `TEST_MEDIA_BACKEND=cloudinary`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MediaBackend {
    Local,
    Cloudinary,
}

impl MediaBackend {
    fn from_env() -> Self {
        match std::env::var("TEST_MEDIA_BACKEND").as_deref() {
            Ok("cloudinary") => MediaBackend::Cloudinary,
            _ => MediaBackend::Local,
        }
    }
}

pub struct TestAppBuilder {
    vars: HashMap<String, String>,
    media: MediaBackend,
    store: StoreBackend,
    data_dir: Option<TempDir>,
    mongodb_via: Option<String>,
}

impl TestAppBuilder {
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.vars.insert(key.into(), value.into());
        self
    }

    /// Pins the media backend, for tests of one backend's own behaviour.
    pub fn media(mut self, media: MediaBackend) -> Self {
        self.media = media;
        self
    }

    /// Pins the store, for tests that reach into one store's internals.
    pub fn store(mut self, store: StoreBackend) -> Self {
        self.store = store;
        self
    }

    /// Runs the app in this DATA_DIR (one on a small filesystem, say) instead of a fresh temp dir.
    pub fn data_dir(mut self, dir: TempDir) -> Self {
        self.data_dir = Some(dir);
        self
    }

    /// On MongoDB, has the app reach the deployment through `address` (a proxy in front of it)
    /// instead of directly; the test database is still dropped directly.
    pub fn mongodb_via(mut self, address: &str) -> Self {
        self.mongodb_via = Some(address.to_owned());
        self
    }

    pub async fn spawn(mut self) -> TestApp {
        let mongodb = match self.store {
            StoreBackend::Sqlite => None,
            StoreBackend::Mongo => fresh_mongodb_database(),
        };
        if let Some(uri) = &mongodb {
            let uri = match &self.mongodb_via {
                Some(address) => uri.replacen(&mongodb_address(uri).await, address, 1),
                None => uri.clone(),
            };
            self.vars.insert("MONGODB_URI".into(), uri);
        }
        let cloudinary = match self.media {
            MediaBackend::Local => None,
            MediaBackend::Cloudinary => {
                let fake = FakeCloudinary::start(1024).await;
                self.vars.insert("CLOUDINARY_URL".into(), fake.url());
                self.vars.insert("CLOUDINARY_API_BASE_URL".into(), fake.base.clone());
                self.vars.entry("CLOUDINARY_CHUNK_SIZE".into()).or_insert_with(|| "65536".into());
                Some(fake)
            }
        };
        let data_dir = self.data_dir.take().unwrap_or_else(|| tempfile::tempdir().unwrap());
        let feed_cache = std::env::var("TEST_FEED_CACHE_ENABLED").unwrap_or_else(|_| "true".into());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        for (k, v) in [
            ("DATA_DIR", data_dir.path().to_str().unwrap()),
            ("PUBLIC_BASE_URL", base.as_str()),
            ("BCRYPT_COST", "4"),
            ("RATE_LIMIT_ENABLED", "false"),
            // Background ffmpeg jobs would change videos under tests about other things;
            // the tests of processing turn it on.
            ("PROCESSING_ENABLED", "false"),
            // The suite runs with the feed cache as configured (on by default) and once more
            // without it (`.ci/run`), so pages read through the database are checked as well.
            ("FEED_CACHE_ENABLED", feed_cache.as_str()),
        ] {
            self.vars.entry(k.into()).or_insert_with(|| v.into());
        }
        let config = videotube::config::Config::from_vars(&self.vars).expect("test config");
        videotube::telemetry::init(config.log_format);
        let app = videotube::app::build(config).await.expect("app builds");
        tokio::spawn(videotube::app::serve(listener, app, std::future::pending()));
        TestApp { base, client: http_client(), data_dir, cloudinary, mongodb }
    }
}

/// An HTTP client for tests. reqwest is built without a bundled TLS provider (the server installs
/// ring at startup), so tests install the same one before their first client.
pub fn http_client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::new()
}

/// A response with its JSON body parsed.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Resp {
    pub async fn from(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Resp { status, headers, body }
    }

    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect()
    }

    /// Asserts a success envelope with this status and message; returns `data`.
    pub fn ok(&self, status: u16, message: &str) -> &Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status, body: {}", self.body);
        assert_eq!(self.body["statusCode"], status);
        assert_eq!(self.body["success"], true);
        assert_eq!(self.message(), message);
        let keys: Vec<&str> = self.body.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 4, "success envelope keys: {keys:?}");
        self.data()
    }

    /// Asserts the error envelope (exactly five keys) with this status and message.
    pub fn err(&self, status: u16, message: &str) -> &Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status, body: {}", self.body);
        assert_eq!(self.body["statusCode"], status);
        assert_eq!(self.body["success"], false);
        assert_eq!(self.body["data"], Value::Null);
        assert_eq!(self.message(), message);
        assert_eq!(self.body.as_object().unwrap().len(), 5, "error envelope keys: {}", self.body);
        assert_eq!(self.headers.get("content-type").unwrap().to_str().unwrap(), "application/json; charset=utf-8");
        &self.body["errors"]
    }
}

/// A logged-in user.
#[derive(Clone, Debug)]
pub struct Session {
    pub id: String,
    pub access: String,
    pub refresh: String,
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            vars: HashMap::new(),
            media: MediaBackend::from_env(),
            store: StoreBackend::from_env(),
            data_dir: None,
            mongodb_via: None,
        }
    }

    pub async fn spawn() -> Self {
        Self::builder().spawn().await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    pub async fn send(&self, request: RequestBuilder) -> Resp {
        Resp::from(request.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str, session: Option<&Session>) -> Resp {
        let mut request = self.request(Method::GET, path);
        if let Some(s) = session {
            request = request.bearer_auth(&s.access);
        }
        self.send(request).await
    }

    /// A JSON request, authenticated when a session is given.
    pub async fn json(&self, method: Method, path: &str, session: Option<&Session>, body: Value) -> Resp {
        let mut request = self.request(method, path).json(&body);
        if let Some(s) = session {
            request = request.bearer_auth(&s.access);
        }
        self.send(request).await
    }

    pub async fn call(&self, method: Method, path: &str, session: &Session) -> Resp {
        self.send(self.request(method, path).bearer_auth(&session.access)).await
    }

    pub fn registration_form(username: &str) -> Form {
        Form::new()
            .text("fullName", format!("{username} Full"))
            .text("email", format!("{username}@example.com"))
            .text("username", username.to_owned())
            .text("password", "pass-word")
            .part("avatar", Part::bytes(fixtures::png()).file_name("avatar.png").mime_str("image/png").unwrap())
    }

    pub async fn register(&self, username: &str) -> Value {
        let resp =
            self.send(self.request(Method::POST, "/users/register").multipart(Self::registration_form(username))).await;
        resp.ok(201, "User registered Successfully").clone()
    }

    pub async fn login(&self, username: &str, password: &str) -> Resp {
        self.json(Method::POST, "/users/login", None, serde_json::json!({"username": username, "password": password}))
            .await
    }

    /// Registers and logs in a user.
    pub async fn user(&self, username: &str) -> Session {
        self.register(username).await;
        let resp = self.login(username, "pass-word").await;
        let data = resp.ok(200, "User logged In Successfully");
        Session {
            id: data["user"]["_id"].as_str().unwrap().to_owned(),
            access: data["accessToken"].as_str().unwrap().to_owned(),
            refresh: data["refreshToken"].as_str().unwrap().to_owned(),
        }
    }

    pub fn video_form(title: &str, video: Vec<u8>, video_name: &str) -> Form {
        Form::new()
            .text("title", title.to_owned())
            .text("description", format!("About {title}"))
            .part("videoFile", Part::bytes(video).file_name(video_name.to_owned()))
            .part("thumbnail", Part::bytes(fixtures::jpeg()).file_name("thumb.jpg"))
    }

    /// Publishes a short MP4 as `session` and returns the Video.
    pub async fn publish(&self, session: &Session, title: &str) -> Value {
        let form = Self::video_form(title, fixtures::mp4(25), "clip.mp4");
        let resp = self.send(self.request(Method::POST, "/videos").bearer_auth(&session.access).multipart(form)).await;
        resp.ok(201, "Video uploaded successfully").clone()
    }

    /// Runs `videotube admin <args>` on this app's store, as an operator on the server machine does.
    pub async fn admin_command(&self, args: &[&str]) -> std::process::Output {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_videotube"));
        command.env_clear().arg("admin").args(args).env("DATA_DIR", self.data_dir.path());
        command.current_dir(self.data_dir.path());
        if let Some(uri) = &self.mongodb {
            command.env("MONGODB_URI", uri);
        }
        command.output().await.unwrap()
    }

    /// Gives `username` a role through `videotube admin grant`.
    pub async fn grant(&self, username: &str, role: &str) {
        let output = self.admin_command(&["grant", username, role]).await;
        assert!(output.status.success(), "admin grant failed: {}", String::from_utf8_lossy(&output.stderr));
    }

    pub fn temp_dir(&self) -> PathBuf {
        self.data_dir.path().join("tmp")
    }

    /// How many stored media objects of a kind (`images` or `videos`) the media backend holds.
    pub fn stored(&self, kind: &str) -> usize {
        match &self.cloudinary {
            Some(fake) => {
                let resource_type = if kind == "images" { "image" } else { "video" };
                fake.assets().iter().filter(|a| a.resource_type == resource_type).count()
            }
            None => std::fs::read_dir(self.data_dir.path().join("media").join(kind)).map_or(0, |dir| dir.count()),
        }
    }

    /// The name the healthcheck reports for the store.
    pub fn store_backend(&self) -> &'static str {
        if self.mongodb.is_some() { "mongodb" } else { "sqlite" }
    }

    /// The name the healthcheck reports for the media backend.
    pub fn media_backend(&self) -> &'static str {
        if self.cloudinary.is_some() { "cloudinary" } else { "local" }
    }

    /// How stored media URLs begin on this backend.
    pub fn media_url_prefix(&self) -> String {
        match &self.cloudinary {
            Some(_) => "https://res.cloudinary.com/".to_owned(),
            None => format!("{}/media/", self.base),
        }
    }

    /// The duration a published video gets: measured from the container locally, reported by
    /// Cloudinary (the fake says 12.5 s) on the Cloudinary backend.
    pub fn expected_duration(&self, measured: f64) -> f64 {
        if self.cloudinary.is_some() { 12.5 } else { measured }
    }

    /// Whether the media object behind a stored URL still exists.
    pub async fn media_exists(&self, url: &str) -> bool {
        match &self.cloudinary {
            Some(fake) => fake.assets().iter().any(|a| a.secure_url == url),
            None => self.client.get(url).send().await.unwrap().status() == StatusCode::OK,
        }
    }

    pub fn temp_files(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.temp_dir()).unwrap().map(|e| e.unwrap().path()).collect()
    }
}

/// Asserts that a JSON value nowhere contains a secret-bearing key or a bcrypt hash.
pub fn assert_no_secrets(value: &Value) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                assert!(
                    !["password", "refreshToken", "__v", "passwordHash", "tokenHash"].contains(&key.as_str()),
                    "leaked {key}"
                );
                assert_no_secrets(inner);
            }
        }
        Value::Array(items) => items.iter().for_each(assert_no_secrets),
        Value::String(s) => assert!(!s.starts_with("$2"), "leaked a hash: {s}"),
        _ => {}
    }
}

/// The server binary running as its own process, killed on drop.
pub struct ServerProcess {
    pub child: std::process::Child,
    pub base: String,
}

/// For server processes in tests about something else: a background ffmpeg job would work in
/// `data/tmp` and replace media while those tests inspect them.
pub const PROCESSING_OFF: (&str, &str) = ("PROCESSING_ENABLED", "false");

impl ServerProcess {
    /// Starts the binary with exactly these variables (plus PORT) in `dir`; waits for the healthcheck.
    pub async fn start(dir: &std::path::Path, vars: &[(&str, &str)]) -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_videotube"))
            .env_clear()
            .envs(vars.iter().copied())
            .env("PORT", port.to_string())
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let server = ServerProcess { child, base: format!("http://127.0.0.1:{port}") };
        for _ in 0..200 {
            if let Ok(resp) = http_client().get(format!("{}/api/v1/healthcheck", server.base)).send().await {
                return (resp.status() == 200).then_some(server);
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        None
    }

    /// Registers `username` (password `pass-word`) and returns an access token.
    pub async fn user_token(&self, username: &str) -> String {
        let client = http_client();
        let register =
            client.post(format!("{}/api/v1/users/register", self.base)).multipart(TestApp::registration_form(username));
        assert_eq!(register.send().await.unwrap().status(), 201);
        let login = client
            .post(format!("{}/api/v1/users/login", self.base))
            .json(&serde_json::json!({"username": username, "password": "pass-word"}));
        Resp::from(login.send().await.unwrap()).await.data()["accessToken"].as_str().unwrap().to_owned()
    }

    /// A /proc/<pid>/status figure in KiB (`VmRSS`, `VmHWM`).
    pub fn memory_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with(field)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A small tmpfs mounted on a fresh temp dir, for tests of a full disk; unmounted on drop (also
/// when the test fails). `None`, with the reason printed, when this process may not mount (tests
/// run as root in CI and on the build machines).
pub struct SmallDisk {
    /// The mount point, `Some` until it is handed to an app as its DATA_DIR.
    pub dir: Option<TempDir>,
    pub path: PathBuf,
}

impl SmallDisk {
    pub fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let is_root = std::process::Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0");
        if !is_root {
            eprintln!("skipped: mounting a size-limited tmpfs needs root (CI runs the suite as root)");
            return None;
        }
        let path = dir.path().to_owned();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .status()
            .unwrap();
        assert!(status.success(), "mount -t tmpfs -o size={size} failed on {}", path.display());
        Some(SmallDisk { dir: Some(dir), path })
    }

    /// Fills the disk up to `free` bytes left (about: tmpfs counts whole pages) with `filler`.
    pub fn fill(&self, free: u64) -> PathBuf {
        let filler = self.path.join("filler");
        let stat = free_bytes(&self.path);
        let size = stat.saturating_sub(free);
        let file = std::fs::OpenOptions::new().create(true).append(true).open(&filler).unwrap();
        let mut writer = std::io::BufWriter::new(file);
        let block = vec![0u8; 4096];
        let mut written = 0;
        while written < size {
            use std::io::Write;
            if writer.write_all(&block).is_err() {
                break;
            }
            written += block.len() as u64;
        }
        let _ = std::io::Write::flush(&mut writer);
        filler
    }

    /// Bytes still free on the disk.
    pub fn free(&self) -> u64 {
        free_bytes(&self.path)
    }
}

/// Free bytes of the filesystem holding `path`, from `df` (the crate forbids `unsafe`, so no statvfs).
fn free_bytes(path: &std::path::Path) -> u64 {
    let output = std::process::Command::new("df").args(["--output=avail", "-B1"]).arg(path).output().unwrap();
    String::from_utf8_lossy(&output.stdout).lines().nth(1).unwrap().trim().parse().unwrap()
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazy: the app's threads may still hold files open on it.
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.path).status();
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
