//! Helpers shared by the security, resource-range and cost rules.

use cairn_ingest::k8s::K8sObject;
use cairn_source::{FileId, Pos};
use cairn_yaml::Node;

use crate::Out;
use crate::ctx::{Ctx, PodContainer};
use crate::quantity::{format_bytes, format_milli};
use crate::rules_kit::{describe, key_pos};

/// "container `web` of Deployment/web", for messages; an unnamed container
/// is named by its place in the pod spec ("container #2").
pub fn container_desc(obj: &K8sObject, c: &PodContainer<'_>) -> String {
    format!("{} of {}", container_short(obj, c), describe(obj))
}

/// "container `web`" (or "container #2" when unnamed), without the workload.
pub fn container_short(obj: &K8sObject, c: &PodContainer<'_>) -> String {
    if !c.name.is_empty() {
        return format!("{} `{}`", c.what(), c.name);
    }
    let key = if c.init {
        "initContainers"
    } else if c.ephemeral {
        "ephemeralContainers"
    } else {
        "containers"
    };
    let nth = obj
        .pod_spec()
        .and_then(|s| {
            s.node
                .seq_at(key)
                .iter()
                .position(|n| std::ptr::eq(n, c.node))
        })
        .map_or(1, |i| i + 1);
    format!("{} #{nth}", c.what())
}

/// Whether the pod declares `spec.os.name: windows`: the Linux security
/// fields (`runAsNonRoot`, `readOnlyRootFilesystem`, capabilities,
/// `allowPrivilegeEscalation`) do not apply to it, and the API server
/// rejects most of them there.
pub fn windows_pod(obj: &K8sObject) -> bool {
    obj.pod_spec()
        .and_then(|s| s.node.path(&["os", "name"]))
        .and_then(Node::as_str)
        .is_some_and(|n| n.eq_ignore_ascii_case("windows"))
}

/// A value of the container's own `securityContext` (no pod-level fallback:
/// `privileged`, `readOnlyRootFilesystem`, `allowPrivilegeEscalation` and
/// `capabilities` exist only there), when set and not null.
pub fn container_security<'a>(c: &PodContainer<'a>, key: &str) -> Option<&'a Node> {
    c.node
        .get("securityContext")
        .and_then(|s| s.get(key))
        .filter(|n| !n.is_null())
}

/// Where a finding about a missing security setting points: the container's
/// `securityContext` key, or its name when it has none.
pub fn security_anchor(c: &PodContainer<'_>) -> Pos {
    key_pos(c.node, "securityContext").unwrap_or_else(|| c.name_pos())
}

/// A container of a workload, with the workload and its index.
pub struct WorkloadContainer<'a> {
    /// The workload's index among the objects.
    pub index: usize,
    /// The workload.
    pub obj: &'a K8sObject,
    /// The container.
    pub c: PodContainer<'a>,
}

impl WorkloadContainer<'_> {
    /// [`container_desc`] of the container.
    pub fn desc(&self) -> String {
        container_desc(self.obj, &self.c)
    }
}

/// Every container (init and ephemeral ones too) of every workload.
pub fn workload_containers<'c, 'a>(
    cx: &'c Ctx<'a>,
) -> impl Iterator<Item = WorkloadContainer<'a>> + 'c {
    containers_of(cx, cx.workloads())
}

/// Every container of every workload but Windows pods ([`windows_pod`]),
/// for the rules about Linux security fields.
pub fn linux_containers<'c, 'a>(
    cx: &'c Ctx<'a>,
) -> impl Iterator<Item = WorkloadContainer<'a>> + 'c {
    containers_of(cx, cx.workloads().filter(|(_, obj)| !windows_pod(obj)))
}

