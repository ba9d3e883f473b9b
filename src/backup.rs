//! `videotube backup <dir>` and `videotube restore <dir>` (README "Backup and restore", decision
//! D21): an online copy of a SQLite `DATA_DIR` — the database, the local media its records
//! reference and the generated secrets — taken while the server runs and writes, and its return
//! into an empty `DATA_DIR`.
//!
//! Why the copy is consistent: a media file is complete under its key (renamed into place) before
//! any row references the key, never changes afterwards (a replacement gets a new key), and is
//! deleted only once no row references it. So every key the database snapshot references names a
//! complete file at the instant of the snapshot. A file can only disappear after that instant if
//! its record changed after it. So that such a file is still at hand, every media object is
//! hard-linked into a staging directory in `DATA_DIR` just before each snapshot (a link keeps the
//! file's contents when the server deletes its name); an object the snapshot references is copied
//! from there, or from the media directory when it was made after the links. One made after the
//! links and deleted before the copy is seen missing (or an HLS directory changing): a new snapshot
//! is taken, keeping what was copied, up to [`SNAPSHOTS`] times. Where links cannot be made (the
//! media directory on another filesystem), the new snapshots alone do it.

use std::collections::HashSet;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::config::Config;
use crate::domain::Timestamp;
use crate::media::local::{DIRS, relative_path};
use crate::store::sqlite::{snapshot_into, verify_copy};

/// The database file, in `DATA_DIR` and in a backup.
const DATABASE: &str = "videotube.db";
/// Written last: a backup without it did not finish.
const MANIFEST: &str = "backup.json";
const MEDIA: &str = "media";
const SECRETS: &str = "secrets";
/// The manifest's format.
const FORMAT: u64 = 1;
/// Snapshots taken before giving up when the media keep changing under them.
const SNAPSHOTS: usize = 5;
/// Suffix of files and directories being copied (renamed when complete).
const PARTIAL: &str = ".partial";

/// Why `backup` refuses on MongoDB.
pub const MONGODB_BACKUP: &str = "videotube backup copies the SQLite database in DATA_DIR, and this configuration uses \
     MongoDB (MONGODB_URI): back the database up with mongodump (or your provider's backups, such as Atlas \
     backups) and restore it with mongorestore; copy DATA_DIR/secrets (unless ACCESS_TOKEN_SECRET and \
     REFRESH_TOKEN_SECRET are configured) and, on local media, DATA_DIR/media beside the dump \
     (README, \"Backup and restore\")";
/// Why `restore` refuses on MongoDB.
pub const MONGODB_RESTORE: &str = "videotube restore writes a SQLite DATA_DIR, and this configuration uses MongoDB \
     (MONGODB_URI), which would not read it: restore a MongoDB database with mongorestore (README, \"Backup and \
     restore\")";

/// Copies the SQLite database, the local media it references and the generated secrets of
/// `DATA_DIR` into a directory, while the server runs.
#[derive(clap::Parser, Debug)]
pub struct BackupArgs {
    /// Where to write the backup: a directory that is missing or empty
    pub dir: PathBuf,
}

/// Restores a backup made by `videotube backup` into an empty (or missing) `DATA_DIR`.
#[derive(clap::Parser, Debug)]
pub struct RestoreArgs {
    /// The backup's directory
    pub dir: PathBuf,
}

/// Runs `backup`; what it printed on success, the reason on failure.
pub async fn backup(args: BackupArgs, config: Config) -> anyhow::Result<String> {
    if config.mongodb_uri.is_some() {
        bail!(MONGODB_BACKUP);
    }
    let data_dir = config.data_dir.clone();
    tokio::task::spawn_blocking(move || back_up(&data_dir, &args.dir)).await?
}

/// Runs `restore`; what it printed on success, the reason on failure.
pub async fn restore(args: RestoreArgs, config: Config) -> anyhow::Result<String> {
    if config.mongodb_uri.is_some() {
        bail!(MONGODB_RESTORE);
    }
    let data_dir = config.data_dir.clone();
    tokio::task::spawn_blocking(move || restore_into(&args.dir, &data_dir)).await?
}

