//! Starting the release server binaries and seeding their SQLite store directly (MongoDB: `mongo.rs`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

/// Builds the release binaries the bench starts.
pub fn cargo_build() -> anyhow::Result<()> {
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    // `cargo run` gives the bench its package's variables (CARGO_PKG_NAME, CARGO_MANIFEST_DIR, ...).
    // Build scripts that watch those (ring's does) would see them change and rebuild on every run.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("CARGO_PKG_")
            || key.starts_with("CARGO_MANIFEST_")
            || ["CARGO_CRATE_NAME", "CARGO_BIN_NAME", "CARGO_PRIMARY_PACKAGE"].contains(&key.as_ref())
        {
            cargo.env_remove(key.as_ref());
        }
    }
    let status = cargo
        .args(["build", "--release", "--bin", "videotube", "--bin", "hello"])
        .args(["--package", "videotube", "--package", "videotube-bench"])
        .status()?;
    anyhow::ensure!(status.success(), "cargo build --release failed");
    Ok(())
}

/// The videotube binary servers are started from: BENCH_VIDEOTUBE_BIN when set (a build of another
/// tree, e.g. another commit's src/), else the one `cargo_build` built. Absolute.
pub fn videotube_bin() -> PathBuf {
    match std::env::var_os("BENCH_VIDEOTUBE_BIN") {
        Some(path) => {
            let path = PathBuf::from(path);
            std::env::current_dir().map(|cwd| cwd.join(&path)).unwrap_or(path)
        }
        None => target_bin("videotube"),
    }
}

/// Absolute, because servers are started in their own working directories.
pub fn target_bin(name: &str) -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let path = PathBuf::from(target).join("release").join(name);
    std::env::current_dir().map(|cwd| cwd.join(&path)).unwrap_or(path)
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(8002)
}

/// `?1` owners `owner<n>`, id `n + 1` in 24 hex digits.
pub const OWNERS_SQL: &str = "WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < ?1 - 1) \
     INSERT INTO users (id, username, email, full_name, avatar, avatar_key, password_hash, created_at, updated_at) \
     SELECT printf('%024x', n + 1), 'owner' || n, 'owner' || n || '@bench.test', 'Owner ' || n, \
            'http://bench/a.png', 'local:images/none.png', 'x', 1700000000000, 1700000000000 FROM seq";

pub struct Server {
    child: Child,
    base: String,
    data_dir: PathBuf,
}

impl Server {
    /// Starts `videotube` in `dir` (DATA_DIR = dir/data) and waits for its healthcheck (on MongoDB
    /// the server first ensures its indexes, which can take seconds). Its stderr goes to
    /// dir/videotube.stderr, quoted when it does not come up.
    pub async fn start(dir: &Path, vars: &[(&str, &str)]) -> anyhow::Result<Self> {
        let port = free_port();
        let stderr_path = dir.join("videotube.stderr");
        let child = Command::new(videotube_bin())
            .env_clear()
            .envs(vars.iter().copied())
            .env("PORT", port.to_string())
            .env("HOST", "127.0.0.1")
            .env("RUST_LOG", "warn")
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr_path)?)
            .spawn()
            .with_context(|| format!("starting {}", videotube_bin().display()))?;
        let mut server = Server { child, base: format!("http://127.0.0.1:{port}"), data_dir: dir.join("data") };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(resp) = client.get(server.url("/api/v1/healthcheck")).send().await
                && resp.status() == 200
            {
                return Ok(server);
            }
            if let Some(status) = server.child.try_wait()? {
                let log = std::fs::read_to_string(&stderr_path).unwrap_or_default();
                anyhow::bail!("videotube exited ({status}) before answering its healthcheck:\n{log}");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        anyhow::bail!("videotube did not answer its healthcheck within 60 s")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A `/proc/<pid>/status` figure in KiB.
    pub fn memory_kib(&self, field: &str) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let line = status.lines().find(|l| l.starts_with(field)).context("no such field")?;
        Ok(line.split_whitespace().nth(1).context("no value")?.parse()?)
    }

    /// The server's open file descriptors (`/proc/<pid>/fd`).
    pub fn open_fds(&self) -> anyhow::Result<usize> {
        Ok(std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))?.count())
    }

    /// Registers and logs in a user through the API; returns the access token.
    pub async fn register(&self, username: &str) -> anyhow::Result<String> {
        let client = reqwest::Client::new();
        let form = register_form(username);
        let status = client.post(self.url("/api/v1/users/register")).multipart(form).send().await?.status();
        anyhow::ensure!(status == 201, "register answered {status}");
        let body = serde_json::json!({"username": username, "password": "bench-password"});
        let login: serde_json::Value =
            client.post(self.url("/api/v1/users/login")).json(&body).send().await?.json().await?;
        Ok(login["data"]["accessToken"].as_str().context("no token")?.to_owned())
    }

    /// Inserts ten owners and `count` public videos spread over them; returns the first owner's id.
    pub async fn seed(&self, count: u64) -> anyhow::Result<String> {
        self.seed_owners(10, count).await
    }

    /// Inserts `owners` owners (`owner<n>`, id `n + 1` in 24 hex digits) and `count` published videos spread over
    /// them (video `n` belongs to owner `n % owners`); returns the first owner's id.
    pub async fn seed_owners(&self, owners: u64, count: u64) -> anyhow::Result<String> {
        let db = self.database()?;
        db.execute(OWNERS_SQL, [owners as i64])?;
        db.execute(
            "WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < ?1 - 1) \
             INSERT INTO videos (id, owner_id, video_file, video_key, thumbnail, thumbnail_key, title, description, \
                                 duration, views, visibility, created_at, updated_at) \
             SELECT printf('%024x', n + 4096), printf('%024x', n % ?2 + 1), 'http://bench/v.mp4', \
                    'local:videos/none.mp4', 'http://bench/t.jpg', 'local:images/none.jpg', 'Video number ' || n, \
                    'A benchmark video, number ' || n, (n % 600) + 0.5, (n * 7919) % 100000, 'public', \
                    1700000000000 + n, 1700000000000 + n FROM seq",
            [count as i64, owners as i64],
        )?;
        db.execute_batch("ANALYZE")?;
        settle(db).await?;
        Ok(format!("{:024x}", 1))
    }
}

