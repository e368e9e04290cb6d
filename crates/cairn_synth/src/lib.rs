//! Deterministic generator of synthetic microservice systems as Kubernetes YAML.
//!
//! [`generate`] turns a [`SynthConfig`] into a [`SynthSystem`]: the YAML files
//! (as text, nothing is written to disk) plus the ground truth of which
//! service calls which ([`SynthSystem::edges`]). It exists for benchmarks and
//! scale tests of the scanner, so the output imitates real manifests: several
//! object kinds per service, callee addresses written in varied forms and
//! quoting styles, addresses both inline in `env` and inside `ConfigMap`s,
//! shared datastores and message brokers.
//!
//! The same configuration always produces byte-identical output: all
//! randomness comes from a self-written splitmix64 generator seeded by
//! [`SynthConfig::seed`].
//!
//! # Shape of a generated system
//!
//! Every app service `svc-NNNNN` (index zero padded to 5 digits) gets six
//! objects in namespace [`NAMESPACE`]: a `Deployment`, a `Service`, a
//! `ConfigMap` named `svc-NNNNN-config`, a `HorizontalPodAutoscaler`, a
//! `PodDisruptionBudget` and a `NetworkPolicy` admitting its callers. Its
//! container has 3–8 env vars naming callee addresses such as
//! `http://svc-00012:8080`, `svc-00012:8080`,
//! `svc-00012.synth.svc.cluster.local:8080`, `grpc://svc-00012:9090` or
//! `http://svc-00012.synth:8080/api`; its `ConfigMap` names one more callee.
//! Callees mostly have a higher index and are near neighbours; every 50th
//! service is a local hub and the last three services are global hubs. The
//! very last service calls back into lower indices, so the graph is a DAG
//! apart from those few back edges.
//!
//! About 30% of services use a shared datastore (postgres `db-NN` or redis
//! `cache-NN`) and about 20% a kafka broker `kafka-NN`; each datastore and
//! broker is a `StatefulSet` plus a headless `Service`.

mod render;
mod rng;

use rng::Rng;

/// Namespace every generated object lives in.
pub const NAMESPACE: &str = "synth";

/// Default seed used by [`SynthConfig::new`].
pub const DEFAULT_SEED: u64 = 0x5EED_CA1B;

/// Number of app services per bundle file when
/// [`SynthConfig::files_per_service`] is false (also the number of
/// datastores/brokers per infrastructure bundle).
pub const BUNDLE_SIZE: usize = 100;

/// Settings for a synthetic system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthConfig {
    /// Number of app services (`svc-00000` …).
    pub services: usize,
    /// Seed of the pseudo-random generator; same config, same bytes.
    pub seed: u64,
    /// Number of shared datastores, alternating postgres `db-NN` and redis
    /// `cache-NN` (default `services / 20`, at least 1). Zero means no
    /// service uses a datastore.
    pub datastores: usize,
    /// Number of kafka brokers `kafka-NN` (default `services / 100`, at
    /// least 1). Zero means no service uses a broker.
    pub brokers: usize,
    /// True: one file per service (`svc-00042.yaml`) and per datastore or
    /// broker (`db-03.yaml`). False: bundle files of [`BUNDLE_SIZE`]
    /// services each (`bundle-000.yaml`) and of datastores/brokers
    /// (`infra-000.yaml`).
    pub files_per_service: bool,
}

impl SynthConfig {
    /// Config for `services` app services with the default seed, default
    /// datastore/broker counts and one file per service.
    pub fn new(services: usize) -> Self {
        Self {
            services,
            seed: DEFAULT_SEED,
            datastores: (services / 20).max(1),
            brokers: (services / 100).max(1),
            files_per_service: true,
        }
    }

    /// The same config with another seed.
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The same config writing bundle files of about [`BUNDLE_SIZE`]
    /// services instead of one file per service.
    #[must_use]
    pub fn bundled(mut self) -> Self {
        self.files_per_service = false;
        self
    }
}

/// One generated YAML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthFile {
    /// Path relative to the output directory, e.g. `svc-00042.yaml`.
    pub path: String,
    /// The YAML text: a multi-document stream separated by `---`.
    pub text: String,
}