fn back_up(data_dir: &Path, dir: &Path) -> anyhow::Result<String> {
    let live = data_dir.join(DATABASE);
    if !live.is_file() {
        bail!("there is no database at {}: nothing to back up (is DATA_DIR right?)", live.display());
    }
    if !is_empty_or_missing(dir)? {
        bail!("{} is not empty: a backup is written into a new or empty directory", dir.display());
    }
    create_private_dir(dir)?;
    let partial = dir.join(format!("{DATABASE}{PARTIAL}"));
    let (source_media, media) = (data_dir.join(MEDIA), dir.join(MEDIA));
    let mut staging = Staging::create(data_dir)?;
    for snapshot in 1..=SNAPSHOTS {
        remove_if_present(&partial)?;
        staging.link_all(&source_media).context("linking the media into the staging directory")?;
        let keys = snapshot_into(&live, &partial).context("copying the database")?;
        let objects: Vec<PathBuf> = keys.iter().filter_map(|key| relative_path(key)).collect();
        let mut missing = 0;
        for object in &objects {
            let dest = media.join(object);
            // A key's file never changes: one copied for an earlier snapshot is still right.
            if dest.exists() {
                continue;
            }
            let source = staging.holding(object).unwrap_or_else(|| source_media.join(object));
            let copied = copy_object(&source, &dest).with_context(|| format!("copying {}", source.display()))?;
            if !copied {
                missing += 1;
            }
        }
        if missing > 0 {
            eprintln!(
                "{missing} media objects the database snapshot references were deleted before they were copied \
                 (their records changed after the snapshot); taking snapshot {} of at most {SNAPSHOTS}",
                snapshot + 1
            );
            continue;
        }
        let kept: HashSet<&PathBuf> = objects.iter().collect();
        prune(&media, &kept)?;
        std::fs::rename(&partial, dir.join(DATABASE))?;
        let secrets = copy_secrets(&data_dir.join(SECRETS), &dir.join(SECRETS))?;
        let manifest = serde_json::json!({
            "format": FORMAT,
            "createdAt": Timestamp::now().to_string(),
            "database": DATABASE,
            "mediaObjects": objects.len(),
            "otherMediaKeys": keys.len() - objects.len(),
            "secrets": secrets,
            "snapshots": snapshot,
        });
        write_synced(&dir.join(MANIFEST), serde_json::to_string_pretty(&manifest)?.as_bytes())?;
        sync_dir(dir)?;
        return Ok(format!(
            "backed up {} and {} media objects{} into {}",
            live.display(),
            objects.len(),
            if secrets.is_empty() { String::new() } else { format!(" and the secrets ({})", secrets.join(", ")) },
            dir.display()
        ));
    }
    bail!(
        "media kept being deleted under {SNAPSHOTS} database snapshots in a row; {} is incomplete: remove it and try \
         again",
        dir.display()
    )
}

fn restore_into(dir: &Path, data_dir: &Path) -> anyhow::Result<String> {
    let manifest_path = dir.join(MANIFEST);
    let manifest = match std::fs::read(&manifest_path) {
        Ok(raw) => serde_json::from_slice::<serde_json::Value>(&raw)
            .with_context(|| format!("reading {}", manifest_path.display()))?,
        Err(e) if e.kind() == ErrorKind::NotFound => bail!(
            "{} is not a complete videotube backup: it has no {MANIFEST} (a backup writes it last)",
            dir.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("reading {}", manifest_path.display())),
    };
    if manifest["format"].as_u64() != Some(FORMAT) {
        bail!("{} is a backup of an unknown format ({})", dir.display(), manifest["format"]);
    }
    if !is_empty_or_missing(data_dir)? {
        bail!(
            "DATA_DIR {} is not empty: restore only into an empty or missing directory (move the current one aside \
             first)",
            data_dir.display()
        );
    }
    let keys = verify_copy(&dir.join(DATABASE)).context("the backup's database failed its check")?;
    let media = dir.join(MEDIA);
    let objects: Vec<PathBuf> = keys.iter().filter_map(|key| relative_path(key)).collect();
    if let Some(absent) = objects.iter().find(|object| !media.join(object).exists()) {
        bail!("the backup lacks the media object {} that its database references", absent.display());
    }
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating DATA_DIR {}", data_dir.display()))?;
    let restored = (|| -> anyhow::Result<Vec<String>> {
        if media.is_dir() {
            copy_tree(&media, &data_dir.join(MEDIA))?;
        }
        let secrets = copy_secrets(&dir.join(SECRETS), &data_dir.join(SECRETS))?;
        // The database last: a DATA_DIR with it is a complete one.
        let partial = data_dir.join(format!("{DATABASE}{PARTIAL}"));
        copy_synced(&dir.join(DATABASE), &partial)?;
        std::fs::rename(&partial, data_dir.join(DATABASE))?;
        sync_dir(data_dir)?;
        Ok(secrets)
    })();
    let secrets = restored
        .with_context(|| format!("restoring into {} failed; empty it before trying again", data_dir.display()))?;
    Ok(format!(
        "restored the backup of {} ({} media objects{}) into {}",
        manifest["createdAt"].as_str().unwrap_or("unknown time"),
        objects.len(),
        if secrets.is_empty() { String::new() } else { format!(", secrets {}", secrets.join(", ")) },
        data_dir.display()
    ))
}

