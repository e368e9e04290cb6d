//! Recognising a file's format from its content.

use cairn_yaml::Node;

/// What a file (or one YAML document) is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Kubernetes objects (any apiVersion/kind).
    Kubernetes,
    /// A `kustomization.yaml`.
    Kustomization,
    /// docker-compose.
    Compose,
    /// `cairn.yaml`.
    CairnConfig,
    /// `OpenAPI` 3 or Swagger 2.
    OpenApi,
    /// `AsyncAPI`.
    AsyncApi,
    /// Protocol buffers.
    Proto,
    /// A Spring Boot `application.yml`.
    SpringConfig,
    /// A Prometheus server configuration.
    PrometheusConfig,
    /// Nothing cairn reads.
    Unknown,
}

impl Format {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Kubernetes => "kubernetes",
            Format::Kustomization => "kustomization",
            Format::Compose => "compose",
            Format::CairnConfig => "cairn-config",
            Format::OpenApi => "openapi",
            Format::AsyncApi => "asyncapi",
            Format::Proto => "proto",
            Format::SpringConfig => "spring-config",
            Format::PrometheusConfig => "prometheus-config",
            Format::Unknown => "unknown",
        }
    }
}

/// The format of one YAML document of the file `path`: the content decides,
/// except that a file named `cairn.yaml` is always cairn's configuration.
pub fn format_of(root: &Node, path: &str) -> Format {
    if crate::config::is_config_name(path) && root.as_map().is_some() {
        return Format::CairnConfig;
    }
    document_format(root)
}

/// The format of one YAML document, from its content alone.
pub fn document_format(root: &Node) -> Format {
    if root.as_map().is_none() {
        return Format::Unknown;
    }
    if let (Some(api), Some(kind)) = (root.get_str("apiVersion"), root.get_str("kind")) {
        if kind == "Kustomization"
            || kind == "Component" && api.starts_with("kustomize.config.k8s.io")
        {
            return Format::Kustomization;
        }
        return Format::Kubernetes;
    }
    if root.get("openapi").is_some() || root.get("swagger").is_some() {
        return Format::OpenApi;
    }
    if root.get("asyncapi").is_some() {
        return Format::AsyncApi;
    }
    if crate::config::looks_like_config(root) {
        return Format::CairnConfig;
    }
    if crate::compose::looks_like_compose(root) {
        return Format::Compose;
    }
    if root.get("resources").is_some()
        && (root.get("namePrefix").is_some()
            || root.get("patches").is_some()
            || root.get("bases").is_some()
            || root.get("components").is_some())
    {
        return Format::Kustomization;
    }
    if root.get("scrape_configs").is_some() {
        return Format::PrometheusConfig;
    }
    if root.get("spring").is_some() || root.get("eureka").is_some() {
        return Format::SpringConfig;
    }
    Format::Unknown
}

/// Whether text is a protobuf file: a `syntax`/`edition`/`package` statement or a `message`/`service` block.
pub fn looks_like_proto(text: &str) -> bool {
    let mut seen_decl = false;
    for line in text.lines().take(400) {
        let l = line.trim();
        if l.is_empty() || l.starts_with("//") || l.starts_with("/*") || l.starts_with('*') {
            continue;
        }
        if l.starts_with("syntax") && l.contains("proto")
            || l.starts_with("edition") && l.contains('=')
        {
            return true;
        }
        if (l.starts_with("package ") || l.starts_with("import ") || l.starts_with("option "))
            && l.ends_with(';')
        {
            seen_decl = true;
            continue;
        }
        if (l.starts_with("message ") || l.starts_with("service ") || l.starts_with("enum "))
            && l.contains('{')
        {
            return true;
        }
        if !seen_decl {
            return false;
        }
    }
    false
}

/// Whether a file is a Helm chart template: under a chart's `templates/`
/// folder and holding template actions (`{{ ... }}`), which are not YAML until
/// Helm renders them.
pub fn is_helm_template(path: &str, text: &str) -> bool {
    let in_templates = path.split('/').rev().skip(1).any(|p| p == "templates");
    in_templates && text.contains("{{") && text.contains("}}")
}

/// Whether the first bytes look binary (a NUL byte).
pub fn looks_binary(bytes: &[u8]) -> bool {
    bytes.iter().take(8192).any(|&b| b == 0)
}

/// The 1-based line of byte offset `at`.
pub fn line_of(bytes: &[u8], at: usize) -> u32 {
    // one call per unreadable file: not worth a bytecount dependency
    #[allow(clippy::naive_bytecount)]
    let newlines = bytes[..at.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count();
    newlines as u32 + 1
}
