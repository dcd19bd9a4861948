//! Real Git servers on loopback for the repository tests: `git http-backend` behind lighttpd
//! with basic auth, and OpenSSH's `sshd` with key auth. Each starts on a free port of
//! 127.0.0.1 and stops when dropped.

// Each test crate compiles this module and uses a different part of it.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `git` with `args` in `dir` and returns its standard output.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "protocol.file.allow=always",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// A bare repository `<root>/<name>` served by the servers below, and a working copy that
/// pushes to it.
pub struct Upstream {
    pub bare: PathBuf,
    pub work: PathBuf,
}

impl Upstream {
    /// A repository with two commits on `main` (`guestbook/` changes in both, `other/` only in the
    /// first) and a tag `v1` on the first.
    pub fn create(root: &Path, name: &str) -> Self {
        let bare = root.join(name);
        let work = root.join(format!("{name}.work"));
        std::fs::create_dir_all(&work).unwrap();
        git(&work, &["init", "-q"]);
        write(&work, "guestbook/cm.yaml", &config_map("hello"));
        write(&work, "other/README.md", "not ours\n");
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-q", "-m", "First"]);
        git(&work, &["tag", "v1"]);
        write(&work, "guestbook/cm.yaml", &config_map("hello again"));
        git(&work, &["commit", "-q", "-am", "Second"]);
        git(
            root,
            &[
                "clone",
                "-q",
                "--bare",
                work.to_str().unwrap(),
                bare.to_str().unwrap(),
            ],
        );
        git(&work, &["remote", "add", "origin", bare.to_str().unwrap()]);
        git(&work, &["fetch", "-q", "origin"]);
        Self { bare, work }
    }

    /// Commits a change to `guestbook/cm.yaml` and pushes it.
    pub fn push_change(&self, greeting: &str) -> String {
        write(&self.work, "guestbook/cm.yaml", &config_map(greeting));
        git(&self.work, &["commit", "-q", "-am", greeting]);
        git(&self.work, &["push", "-q", "origin", "main"]);
        git(&self.work, &["rev-parse", "HEAD"])
    }

    /// Rewrites the last commit of `main` and force-pushes it.
    pub fn force_push(&self, greeting: &str) -> String {
        git(&self.work, &["reset", "-q", "--hard", "HEAD~1"]);
        self.push_forced(greeting)
    }

    fn push_forced(&self, greeting: &str) -> String {
        write(&self.work, "guestbook/cm.yaml", &config_map(greeting));
        git(&self.work, &["commit", "-q", "-am", greeting]);
        git(&self.work, &["push", "-q", "--force", "origin", "main"]);
        git(&self.work, &["rev-parse", "HEAD"])
    }

    pub fn head(&self) -> String {
        git(&self.bare, &["rev-parse", "main"])
    }
}

fn write(dir: &Path, path: &str, text: &str) {
    let file = dir.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, text).unwrap();
}

pub fn config_map(greeting: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: guestbook}}\ndata: {{greeting: {greeting}}}\n"
    )
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited at start ({status})");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{what} did not listen on 127.0.0.1:{port}");
}

/// A server process that is killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `git http-backend` under lighttpd: `/public/<repo>` for anyone, `/private/<repo>` with
/// basic auth for one user.
pub struct HttpGit {
    _server: Process,
    pub port: u16,
}

impl HttpGit {
    pub fn start(root: &Path, state: &Path, user: &str, password: &str) -> Self {
        let port = free_port();
        std::fs::create_dir_all(state).unwrap();
        let users = state.join("users");
        std::fs::write(&users, format!("{user}:{password}\n")).unwrap();
        let backend = "/usr/lib/git-core/git-http-backend";
        let config = format!(
            r#"server.modules = ("mod_auth", "mod_authn_file", "mod_alias", "mod_cgi", "mod_setenv")
server.bind = "127.0.0.1"
server.port = {port}
server.document-root = "{root}"
server.errorlog = "{state}/error.log"
auth.backend = "plain"
auth.backend.plain.userfile = "{users}"
auth.require = ("/private" => ("method" => "basic", "realm" => "git", "require" => "valid-user"))
alias.url = ("/private" => "{backend}", "/public" => "{backend}")
$HTTP["url"] =~ "^/(private|public)" {{
  cgi.assign = ("" => "")
  setenv.add-environment = ("GIT_PROJECT_ROOT" => "{root}", "GIT_HTTP_EXPORT_ALL" => "")
}}
"#,
            root = root.display(),
            state = state.display(),
            users = users.display(),
        );
        let file = state.join("lighttpd.conf");
        std::fs::write(&file, config).unwrap();
        let mut child = Command::new("/usr/sbin/lighttpd")
            .args(["-D", "-f"])
            .arg(&file)
            .stdout(Stdio::null())
            .spawn()
            .expect("lighttpd is installed by scripts/deps.sh test");
        wait_for_port(port, &mut child, "lighttpd");
        Self {
            _server: Process(child),
            port,
        }
    }

    pub fn url(&self, access: &str, repo: &str) -> String {
        format!("http://127.0.0.1:{}/{access}/{repo}", self.port)
    }
}

/// A key pair made with `ssh-keygen`.
pub struct KeyPair {
    pub private: PathBuf,
    pub public: String,
}

pub fn key_pair(dir: &Path, name: &str, passphrase: &str) -> KeyPair {
    let private = dir.join(name);
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", passphrase, "-C", name, "-f"])
        .arg(&private)
        .status()
        .expect("ssh-keygen is installed by scripts/deps.sh test");
    assert!(status.success());
    let public = std::fs::read_to_string(private.with_extension("pub")).unwrap();
    KeyPair { private, public }
}

/// OpenSSH's sshd, accepting the given public keys for the user running the tests.
pub struct SshGit {
    _server: Process,
    pub port: u16,
    pub user: String,
    /// The server's host key, as a known_hosts line for `[127.0.0.1]:port`.
    pub known_hosts_line: String,
}

impl SshGit {
    pub fn start(state: &Path, authorized: &[&KeyPair]) -> Self {
        let port = free_port();
        std::fs::create_dir_all(state).unwrap();
        let host_key = key_pair(state, "host_ed25519", "");
        let keys: String = authorized.iter().map(|k| k.public.clone()).collect();
        let authorized_keys = state.join("authorized_keys");
        std::fs::write(&authorized_keys, keys).unwrap();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {host}\nPidFile {state}/sshd.pid\n\
             AuthorizedKeysFile {authorized}\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             UsePAM no\nStrictModes no\nPermitRootLogin prohibit-password\n",
            host = host_key.private.display(),
            state = state.display(),
            authorized = authorized_keys.display(),
        );
        let file = state.join("sshd_config");
        std::fs::write(&file, config).unwrap();
        // sshd's privilege separation directory; only root may create it, and only root needs it.
        let _ = std::fs::create_dir_all("/run/sshd");
        let mut child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sshd is installed by scripts/deps.sh test");
        wait_for_port(port, &mut child, "sshd");
        let mut fields = host_key.public.split_whitespace();
        let known_hosts_line = format!(
            "[127.0.0.1]:{port} {} {}",
            fields.next().unwrap(),
            fields.next().unwrap()
        );
        let user = Command::new("id").arg("-un").output().unwrap();
        Self {
            _server: Process(child),
            port,
            user: String::from_utf8_lossy(&user.stdout).trim().to_string(),
            known_hosts_line,
        }
    }

    pub fn url(&self, bare: &Path) -> String {
        format!(
            "ssh://{}@127.0.0.1:{}{}",
            self.user,
            self.port,
            bare.display()
        )
    }
}