/// A staging directory's name: this prefix and the backup process's id.
const STAGING_PREFIX: &str = "backup-staging-";

/// Removes the staging directories of backups whose process is gone (killed part-way): their
/// links would otherwise keep deleted media on the disk. Only where `/proc` tells which processes
/// run (Linux); elsewhere they are left for the operator.
fn remove_abandoned(data_dir: &Path) -> std::io::Result<()> {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return Ok(());
    }
    for entry in std::fs::read_dir(data_dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(STAGING_PREFIX)) else { continue };
        if pid.parse::<u32>().is_ok() && !proc.join(pid).exists() {
            remove_any(&entry.path())?;
        }
    }
    Ok(())
}

/// Hard links to the media objects, in `DATA_DIR` (the same filesystem as the media, as links
/// need), removed when dropped.
struct Staging {
    dir: PathBuf,
    /// False once a link could not be made: the copy then reads the media directory only.
    linking: bool,
}

impl Staging {
    fn create(data_dir: &Path) -> std::io::Result<Self> {
        remove_abandoned(data_dir)?;
        let dir = data_dir.join(format!("{STAGING_PREFIX}{}", std::process::id()));
        remove_any(&dir)?;
        std::fs::create_dir(&dir)?;
        Ok(Staging { dir, linking: true })
    }

    /// Links every media object not linked yet.
    fn link_all(&mut self, media: &Path) -> std::io::Result<()> {
        if !self.linking {
            return Ok(());
        }
        for kind in DIRS {
            let entries = match std::fs::read_dir(media.join(kind)) {
                Ok(entries) => entries,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            std::fs::create_dir_all(self.dir.join(kind))?;
            for entry in entries {
                let entry = entry?;
                let Some(object) = entry.file_name().to_str().map(|name| PathBuf::from(kind).join(name)) else {
                    continue;
                };
                let dest = self.dir.join(&object);
                if dest.exists() {
                    continue;
                }
                let linked = match entry.file_type()?.is_dir() {
                    true => link_directory_object(&entry.path(), &dest),
                    false => std::fs::hard_link(entry.path(), &dest),
                };
                match linked {
                    Ok(()) => {}
                    // Deleted since it was listed: not referenced any more.
                    Err(e) if e.kind() == ErrorKind::NotFound => {}
                    Err(e) => {
                        eprintln!(
                            "media files cannot be hard-linked into {} ({e}); copying from the media directory only",
                            self.dir.display()
                        );
                        self.linking = false;
                        return Ok(());
                    }
                }
            }
        }
        Ok(())
    }

    /// The linked copy of an object, when there is one.
    fn holding(&self, object: &Path) -> Option<PathBuf> {
        let path = self.dir.join(object);
        path.exists().then_some(path)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if let Err(e) = remove_any(&self.dir) {
            eprintln!("could not remove {}: {e}", self.dir.display());
        }
    }
}

/// Links an HLS directory's files, when its listing is the same before and after (a directory
/// being deleted is not linked: `NotFound`).
fn link_directory_object(source: &Path, dest: &Path) -> std::io::Result<()> {
    let mut staging = dest.as_os_str().to_owned();
    staging.push(PARTIAL);
    let staging = PathBuf::from(staging);
    remove_any(&staging)?;
    std::fs::create_dir(&staging)?;
    let linked = (|| {
        let before = listing(source)?;
        for name in &before {
            std::fs::hard_link(source.join(name), staging.join(name))?;
        }
        if listing(source)? != before {
            return Err(ErrorKind::NotFound.into());
        }
        Ok(())
    })();
    match linked {
        Ok(()) => std::fs::rename(&staging, dest),
        Err(e) => {
            remove_any(&staging)?;
            Err(e)
        }
    }
}

fn is_empty_or_missing(dir: &Path) -> anyhow::Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(true),
        Err(e) => Err(e).with_context(|| format!("reading {}", dir.display())),
    }
}

