//! JWT signing secrets: configured ones are used as given; unset ones are generated once and kept
//! in DATA_DIR (owner-only file) so sessions survive restarts (docs/api.md §1.7).

use std::io::Write;
use std::path::Path;

/// Returns the configured secret, or the one stored under `dir/<name>`, generating it on first start.
pub fn resolve(configured: Option<&str>, dir: &Path, name: &str) -> std::io::Result<Vec<u8>> {
    if let Some(secret) = configured {
        return Ok(secret.as_bytes().to_vec());
    }
    let path = dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(stored) if stored.trim().len() >= 64 => return Ok(stored.trim().as_bytes().to_vec()),
        Ok(_) => tracing::warn!(path = %path.display(), "stored secret is too short; generating a new one"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::fs::create_dir_all(dir)?;
    let secret = hex::encode(rand::random::<[u8; 64]>());
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path)?;
    file.write_all(secret.as_bytes())?;
    file.sync_all()?;
    tracing::warn!(
        path = %path.display(),
        "{} is not set: generated a random secret and stored it in DATA_DIR; configure it explicitly \
         when running more than one server instance",
        name.to_ascii_uppercase()
    );
    Ok(secret.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secret_is_stored_privately_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = resolve(None, dir.path(), "access_token_secret").unwrap();
        assert_eq!(first.len(), 128);
        assert_eq!(resolve(None, dir.path(), "access_token_secret").unwrap(), first);
        assert_ne!(resolve(None, dir.path(), "refresh_token_secret").unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("access_token_secret")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(resolve(Some("configured"), dir.path(), "access_token_secret").unwrap(), b"configured");
    }
}