/// A generated system: its files and the truth about its call graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthSystem {
    /// The YAML files, in a deterministic order.
    pub files: Vec<SynthFile>,
    /// Every `(from, to)` pair of service names implied by an address in an
    /// app service's container `env` or `ConfigMap` data, deduplicated,
    /// ordered by caller. Targets are app services, datastores and brokers
    /// (all of which have a `Service` of that name). Self references never
    /// occur.
    pub edges: Vec<(String, String)>,
    /// Number of Kubernetes objects (YAML documents) written.
    pub objects: usize,
}

impl SynthSystem {
    /// Total size of all file texts in bytes.
    pub fn total_bytes(&self) -> usize {
        self.files.iter().map(|f| f.text.len()).sum()
    }
}

/// The name of app service `index`, e.g. `svc-00042`.
pub fn service_name(index: usize) -> String {
    format!("svc-{index:05}")
}

/// How a callee address is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AddrForm {
    /// `http://svc-00012:8080`
    HttpUrl,
    /// `svc-00012:8080`
    HostPort,
    /// `svc-00012.synth.svc.cluster.local:8080`
    ClusterLocal,
    /// `grpc://svc-00012:9090`
    Grpc,
    /// `http://svc-00012.synth:8080/api`
    NamespacedUrl,
}

const FORMS: [AddrForm; 5] = [
    AddrForm::HttpUrl,
    AddrForm::HostPort,
    AddrForm::ClusterLocal,
    AddrForm::Grpc,
    AddrForm::NamespacedUrl,
];

/// How a scalar is quoted in YAML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quote {
    Plain,
    Double,
    Single,
}

const QUOTES: [Quote; 3] = [Quote::Plain, Quote::Double, Quote::Single];

/// One address of an app callee.
#[derive(Debug, Clone, Copy)]
struct CalleeRef {
    callee: usize,
    form: AddrForm,
    quote: Quote,
}

/// Use of a shared datastore: index into the datastore list, FQDN or short.
#[derive(Debug, Clone, Copy)]
struct StoreUse {
    store: usize,
    fqdn: bool,
    quote: Quote,
}

/// Use of kafka: one or two broker indices.
#[derive(Debug, Clone, Copy)]
struct BrokerUse {
    first: usize,
    second: Option<usize>,
    fqdn: bool,
    quote: Quote,
}

/// Everything random about one app service, decided before rendering.
#[derive(Debug, Clone)]
struct ServicePlan {
    replicas: usize,
    max_replicas: usize,
    cpu_target: usize,
    profile: usize,
    tier: &'static str,
    log_level: &'static str,
    timeout_ms: usize,
    max_connections: usize,
    env: Vec<CalleeRef>,
    config_callee: Option<CalleeRef>,
    store: Option<StoreUse>,
    broker: Option<BrokerUse>,
    /// Deduplicated callee service names in order of first appearance.
    callee_names: Vec<usize>,
}

/// A node of the system: app services first, then datastores, then brokers.
/// Used to keep callee identities as plain indices while planning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    App(usize),
    Store(usize),
    Broker(usize),
}

/// Kind of a datastore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StoreKind {
    Postgres,
    Redis,
}

/// Datastore `j` alternates postgres and redis: db-00, cache-00, db-01, …
fn store_kind(j: usize) -> StoreKind {
    if j.is_multiple_of(2) {
        StoreKind::Postgres
    } else {
        StoreKind::Redis
    }
}

fn store_name(j: usize) -> String {
    match store_kind(j) {
        StoreKind::Postgres => format!("db-{:02}", j / 2),
        StoreKind::Redis => format!("cache-{:02}", j / 2),
    }
}

fn broker_name(k: usize) -> String {
    format!("kafka-{k:02}")
}

/// Spacing of local hubs: every service whose index is `HUB_SPACING - 1`
/// modulo `HUB_SPACING` is called often by the services just below it.
const HUB_SPACING: usize = 50;
/// Number of global hubs at the end of the index range.
const GLOBAL_HUBS: usize = 3;

