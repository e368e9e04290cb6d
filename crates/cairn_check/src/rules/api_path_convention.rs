//! An OpenAPI path breaks the REST naming conventions.
//!
//! Paths are the most visible part of an API and the hardest to change:
//! once clients call `/getUser`, renaming it is a breaking change. The
//! conventions most API style guides share (Zalando, Microsoft, Google's
//! AIP, Adidas) make an API guessable: a client that knows `/orders/{id}`
//! can guess `/customers/{id}`. Each path of every OpenAPI 2.0 or 3.x
//! contract is checked for:
//!
//! - **kebab-case segments**: `order-items`, not `orderItems`, `order_items`
//!   or `ORDERS`. Path parameters (`{orderId}`) are exempt, and so is a
//!   custom method after a colon (`/users/{id}:activate`, AIP-136);
//! - **plural collections**: a segment followed by a `{parameter}` segment
//!   names a collection and should be plural (`/users/{id}`, not
//!   `/user/{id}`). The heuristic is deliberately simple: a word ending in
//!   `s` counts as plural, as do uncountable and irregular words (`data`,
//!   `info`, `health`, `status`, `metadata`, `people`, `children`, `auth`,
//!   `search`, …);
//! - **no verbs**: a segment that is, or starts with, a verb (`get`,
//!   `create`, `update`, `delete`, `remove`, `add`, `set`, `fetch`, `list`,
//!   `make`, `do`, `retrieve`, `modify`, `insert`): the HTTP method says
//!   what happens (`DELETE /users/{id}`, not `POST /users/{id}/delete`);
//! - **no trailing slash**: `/users/` and `/users` are different paths to
//!   many routers and caches;
//! - **a version segment**: `v1`, `v2`, `v1beta1`, … in the path, in a 3.x
//!   `servers` URL (server variables resolved to their defaults) or in the
//!   2.0 `basePath`, so a new major version can live beside the old one.
//!
//! Health, readiness, liveness and metrics endpoints (`/health`,
//! `/healthz`, `/readyz`, `/livez`, `/metrics`), `/.well-known/…` and the
//! API's own description (`/openapi.json`) are not resources and are not
//! checked. One finding per path lists everything wrong with it, at the
//! path's key, with a suggested path. Teams that version in a header or a
//! media type turn the version requirement off, and a team can require a
//! prefix:
//!
//! ```yaml
//! # cairn.yaml
//! checks:
//!   api:
//!     version: header      # path (default), header or none
//!     prefix: /api         # every path, server base path included, starts with it
//! ```
//!
//! ## Example
//! ```yaml
//! openapi: 3.0.3
//! servers: [{url: https://api.example.com}]
//! paths:
//!   /getUser/{id}: {get: {responses: {"200": {description: ok}}}}
//!   /order_item/{id}/: {get: {responses: {"200": {description: ok}}}}
//! ```
//!
//! ## Fix
//! ```yaml
//! openapi: 3.0.3
//! servers: [{url: https://api.example.com/v1}]
//! paths:
//!   /users/{id}: {get: {responses: {"200": {description: ok}}}}
//!   /order-items/{id}: {get: {responses: {"200": {description: ok}}}}
//! ```
//!
//! ## References
//! - https://opensource.zalando.com/restful-api-guidelines/#api-design-principles
//! - https://github.com/microsoft/api-guidelines/blob/vNext/azure/Guidelines.md
//! - https://google.aip.dev/122
//! - https://google.aip.dev/136

use cairn_contract::openapi::{At, Spec};

use crate::config::ApiVersioning;
use crate::kit_api::{first_line, is_version_segment, is_well_known, paths};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA1001",
    name: "api-path-convention",
    category: Category::Api,
    levels: levels!(off, info, info, warning, warning),
    summary: "an OpenAPI path breaks the REST naming conventions (kebab-case, plural collections, no verbs, no trailing slash, a version)",
    help: "name resources with plural kebab-case nouns under a version segment, e.g. `/v1/order-items/{id}`, and let the HTTP method say the action",
    check,
};

/// Verbs that do not belong in a path.
const VERBS: &[&str] = &[
    "get", "create", "update", "delete", "remove", "add", "set", "fetch", "list", "make", "do",
    "retrieve", "modify", "insert",
];

/// Words after a verb that make a noun of it (`add-ons`, `set-up`).
const PARTICLES: &[&str] = &[
    "on", "ons", "up", "ups", "out", "outs", "in", "ins", "off", "offs",
];

