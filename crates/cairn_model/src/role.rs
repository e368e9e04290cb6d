//! What part a service plays, recognised from images, names and ports.

use serde::Serialize;

/// The part a service plays in the system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Application code.
    App,
    /// A database or cache.
    Datastore,
    /// A message broker.
    Broker,
    /// An API gateway or edge proxy.
    Gateway,
    /// A load generator.
    Loadgen,
    /// Telemetry: collectors, tracing, metrics, dashboards.
    Observability,
    /// Platform plumbing: config servers, discovery, feature flags.
    Infra,
    /// Outside the system.
    External,
}

impl Role {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::App => "app",
            Role::Datastore => "datastore",
            Role::Broker => "broker",
            Role::Gateway => "gateway",
            Role::Loadgen => "loadgen",
            Role::Observability => "observability",
            Role::Infra => "infra",
            Role::External => "external",
        }
    }

    /// Parses a role as written in `cairn.yaml`.
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "app" => Role::App,
            "datastore" => Role::Datastore,
            "broker" => Role::Broker,
            "gateway" => Role::Gateway,
            "loadgen" | "load-generator" => Role::Loadgen,
            "observability" => Role::Observability,
            "infra" => Role::Infra,
            "external" => Role::External,
            _ => return None,
        })
    }
}

/// Engines recognised in image references: (needle, role, engine/protocol).
const IMAGES: &[(&str, Role, &str)] = &[
    ("postgres", Role::Datastore, "postgres"),
    ("postgis", Role::Datastore, "postgres"),
    ("timescale", Role::Datastore, "postgres"),
    ("cockroach", Role::Datastore, "postgres"),
    ("mysql", Role::Datastore, "mysql"),
    ("mariadb", Role::Datastore, "mysql"),
    ("percona", Role::Datastore, "mysql"),
    ("mongo", Role::Datastore, "mongodb"),
    ("redis", Role::Datastore, "redis"),
    ("valkey", Role::Datastore, "redis"),
    ("keydb", Role::Datastore, "redis"),
    ("dragonfly", Role::Datastore, "redis"),
    ("memcached", Role::Datastore, "memcached"),
    ("cassandra", Role::Datastore, "cassandra"),
    ("scylla", Role::Datastore, "cassandra"),
    ("elasticsearch", Role::Datastore, "elasticsearch"),
    ("couchdb", Role::Datastore, "couchdb"),
    ("couchbase", Role::Datastore, "couchbase"),
    ("neo4j", Role::Datastore, "neo4j"),
    ("clickhouse", Role::Datastore, "clickhouse"),
    ("influxdb", Role::Datastore, "influxdb"),
    ("minio", Role::Datastore, "s3"),
    ("mssql", Role::Datastore, "sqlserver"),
    ("dynamodb", Role::Datastore, "dynamodb"),
    ("etcd", Role::Infra, "etcd"),
    ("kafka", Role::Broker, "kafka"),
    ("redpanda", Role::Broker, "kafka"),
    ("rabbitmq", Role::Broker, "amqp"),
    ("activemq", Role::Broker, "amqp"),
    ("nats", Role::Broker, "nats"),
    ("pulsar", Role::Broker, "pulsar"),
    ("mosquitto", Role::Broker, "mqtt"),
    ("emqx", Role::Broker, "mqtt"),
    ("zookeeper", Role::Infra, "zookeeper"),
    ("opentelemetry-collector", Role::Observability, "otlp"),
    ("otel-collector", Role::Observability, "otlp"),
    ("otelcol", Role::Observability, "otlp"),
    ("jaeger", Role::Observability, "http"),
    ("zipkin", Role::Observability, "http"),
    ("prometheus", Role::Observability, "http"),
    ("wavefront", Role::Observability, "http"),
    ("exporter", Role::Observability, "http"),
    ("kube-state-metrics", Role::Observability, "http"),
    ("heapster", Role::Observability, "http"),
    ("grafana", Role::Observability, "http"),
    ("loki", Role::Observability, "http"),
    ("tempo", Role::Observability, "http"),
    ("opensearch", Role::Observability, "http"),
    ("kibana", Role::Observability, "http"),
    ("fluent", Role::Observability, "http"),
    ("alertmanager", Role::Observability, "http"),
    ("spring-boot-admin", Role::Observability, "http"),
    ("locust", Role::Loadgen, "http"),
    ("k6", Role::Loadgen, "http"),
    ("jmeter", Role::Loadgen, "http"),
    ("loadgenerator", Role::Loadgen, "http"),
    ("load-generator", Role::Loadgen, "http"),
    ("loadtest", Role::Loadgen, "http"),
    ("load-test", Role::Loadgen, "http"),
    ("tracetest", Role::Loadgen, "http"),
    ("tracebasedtests", Role::Loadgen, "http"),
    ("frontendtests", Role::Loadgen, "http"),
    ("envoy", Role::Gateway, "http"),
    ("traefik", Role::Gateway, "http"),
    ("haproxy", Role::Gateway, "http"),
    ("kong", Role::Gateway, "http"),
    ("frontend-proxy", Role::Gateway, "http"),
    ("api-gateway", Role::Gateway, "http"),
    ("edge-router", Role::Gateway, "http"),
    ("flagd", Role::Infra, "grpc"),
    ("config-server", Role::Infra, "http"),
    ("discovery-server", Role::Infra, "http"),
    ("eureka", Role::Infra, "http"),
    ("consul", Role::Infra, "http"),
    ("vault", Role::Infra, "http"),
    ("-operator", Role::Infra, "http"),
];