/// A callee for service `i` of `n`: mostly a near neighbour with higher
/// index, sometimes a local or global hub, rarely anything higher; the last
/// service points back at a lower index. `None` when `n <= 1`.
fn choose_callee(rng: &mut Rng, i: usize, n: usize) -> Option<usize> {
    if n <= 1 {
        return None;
    }
    if i + 1 >= n {
        return Some(rng.below(i));
    }
    let avail = n - 1 - i;
    let roll = rng.below(100);
    if roll < 3 {
        // Global hub: one of the last GLOBAL_HUBS services above i.
        let lo = n.saturating_sub(GLOBAL_HUBS).max(i + 1);
        return Some(rng.between(lo, n - 1));
    }
    if roll < 20 {
        let mut first = (i / HUB_SPACING) * HUB_SPACING + (HUB_SPACING - 1);
        if first <= i {
            first += HUB_SPACING;
        }
        let h = first + rng.below(3) * HUB_SPACING;
        if h < n {
            return Some(h);
        }
        if first < n {
            return Some(first);
        }
    }
    let off = if roll < 75 {
        1 + rng.below(4)
    } else if roll < 93 {
        1 + rng.below(32)
    } else {
        1 + rng.below(avail)
    };
    let off = if off > avail {
        1 + rng.below(avail)
    } else {
        off
    };
    Some(i + off)
}

fn plan_service(rng: &mut Rng, i: usize, cfg: &SynthConfig) -> ServicePlan {
    let n = cfg.services;
    let want = rng.between(3, 8);
    let mut env: Vec<CalleeRef> = Vec::with_capacity(want);
    // Distinct (callee, form) pairs keep env var names unique.
    for _ in 0..want * 4 {
        if env.len() == want {
            break;
        }
        let Some(callee) = choose_callee(rng, i, n) else {
            break;
        };
        let form = rng.pick(&FORMS);
        let quote = rng.pick(&QUOTES);
        if !env.iter().any(|e| e.callee == callee && e.form == form) {
            env.push(CalleeRef {
                callee,
                form,
                quote,
            });
        }
    }
    let config_callee = choose_callee(rng, i, n).map(|callee| CalleeRef {
        callee,
        form: rng.pick(&FORMS),
        quote: rng.pick(&QUOTES),
    });
    let store = (cfg.datastores > 0 && rng.chance(30)).then(|| StoreUse {
        store: rng.below(cfg.datastores),
        fqdn: rng.chance(25),
        quote: rng.pick(&QUOTES),
    });
    let broker = (cfg.brokers > 0 && rng.chance(20)).then(|| {
        let first = rng.below(cfg.brokers);
        let second = (cfg.brokers > 1 && rng.chance(30)).then(|| (first + 1) % cfg.brokers);
        BrokerUse {
            first,
            second,
            fqdn: rng.chance(25),
            quote: rng.pick(&QUOTES),
        }
    });
    let replicas = rng.between(2, 3);
    let mut callee_names = Vec::new();
    for e in &env {
        if !callee_names.contains(&e.callee) {
            callee_names.push(e.callee);
        }
    }
    ServicePlan {
        replicas,
        max_replicas: replicas * rng.between(3, 5),
        cpu_target: rng.pick(&[60, 70, 75, 80]),
        profile: rng.below(render::PROFILES.len()),
        tier: rng.pick(&["api", "backend", "worker", "gateway"]),
        log_level: rng.pick(&["info", "info", "info", "debug", "warn"]),
        timeout_ms: rng.pick(&[500, 1000, 2500, 5000]),
        max_connections: rng.pick(&[16, 32, 64, 128]),
        env,
        config_callee,
        store,
        broker,
        callee_names,
    }
}

impl ServicePlan {
    /// Every target this service's env and `ConfigMap` name, deduplicated,
    /// in order of appearance in the rendered text.
    fn targets(&self) -> Vec<Target> {
        let mut out: Vec<Target> = self.callee_names.iter().map(|&c| Target::App(c)).collect();
        if let Some(s) = self.store {
            out.push(Target::Store(s.store));
        }
        if let Some(b) = self.broker {
            out.push(Target::Broker(b.first));
            if let Some(second) = b.second {
                out.push(Target::Broker(second));
            }
        }
        if let Some(c) = self.config_callee {
            let t = Target::App(c.callee);
            if !out.contains(&t) {
                out.push(t);
            }
        }
        out
    }
}

/// Names of every node, precomputed once for rendering.
struct Names {
    apps: Vec<String>,
    stores: Vec<String>,
    brokers: Vec<String>,
}

impl Names {
    fn of(&self, t: Target) -> &str {
        match t {
            Target::App(i) => &self.apps[i],
            Target::Store(j) => &self.stores[j],
            Target::Broker(k) => &self.brokers[k],
        }
    }
}

