//! Rendering of planned services and infrastructure as YAML text.
//!
//! Hand-written string building (no serializer): the layout is fixed, every
//! scalar is known to be safe in the chosen quoting style, and this keeps the
//! generator dependency-free and fast.

use std::fmt::Write as _;

use crate::{
    AddrForm, BrokerUse, CalleeRef, NAMESPACE, Names, Quote, ServicePlan, StoreKind, StoreUse,
    Target, store_kind,
};

/// Resource profiles: (cpu request, memory request, cpu limit, memory limit).
pub(crate) const PROFILES: [(&str, &str, &str, &str); 4] = [
    ("50m", "64Mi", "250m", "256Mi"),
    ("100m", "128Mi", "500m", "512Mi"),
    ("250m", "256Mi", "1", "1Gi"),
    ("500m", "512Mi", "2", "2Gi"),
];

/// Shared rendering inputs.
pub(crate) struct Ctx<'a> {
    pub(crate) names: &'a Names,
}

/// A multi-document YAML stream under construction.
pub(crate) struct DocBuf {
    pub(crate) text: String,
    pub(crate) docs: usize,
}

impl DocBuf {
    /// An empty stream starting with the comment `header`.
    pub(crate) fn new(header: &str, capacity: usize) -> Self {
        let mut text = String::with_capacity(capacity + header.len());
        text.push_str(header);
        Self { text, docs: 0 }
    }

    /// Starts a new document, writing the `---` separator when needed.
    fn begin(&mut self) -> &mut String {
        if self.docs > 0 {
            self.text.push_str("---\n");
        }
        self.docs += 1;
        &mut self.text
    }
}

/// Appends `value` quoted as asked. Callers only pass values that are valid
/// in every style (no quotes, no `: `, no leading indicator characters).
fn scalar(out: &mut String, value: &str, quote: Quote) {
    match quote {
        Quote::Plain => out.push_str(value),
        Quote::Double => {
            out.push('"');
            out.push_str(value);
            out.push('"');
        }
        Quote::Single => {
            out.push('\'');
            out.push_str(value);
            out.push('\'');
        }
    }
}

/// The address of app service `name` in `form`.
fn app_addr(name: &str, form: AddrForm) -> String {
    match form {
        AddrForm::HttpUrl => format!("http://{name}:8080"),
        AddrForm::HostPort => format!("{name}:8080"),
        AddrForm::ClusterLocal => format!("{name}.{NAMESPACE}.svc.cluster.local:8080"),
        AddrForm::Grpc => format!("grpc://{name}:9090"),
        AddrForm::NamespacedUrl => format!("http://{name}.{NAMESPACE}:8080/api"),
    }
}

/// Suffix of the env var / config key holding an address in `form`.
fn form_suffix(form: AddrForm) -> &'static str {
    match form {
        AddrForm::HttpUrl => "_URL",
        AddrForm::HostPort => "_ADDR",
        AddrForm::ClusterLocal => "_HOST",
        AddrForm::Grpc => "_GRPC_TARGET",
        AddrForm::NamespacedUrl => "_API_URL",
    }
}

/// `svc-00012` → `SVC_00012`.
fn env_prefix(out: &mut String, name: &str) {
    out.extend(name.chars().map(|c| match c {
        '-' | '.' => '_',
        c => c.to_ascii_uppercase(),
    }));
}

fn store_addr(names: &Names, s: StoreUse) -> String {
    let host = &names.stores[s.store];
    let host = if s.fqdn {
        format!("{host}.{NAMESPACE}.svc.cluster.local")
    } else {
        host.clone()
    };
    match store_kind(s.store) {
        StoreKind::Postgres if s.fqdn => format!("postgres://app@{host}:5432/app?sslmode=disable"),
        StoreKind::Postgres => format!("postgres://app@{host}:5432/app"),
        StoreKind::Redis if s.fqdn => format!("redis://{host}:6379/0"),
        StoreKind::Redis => format!("{host}:6379"),
    }
}

fn broker_addr(names: &Names, b: BrokerUse) -> String {
    let one = |k: usize| {
        if b.fqdn {
            format!("{}.{NAMESPACE}.svc.cluster.local:9092", names.brokers[k])
        } else {
            format!("{}:9092", names.brokers[k])
        }
    };
    match b.second {
        Some(k) => format!("{},{}", one(b.first), one(k)),
        None => one(b.first),
    }
}