fn containers_of<'c, 'a>(
    cx: &'c Ctx<'a>,
    workloads: impl Iterator<Item = (usize, &'a K8sObject)> + 'c,
) -> impl Iterator<Item = WorkloadContainer<'a>> + 'c {
    workloads.flat_map(move |(index, obj)| {
        cx.containers(obj)
            .into_iter()
            .map(move |c| WorkloadContainer { index, obj, c })
    })
}

/// Reports a container whose boolean `securityContext.<key>` is not `safe`.
/// `messages` follow the container's description and say what is wrong
/// when the value is the unsafe boolean, when it is not a boolean, and
/// when it is not set.
pub fn unsafe_bool(
    cx: &Ctx<'_>,
    out: &mut Out,
    wc: &WorkloadContainer<'_>,
    key: &str,
    safe: bool,
    messages: [&str; 3],
) {
    let [wrong, not_bool, unset] = messages;
    let (pos, message) = match container_security(&wc.c, key).map(|n| (n, n.as_bool())) {
        Some((_, Some(b))) if b == safe => return,
        Some((n, Some(_))) => (n.pos, wrong),
        Some((n, None)) => (n.pos, not_bool),
        None => (security_anchor(&wc.c), unset),
    };
    out.object(cx, wc.index, pos, format!("{} {message}", wc.desc()));
}

/// Capabilities named in `securityContext.capabilities.<list>` (`add` or
/// `drop`), upper-cased and without a `CAP_` prefix.
pub fn capabilities<'a>(c: &PodContainer<'a>, list: &str) -> Vec<(String, &'a Node)> {
    container_security(c, "capabilities")
        .map(|caps| caps.seq_at(list))
        .unwrap_or_default()
        .iter()
        .filter_map(|n| {
            let name = n.as_str()?.trim().to_ascii_uppercase();
            let name = name
                .strip_prefix("CAP_")
                .map_or(name.clone(), str::to_owned);
            Some((name, n))
        })
        .collect()
}

/// One CPU or memory quantity of a container's `resources`.
#[derive(Clone, Copy, Debug)]
pub struct Quantity<'a> {
    /// The container.
    pub container: PodContainer<'a>,
    /// `requests` or `limits`.
    pub section: &'static str,
    /// The value node.
    pub node: &'a Node,
    /// The value in base units (cores or bytes); `None` when it does not parse.
    pub value: Option<f64>,
}

impl Quantity<'_> {
    /// `request` or `limit`, for messages.
    pub fn what(&self) -> &'static str {
        if self.section == "requests" {
            "request"
        } else {
            "limit"
        }
    }

    /// The text as written (empty for a mapping or a sequence).
    pub fn text(&self) -> &str {
        self.node.as_scalar().map_or("", |s| s.text.as_str())
    }
}

/// The `resource` (`cpu` or `memory`) requests and limits of every container
/// of a workload that can set them: init and main containers (ephemeral
/// containers cannot set resources). Null values count as unset.
pub fn quantities<'a>(cx: &Ctx<'a>, obj: &'a K8sObject, resource: &str) -> Vec<Quantity<'a>> {
    let mut out = Vec::new();
    for c in cx.containers(obj) {
        if c.ephemeral {
            continue;
        }
        let Some(resources) = c.node.get("resources") else {
            continue;
        };
        for section in ["requests", "limits"] {
            let Some(node) = resources
                .get(section)
                .and_then(|s| s.get(resource))
                .filter(|n| !n.is_null())
            else {
                continue;
            };
            let value = node
                .as_scalar()
                .and_then(|s| crate::quantity::parse_quantity(&s.text));
            out.push(Quantity {
                container: c,
                section,
                node,
                value,
            });
        }
    }
    out
}

/// Why a quantity the API server would reject is invalid, or `None` when it is valid.
pub fn invalid_quantity(q: &Quantity<'_>) -> Option<String> {
    match q.value {
        None if q.node.as_scalar().is_none() => Some(format!("is {}", q.node.type_name())),
        None => Some(format!("`{}` is not a valid quantity", q.text())),
        Some(v) if v < 0.0 => Some(format!("`{}` is negative", q.text())),
        Some(_) => None,
    }
}

