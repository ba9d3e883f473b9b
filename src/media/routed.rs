//! One `MediaStore` over several backends: new objects go to the active backend, while deletes go
//! to whichever backend the key names, so switching backends never orphans or misdeletes files.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::{MediaError, MediaStore, StoredMedia, TempUpload};

pub struct RoutedMedia {
    active: Arc<dyn MediaStore>,
    others: Vec<Arc<dyn MediaStore>>,
}

impl RoutedMedia {
    pub fn new(active: Arc<dyn MediaStore>, others: Vec<Arc<dyn MediaStore>>) -> Self {
        RoutedMedia { active, others }
    }

    fn all(&self) -> impl Iterator<Item = &Arc<dyn MediaStore>> {
        std::iter::once(&self.active).chain(self.others.iter())
    }
}

#[async_trait]
impl MediaStore for RoutedMedia {
    fn backend(&self) -> &'static str {
        self.active.backend()
    }

    fn owns(&self, key: &str) -> bool {
        self.all().any(|b| b.owns(key))
    }

    async fn put(&self, upload: TempUpload) -> Result<StoredMedia, MediaError> {
        self.active.put(upload).await
    }

    async fn delete(&self, key: &str) -> Result<(), MediaError> {
        match self.all().find(|b| b.owns(key)) {
            Some(backend) => backend.delete(key).await,
            None => Err(MediaError::Backend(format!("no configured media backend holds {key}"))),
        }
    }

    fn local_path(&self, key: &str) -> Option<std::path::PathBuf> {
        self.all().find(|b| b.owns(key))?.local_path(key)
    }

    async fn put_dir(&self, dir: tempfile::TempDir, entry: &str) -> Result<StoredMedia, MediaError> {
        self.active.put_dir(dir, entry).await
    }

    async fn ping(&self) -> bool {
        self.active.ping().await
    }

    async fn keys_older_than(&self, age: Duration) -> Result<Vec<String>, MediaError> {
        let mut keys = Vec::new();
        for backend in self.all() {
            keys.extend(backend.keys_older_than(age).await?);
        }
        Ok(keys)
    }
}
