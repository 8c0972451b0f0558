//! Connector secrets sealed at rest: ChaCha20-Poly1305 (`ring::aead`) with a fresh random
//! 96-bit nonce per seal and the connector's name as associated data (a sealed Gmail token
//! does not open as HubSpot's). A sealed value is `nonce || ciphertext || tag`.
//!
//! The key is the configuration's `credentials_key` (base64 of 32 bytes) or, without it,
//! the file `<data_dir>/credentials.key` (base64 of 32 bytes), created on the first start
//! with mode 0600. A key file readable by others, or of the wrong length, stops the start:
//! never a random per-process key, which would make every stored token unreadable after a
//! restart.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};

use crate::config::Config;

/// The key file's name inside `data_dir`.
pub const KEY_FILE: &str = "credentials.key";
/// Bytes of key.
pub const KEY_LEN: usize = 32;

/// Why the credentials key could not be had. Never names the key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("credentials_key must be the base64 of exactly {KEY_LEN} bytes")]
    BadConfigured,
    #[error("the credentials key file {0} must be the base64 of exactly {KEY_LEN} bytes; fix or remove it (tokens sealed with another key cannot be read)")]
    BadFile(PathBuf),
    #[error("the credentials key file {path} is readable by others (mode {mode:o}); run `chmod 600 {path}`", path = .0.display(), mode = .1)]
    LoosePermissions(PathBuf, u32),
    #[error("the credentials key file {0}: {1}")]
    Io(PathBuf, std::io::Error),
}

/// The key every connector secret is sealed with.
pub struct SealingKey {
    key: LessSafeKey,
    random: SystemRandom,
}

/// Never shows the key.
impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(<redacted>)")
    }
}

/// A sealed value that did not open: another key, another connector, or a damaged row.
#[derive(Debug, thiserror::Error)]
#[error("a sealed credential did not open (another credentials key, or a damaged row)")]
pub struct Unsealable;

impl SealingKey {
    pub fn from_bytes(bytes: &[u8; KEY_LEN]) -> Self {
        let unbound = UnboundKey::new(&CHACHA20_POLY1305, bytes).expect("a 32-byte key");
        SealingKey {
            key: LessSafeKey::new(unbound),
            random: SystemRandom::new(),
        }
    }

    /// The configured key, else the key file (created when missing).
    pub fn load(config: &Config) -> Result<SealingKey, KeyError> {
        match config
            .credentials_key
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
        {
            Some(encoded) => {
                let bytes = decode_key(encoded).ok_or(KeyError::BadConfigured)?;
                Ok(SealingKey::from_bytes(&bytes))
            }
            None => Self::from_file(&config.data_dir),
        }
    }

    /// `<data_dir>/credentials.key`, created with mode 0600 when missing. Two processes
    /// starting at once agree on one key: the file is written aside and linked into place,
    /// which fails when the other got there first.
    pub fn from_file(data_dir: &Path) -> Result<SealingKey, KeyError> {
        let path = data_dir.join(KEY_FILE);
        let io = |e: std::io::Error| KeyError::Io(path.clone(), e);
        if !path.exists() {
            std::fs::create_dir_all(data_dir).map_err(io)?;
            let mut bytes = [0u8; KEY_LEN];
            SystemRandom::new()
                .fill(&mut bytes)
                .map_err(|_| io(std::io::Error::other("no randomness")))?;
            let aside = data_dir.join(format!(
                ".{KEY_FILE}.{}.{}",
                std::process::id(),
                uuid::Uuid::new_v4().simple()
            ));
            write_private(&aside, format!("{}\n", STANDARD.encode(bytes)).as_bytes())
                .map_err(io)?;
            let linked = std::fs::hard_link(&aside, &path);
            let _ = std::fs::remove_file(&aside);
            match linked {
                Ok(()) => {
                    tracing::info!(path = %path.display(), "created the credentials key file");
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io(e)),
            }
        }
        check_private(&path)?;
        let text = std::fs::read_to_string(&path).map_err(io)?;
        let bytes = decode_key(text.trim()).ok_or_else(|| KeyError::BadFile(path.clone()))?;
        Ok(SealingKey::from_bytes(&bytes))
    }

