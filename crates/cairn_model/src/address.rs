//! Finding service addresses in configuration values.
//!
//! Teams name their dependencies in many shapes: `svc`, `svc:port`,
//! `svc.ns.svc.cluster.local`, URLs of every scheme, JDBC URLs, Kafka
//! bootstrap lists, .NET connection strings, Spring `lb://` routes. This
//! module turns one `KEY=value` into the addresses it names.

/// One address found in a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    /// The host as written, lower-cased.
    pub host: String,
    /// The port, when written.
    pub port: Option<u16>,
    /// The URL scheme (`http`, `grpc`, `postgresql`, `lb`, …), when written.
    pub scheme: Option<String>,
}

impl Address {
    /// The service name and namespace a cluster host form names:
    /// `svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`, and `StatefulSet` pod
    /// hosts `pod-0.svc.ns.svc.cluster.local`.
    pub fn cluster_parts(&self) -> (&str, Option<&str>) {
        let h = self.host.trim_end_matches('.');
        let h = h.strip_suffix(".cluster.local").unwrap_or(h);
        let labels: Vec<&str> = h.split('.').collect();
        if labels.last() == Some(&"svc") && labels.len() >= 3 {
            // svc.ns.svc or pod.svc.ns.svc
            let n = labels.len();
            return (labels[n - 3], Some(labels[n - 2]));
        }
        match labels.as_slice() {
            [svc] => (svc, None),
            [svc, ns] => (svc, Some(ns)),
            _ => (labels[0], None),
        }
    }

    /// Whether the host is external-looking: dotted and not a cluster form.
    pub fn is_dotted(&self) -> bool {
        self.host.contains('.') && !self.host.contains(".svc")
    }
}

/// Key names whose bare values (no port, no scheme) are taken as hosts:
/// a word of the key (split at `_`, `.`, `-`, `/` and camelCase humps) starts
/// with HOST, ADDR, URL, URI, ENDPOINT, SERVER, BROKER, BOOTSTRAP, DSN,
/// TARGET, UPSTREAM or BACKEND, and no word is one that names something else
/// (NAME, USER, PORT, LABEL, …).
pub fn key_names_a_host(key: &str) -> bool {
    const NOT: &[&str] = &[
        "NAME", "USER", "USERNAME", "PASSWORD", "PASS", "PATH", "FILE", "DIR", "PORT", "KEY",
        "TOKEN", "SECRET", "LEVEL", "MODE", "ENABLED", "VERSION", "ID", "LABEL", "LABELS",
        "TIMEOUT", "INTERVAL",
    ];
    const YES: &[&str] = &[
        "HOST",
        "ADDR",
        "URL",
        "URI",
        "ENDPOINT",
        "SERVER",
        "BROKER",
        "BOOTSTRAP",
        "DSN",
        "TARGET",
        "UPSTREAM",
        "BACKEND",
    ];
    let words = key_words(key);
    !words.iter().any(|w| NOT.contains(&w.as_str()))
        && words.iter().any(|w| YES.iter().any(|y| w.starts_with(y)))
}

/// The words of a key, upper-cased: `KAFKA_BOOTSTRAP_SERVERS`, `collectorUrl`, `a.b-c/d`.
fn key_words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_uppercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

fn ignorable_host(host: &str) -> bool {
    host.is_empty()
        || host == "localhost"
        || host == "*"
        || host.starts_with("127.")
        || host == "0.0.0.0"
        || host == "::"
        || host == "::1"
        || host
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        || host.rsplit('.').next() == Some("local") && !host.ends_with("cluster.local")
        || host == "host.docker.internal"
        || matches!(
            host,
            "true" | "false" | "yes" | "no" | "on" | "off" | "none" | "null"
        )
        || host.ends_with(".example") // documentation placeholders
}

fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
        && host
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && host.bytes().any(|b| b.is_ascii_alphabetic())
}

