//! Any bytes as a manifest file (YAML and JSON): parsed, normalised, masked, and each pair of
//! objects compared as the offline diff compares them. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plumbline_core::{comparison, diff, render};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for name in ["fuzz.yaml", "fuzz.json"] {
        let Ok(rendered) = render::objects(name, text) else {
            continue;
        };
        let objects: Vec<serde_json::Value> =
            rendered.manifests.into_iter().map(|m| m.object).collect();
        for object in &objects {
            let mut masked = diff::normalize(object);
            diff::mask_secrets(Some(&mut masked), None);
            let _ = diff::to_yaml(&masked);
        }
        if let [desired, live, ..] = objects.as_slice() {
            let _ = diff::three_way::predict(desired, live);
        }
        let _ = comparison::diff_offline(objects.clone(), objects, Some("fuzz"), &[]);
    }
});