/// Reports every `resource` (`cpu` or `memory`) request and limit outside
/// the configured range, or that the API server would reject.
pub fn range_check(cx: &Ctx<'_>, out: &mut Out, resource: &str) {
    let t = &cx.settings.thresholds;
    let (label, lo, hi, show): (&str, f64, f64, fn(f64) -> String) = if resource == "cpu" {
        (
            "CPU",
            t.cpu_min_milli / 1000.0,
            t.cpu_max_milli / 1000.0,
            |cores| format_milli(cores * 1000.0),
        )
    } else {
        ("memory", t.memory_min, t.memory_max, |bytes| {
            if bytes < 1024.0 {
                format!("{} bytes", format_bytes(bytes))
            } else {
                format_bytes(bytes)
            }
        })
    };
    for (i, obj) in cx.workloads() {
        for q in quantities(cx, obj, resource) {
            let who = container_desc(obj, &q.container);
            let what = q.what();
            if let Some(why) = invalid_quantity(&q) {
                out.object(
                    cx,
                    i,
                    q.node.pos,
                    format!("{who} has a {label} {what} that the API server rejects: {why}"),
                )
                .help(if resource == "cpu" {
                    "write a CPU quantity: cores (`0.5`, `2`) or millicores (`500m`)"
                } else {
                    "write a memory quantity in bytes with a suffix: `256Mi`, `1Gi`, `512M`"
                });
                continue;
            }
            let Some(v) = q.value else { continue };
            // a tolerance keeps `0.01` and `10m` equal despite float rounding
            let (side, bound) = if v < lo * (1.0 - 1e-9) {
                ("below", format!("{} minimum", show(lo)))
            } else if v > hi * (1.0 + 1e-9) {
                ("above", format!("{} maximum", show(hi)))
            } else {
                continue;
            };
            let shown = show(v);
            let amount = if shown == q.text() {
                format!("`{shown}`")
            } else {
                format!("`{}` ({shown})", q.text())
            };
            out.object(
                cx,
                i,
                q.node.pos,
                format!("{who} has a {label} {what} of {amount}, {side} the {bound}"),
            )
            .help(format!(
                "set resources.{}.{resource} between {} and {}, or change `checks.thresholds.{resource}` in cairn.yaml",
                q.section,
                show(lo),
                show(hi)
            ));
        }
    }
}

/// What an image reference says about its version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageVersion {
    /// Pinned by digest (`@sha256:…`), with or without a tag.
    Digest,
    /// A tag other than `latest`.
    Tag,
    /// The `latest` tag.
    Latest,
    /// No tag and no digest: the runtime pulls `latest`.
    Untagged,
}

/// Reads an image reference: `registry:5000/team/app:1.2@sha256:…`. A colon
/// before the last `/` belongs to the registry host's port, not to a tag.
pub fn image_version(image: &str) -> ImageVersion {
    let image = image.trim();
    if image.contains('@') {
        return ImageVersion::Digest;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.rsplit_once(':') {
        Some((_, "latest")) => ImageVersion::Latest,
        Some((_, tag)) if !tag.is_empty() => ImageVersion::Tag,
        _ => ImageVersion::Untagged,
    }
}

/// Whether an image reference is a template or variable left for a tool to
/// fill in (`${TAG}`, `{{ .Values.image }}`, `$(IMAGE)`), which cairn cannot judge.
pub fn image_is_templated(image: &str) -> bool {
    image.contains('$') || image.contains("{{")
}

/// The source text at `pos` in `file`, as written (before compose's
/// variable interpolation), when the file's text is known.
pub fn raw_text<'a>(cx: &Ctx<'a>, file: FileId, pos: Pos) -> Option<&'a str> {
    let text = cx.ingest.sources.get(file)?.text.as_deref()?;
    text.get(pos.start as usize..pos.end as usize)
}

// ---------------------------------------------------------------------------
// Credentials in literal environment values

/// Words that make a variable name credential-like when they are a word of
/// the name or end one (`DB_PASSWORD`, `dbPassword`, `authtoken`).
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "secrets",
    "token",
    "tokens",
    "apikey",
    "accesskey",
    "secretkey",
    "privatekey",
    "credential",
    "credentials",
    "creds",
    "bearer",
];

/// Words that, before `key`, make it a credential (`API_KEY`, `ACCOUNT_KEY`).
const KEY_QUALIFIERS: &[&str] = &[
    "api",
    "access",
    "private",
    "secret",
    "signing",
    "sign",
    "encryption",
    "encrypt",
    "master",
    "account",
    "license",
    "licence",
    "storage",
    "subscription",
    "shared",
    "sas",
    "batch",
    "auth",
    "client",
    "hmac",
    "jwt",
    "session",
    "cookie",
    "crypto",
    "aes",
    "ssh",
    "gpg",
    "pgp",
    "rsa",
];