/// Words that name a collection though they do not end in `s`.
const UNCOUNTABLE: &[&str] = &[
    "data",
    "info",
    "information",
    "health",
    "status",
    "metadata",
    "people",
    "children",
    "men",
    "women",
    "auth",
    "search",
    "media",
    "news",
    "feedback",
    "software",
    "inventory",
    "history",
    "me",
    "self",
    "api",
];

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let contracts = cx.contracts();
    let conventions = &cx.settings.api;
    for c in contracts.list.iter().filter(|c| !c.asyncapi) {
        let Some(spec) = contracts.spec(c) else {
            continue;
        };
        let doc_bases = base_paths(&spec, spec.root);
        for (path, loc, item) in paths(&spec) {
            if is_well_known(path, conventions.prefix.as_deref()) {
                continue;
            }
            let mut bases = base_paths(&spec, item);
            if bases.is_empty() {
                bases.clone_from(&doc_bases);
            }
            let mut review = Review::new(path);
            if conventions.version == ApiVersioning::Path {
                review.version(&bases, conventions.prefix.as_deref());
            }
            if let Some(prefix) = &conventions.prefix {
                review.prefix(prefix, &bases);
            }
            if review.problems.is_empty() {
                continue;
            }
            let (file, pos) = contracts
                .scan_file(loc.file)
                .map_or((c.file, first_line()), |f| (f, loc.pos));
            let suggested = review.suggestion();
            let f = out.at(
                Some(file),
                Some(pos),
                format!("path `{path}`: {}", review.problems.join("; ")),
            );
            if suggested != path && !suggested.is_empty() {
                f.help(format!(
                    "rename it `{suggested}` and let the HTTP method say the action"
                ));
            }
        }
    }
}

/// The base paths the servers of `at` (a document or a path item) give:
/// 3.x `servers[].url` with variables at their defaults, 2.0 `basePath`.
fn base_paths(spec: &Spec<'_>, at: At<'_>) -> Vec<String> {
    if spec.swagger2 {
        return at
            .node
            .get_str("basePath")
            .map(|b| vec![b.to_owned()])
            .unwrap_or_default();
    }
    at.node
        .seq_at("servers")
        .iter()
        .filter_map(|s| {
            let mut url = s.get_str("url")?.to_owned();
            for (k, v) in s.map_at("variables") {
                if let (Some(name), Some(default)) = (k.as_str(), v.get_str("default")) {
                    url = url.replace(&format!("{{{name}}}"), default);
                }
            }
            Some(url_path(&url).to_owned())
        })
        .collect()
}

/// The path of a URL: `https://host:8080/api/v1` gives `/api/v1`; a relative URL is its own path.
fn url_path(url: &str) -> &str {
    match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
        None => url,
    }
}

/// What is wrong with one path, and the path with each problem fixed.
struct Review<'p> {
    path: &'p str,
    problems: Vec<String>,
    /// The segments as they should be (`None`: dropped).
    fixed: Vec<Option<String>>,
    /// The prefix to add in front, when the path lacks it.
    lead: Option<String>,
    /// Where a missing version segment goes, among the path's segments.
    version_at: Option<usize>,
}

