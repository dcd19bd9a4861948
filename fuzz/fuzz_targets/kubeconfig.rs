//! Any bytes as a kubeconfig file: loaded (a broken file is a problem named, never a panic) and
//! listed as the Contexts screen lists it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plumbline_core::clusters::Kubeconfigs;

fuzz_target!(|data: &[u8]| {
    let path =
        std::env::temp_dir().join(format!("plumbline-fuzz-kubeconfig-{}", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let list = Kubeconfigs::load(std::slice::from_ref(&path)).list();
    let _ = serde_json::to_string(&list);
});