/// A last word that makes the variable describe a credential rather than
/// hold one (`PASSWORD_FILE`, `SECRET_NAME`, `TOKEN_URL`, `AUTH_ENABLED`).
const METADATA_SUFFIXES: &[&str] = &[
    "file",
    "files",
    "path",
    "dir",
    "directory",
    "name",
    "names",
    "url",
    "uri",
    "endpoint",
    "host",
    "hostname",
    "port",
    "addr",
    "address",
    "server",
    "service",
    "enabled",
    "enable",
    "disabled",
    "disable",
    "required",
    "ref",
    "type",
    "kind",
    "mode",
    "ttl",
    "timeout",
    "expiry",
    "expiration",
    "expires",
    "lifetime",
    "duration",
    "seconds",
    "secs",
    "minutes",
    "hours",
    "days",
    "ms",
    "interval",
    "length",
    "len",
    "size",
    "min",
    "max",
    "count",
    "retries",
    "id",
    "header",
    "policy",
    "provider",
    "location",
    "format",
    "algorithm",
    "alg",
    "version",
    "mount",
    "field",
    "issuer",
    "audience",
    "scope",
    "scopes",
    "prefix",
    "suffix",
    "template",
    "method",
    "store",
    "backend",
    "source",
    "user",
    "username",
    "role",
    "level",
    "strategy",
    "env",
    "var",
    "label",
    "annotation",
    "namespace",
];

/// The words of a variable name, lower-cased: split at `_ - . /` and at
/// camel-case humps (`dbPassword` → `db`, `password`).
pub fn name_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for ch in name.chars() {
        if matches!(ch, '_' | '-' | '.' | '/' | ' ') {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if ch.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = ch.is_ascii_lowercase() || ch.is_ascii_digit();
        cur.push(ch.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// Whether a name holds, in any case, one of the fragments every credential
/// word starts with (`pass`, `pw`, `secret`, `token`, `key`, `cred`, `auth`,
/// `bearer`): one pass over the bytes, no allocation.
fn may_name_credential(name: &str) -> bool {
    let b = name.as_bytes();
    (0..b.len()).any(|i| {
        let rest = &b[i..];
        let starts =
            |w: &str| rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w.as_bytes());
        match b[i].to_ascii_lowercase() {
            b'p' => starts("pass") || starts("pw"),
            b's' => starts("secret"),
            b't' => starts("token"),
            b'k' => starts("key"),
            b'c' => starts("cred"),
            b'a' => starts("auth"),
            b'b' => starts("bearer"),
            _ => false,
        }
    })
}

/// Which value shapes a value may have, from one pass over its bytes.
#[derive(Default)]
#[allow(clippy::struct_excessive_bools)]
struct Cues {
    private_key: bool,
    aws: bool,
    underscore: bool,
    slack: bool,
    google: bool,
    jwt: bool,
    url: bool,
}

fn cues(value: &str) -> Cues {
    let b = value.as_bytes();
    let mut c = Cues::default();
    for (i, &byte) in b.iter().enumerate() {
        let rest = &b[i..];
        match byte {
            b'P' => c.private_key |= rest.starts_with(b"PRIVATE KEY"),
            b'A' => {
                c.aws |= rest.starts_with(b"AKIA") || rest.starts_with(b"ASIA");
                c.google |= rest.starts_with(b"AIza");
            }
            b'_' => c.underscore = true,
            b'x' => c.slack |= rest.starts_with(b"xox"),
            b'e' => c.jwt |= rest.starts_with(b"eyJ"),
            b':' => c.url |= rest.starts_with(b"://"),
            _ => {}
        }
    }
    c
}

/// Whether a variable name says that it holds a credential.
pub fn credential_name(name: &str) -> bool {
    // most names hold none of the words: skip splitting them
    if !may_name_credential(name) {
        return false;
    }
    let words = name_words(name);
    let Some(last) = words.last() else {
        return false;
    };
    if METADATA_SUFFIXES.contains(&last.as_str()) {
        return false;
    }
    let secret_word = words.iter().any(|w| {
        SECRET_WORDS
            .iter()
            .any(|s| w == s || (w.ends_with(s) && s.len() >= 5))
    });
    let qualified_key = words
        .windows(2)
        .any(|p| (p[1] == "key" || p[1] == "keys") && KEY_QUALIFIERS.contains(&p[0].as_str()));
    // `OCI_CLI_KEY_CONTENT`, `SSH_KEY_DATA`
    let key_material = words.windows(2).any(|p| {
        p[0] == "key" && ["content", "data", "material", "pem", "value"].contains(&p[1].as_str())
    });
    let auth = words.iter().any(|w| w == "auth" || w == "authorization");
    let short = last == "pass" || last == "pw";
    secret_word || qualified_key || key_material || auth || short
}

/// Whether a literal is not a value at all: empty, a reference the runtime
/// fills in (`$(VAR)`, `${VAR}`, `{{ … }}`), or a placeholder left for a
/// tool to replace (`<password>`, `GOOGLE_API_KEY_VAL`, `REPLACE_ME`).
pub fn placeholder(name: &str, value: &str) -> bool {
    let v = value.trim();
    if v.is_empty() || v.contains("$(") || v.contains("${") || v.contains("{{") {
        return true;
    }
    if v.starts_with('$')
        && v[1..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return true;
    }
    if v.starts_with('<') && v.ends_with('>') {
        return true;
    }
    let upper = v.to_ascii_uppercase();
    if [
        "REPLACE_ME",
        "REPLACEME",
        "CHANGE_ME",
        "PLACEHOLDER",
        "TODO",
        "TBD",
    ]
    .contains(&upper.as_str())
    {
        return true;
    }
    // a kustomize or sed placeholder: the variable's own name, shouted
    v.chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && !name.is_empty()
        && upper.contains(&name.to_ascii_uppercase())
}

/// Whether a literal under a credential-like name is evidently not a
/// credential: a boolean, a path, or a URL without a password in it.
fn evidently_not_secret(value: &str) -> bool {
    let v = value.trim();
    let lower = v.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "enabled" | "disabled" | "none" | "null"
    ) {
        return true;
    }
    if v.starts_with('/') || v.starts_with("./") || v.starts_with("~/") || v.starts_with("file:") {
        return true;
    }
    if let Some((scheme, rest)) = v.split_once("://")
        && !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
    {
        return url_password(rest).is_none();
    }
    false
}

/// The password of `user:password@host…` (the part of a URL after `://`), when there is one.
fn url_password(rest: &str) -> Option<&str> {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, password) = userinfo.split_once(':')?;
    (!password.is_empty()).then_some(password)
}