impl<'p> Review<'p> {
    fn new(path: &'p str) -> Self {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let mut r = Review {
            path,
            problems: Vec::new(),
            fixed: segments.iter().map(|s| Some((*s).to_owned())).collect(),
            lead: None,
            version_at: None,
        };
        if path.len() > 1 && path.ends_with('/') {
            r.problems.push("ends with a slash".to_owned());
        }
        for (i, seg) in segments.iter().enumerate() {
            let next_is_param = segments.get(i + 1).is_some_and(|s| is_param(s));
            r.segment(i, seg, next_is_param);
        }
        r
    }

    fn segment(&mut self, i: usize, seg: &str, next_is_param: bool) {
        if seg.contains('{') {
            return;
        }
        // a custom method (`/users/{id}:activate`, AIP-136) is not a segment of its own
        let (noun, custom) = match seg.split_once(':') {
            Some((n, c)) => (n, Some(c)),
            None => (seg, None),
        };
        if noun.is_empty() || is_version_segment(noun) || noun.starts_with('.') {
            return;
        }
        let mut words = split_words(noun);
        if words.is_empty() {
            return;
        }
        if !is_kebab(noun) {
            self.problems.push(match case_name(noun) {
                Some(case) => format!("`{noun}` is {case}, not kebab-case"),
                None => format!(
                    "`{noun}` is not kebab-case (lower-case letters and digits in words joined by single hyphens)"
                ),
            });
        }
        let verb = VERBS.contains(&words[0].as_str())
            && words
                .get(1)
                .is_none_or(|w| !PARTICLES.contains(&w.as_str()));
        if verb {
            self.problems.push(if words.len() == 1 {
                format!("`{noun}` is a verb: the HTTP method says what happens")
            } else {
                format!(
                    "`{noun}` starts with a verb (`{}`): the HTTP method says what happens",
                    words[0]
                )
            });
            words.remove(0);
        }
        if next_is_param
            && let Some(last) = words.last_mut()
            && !is_plural(last)
        {
            let plural = pluralize(last);
            self.problems.push(format!(
                "`{noun}` is followed by a parameter, so it names a collection: make it plural (`{plural}`)"
            ));
            *last = plural;
        }
        self.fixed[i] = (!words.is_empty()).then(|| {
            let mut s = words.join("-");
            if let Some(c) = custom {
                s.push(':');
                s.push_str(c);
            }
            s
        });
    }

    fn version(&mut self, bases: &[String], prefix: Option<&str>) {
        let versioned = |p: &str| p.split('/').any(is_version_segment);
        if versioned(self.path) || bases.iter().any(|b| versioned(b)) {
            return;
        }
        self.problems.push(if bases.is_empty() {
            "no version segment (such as `/v1`) in the path, and no server URL gives one".to_owned()
        } else {
            "no version segment (such as `/v1`) in the path or the server URLs".to_owned()
        });
        // after the prefix or a leading `api` segment: `/api/v1/users`
        let prefix_len = prefix
            .filter(|p| {
                self.path
                    .strip_prefix(p)
                    .is_some_and(|r| r.is_empty() || r.starts_with('/'))
            })
            .map_or(0, |p| p.split('/').filter(|s| !s.is_empty()).count());
        let api = usize::from(
            prefix_len == 0
                && self
                    .path
                    .split('/')
                    .find(|s| !s.is_empty())
                    .is_some_and(|s| s.eq_ignore_ascii_case("api")),
        );
        self.version_at = Some(prefix_len + api);
    }

    fn prefix(&mut self, prefix: &str, bases: &[String]) {
        let starts = |full: &str| {
            full.strip_prefix(prefix)
                .is_some_and(|r| r.is_empty() || r.starts_with('/'))
        };
        let ok = if bases.is_empty() {
            starts(self.path)
        } else {
            bases
                .iter()
                .any(|b| starts(&format!("{}{}", b.trim_end_matches('/'), self.path)))
        };
        if !ok {
            self.problems
                .push(format!("does not start with the prefix `{prefix}`"));
            self.lead = Some(prefix.trim_matches('/').to_owned());
        }
    }

    fn suggestion(&self) -> String {
        let mut segments = self.fixed.clone();
        if let Some(i) = self.version_at {
            segments.insert(i.min(segments.len()), Some("v1".to_owned()));
        }
        let mut s = String::new();
        for seg in self.lead.iter().chain(segments.iter().flatten()) {
            s.push('/');
            s.push_str(seg);
        }
        if s.is_empty() { "/".to_owned() } else { s }
    }
}

fn is_param(seg: &str) -> bool {
    seg.starts_with('{') && seg.ends_with('}')
}

/// Lower-case letters and digits in words joined by single hyphens (dots allowed, as in `index.html`).
fn is_kebab(s: &str) -> bool {
    s.split('-').all(|w| {
        !w.is_empty()
            && w.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.')
    })
}

/// The case a segment is written in, when it is a well-known one.
fn case_name(s: &str) -> Option<&'static str> {
    let upper = s.bytes().any(|b| b.is_ascii_uppercase());
    let lower = s.bytes().any(|b| b.is_ascii_lowercase());
    let plain = s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !plain {
        None
    } else if s.contains('_') {
        Some("snake_case")
    } else if upper && !lower {
        Some("upper case")
    } else if upper {
        Some("camelCase")
    } else {
        None
    }
}

/// The lower-case words of a segment: split at `-`, `_`, spaces and case changes
/// (`getHTTPServer` gives `get`, `http`, `server`).
fn split_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    for part in s.split(['-', '_', ' ']).filter(|p| !p.is_empty()) {
        let chars: Vec<char> = part.chars().collect();
        let mut cur = String::new();
        for (i, &c) in chars.iter().enumerate() {
            let boundary = i > 0
                && c.is_uppercase()
                && (chars[i - 1].is_lowercase()
                    || chars[i - 1].is_ascii_digit()
                    || chars.get(i + 1).is_some_and(|n| n.is_lowercase())
                        && chars[i - 1].is_uppercase());
            if boundary && !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            cur.extend(c.to_lowercase());
        }
        if !cur.is_empty() {
            words.push(cur);
        }
    }
    words
}

fn is_plural(word: &str) -> bool {
    word.ends_with('s')
        || UNCOUNTABLE.contains(&word)
        || word.ends_with("data")
        || word.ends_with("info")
        // a word ending in a digit (`s3`, `ipv4`) is a name, not a noun
        || word.ends_with(|c: char| c.is_ascii_digit())
}

fn pluralize(word: &str) -> String {
    match word {
        "person" => return "people".to_owned(),
        "child" => return "children".to_owned(),
        "man" => return "men".to_owned(),
        "woman" => return "women".to_owned(),
        _ => {}
    }
    let consonant_y = word.ends_with('y')
        && word
            .chars()
            .rev()
            .nth(1)
            .is_some_and(|c| !"aeiou".contains(c));
    if consonant_y {
        format!("{}ies", &word[..word.len() - 1])
    } else if ["x", "z", "ch", "sh"].iter().any(|e| word.ends_with(e)) {
        format!("{word}es")
    } else {
        format!("{word}s")
    }
}