/// Well-known ports: (port, role, engine).
const PORTS: &[(u16, Role, &str)] = &[
    (5432, Role::Datastore, "postgres"),
    (3306, Role::Datastore, "mysql"),
    (27017, Role::Datastore, "mongodb"),
    (6379, Role::Datastore, "redis"),
    (11211, Role::Datastore, "memcached"),
    (9042, Role::Datastore, "cassandra"),
    (9092, Role::Broker, "kafka"),
    (5672, Role::Broker, "amqp"),
    (4222, Role::Broker, "nats"),
    (1883, Role::Broker, "mqtt"),
];

/// Role and engine of a service from its images, name and ports.
pub(crate) fn infer(images: &[&str], name: &str, ports: &[u16]) -> (Role, Option<&'static str>) {
    // The repository part after the last '/' plus the tag: `ghcr.io/x/demo:2.1-kafka` -> `demo:2.1-kafka`.
    for img in images {
        let img = img.to_ascii_lowercase();
        let last = img.rsplit('/').next().unwrap_or(&img);
        for (needle, role, engine) in IMAGES {
            if last.contains(needle) {
                return (*role, Some(engine));
            }
        }
    }
    let n = name.to_ascii_lowercase();
    for (needle, role, engine) in IMAGES {
        if n.contains(needle) {
            return (*role, Some(engine));
        }
    }
    if n.contains("gateway") || n.ends_with("-proxy") || n == "ingress" {
        return (Role::Gateway, None);
    }
    for p in ports {
        if let Some((_, role, engine)) = PORTS.iter().find(|(port, ..)| port == p) {
            return (*role, Some(engine));
        }
    }
    if n.ends_with("-db")
        || n.starts_with("db-")
        || n.ends_with("-database")
        || n.ends_with("-cache")
    {
        return (Role::Datastore, None);
    }
    (Role::App, None)
}

/// Protocol of a URL scheme.
pub(crate) fn scheme_protocol(scheme: &str) -> Option<&'static str> {
    Some(match scheme {
        "http" | "https" | "lb" | "ws" | "wss" => "http",
        "grpc" | "grpcs" | "dns" | "xds" => "grpc",
        "postgres" | "postgresql" => "postgres",
        "mysql" | "mariadb" => "mysql",
        "mongodb" | "mongodb+srv" => "mongodb",
        "redis" | "rediss" => "redis",
        "amqp" | "amqps" => "amqp",
        "kafka" | "plaintext" | "ssl" | "sasl_plaintext" | "sasl_ssl" => "kafka",
        "nats" => "nats",
        "mqtt" | "mqtts" | "tcp+mqtt" => "mqtt",
        "memcached" => "memcached",
        "sqlserver" => "sqlserver",
        _ => return None,
    })
}
