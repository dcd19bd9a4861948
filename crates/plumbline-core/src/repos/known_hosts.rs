//! SSH host keys checked against `known_hosts`, as OpenSSH checks them: plain and hashed host
//! names, `[host]:port` for other ports, `*` and `?` patterns, `!` negations and `@revoked`.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// What the known_hosts files say of a host's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyCheck {
    /// A line lists this key for this host.
    Known,
    /// No line names the host with a key of this type.
    Unknown,
    /// The host is listed with another key of this type, or this key is revoked: refuse.
    Changed,
}

/// A host key as the server presented it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostKey {
    /// `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`, …
    pub key_type: String,
    /// The key in SSH wire format.
    pub blob: Vec<u8>,
}

impl HostKey {
    /// The key from its wire format, whose first field names its type.
    pub fn from_blob(blob: &[u8]) -> Option<Self> {
        let len = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
        let key_type = std::str::from_utf8(blob.get(4..4 + len)?).ok()?.to_string();
        Some(Self {
            key_type,
            blob: blob.to_vec(),
        })
    }

    /// `SHA256:…`, as `ssh-keygen -l` and OpenSSH's prompt show it.
    pub fn fingerprint(&self) -> String {
        format!(
            "SHA256:{}",
            STANDARD_NO_PAD.encode(Sha256::digest(&self.blob))
        )
    }

    /// The `known_hosts` line that trusts this key for `host` on `port`.
    pub fn known_hosts_line(&self, host: &str, port: u16) -> String {
        format!(
            "{} {} {}",
            host_pattern(host, port),
            self.key_type,
            STANDARD.encode(&self.blob)
        )
    }
}

/// How OpenSSH names a host in known_hosts: `host`, or `[host]:port` off port 22.
pub fn host_pattern(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

/// Known-hosts files, read in order: the user's own, then the app's.
#[derive(Debug, Clone)]
pub struct KnownHosts {
    files: Vec<PathBuf>,
    /// Where keys the user accepts are written.
    accepted: PathBuf,
}

impl KnownHosts {
    pub fn new(files: Vec<PathBuf>, accepted: PathBuf) -> Self {
        Self { files, accepted }
    }

    /// What the files say of `key` for `host` on `port`.
    pub fn check(&self, host: &str, port: u16, key: &HostKey) -> HostKeyCheck {
        let name = host_pattern(host, port);
        let mut verdict = HostKeyCheck::Unknown;
        for file in self.files.iter().chain(std::iter::once(&self.accepted)) {
            let Ok(text) = std::fs::read_to_string(file) else {
                continue;
            };
            match check_text(&text, &name, key) {
                HostKeyCheck::Changed => return HostKeyCheck::Changed,
                HostKeyCheck::Known => verdict = HostKeyCheck::Known,
                HostKeyCheck::Unknown => {}
            }
        }
        verdict
    }

    /// Trusts `key` for `host` from now on, in the app's own file.
    pub fn accept(&self, host: &str, port: u16, key: &HostKey) -> std::io::Result<()> {
        use std::io::Write;
        if let Some(dir) = self.accepted.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.accepted)?;
        writeln!(file, "{}", key.known_hosts_line(host, port))
    }

    pub fn accepted_file(&self) -> &Path {
        &self.accepted
    }
}

fn check_text(text: &str, name: &str, key: &HostKey) -> HostKeyCheck {
    let mut verdict = HostKeyCheck::Unknown;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split_whitespace();
        let mut first = fields.next().unwrap_or_default();
        let marker = first.strip_prefix('@').map(str::to_string);
        if marker.is_some() {
            first = fields.next().unwrap_or_default();
        }
        let (Some(key_type), Some(encoded)) = (fields.next(), fields.next()) else {
            continue;
        };
        if !hosts_match(first, name) {
            continue;
        }
        let same_key = STANDARD.decode(encoded).is_ok_and(|blob| blob == key.blob);
        match marker.as_deref() {
            Some("revoked") if same_key => return HostKeyCheck::Changed,
            Some(_) => continue, // @cert-authority lines sign keys; they do not list them.
            None if key_type != key.key_type => continue,
            None if same_key => verdict = HostKeyCheck::Known,
            None => {
                if verdict != HostKeyCheck::Known {
                    verdict = HostKeyCheck::Changed;
                }
            }
        }
    }
    verdict
}

/// Whether the host field of a line (`a,b,!c`, `*.example.com`, `|1|salt|hash`) names `name`.
fn hosts_match(field: &str, name: &str) -> bool {
    if let Some(hashed) = field.strip_prefix("|1|") {
        return hashed_match(hashed, name);
    }
    let mut matched = false;
    for pattern in field.split(',') {
        match pattern.strip_prefix('!') {
            Some(negated) if glob(negated, name) => return false,
            Some(_) => {}
            None => matched |= glob(pattern, name),
        }
    }
    matched
}