/// Generates the synthetic system described by `cfg`.
///
/// Deterministic: the same `cfg` gives byte-identical files and identical
/// edges. Files come in order: app services (or their bundles), then
/// datastores, then brokers (or infrastructure bundles).
pub fn generate(cfg: &SynthConfig) -> SynthSystem {
    let n = cfg.services;
    let mut rng = Rng::new(cfg.seed);
    let names = Names {
        apps: (0..n).map(service_name).collect(),
        stores: (0..cfg.datastores).map(store_name).collect(),
        brokers: (0..cfg.brokers).map(broker_name).collect(),
    };

    let plans: Vec<ServicePlan> = (0..n).map(|i| plan_service(&mut rng, i, cfg)).collect();

    let mut callers: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut edges = Vec::new();
    for (i, plan) in plans.iter().enumerate() {
        for t in plan.targets() {
            if let Target::App(c) = t {
                callers[c].push(i);
            }
            edges.push((names.apps[i].clone(), names.of(t).to_owned()));
        }
    }

    let header = format!(
        "# Generated by cairn-synth (services {n}, seed {}). Synthetic test data.\n",
        cfg.seed
    );
    let mut files = Vec::new();
    let mut objects = 0;
    let ctx = render::Ctx { names: &names };

    let app_chunk = if cfg.files_per_service {
        1
    } else {
        BUNDLE_SIZE
    };
    for (chunk_no, start) in (0..n).step_by(app_chunk).enumerate() {
        let end = (start + app_chunk).min(n);
        let mut doc = render::DocBuf::new(&header, (end - start) * 6 * 1100);
        for i in start..end {
            render::app_service(&mut doc, &ctx, i, &plans[i], &callers[i]);
        }
        let path = if cfg.files_per_service {
            format!("{}.yaml", names.apps[start])
        } else {
            format!("bundle-{chunk_no:03}.yaml")
        };
        objects += doc.docs;
        files.push(SynthFile {
            path,
            text: doc.text,
        });
    }

    let infra: Vec<Target> = (0..cfg.datastores)
        .map(Target::Store)
        .chain((0..cfg.brokers).map(Target::Broker))
        .collect();
    for (chunk_no, chunk) in infra.chunks(app_chunk).enumerate() {
        let mut doc = render::DocBuf::new(&header, chunk.len() * 2 * 1400);
        for &t in chunk {
            render::infra(&mut doc, &ctx, t);
        }
        let path = if cfg.files_per_service {
            format!("{}.yaml", names.of(chunk[0]))
        } else {
            format!("infra-{chunk_no:03}.yaml")
        };
        objects += doc.docs;
        files.push(SynthFile {
            path,
            text: doc.text,
        });
    }

    SynthSystem {
        files,
        edges,
        objects,
    }
}

#[cfg(test)]
mod tests {
    use super::{SynthConfig, choose_callee, generate};
    use crate::rng::Rng;

    #[test]
    fn callees_are_higher_except_for_the_last() {
        let mut rng = Rng::new(3);
        let n = 500;
        for i in 0..n {
            for _ in 0..20 {
                let c = choose_callee(&mut rng, i, n).expect("n > 1");
                assert!(c < n);
                assert_ne!(c, i);
                if i + 1 < n {
                    assert!(c > i, "{i} -> {c}");
                }
            }
        }
        assert_eq!(choose_callee(&mut rng, 0, 1), None);
    }

    #[test]
    fn tiny_systems_work() {
        for n in 0..5 {
            let sys = generate(&SynthConfig::new(n));
            assert_eq!(sys.objects, 6 * n + 2 * 2);
            assert!(sys.edges.iter().all(|(a, b)| a != b));
        }
    }

    #[test]
    fn bundles_hold_about_a_hundred_services() {
        let sys = generate(&SynthConfig::new(250).bundled());
        let paths: Vec<&str> = sys.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "bundle-000.yaml",
                "bundle-001.yaml",
                "bundle-002.yaml",
                "infra-000.yaml"
            ]
        );
        let per_file = generate(&SynthConfig::new(250));
        assert_eq!(sys.edges, per_file.edges);
        assert_eq!(sys.objects, per_file.objects);
    }
}