/// A directory only its owner can read: a backup holds password hashes and the JWT secrets.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    Ok(())
}

fn remove_if_present(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Copies one media object (a file, or an HLS directory) to `dest`, appearing there complete or
/// not at all. `false` when the object is gone, or an HLS directory lost files while it was read
/// (it is being deleted).
fn copy_object(source: &Path, dest: &Path) -> std::io::Result<bool> {
    let Some(parent) = dest.parent() else { return Err(std::io::Error::other("no parent directory")) };
    std::fs::create_dir_all(parent)?;
    let mut staging = dest.as_os_str().to_owned();
    staging.push(PARTIAL);
    let staging = PathBuf::from(staging);
    let outcome = match std::fs::metadata(source) {
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
        Ok(meta) if meta.is_dir() => copy_directory_object(source, &staging),
        Ok(_) => copy_synced(source, &staging).map(|()| true),
    };
    match outcome {
        Ok(true) => {
            std::fs::rename(&staging, dest)?;
            Ok(true)
        }
        Ok(false) => {
            remove_any(&staging)?;
            Ok(false)
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {
            remove_any(&staging)?;
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// An HLS directory (flat: playlists and segments): copied when its listing is the same before and
/// after the copy.
fn copy_directory_object(source: &Path, staging: &Path) -> std::io::Result<bool> {
    remove_any(staging)?;
    std::fs::create_dir(staging)?;
    let before = listing(source)?;
    for name in &before {
        copy_synced(&source.join(name), &staging.join(name))?;
    }
    Ok(listing(source)? == before)
}

fn listing(dir: &Path) -> std::io::Result<Vec<std::ffi::OsString>> {
    let mut names = std::fs::read_dir(dir)?.map(|entry| entry.map(|e| e.file_name())).collect::<Result<Vec<_>, _>>()?;
    names.sort();
    Ok(names)
}

fn remove_any(path: &Path) -> std::io::Result<()> {
    let removed = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) => Err(e),
    };
    match removed {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Removes from the backup's media what the final snapshot does not reference (copied for an
/// earlier snapshot, or left partial).
fn prune(media: &Path, kept: &HashSet<&PathBuf>) -> std::io::Result<()> {
    let Ok(kinds) = std::fs::read_dir(media) else { return Ok(()) };
    for kind in kinds {
        let kind = kind?;
        for object in std::fs::read_dir(kind.path())? {
            let object = object?;
            let relative = PathBuf::from(kind.file_name()).join(object.file_name());
            if !kept.contains(&relative) {
                remove_any(&object.path())?;
            }
        }
    }
    Ok(())
}

/// Copies a directory tree (the media of a verified backup).
fn copy_tree(source: &Path, dest: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dest)?;
    for entry in std::fs::read_dir(source)? {
        let entry = entry?;
        let target = dest.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            copy_synced(&entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Copies the JWT secrets generated into a `secrets` directory, owner-only; their names.
fn copy_secrets(source: &Path, dest: &Path) -> std::io::Result<Vec<String>> {
    let entries = match std::fs::read_dir(source) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            continue;
        }
        create_private_dir(dest)?;
        let target = dest.join(entry.file_name());
        copy_synced(&entry.path(), &target)?;
        #[cfg(unix)]
        std::fs::set_permissions(&target, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

fn copy_synced(source: &Path, dest: &Path) -> std::io::Result<()> {
    std::fs::copy(source, dest)?;
    std::fs::File::open(dest)?.sync_all()
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut staging = path.as_os_str().to_owned();
    staging.push(PARTIAL);
    std::fs::write(&staging, bytes)?;
    std::fs::File::open(&staging)?.sync_all()?;
    std::fs::rename(&staging, path)
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_staging_directory_left_by_a_dead_backup_is_removed_and_a_live_one_kept() {
        if !Path::new("/proc/self").exists() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let dead = dir.path().join(format!("{STAGING_PREFIX}4294967295"));
        let live = dir.path().join(format!("{STAGING_PREFIX}{}", std::process::id()));
        let other = dir.path().join("media");
        for path in [&dead, &live, &other] {
            std::fs::create_dir_all(path.join("videos")).unwrap();
        }
        remove_abandoned(dir.path()).unwrap();
        assert!(!dead.exists(), "no process 4294967295: its staging goes");
        assert!(live.exists() && other.exists());
    }
}