/// What a value looks like by its shape alone, whatever its name: a private
/// key, a cloud or SaaS token, a JWT, or a URL with a password in it.
pub fn secret_shape(value: &str) -> Option<&'static str> {
    // every shape below needs at least this many characters
    if value.len() < 9 {
        return None;
    }
    let cue = cues(value);
    if cue.private_key && private_key(value) {
        return Some("a private key");
    }
    if cue.aws && aws_access_key(value) {
        return Some("an AWS access key id");
    }
    if cue.underscore
        && ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"]
            .iter()
            .any(|p| token_after(value, p, 20))
    {
        return Some("a GitHub token");
    }
    if cue.slack
        && ["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxe-"]
            .iter()
            .any(|p| token_after(value, p, 10))
    {
        return Some("a Slack token");
    }
    if cue.underscore
        && ["sk_live_", "rk_live_"]
            .iter()
            .any(|p| token_after(value, p, 16))
    {
        return Some("a Stripe secret key");
    }
    if cue.google && token_after(value, "AIza", 35) {
        return Some("a Google API key");
    }
    if cue.jwt && jwt(value) {
        return Some("a JSON web token");
    }
    if !cue.url {
        return None;
    }
    if let Some(i) = value.find("://") {
        let scheme = &value[..i];
        if !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
            && url_password(&value[i + 3..]).is_some_and(|p| !placeholder("", p))
        {
            return Some("a URL with a password in it");
        }
    }
    None
}

fn private_key(value: &str) -> bool {
    value.lines().any(|line| {
        line.find("BEGIN ")
            .is_some_and(|i| line[i..].contains("PRIVATE KEY"))
    })
}

fn aws_access_key(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.windows(20).enumerate().any(|(i, w)| {
        (w.starts_with(b"AKIA") || w.starts_with(b"ASIA"))
            && w[4..]
                .iter()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
            && bytes.get(i + 20).is_none_or(|b| !b.is_ascii_alphanumeric())
    })
}

/// Whether `prefix` is followed by at least `min` token characters somewhere
/// in `value`, at the start of a word.
fn token_after(value: &str, prefix: &str, min: usize) -> bool {
    value.match_indices(prefix).any(|(i, _)| {
        let before_ok = i == 0 || !value.as_bytes()[i - 1].is_ascii_alphanumeric();
        let tail = value[i + prefix.len()..]
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
            .count();
        before_ok && tail >= min
    })
}

fn jwt(value: &str) -> bool {
    value
        .split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
        .any(|word| {
            let parts: Vec<&str> = word.split('.').collect();
            parts.len() == 3
                && parts[0].starts_with("eyJ")
                && parts[1].starts_with("eyJ")
                && parts[0].len() >= 10
                && parts[1].len() >= 10
                && parts.iter().all(|p| {
                    p.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'=')
                })
        })
}