fn push_hostport(out: &mut Vec<Address>, token: &str, scheme: Option<&str>, bare_ok: bool) {
    let token = token
        .trim()
        .trim_matches(|c| c == '"' || c == '\'' || c == '[' || c == ']');
    let token = token.rsplit_once('@').map_or(token, |(_, h)| h);
    let (host, port) = match token.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            (h, p.parse::<u16>().ok())
        }
        Some(_) => return,
        None => (token, None),
    };
    let host = host.to_ascii_lowercase();
    if !valid_host(&host) || ignorable_host(&host) {
        return;
    }
    let cluster_form = host.contains(".svc");
    if port.is_none() && scheme.is_none() && !bare_ok && !cluster_form {
        return;
    }
    let a = Address {
        host,
        port,
        scheme: scheme.map(str::to_ascii_lowercase),
    };
    if !out.contains(&a) {
        out.push(a);
    }
}

/// Addresses named by the value of configuration key `key`.
pub fn extract(key: &str, value: &str) -> Vec<Address> {
    let mut out = Vec::new();
    let value = value.trim();
    if value.is_empty() || value.len() > 4096 {
        return out;
    }
    let bare_ok = key_names_a_host(key);
    // URLs: scheme://authority. A value may hold several, separated by commas
    // or spaces (Kafka listeners, MongoDB host lists continue the previous scheme).
    let mut had_url = false;
    if value.contains("://") {
        had_url = true;
        let mut scheme: Option<&str> = None;
        for tok in value.split(|c: char| c == ',' || c == ';' || c.is_whitespace()) {
            let tok = tok.trim_matches(|c| c == '"' || c == '\'' || c == '(' || c == ')');
            if let Some(i) = tok.find("://") {
                let before = &tok[..i];
                let start = before
                    .rfind(|c: char| {
                        !(c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.' || c == '_')
                    })
                    .map_or(0, |j| j + 1);
                let sch = &before[start..];
                let after = &tok[i + 3..];
                if after.starts_with('/') && sch == "dns" {
                    // dns:///host:port
                    let tail = after.trim_start_matches('/');
                    push_hostport(
                        &mut out,
                        tail.split('/').next().unwrap_or(tail),
                        Some("grpc"),
                        true,
                    );
                    scheme = None;
                    continue;
                }
                let authority = after.split(['/', '?', '#']).next().unwrap_or(after);
                scheme = (!sch.is_empty()).then_some(sch);
                push_hostport(&mut out, authority, scheme, true);
            } else if let Some(sch) = scheme {
                // continuation of a host list: `mongodb://a:1,b:2/db`
                let authority = tok.split(['/', '?', '#']).next().unwrap_or(tok);
                if authority.contains(':') {
                    push_hostport(&mut out, authority, Some(sch), true);
                }
                if tok.contains('/') {
                    scheme = None;
                }
            }
        }
    }
    if had_url {
        return out;
    }
    // .NET / ADO style: Host=x;Port=5432 or Server=x,1433 or Data Source=x
    if value.contains('=') && value.contains(';') {
        let mut host = None;
        let mut port = None;
        for part in value.split(';') {
            let Some((k, v)) = part.split_once('=') else {
                continue;
            };
            match k.trim().to_ascii_lowercase().as_str() {
                "host" | "server" | "data source" | "address" | "addr" | "hostname" => {
                    host = Some(v.trim().replace(',', ":"));
                }
                "port" => port = v.trim().parse::<u16>().ok(),
                _ => {}
            }
        }
        if let Some(h) = host {
            let hp = match port {
                Some(p) if !h.contains(':') => format!("{h}:{p}"),
                _ => h,
            };
            push_hostport(&mut out, &hp, Some("tcp"), true);
        }
        return out;
    }
    if value.contains(char::is_whitespace) && !value.contains(',') {
        // free text (a command line, a sentence): only explicit host:port tokens count
        for tok in value.split_whitespace() {
            if tok.contains(':') && !tok.contains('=') {
                push_hostport(&mut out, tok, None, false);
            }
        }
        return out;
    }
    // host, host:port, or a comma-separated list of them (Kafka bootstrap servers)
    for tok in value.split(',') {
        push_hostport(&mut out, tok, None, bare_ok);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(key: &str, v: &str) -> Vec<(String, Option<u16>, Option<String>)> {
        extract(key, v)
            .into_iter()
            .map(|a| (a.host, a.port, a.scheme))
            .collect()
    }

    #[test]
    fn every_host_form() {
        assert_eq!(
            hosts("X_ADDR", "cart:7070"),
            [("cart".into(), Some(7070), None)]
        );
        assert_eq!(hosts("X_HOST", "flagd"), [("flagd".into(), None, None)]);
        assert_eq!(hosts("X_NAME", "flagd"), []);
        assert_eq!(
            hosts("DISABLE_SECURITY_PLUGIN", "true"),
            [],
            "URI inside SECURITY is not a word"
        );
        assert_eq!(hosts("bootstrap.memory_lock", "true"), []);
        assert_eq!(hosts("relabel_configs.target_label", "instance"), []);
        assert_eq!(
            hosts("collectorUrl", "otel-collector")[0].0,
            "otel-collector"
        );
        assert_eq!(
            hosts("discovery.seed_hosts", "search-headless")[0].0,
            "search-headless"
        );
        assert_eq!(
            hosts("X", "orders.shop.svc.cluster.local:8080")[0].0,
            "orders.shop.svc.cluster.local"
        );
        let a = &extract("X", "orders.shop.svc.cluster.local:8080")[0];
        assert_eq!(a.cluster_parts(), ("orders", Some("shop")));
        let a = &extract("X", "db-0.db.data.svc:5432")[0];
        assert_eq!(a.cluster_parts(), ("db", Some("data")));
    }

    #[test]
    fn urls_of_every_scheme() {
        assert_eq!(
            hosts("U", "http://catalog:8080/api")[0],
            ("catalog".into(), Some(8080), Some("http".into()))
        );
        assert_eq!(
            hosts("U", "postgresql://user:pw@accounts-db:5432/db")[0].0,
            "accounts-db"
        );
        assert_eq!(
            hosts("U", "jdbc:postgresql://orders-db:5432/orders")[0]
                .2
                .as_deref(),
            Some("postgresql")
        );
        assert_eq!(
            hosts("U", "dns:///cart:7070")[0],
            ("cart".into(), Some(7070), Some("grpc".into()))
        );
        assert_eq!(hosts("U", "mongodb://a:27017,b:27017/x").len(), 2);
        assert_eq!(
            hosts("U", "lb://customers-service")[0].0,
            "customers-service"
        );
        assert_eq!(
            hosts("U", "configserver:http://config-server:8888")[0].0,
            "config-server"
        );
        assert_eq!(hosts("U", "http://localhost:8888/"), []);
        assert_eq!(hosts("L", "PLAINTEXT://:9092,CONTROLLER://:9093"), []);
        assert_eq!(hosts("L", "PLAINTEXT://events:9092")[0].0, "events");
        assert_eq!(hosts("U", "http://$(OTEL_COLLECTOR_NAME):4317"), []);
    }

    #[test]
    fn lists_and_connection_strings() {
        assert_eq!(hosts("KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092").len(), 2);
        assert_eq!(
            hosts("CS", "Host=postgres;Port=5432;Database=x;Username=u")[0],
            ("postgres".into(), Some(5432), Some("tcp".into()))
        );
        assert_eq!(hosts("CS", "Server=sql,1433;Database=x")[0].1, Some(1433));
    }

    #[test]
    fn non_addresses_are_left_alone() {
        assert_eq!(hosts("LISTEN_ADDR", ":8080"), []);
        assert_eq!(hosts("LISTEN", "0.0.0.0:8080"), []);
        assert_eq!(hosts("LOG_LEVEL", "info"), []);
        assert_eq!(hosts("VERSION", "1.2.3"), []);
        assert_eq!(hosts("TIME", "12:30"), []);
        assert_eq!(hosts("JAVA_OPTS", "-Xmx64m -Dfoo=bar"), []);
        assert_eq!(hosts("RATIO", "3:1"), []);
    }
}
