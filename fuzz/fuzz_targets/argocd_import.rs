//! Any text as an Argo CD Application manifest: imported (or refused in words), and what comes
//! in exported again. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plumbline_core::argocd;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(imported) = argocd::import(text, &[]) {
        let _ = plumbline_core::apps::validate(&imported.app);
        let again = argocd::export(&imported.app);
        let _ = argocd::import(&again, &[]);
    }
});