impl Server {
    /// Inserts `count` users `viewer<n>` with ids `viewer_id(n)`, for scenarios that sign their tokens.
    pub async fn seed_viewers(&self, count: u64) -> anyhow::Result<()> {
        let db = self.database()?;
        db.execute(
            "WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < ?1 - 1) \
             INSERT INTO users (id, username, email, full_name, avatar, avatar_key, password_hash, created_at, updated_at) \
             SELECT printf('%024x', n + 1048576), 'viewer' || n, 'viewer' || n || '@bench.test', 'Viewer ' || n, \
                    'http://bench/a.png', 'local:images/none.png', 'x', 1700000000000, 1700000000000 FROM seq",
            [count as i64],
        )?;
        settle(db).await
    }

    /// The path of the server's SQLite database.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("videotube.db")
    }

    /// The server's SQLite database, opened beside it (WAL: reads and writes do not block each other).
    pub fn database(&self) -> anyhow::Result<rusqlite::Connection> {
        let db = rusqlite::Connection::open(self.database_path())?;
        db.busy_timeout(Duration::from_secs(10))?;
        Ok(db)
    }
}

impl Server {
    /// Runs one seeding statement that takes the row count as `?1`, then refreshes the planner's statistics.
    pub async fn seed_sql(&self, sql: &'static str, count: u64) -> anyhow::Result<()> {
        let db = self.database()?;
        db.execute(sql, [count as i64])?;
        db.execute_batch("ANALYZE")?;
        settle(db).await
    }
}

/// Copies what seeding wrote into the database file and empties the WAL, then closes `db`: as a
/// server that has run a while would have it. Left to the server's background checkpoint, the
/// copy of a large seed (about 700 MB at 1M videos) would overlap the first measured rounds.
pub async fn settle(db: rusqlite::Connection) -> anyhow::Result<()> {
    for _ in 0..100 {
        let busy: i64 = db.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))?;
        if busy == 0 {
            drop(db);
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the seeded database could not be checkpointed")
}

/// The registration form of `username` (password "bench-password", a tiny PNG avatar).
pub fn register_form(username: &str) -> reqwest::multipart::Form {
    let png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0];
    reqwest::multipart::Form::new()
        .text("fullName", "Bench User")
        .text("email", format!("{username}@bench.test"))
        .text("username", username.to_owned())
        .text("password", "bench-password")
        .part("avatar", reqwest::multipart::Part::bytes(png).file_name("a.png"))
}

/// The secrets a bench server is started with (`vars`), so the bench can sign access tokens itself
/// instead of logging in thousands of users through bcrypt.
pub const SIGNING_VARS: [(&str, &str); 2] = [
    ("ACCESS_TOKEN_SECRET", "bench-access-secret-0123456789abcdef"),
    ("REFRESH_TOKEN_SECRET", "bench-refresh-secret-0123456789abcdef"),
];

/// An access token for `user_id`, signed with the secret of `SIGNING_VARS`.
pub fn access_token(user_id: &str) -> anyhow::Result<String> {
    let claims = serde_json::json!({"_id": user_id, "email": "bench@bench.test", "username": "bench",
        "fullName": "Bench", "iat": 1_700_000_000u64, "exp": 4_000_000_000u64});
    let key = jsonwebtoken::EncodingKey::from_secret(SIGNING_VARS[0].1.as_bytes());
    Ok(jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key)?)
}

/// The id `seed_viewers` gives viewer `n`.
pub fn viewer_id(n: u64) -> String {
    format!("{:024x}", n + 1_048_576)
}

/// The id `seed` gives video `n`.
pub fn video_id(n: u64) -> String {
    format!("{:024x}", n + 4096)
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