/// `metadata:` with name, namespace and the standard labels, at top level.
fn metadata(out: &mut String, name: &str, app: &str, component: &str) {
    out.push_str("metadata:\n  name: ");
    out.push_str(name);
    out.push_str("\n  namespace: ");
    out.push_str(NAMESPACE);
    out.push_str("\n  labels:\n    app.kubernetes.io/name: ");
    out.push_str(app);
    out.push_str("\n    app.kubernetes.io/component: ");
    out.push_str(component);
    out.push_str("\n    app.kubernetes.io/part-of: synth\n");
}

/// One env entry `- name: NAME` / `value: VALUE` at container indentation.
fn env_value(out: &mut String, name_prefix: &str, suffix: &str, value: &str, quote: Quote) {
    out.push_str("            - name: ");
    env_prefix(out, name_prefix);
    out.push_str(suffix);
    out.push_str("\n              value: ");
    scalar(out, value, quote);
    out.push('\n');
}

/// The six objects of app service `i`.
pub(crate) fn app_service(
    doc: &mut DocBuf,
    ctx: &Ctx<'_>,
    i: usize,
    plan: &ServicePlan,
    callers: &[usize],
) {
    let names = ctx.names;
    let name = names.apps[i].as_str();
    let config = format!("{name}-config");
    let (cpu_req, mem_req, cpu_lim, mem_lim) = PROFILES[plan.profile];

    // Deployment.
    let out = doc.begin();
    out.push_str("apiVersion: apps/v1\nkind: Deployment\n");
    metadata(out, name, name, plan.tier);
    out.push_str("    app.kubernetes.io/version: \"1.4.2\"\n");
    let _ = write!(
        out,
        "spec:\n  replicas: {}\n  revisionHistoryLimit: 5\n",
        plan.replicas
    );
    out.push_str("  selector:\n    matchLabels:\n      app.kubernetes.io/name: ");
    out.push_str(name);
    out.push_str("\n  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: ");
    out.push_str(name);
    out.push_str("\n        app.kubernetes.io/part-of: synth\n");
    out.push_str(
        "    spec:\n      securityContext:\n        runAsNonRoot: true\n        runAsUser: 10001\n        \
         fsGroup: 10001\n        seccompProfile:\n          type: RuntimeDefault\n",
    );
    out.push_str("      containers:\n        - name: app\n          image: registry.example.com/");
    out.push_str(name);
    out.push_str(
        ":1.4.2\n          imagePullPolicy: IfNotPresent\n          ports:\n            \
         - name: http\n              containerPort: 8080\n              protocol: TCP\n            \
         - name: grpc\n              containerPort: 9090\n              protocol: TCP\n",
    );
    out.push_str("          env:\n            - name: PORT\n              value: \"8080\"\n");
    out.push_str(
        "            - name: POD_NAMESPACE\n              valueFrom:\n                fieldRef:\n                  \
         fieldPath: metadata.namespace\n",
    );
    for e in &plan.env {
        let callee = names.apps[e.callee].as_str();
        env_value(
            out,
            callee,
            form_suffix(e.form),
            &app_addr(callee, e.form),
            e.quote,
        );
    }
    if let Some(s) = plan.store {
        let value = store_addr(names, s);
        let (var, suffix) = match store_kind(s.store) {
            StoreKind::Postgres => ("DATABASE", "_URL"),
            StoreKind::Redis => ("REDIS", "_ADDR"),
        };
        env_value(out, var, suffix, &value, s.quote);
    }
    if let Some(b) = plan.broker {
        env_value(
            out,
            "KAFKA",
            "_BOOTSTRAP_SERVERS",
            &broker_addr(names, b),
            b.quote,
        );
    }
    out.push_str(
        "            - name: APP_LOG_LEVEL\n              valueFrom:\n                configMapKeyRef:\n                  name: ",
    );
    out.push_str(&config);
    out.push_str("\n                  key: LOG_LEVEL\n");
    out.push_str("          envFrom:\n            - configMapRef:\n                name: ");
    out.push_str(&config);
    let _ = write!(
        out,
        "\n          resources:\n            requests:\n              cpu: {cpu_req}\n              \
         memory: {mem_req}\n            limits:\n              cpu: \"{cpu_lim}\"\n              \
         memory: {mem_lim}\n"
    );
    out.push_str(
        "          readinessProbe:\n            httpGet:\n              path: /readyz\n              \
         port: http\n            initialDelaySeconds: 5\n            periodSeconds: 10\n          \
         livenessProbe:\n            httpGet:\n              path: /healthz\n              \
         port: http\n            initialDelaySeconds: 15\n            periodSeconds: 20\n          \
         securityContext:\n            allowPrivilegeEscalation: false\n            \
         readOnlyRootFilesystem: true\n            capabilities:\n              drop:\n                \
         - ALL\n",
    );

    // Service.
    let out = doc.begin();
    out.push_str("apiVersion: v1\nkind: Service\n");
    metadata(out, name, name, plan.tier);
    out.push_str("spec:\n  type: ClusterIP\n  selector:\n    app.kubernetes.io/name: ");
    out.push_str(name);
    out.push_str(
        "\n  ports:\n    - name: http\n      port: 8080\n      targetPort: http\n      protocol: TCP\n    \
         - name: grpc\n      port: 9090\n      targetPort: grpc\n      protocol: TCP\n",
    );

    // ConfigMap.
    let out = doc.begin();
    out.push_str("apiVersion: v1\nkind: ConfigMap\n");
    metadata(out, &config, name, plan.tier);
    let _ = write!(
        out,
        "data:\n  LOG_LEVEL: {}\n  HTTP_TIMEOUT_MS: \"{}\"\n  MAX_CONNECTIONS: \"{}\"\n",
        plan.log_level, plan.timeout_ms, plan.max_connections
    );
    if let Some(CalleeRef {
        callee,
        form,
        quote,
    }) = plan.config_callee
    {
        let callee = names.apps[callee].as_str();
        out.push_str("  UPSTREAM");
        out.push_str(form_suffix(form));
        out.push_str(": ");
        scalar(out, &app_addr(callee, form), quote);
        out.push('\n');
    }
    out.push_str("  FEATURE_FLAGS: \"metrics,tracing\"\n");

    // HorizontalPodAutoscaler.
    let out = doc.begin();
    out.push_str("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\n");
    metadata(out, name, name, plan.tier);
    out.push_str(
        "spec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: ",
    );
    out.push_str(name);
    let _ = write!(
        out,
        "\n  minReplicas: {}\n  maxReplicas: {}\n  metrics:\n    - type: Resource\n      resource:\n        \
         name: cpu\n        target:\n          type: Utilization\n          averageUtilization: {}\n",
        plan.replicas, plan.max_replicas, plan.cpu_target
    );

    // PodDisruptionBudget.
    let out = doc.begin();
    out.push_str("apiVersion: policy/v1\nkind: PodDisruptionBudget\n");
    metadata(out, name, name, plan.tier);
    out.push_str(
        "spec:\n  minAvailable: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: ",
    );
    out.push_str(name);
    out.push('\n');

    // NetworkPolicy: ingress from callers, or from the ingress controller
    // namespace for entry points nobody calls.
    let out = doc.begin();
    out.push_str("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n");
    let np_name = format!("{name}-allow-callers");
    metadata(out, &np_name, name, plan.tier);
    out.push_str("spec:\n  podSelector:\n    matchLabels:\n      app.kubernetes.io/name: ");
    out.push_str(name);
    out.push_str("\n  policyTypes:\n    - Ingress\n  ingress:\n    - from:\n");
    if callers.is_empty() {
        out.push_str(
            "        - namespaceSelector:\n            matchLabels:\n              \
             kubernetes.io/metadata.name: ingress-nginx\n",
        );
    } else {
        // Targets are deduplicated per caller, so `callers` has no repeats.
        for &c in callers {
            out.push_str(
                "        - podSelector:\n            matchLabels:\n              app.kubernetes.io/name: ",
            );
            out.push_str(&names.apps[c]);
            out.push('\n');
        }
    }
    out.push_str(
        "      ports:\n        - protocol: TCP\n          port: 8080\n        - protocol: TCP\n          \
         port: 9090\n",
    );
}

