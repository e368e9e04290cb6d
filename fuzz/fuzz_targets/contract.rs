//! Contract diff: any two texts (split at the first NUL byte, or the same
//! text twice) read as OpenAPI or AsyncAPI, with `$ref`s between them, and
//! compared. Never panics; every change position is inside its file.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (a, b) = match data.iter().position(|&c| c == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, data),
    };
    // Files live in memory: `base.yaml`, `rev.yaml`, and `$ref` targets that
    // resolve to one of the two.
    let read = |p: &Path| -> std::io::Result<Vec<u8>> {
        match p.file_name().and_then(|n| n.to_str()) {
            Some("base.yaml") => Ok(a.to_vec()),
            Some("rev.yaml") | Some("other.yaml") => Ok(b.to_vec()),
            _ => Err(std::io::Error::other("no such file")),
        }
    };
    let mut docs = cairn_contract::openapi::Docs::new();
    let base = docs.load_with(Path::new("base.yaml"), "base.yaml".into(), 0, &read);
    let rev = docs.load_with(Path::new("rev.yaml"), "rev.yaml".into(), 0, &read);
    if let (Some(base), Some(rev)) = (base, rev) {
        let (changes, _) = cairn_contract::compare(&docs, base, rev, &Default::default());
        for c in changes {
            if let Some(loc) = c.loc {
                let text = docs.sources.get(loc.file).and_then(|f| f.text.clone()).unwrap_or_default();
                assert!(loc.pos.end as usize <= text.len());
            }
        }
    }
});