/// Why a literal environment value looks like a credential, or `None`: by
/// its shape, or by a credential-like name with a real value.
pub fn literal_secret(name: &str, value: &str) -> Option<String> {
    if let Some(shape) = secret_shape(value) {
        return Some(format!("holds what looks like {shape}"));
    }
    if credential_name(name) && !placeholder(name, value) && !evidently_not_secret(value) {
        return Some("holds a literal credential".to_owned());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_names() {
        for yes in [
            "DB_PASSWORD",
            "password",
            "my_password",
            "PGPASSWORD",
            "MYSQL_ROOT_PASSWORD",
            "SECRET_BLAH",
            "SECRET_KEY_BASE",
            "jwtSecret",
            "AWS_SECRET_ACCESS_KEY",
            "GOOGLE_API_KEY",
            "apiKey",
            "AZURE_BATCH_KEY",
            "OCI_CLI_KEY_CONTENT",
            "CLIENT_SECRET",
            "AUTH_TOKEN",
            "GITHUB_TOKEN",
            "BASIC_AUTH",
            "REDIS_PASS",
            "STORAGE_ACCOUNT_KEY",
            "credentials",
        ] {
            assert!(credential_name(yes), "{yes}");
        }
        for no in [
            "PASSWORD_FILE",
            "ALLOYDB_SECRET_NAME",
            "TOKEN_URL",
            "AUTH_ENABLED",
            "GF_AUTH_BASIC_ENABLED",
            "GF_AUTH_ANONYMOUS_ORG_ROLE",
            "SECRET_KEY_REF",
            "TOKEN_EXPIRY_SECONDS",
            "PRIV_KEY_PATH",
            "GOOGLE_APPLICATION_CREDENTIALS_PATH",
            "AWS_ACCESS_KEY_ID",
            "CACHE_KEY",
            "PARTITION_KEY",
            "TOKENIZER_MODEL",
            "greeting",
            "BLAH",
            "KEYCLOAK_URL",
            "PUBLIC_KEY",
        ] {
            assert!(!credential_name(no), "{no}");
        }
    }

    #[test]
    fn literals() {
        assert!(literal_secret("DB_PASSWORD", "hunter2").is_some());
        assert!(literal_secret("DB_PASSWORD", "$(PASSWORD)").is_none());
        assert!(literal_secret("DB_PASSWORD", "${PASSWORD}").is_none());
        assert!(literal_secret("DB_PASSWORD", "").is_none());
        assert!(literal_secret("GOOGLE_API_KEY", "GOOGLE_API_KEY_VAL").is_none());
        assert!(literal_secret("AUTH", "true").is_none());
        assert!(
            literal_secret("GOOGLE_APPLICATION_CREDENTIALS", "/var/run/secrets/x.json").is_none()
        );
        assert!(literal_secret("SECRET_STORE_URL", "https://vault:8200").is_none());
        assert!(literal_secret("BLAH", "secretsquirrels").is_none());
        assert!(literal_secret("CONFIG", "---BEGIN OPENSSH PRIVATE KEY---\nxx").is_some());
        assert!(literal_secret("ID", "AKIAIOSFODNN7EXAMPLE").is_some());
        assert!(literal_secret("ID", "xAKIAIOSFODNN7EXAMPLE").is_none());
        assert!(literal_secret("DB", "postgres://app:s3cret@db:5432/app").is_some());
        assert!(literal_secret("DB", "postgres://app:$(DB_PASSWORD)@db:5432/app").is_none());
        assert!(literal_secret("DB", "postgres://app@db:5432/app").is_none());
        assert!(literal_secret("GH", "ghp_0123456789abcdefghij0123456789abcdef").is_some());
        assert!(literal_secret("X", "AIzaSyA1234567890abcdefghijklmnopqrstuv").is_some());
        assert!(
            literal_secret(
                "X",
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
            )
            .is_some()
        );
    }

    #[test]
    fn image_versions() {
        assert_eq!(image_version("nginx"), ImageVersion::Untagged);
        assert_eq!(image_version("nginx:latest"), ImageVersion::Latest);
        assert_eq!(image_version("nginx:1.25"), ImageVersion::Tag);
        assert_eq!(image_version("registry:5000/app"), ImageVersion::Untagged);
        assert_eq!(image_version("registry:5000/app:2"), ImageVersion::Tag);
        assert_eq!(image_version("app@sha256:abc"), ImageVersion::Digest);
        assert_eq!(image_version("app:latest@sha256:abc"), ImageVersion::Digest);
    }
}
