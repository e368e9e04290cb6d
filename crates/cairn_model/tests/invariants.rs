//! Properties of the model over many generated systems.

use std::collections::BTreeSet;

use cairn_ingest::{Options, ingest_in_memory};
use cairn_model::build;
use proptest::prelude::*;

fn model_of(sys: &cairn_synth::SynthSystem) -> cairn_model::System {
    let files = sys
        .files
        .iter()
        .map(|f| (f.path.clone(), f.text.clone().into_bytes()))
        .collect();
    let ingest = ingest_in_memory(files, &Options::default());
    assert!(ingest.diagnostics.is_empty(), "{:?}", ingest.diagnostics);
    build(&ingest).0
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Every dependency the generator wrote into env vars and ConfigMaps is
    /// found, nothing else is, and the model's own invariants hold.
    #[test]
    fn generated_systems_are_modelled_exactly(services in 1usize..40, seed in any::<u64>(), bundled in any::<bool>()) {
        let mut cfg = cairn_synth::SynthConfig::new(services).with_seed(seed);
        if bundled {
            cfg = cfg.bundled();
        }
        let sys = cairn_synth::generate(&cfg);
        let m = model_of(&sys);
        let got: BTreeSet<(String, String)> = m.edges.iter().map(|e| (e.from.clone(), e.to.clone())).collect();
        let want: BTreeSet<(String, String)> = sys.edges.iter().cloned().collect();
        prop_assert_eq!(&got, &want);

        let names: BTreeSet<&str> = m.services.iter().map(|s| s.name.as_str()).collect();
        prop_assert_eq!(names.len(), m.services.len(), "service names are unique");
        let files: BTreeSet<&str> = m.files.iter().map(|f| f.path.as_str()).collect();
        for e in &m.edges {
            prop_assert!(e.from != e.to, "no self edges");
            prop_assert!(names.contains(e.from.as_str()) && names.contains(e.to.as_str()));
            prop_assert!(!e.evidence.is_empty(), "every edge has evidence");
            for ev in &e.evidence {
                prop_assert!(files.contains(&*ev.file) && ev.line >= 1 && ev.column >= 1);
            }
        }
        let keys: Vec<(&str, &str)> = m.edges.iter().map(|e| (e.from.as_str(), e.to.as_str())).collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        sorted.dedup();
        prop_assert_eq!(keys, sorted, "edges are sorted and unique");

        // building again gives the same model
        let again = model_of(&sys);
        prop_assert_eq!(serde_json::to_string(&m).unwrap(), serde_json::to_string(&again).unwrap());
    }
}

/// `NetworkPolicies`: the generated policies admit exactly the callers.
#[test]
fn generated_network_policies_admit_exactly_the_callers() {
    use cairn_model::PodRef;
    let sys = cairn_synth::generate(&cairn_synth::SynthConfig::new(30));
    let m = model_of(&sys);
    let pod = |name: &str| -> PodRef {
        let svc = m.service(name).unwrap();
        PodRef {
            namespace: svc.namespace.clone().unwrap_or_default(),
            labels: svc.workloads[0].labels.clone(),
            ..PodRef::default()
        }
    };
    let apps: Vec<&str> = m
        .services
        .iter()
        .filter(|s| s.name.starts_with("svc-"))
        .map(|s| s.name.as_str())
        .collect();
    let edges: BTreeSet<(&str, &str)> = sys
        .edges
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let mut checked = 0;
    for from in &apps {
        for to in &apps {
            if from == to {
                continue;
            }
            let v = m.network_policies.may_reach(&pod(from), &pod(to), 8080);
            assert_eq!(
                v.allowed,
                edges.contains(&(*from, *to)),
                "{from} -> {to}: {v:?}"
            );
            checked += 1;
        }
    }
    assert!(checked > 100);
}
