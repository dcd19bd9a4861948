//! The real OS keyring (GNOME Keyring's Secret Service in a private D-Bus session; `make
//! rust-test` starts one through `scripts/with-keyring.sh`).

use plumbline_core::secrets::{Keyring, SecretKey, SecretKind, SecretStore, Sensitive};

fn keyring() -> Keyring {
    // A service of its own, so that a run never touches the app's real entries.
    Keyring::with_service(format!("dev.plumbline.test.{}", std::process::id()))
}

#[test]
fn secrets_are_set_replaced_read_and_deleted_in_the_secret_service() {
    let keyring = keyring();
    let key = SecretKey::new(
        "https://git.example.com/team/deploy.git",
        SecretKind::Password,
    );
    let missing = keyring.get(&key).unwrap_or_else(|e| {
        panic!("{e}\n(run the tests through scripts/with-keyring.sh, as `make rust-test` does)")
    });
    assert!(missing.is_none());

    keyring
        .set(&key, &Sensitive::new("first-token".into()))
        .unwrap();
    keyring
        .set(&key, &Sensitive::new("second-token".into()))
        .unwrap();
    assert_eq!(keyring.get(&key).unwrap().unwrap().expose(), "second-token");
    assert!(keyring.contains(&key).unwrap());

    // Another kind of secret of the same owner is a separate entry.
    let passphrase = SecretKey::new(key.owner.clone(), SecretKind::KeyPassphrase);
    assert!(!keyring.contains(&passphrase).unwrap());

    // The entry is really in the Secret Service, where other programs can find it.
    let lookup = std::process::Command::new("secret-tool")
        .args(["search", "--all", "service", keyring.service()])
        .output()
        .expect("secret-tool (libsecret-tools) is installed by scripts/deps.sh test");
    let listing = String::from_utf8_lossy(&lookup.stdout).to_string()
        + &String::from_utf8_lossy(&lookup.stderr);
    assert!(
        listing.contains("password for https://git.example.com/team/deploy.git"),
        "{listing}"
    );

    keyring.delete(&key).unwrap();
    keyring.delete(&key).unwrap(); // Deleting what is gone is fine.
    assert!(keyring.get(&key).unwrap().is_none());
}