    /// Seals `secret` for `connector`.
    pub fn seal(&self, connector: &str, secret: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        self.random
            .fill(&mut nonce)
            .expect("the system's randomness is available");
        let mut sealed = secret.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(connector.as_bytes()),
                &mut sealed,
            )
            .expect("sealing a short secret cannot fail");
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens what [`seal`](Self::seal) sealed for `connector`.
    pub fn open(&self, connector: &str, sealed: &[u8]) -> Result<String, Unsealable> {
        if sealed.len() < NONCE_LEN {
            return Err(Unsealable);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| Unsealable)?;
        let mut body = body.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(connector.as_bytes()), &mut body)
            .map_err(|_| Unsealable)?;
        String::from_utf8(plain.to_vec()).map_err(|_| Unsealable)
    }

    /// 32 random bytes, base64url without padding (OAuth `state`, PKCE verifiers).
    pub fn random_token(&self) -> String {
        let mut bytes = [0u8; 32];
        self.random
            .fill(&mut bytes)
            .expect("the system's randomness is available");
        URL_SAFE_NO_PAD.encode(bytes)
    }
}

fn decode_key(encoded: &str) -> Option<[u8; KEY_LEN]> {
    let bytes = STANDARD
        .decode(encoded)
        .or_else(|_| URL_SAFE_NO_PAD.decode(encoded.trim_end_matches('=')))
        .ok()?;
    bytes.try_into().ok()
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| KeyError::Io(path.to_path_buf(), e))?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyError::LoosePermissions(path.to_path_buf(), mode));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<(), KeyError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SealingKey {
        SealingKey::from_bytes(&[7u8; KEY_LEN])
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_connector_and_never_shows_in_the_clear() {
        let key = key();
        let sealed = key.seal("gmail", "ya29.s3cret-access");
        assert!(!sealed
            .windows(b"s3cret".len())
            .any(|w| w == b"s3cret".as_slice()));
        assert_eq!(key.open("gmail", &sealed).unwrap(), "ya29.s3cret-access");
        assert!(key.open("hubspot", &sealed).is_err(), "another connector");
        let other = SealingKey::from_bytes(&[8u8; KEY_LEN]);
        assert!(other.open("gmail", &sealed).is_err(), "another key");
        // A fresh nonce every time.
        assert_ne!(key.seal("gmail", "x"), key.seal("gmail", "x"));
        let mut damaged = sealed.clone();
        *damaged.last_mut().unwrap() ^= 1;
        assert!(key.open("gmail", &damaged).is_err());
        assert!(key.open("gmail", &[1, 2, 3]).is_err());
        assert_eq!(format!("{key:?}"), "SealingKey(<redacted>)");
    }

    #[test]
    fn a_configured_key_must_be_32_bytes_of_base64() {
        let mut config = Config {
            credentials_key: Some(STANDARD.encode([1u8; 32])),
            data_dir: PathBuf::from("/nonexistent/never-created"),
            ..Config::default()
        };
        assert!(SealingKey::load(&config).is_ok());
        config.credentials_key = Some(STANDARD.encode([1u8; 16]));
        assert!(matches!(
            SealingKey::load(&config),
            Err(KeyError::BadConfigured)
        ));
        config.credentials_key = Some("not base64!".into());
        assert!(matches!(
            SealingKey::load(&config),
            Err(KeyError::BadConfigured)
        ));
    }

    #[cfg(unix)]
    #[test]
    fn the_key_file_is_created_0600_reused_and_refused_when_loose_or_short() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("caseyos-key-{}", uuid::Uuid::new_v4()));
        let first = SealingKey::from_file(&dir).unwrap();
        let path = dir.join(KEY_FILE);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let sealed = first.seal("gmail", "token");
        let again = SealingKey::from_file(&dir).unwrap();
        assert_eq!(again.open("gmail", &sealed).unwrap(), "token");

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            SealingKey::from_file(&dir),
            Err(KeyError::LoosePermissions(_, 0o644))
        ));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::write(&path, STANDARD.encode([1u8; 31])).unwrap();
        assert!(matches!(
            SealingKey::from_file(&dir),
            Err(KeyError::BadFile(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