fn hashed_match(hashed: &str, name: &str) -> bool {
    let Some((salt, hash)) = hashed.split_once('|') else {
        return false;
    };
    let (Ok(salt), Ok(hash)) = (STANDARD.decode(salt), STANDARD.decode(hash)) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(&salt) else {
        return false;
    };
    mac.update(name.as_bytes());
    mac.verify_slice(&hash).is_ok()
}

/// OpenSSH's host patterns: `*` any run, `?` any one character, case-insensitive.
fn glob(pattern: &str, name: &str) -> bool {
    fn go(p: &[u8], n: &[u8]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kind: &str, body: &[u8]) -> HostKey {
        let mut blob = (kind.len() as u32).to_be_bytes().to_vec();
        blob.extend_from_slice(kind.as_bytes());
        blob.extend_from_slice(body);
        HostKey::from_blob(&blob).unwrap()
    }

    fn hashed(name: &str, salt: &[u8]) -> String {
        let mut mac = Hmac::<Sha1>::new_from_slice(salt).unwrap();
        mac.update(name.as_bytes());
        format!(
            "|1|{}|{}",
            STANDARD.encode(salt),
            STANDARD.encode(mac.finalize().into_bytes())
        )
    }

    #[test]
    fn plain_hashed_ported_and_patterned_hosts() {
        let ours = key("ssh-ed25519", b"ours");
        let encoded = STANDARD.encode(&ours.blob);
        let text = format!(
            "# comment\n\
             git.example.com,10.0.0.1 ssh-ed25519 {encoded}\n\
             {} ssh-ed25519 {encoded}\n\
             [127.0.0.1]:2222 ssh-ed25519 {encoded}\n\
             *.corp.example,!secret.corp.example ssh-ed25519 {encoded}\n",
            hashed("hashed.example.com", b"0123456789abcdefghij")
        );
        let check = |name: &str| check_text(&text, name, &ours);
        assert_eq!(check("git.example.com"), HostKeyCheck::Known);
        assert_eq!(check("10.0.0.1"), HostKeyCheck::Known);
        assert_eq!(check("hashed.example.com"), HostKeyCheck::Known);
        assert_eq!(check("[127.0.0.1]:2222"), HostKeyCheck::Known);
        assert_eq!(check("127.0.0.1"), HostKeyCheck::Unknown);
        assert_eq!(check("build.corp.example"), HostKeyCheck::Known);
        assert_eq!(check("secret.corp.example"), HostKeyCheck::Unknown);
        assert_eq!(check("other.example.com"), HostKeyCheck::Unknown);
    }

    #[test]
    fn another_key_of_the_same_type_is_a_change_and_revoked_keys_are_refused() {
        let ours = key("ssh-ed25519", b"ours");
        let theirs = key("ssh-ed25519", b"theirs");
        let rsa = key("ssh-rsa", b"rsa");
        let text = format!(
            "git.example.com ssh-ed25519 {}\n",
            STANDARD.encode(&theirs.blob)
        );
        assert_eq!(
            check_text(&text, "git.example.com", &ours),
            HostKeyCheck::Changed
        );
        // A key of another type is simply not listed yet.
        assert_eq!(
            check_text(&text, "git.example.com", &rsa),
            HostKeyCheck::Unknown
        );
        let revoked = format!("@revoked * ssh-ed25519 {}\n", STANDARD.encode(&ours.blob));
        assert_eq!(
            check_text(&revoked, "git.example.com", &ours),
            HostKeyCheck::Changed
        );
    }

    #[test]
    fn accepted_keys_are_written_and_then_known() {
        let dir = tempfile::tempdir().unwrap();
        let known = KnownHosts::new(
            vec![dir.path().join("missing")],
            dir.path().join("plumbline/known_hosts"),
        );
        let ours = key("ssh-ed25519", b"ours");
        assert_eq!(known.check("127.0.0.1", 2222, &ours), HostKeyCheck::Unknown);
        known.accept("127.0.0.1", 2222, &ours).unwrap();
        assert_eq!(known.check("127.0.0.1", 2222, &ours), HostKeyCheck::Known);
        assert_eq!(known.check("127.0.0.1", 22, &ours), HostKeyCheck::Unknown);
        assert!(ours.fingerprint().starts_with("SHA256:"));
        assert!(!ours.fingerprint().ends_with('='));
    }
}