/// `StatefulSet` plus headless `Service` of a datastore or broker.
pub(crate) fn infra(doc: &mut DocBuf, ctx: &Ctx<'_>, t: Target) {
    let name = ctx.names.of(t);
    let (component, image, port_name, port, extra_port, data_dir) = match t {
        Target::Store(j) => match store_kind(j) {
            StoreKind::Postgres => (
                "database",
                "postgres:16.4",
                "postgres",
                5432,
                None,
                "/var/lib/postgresql/data",
            ),
            StoreKind::Redis => ("cache", "redis:7.2", "redis", 6379, None, "/data"),
        },
        Target::Broker(_) => (
            "broker",
            "apache/kafka:3.8.0",
            "kafka",
            9092,
            Some(("controller", 9093)),
            "/var/lib/kafka/data",
        ),
        Target::App(_) => unreachable!("infra() is only called for datastores and brokers"),
    };

    let out = doc.begin();
    out.push_str("apiVersion: apps/v1\nkind: StatefulSet\n");
    metadata(out, name, name, component);
    out.push_str("spec:\n  serviceName: ");
    out.push_str(name);
    out.push_str("\n  replicas: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: ");
    out.push_str(name);
    out.push_str("\n  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: ");
    out.push_str(name);
    out.push_str("\n        app.kubernetes.io/part-of: synth\n    spec:\n      containers:\n        - name: ");
    out.push_str(port_name);
    out.push_str("\n          image: ");
    out.push_str(image);
    let _ = write!(
        out,
        "\n          ports:\n            - name: {port_name}\n              containerPort: {port}\n              \
         protocol: TCP\n"
    );
    if let Some((extra_name, extra)) = extra_port {
        let _ = write!(
            out,
            "            - name: {extra_name}\n              containerPort: {extra}\n              protocol: TCP\n"
        );
    }
    match t {
        Target::Store(j) if store_kind(j) == StoreKind::Postgres => out.push_str(
            "          env:\n            - name: POSTGRES_DB\n              value: app\n            \
             - name: POSTGRES_USER\n              value: app\n            - name: PGDATA\n              \
             value: /var/lib/postgresql/data/pgdata\n",
        ),
        Target::Store(_) => out.push_str(
            "          args:\n            - --appendonly\n            - \"yes\"\n",
        ),
        _ => out.push_str(
            "          env:\n            - name: POD_IP\n              valueFrom:\n                fieldRef:\n                  \
             fieldPath: status.podIP\n            - name: KAFKA_NODE_ID\n              value: \"1\"\n            \
             - name: KAFKA_PROCESS_ROLES\n              value: broker,controller\n            \
             - name: KAFKA_LISTENERS\n              value: PLAINTEXT://:9092,CONTROLLER://:9093\n            \
             - name: KAFKA_ADVERTISED_LISTENERS\n              value: PLAINTEXT://$(POD_IP):9092\n            \
             - name: KAFKA_CONTROLLER_LISTENER_NAMES\n              value: CONTROLLER\n            \
             - name: KAFKA_CONTROLLER_QUORUM_VOTERS\n              value: 1@localhost:9093\n",
        ),
    }
    out.push_str(
        "          resources:\n            requests:\n              cpu: 500m\n              memory: 1Gi\n            \
         limits:\n              cpu: \"2\"\n              memory: 4Gi\n          volumeMounts:\n            \
         - name: data\n              mountPath: ",
    );
    out.push_str(data_dir);
    out.push_str(
        "\n  volumeClaimTemplates:\n    - metadata:\n        name: data\n      spec:\n        accessModes:\n          - ReadWriteOnce\n        \
         resources:\n          requests:\n            storage: 10Gi\n",
    );

    let out = doc.begin();
    out.push_str("apiVersion: v1\nkind: Service\n");
    metadata(out, name, name, component);
    out.push_str("spec:\n  clusterIP: None\n  selector:\n    app.kubernetes.io/name: ");
    out.push_str(name);
    let _ = write!(
        out,
        "\n  ports:\n    - name: {port_name}\n      port: {port}\n      targetPort: {port_name}\n      protocol: TCP\n"
    );
}
