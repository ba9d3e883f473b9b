//! The local-filesystem media backend: objects live in DATA_DIR/media and are served by the app at /media.
//! Images and videos are files; HLS renditions are one directory per video under `hls/`.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use super::{MediaError, MediaKind, MediaStore, StoredMedia, TempUpload};

const KEY_PREFIX: &str = "local:";
/// The kinds of object, each in its own directory.
pub const DIRS: [&str; 3] = ["images", "videos", "hls"];

pub struct LocalMedia {
    root: PathBuf,
    public_base_url: String,
}

impl LocalMedia {
    /// `root` is the media directory; URLs are `<public_base_url>/media/<name>`.
    pub fn new(root: PathBuf, public_base_url: &str) -> std::io::Result<Self> {
        for sub in DIRS {
            std::fs::create_dir_all(root.join(sub))?;
        }
        Ok(LocalMedia { root, public_base_url: public_base_url.trim_end_matches('/').to_owned() })
    }

    /// The file behind a key of this backend; `None` for foreign or malformed keys.
    fn path_of(&self, key: &str) -> Option<PathBuf> {
        relative_path(key).map(|path| self.root.join(path))
    }
}

/// Where the object of a key of this backend lies under the media directory (`images/<name>`, a
/// file, or `hls/<name>`, a directory); `None` for foreign or malformed keys.
pub fn relative_path(key: &str) -> Option<PathBuf> {
    let name = key.strip_prefix(KEY_PREFIX)?;
    let (dir, file) = name.split_once('/')?;
    let safe = DIRS.contains(&dir)
        && !file.is_empty()
        && file.chars().all(|c| c.is_ascii_alphanumeric() || c == '.')
        && !file.starts_with('.');
    safe.then(|| PathBuf::from(dir).join(file))
}

#[async_trait]
impl MediaStore for LocalMedia {
    fn backend(&self) -> &'static str {
        "local"
    }

    fn owns(&self, key: &str) -> bool {
        key.starts_with(KEY_PREFIX)
    }

    #[tracing::instrument(skip_all, fields(field = %upload.field, size = upload.size))]
    async fn put(&self, upload: TempUpload) -> Result<StoredMedia, MediaError> {
        let dir = match upload.format.kind() {
            MediaKind::Image => "images",
            MediaKind::Video => "videos",
        };
        let name = format!("{}/{}.{}", dir, hex::encode(rand::random::<[u8; 16]>()), upload.format.extension());
        let dest = self.root.join(&name);
        tokio::task::spawn_blocking(move || upload.persist(&dest))
            .await
            .map_err(|e| MediaError::Backend(e.to_string()))??;
        Ok(StoredMedia {
            url: format!("{}/media/{name}", self.public_base_url),
            key: format!("{KEY_PREFIX}{name}"),
            duration: None,
            streaming: None,
        })
    }

    async fn delete(&self, key: &str) -> Result<(), MediaError> {
        let Some(path) = self.path_of(key) else {
            return Err(MediaError::Backend(format!("not a local media key: {key}")));
        };
        let removed = if key.starts_with("local:hls/") {
            tokio::fs::remove_dir_all(&path).await
        } else {
            tokio::fs::remove_file(&path).await
        };
        match removed {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    fn local_path(&self, key: &str) -> Option<PathBuf> {
        self.path_of(key)
    }

    async fn put_dir(&self, dir: tempfile::TempDir, entry: &str) -> Result<StoredMedia, MediaError> {
        let name = format!("hls/{}", hex::encode(rand::random::<[u8; 16]>()));
        let dest = self.root.join(&name);
        // A rename within DATA_DIR: the renditions appear complete or not at all.
        tokio::fs::rename(dir.path(), &dest).await?;
        // Moved: nothing is left for the guard to remove.
        let _ = dir.keep();
        Ok(StoredMedia {
            url: format!("{}/media/{name}/{entry}", self.public_base_url),
            key: format!("{KEY_PREFIX}{name}"),
            duration: None,
            streaming: None,
        })
    }

    async fn ping(&self) -> bool {
        tokio::fs::metadata(&self.root).await.map(|m| m.is_dir()).unwrap_or(false)
    }

    async fn keys_older_than(&self, age: Duration) -> Result<Vec<String>, MediaError> {
        let root = self.root.clone();
        let list = move || -> std::io::Result<Vec<String>> {
            let mut keys = Vec::new();
            for dir in DIRS {
                for entry in std::fs::read_dir(root.join(dir))? {
                    let entry = entry?;
                    let modified = entry.metadata()?.modified()?;
                    let old_enough = SystemTime::now().duration_since(modified).is_ok_and(|elapsed| elapsed >= age);
                    if old_enough && let Some(name) = entry.file_name().to_str() {
                        keys.push(format!("{KEY_PREFIX}{dir}/{name}"));
                    }
                }
            }
            Ok(keys)
        };
        Ok(tokio::task::spawn_blocking(list).await.map_err(|e| MediaError::Backend(e.to_string()))??)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_escape_the_media_root() {
        let media = LocalMedia::new(tempfile::tempdir().unwrap().keep(), "http://x").unwrap();
        assert!(media.path_of("local:images/abc.png").is_some());
        for bad in
            ["local:../etc/passwd", "local:images/../../x", "cloudinary:image:abc", "local:images/", "local:tmp/a"]
        {
            assert!(media.path_of(bad).is_none(), "{bad}");
        }
    }
}
