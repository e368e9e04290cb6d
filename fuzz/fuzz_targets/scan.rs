//! Bytes -> spanned tree -> typed views -> system model -> every rule: nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the name, so content detection sees YAML, JSON
    // and protobuf names alike.
    let (name, body) = match data.split_first() {
        Some((b, rest)) if b % 3 == 0 => ("fuzz.proto", rest),
        Some((b, rest)) if b % 3 == 1 => ("fuzz.json", rest),
        Some((_, rest)) => ("fuzz.yaml", rest),
        None => ("fuzz.yaml", data),
    };
    let ingest = cairn_ingest::ingest_in_memory(vec![(name.to_owned(), body.to_vec())], &cairn_ingest::Options::default());
    let (system, _diagnostics) = cairn_model::build(&ingest);
    // every edge joins two services of the model
    for e in &system.edges {
        assert!(system.service(&e.from).is_some() && system.service(&e.to).is_some());
    }
    // every rule, at the strictest profile, over whatever was read
    let settings = cairn_check::Settings::for_profile(cairn_check::Profile::Production);
    let outcome = cairn_check::run(&ingest, &system, &settings);
    for f in &outcome.findings {
        assert!(f.pos.is_none_or(|p| p.line >= 1 && p.column >= 1));
    }
});
