//! A declared rate limit lies outside 1 to 999,999 requests per minute, or cannot be read.
//!
//! A rate limit of zero rejects every request; one below a request a
//! minute (`1/hour` on an interactive endpoint) is almost always a unit
//! mistake; one of a million or more a minute limits nothing a single
//! service can serve and usually means a missing unit or an extra zero. A
//! limit nobody can read (`fast`, `100/fortnight`) is enforced by no gateway
//! the way its author meant. Every limit is normalised to requests per
//! minute and must be a number from 1 to 999,999.
//!
//! Limits are read from three places:
//!
//! - **OpenAPI extensions** on the document, a path or an operation:
//!   `x-rate-limit`, `x-ratelimit` (any case, `_` for `-`) hold a whole
//!   limit; `x-rate-limit-rpm` / `-per-minute`, `-rps` / `-per-second`,
//!   `-rph` / `-per-hour`, `-rpd` / `-per-day` hold a count per that unit;
//!   `x-rate-limit-limit` / `-requests` hold a count whose period is in
//!   `x-rate-limit-period` / `-window` / `-interval` beside it. Other
//!   `x-rate-limit-*` keys (a scope, a key) are not limits and are not read.
//! - **Envoy local rate limits** in Istio `EnvoyFilter` objects: every
//!   `token_bucket` (`tokens_per_fill`, default 1, per `fill_interval`); a
//!   bucket without `fill_interval` or with `max_tokens` 0 is reported too.
//! - **cairn.yaml**: `services.<name>.rate-limit`.
//!
//! The accepted shapes of a whole limit:
//!
//! | shape | example |
//! |---|---|
//! | count / period | `"100/min"`, `"10/s"`, `"1000/1h"`, `"100/5m"`, `"100 per minute"` |
//! | count and unit | `"100rpm"`, `"10 rps"`, `"5000 rph"`, `"100 rpd"` |
//! | mapping, count and period | `{requests: 100, period: 1m}`, `{limit: 10, window: "1s"}` (count keys: `requests`, `limit`, `rate`, `max`, `count`, `quota`, `requests_per_unit`; period keys: `period`, `window`, `interval`, `per`, `unit`, `duration`) |
//! | mapping, count per unit | `{rpm: 100}`, `{rps: 10}`, `{requestsPerMinute: 100}`, `{per_second: 5}` |
//! | a list | of any of these, each checked |
//! | a bare number | requests per minute |
//!
//! Units: `ms`, `s` / `sec` / `second`, `m` / `min` / `minute`, `h` / `hr` /
//! `hour`, `d` / `day` (plurals too), optionally with a count (`5m`, `1.5h`).
//! A mapping with `enabled: false` is skipped.
//!
//! ## Example
//! ```yaml
//! paths:
//!   /v1/orders:
//!     x-rate-limit: {requests: 0, period: 1m}
//!     get:
//!       x-rate-limit: 5000000/min
//! ```
//!
//! ## Fix
//! ```yaml
//! paths:
//!   /v1/orders:
//!     x-rate-limit: {requests: 600, period: 1m}
//!     get:
//!       x-rate-limit: 50/s
//! ```
//!
//! ## References
//! - https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/local_rate_limit_filter
//! - https://istio.io/latest/docs/tasks/policy-enforcement/rate-limit/
//! - https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/

use cairn_contract::openapi::At;

use crate::kit_api::{first_line, operations, paths};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA1004",
    name: "rate-limit-out-of-range",
    category: Category::Api,
    levels: levels!(warning, warning, warning, error, error),
    summary: "a declared rate limit is not 1 to 999,999 requests per minute, or cannot be read",
    help: "declare between 1 and 999,999 requests per minute, e.g. `100/min` or `{requests: 10, period: 1s}`",
    check,
};

const MINUTE_MS: f64 = 60_000.0;
/// The highest limit accepted, per minute.
const MAX_PER_MINUTE: f64 = 999_999.0;

/// Keys that hold a count of requests.
const COUNT_KEYS: &[&str] = &[
    "requests",
    "limit",
    "rate",
    "max",
    "count",
    "quota",
    "requests_per_unit",
    "requestsperunit",
];
/// Keys that hold the period of a count.
const PERIOD_KEYS: &[&str] = &["period", "window", "interval", "per", "unit", "duration"];

/// What a limit says, or why it cannot be read.
enum Limit {
    /// `count` requests per `period_ms`.
    Rate { count: f64, period_ms: f64 },
    /// Not a rate limit.
    Skip,
    /// A limit that cannot be read, and why.
    Unreadable(String),
}

fn check(cx: &Ctx<'_>, out: &mut Out) {
    contract_limits(cx, out);
    envoy_limits(cx, out);
    for config in &cx.ingest.configs {
        for s in &config.services {
            let Some((text, loc)) = &s.rate_limit else {
                continue;
            };
            let limit = parse_text(text, None);
            if let Some((message, help)) = judge(&limit) {
                out.at(
                    Some(loc.file),
                    Some(loc.pos),
                    format!("service `{}`: `rate-limit` {message}", s.name),
                )
                .help(help);
            }
        }
    }
}

/// `x-rate-limit…` extensions of every OpenAPI contract.
fn contract_limits(cx: &Ctx<'_>, out: &mut Out) {
    let contracts = cx.contracts();
    for c in contracts.list.iter().filter(|c| !c.asyncapi) {
        let Some(spec) = contracts.spec(c) else {
            continue;
        };
        let mut places: Vec<(String, At<'_>)> = vec![("the document".to_owned(), spec.root)];
        for (path, _, item) in paths(&spec) {
            places.push((format!("path `{path}`"), item));
        }
        for op in operations(&spec) {
            places.push((format!("`{} {}`", op.method, op.path), op.node));
        }
        for (whose, at) in places {
            for (key, pos, limit) in extension_limits(at.node) {
                if let Some((message, help)) = judge(&limit) {
                    let (file, pos) = contracts
                        .scan_file(at.file)
                        .map_or((c.file, first_line()), |f| (f, pos));
                    out.at(
                        Some(file),
                        Some(pos),
                        format!("{whose}: rate limit `{key}` {message}"),
                    )
                    .help(help);
                }
            }
        }
    }
}

/// The rate limits in the extensions of one mapping: `(key, position, limit)`.
fn extension_limits(node: &Node) -> Vec<(String, Pos, Limit)> {
    let mut out = Vec::new();
    let entries = node.as_map().unwrap_or(&[]);
    let suffix_of = |k: &Node| -> Option<String> {
        let key = k.as_str()?.to_ascii_lowercase().replace('_', "-");
        key.strip_prefix("x-rate-limit")
            .or_else(|| key.strip_prefix("x-ratelimit"))
            .map(str::to_owned)
    };
    let period_sibling = entries.iter().find_map(|(k, v)| {
        let s = suffix_of(k)?;
        ["-period", "-window", "-interval", "-unit", "-duration"]
            .contains(&s.as_str())
            .then_some(v)
    });
    for (k, v) in entries {
        let Some(suffix) = suffix_of(k) else { continue };
        let key = k.as_str().unwrap_or_default().to_owned();
        let unit_ms = match suffix.as_str() {
            "" => {
                if let Some(items) = v.as_seq() {
                    for item in items {
                        out.push((key.clone(), item.pos, parse_node(item, None)));
                    }
                } else {
                    out.push((key, k.pos, parse_node(v, None)));
                }
                continue;
            }
            "-rpm" | "-per-minute" => Some(MINUTE_MS),
            "-rps" | "-per-second" => Some(1000.0),
            "-rph" | "-per-hour" => Some(60.0 * MINUTE_MS),
            "-rpd" | "-per-day" => Some(24.0 * 60.0 * MINUTE_MS),
            "-limit" | "-requests" => None,
            // a period, read with its count; a scope, a key or a switch is not a limit
            _ => continue,
        };
        let limit = match (unit_ms, period_sibling) {
            (Some(ms), _) => parse_node(v, Some(ms)),
            (None, Some(p)) => match (count_of(v), period_of(p)) {
                (Ok(count), Ok(period_ms)) => Limit::Rate { count, period_ms },
                (Err(e), _) | (_, Err(e)) => Limit::Unreadable(e),
            },
            (None, None) => match v.as_scalar() {
                Some(s) if s.text.contains('/') || s.text.contains(" per ") => {
                    parse_text(&s.text, None)
                }
                _ => Limit::Unreadable(format!(
                    "gives a count but no period: add `{}-period` (e.g. `1m`) beside it",
                    key.trim_end_matches(|c: char| c != '-')
                        .trim_end_matches('-')
                )),
            },
        };
        out.push((key, k.pos, limit));
    }
    out
}

/// A limit written as a node: a string, a number or a mapping. `unit_ms`
/// is the period a bare number counts per (a minute when `None`).
fn parse_node(v: &Node, unit_ms: Option<f64>) -> Limit {
    if let Some(entries) = v.as_map() {
        return parse_map(v, entries);
    }
    match v.as_scalar() {
        Some(s) if !v.is_null() => parse_text(&s.text, unit_ms),
        _ => Limit::Unreadable(format!("is {}", v.type_name())),
    }
}

fn parse_map(v: &Node, entries: &[(Node, Node)]) -> Limit {
    if v.get("enabled").and_then(Node::as_bool) == Some(false) {
        return Limit::Skip;
    }
    let find = |keys: &[&str]| {
        entries.iter().find_map(|(k, val)| {
            let key = k.as_str()?.to_ascii_lowercase();
            keys.contains(&key.as_str()).then_some(val)
        })
    };
    for (keys, ms) in [
        (
            &[
                "rpm",
                "requestsperminute",
                "requests_per_minute",
                "perminute",
                "per_minute",
            ][..],
            MINUTE_MS,
        ),
        (
            &[
                "rps",
                "requestspersecond",
                "requests_per_second",
                "persecond",
                "per_second",
            ][..],
            1000.0,
        ),
        (
            &[
                "rph",
                "requestsperhour",
                "requests_per_hour",
                "perhour",
                "per_hour",
            ][..],
            60.0 * MINUTE_MS,
        ),
        (
            &[
                "rpd",
                "requestsperday",
                "requests_per_day",
                "perday",
                "per_day",
            ][..],
            24.0 * 60.0 * MINUTE_MS,
        ),
    ] {
        if let Some(c) = find(keys) {
            return match count_of(c) {
                Ok(count) => Limit::Rate {
                    count,
                    period_ms: ms,
                },
                Err(e) => Limit::Unreadable(e),
            };
        }
    }
    let Some(count) = find(COUNT_KEYS) else {
        return Limit::Unreadable(
            "has no count: write `requests` (or `limit`) and `period`, or `rpm`".to_owned(),
        );
    };
    match find(PERIOD_KEYS) {
        Some(p) => match (count_of(count), period_of(p)) {
            (Ok(count), Ok(period_ms)) => Limit::Rate { count, period_ms },
            (Err(e), _) | (_, Err(e)) => Limit::Unreadable(e),
        },
        // `rate: 100/min` inside a mapping
        None if count.as_str().is_some_and(|t| t.contains('/')) => {
            parse_text(count.as_str().unwrap_or_default(), None)
        }
        None => {
            Limit::Unreadable("gives a count but no period: add `period` (e.g. `1m`)".to_owned())
        }
    }
}

fn count_of(v: &Node) -> Result<f64, String> {
    let text = v.as_scalar().map(|s| s.text.trim()).unwrap_or_default();
    text.replace('_', "")
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .ok_or_else(|| format!("has a count `{text}` that is not a number"))
}

fn period_of(v: &Node) -> Result<f64, String> {
    let text = v.as_scalar().map(|s| s.text.trim()).unwrap_or_default();
    duration_ms(text).ok_or_else(|| format!("has a period `{text}` that is not a duration"))
}

/// A limit written as text; `unit_ms` is what a bare number counts per.
fn parse_text(text: &str, unit_ms: Option<f64>) -> Limit {
    let t = text.trim().to_ascii_lowercase();
    let split = t
        .split_once('/')
        .or_else(|| t.split_once(" per "))
        .map(|(a, b)| (a.trim().to_owned(), Some(b.trim().to_owned())));
    let (count_text, period_text) = split.unwrap_or_else(|| (t.clone(), None));
    let count_text = count_text
        .trim_end_matches("requests")
        .trim_end_matches("request")
        .trim_end_matches("reqs")
        .trim_end_matches("req")
        .trim()
        .to_owned();
    let unreadable = || {
        Limit::Unreadable(format!(
            "is `{}`, which is not a rate: write `100/min`, `10/s`, `{{requests: 100, period: 1m}}` or a number of requests per minute",
            text.trim()
        ))
    };
    if let Some(p) = period_text {
        return match (count_text.replace('_', "").parse::<f64>(), duration_ms(&p)) {
            (Ok(count), Some(period_ms)) if count.is_finite() => Limit::Rate { count, period_ms },
            _ => unreadable(),
        };
    }
    for (suffix, ms) in [
        ("rpm", MINUTE_MS),
        ("rps", 1000.0),
        ("rph", 60.0 * MINUTE_MS),
        ("rpd", 24.0 * 60.0 * MINUTE_MS),
    ] {
        if let Some(n) = count_text.strip_suffix(suffix) {
            return match n.trim().parse::<f64>() {
                Ok(count) if count.is_finite() => Limit::Rate {
                    count,
                    period_ms: ms,
                },
                _ => unreadable(),
            };
        }
    }
    match count_text.replace('_', "").parse::<f64>() {
        Ok(count) if count.is_finite() => Limit::Rate {
            count,
            period_ms: unit_ms.unwrap_or(MINUTE_MS),
        },
        _ => unreadable(),
    }
}

/// A period in milliseconds: `1m`, `30s`, `1.5h`, `1m30s`, `minute`, `5 minutes`, a bare number of seconds.
fn duration_ms(text: &str) -> Option<f64> {
    let t = text.trim().to_ascii_lowercase();
    if t.is_empty() {
        return None;
    }
    let mut total = 0.0;
    let mut rest = t.as_str();
    while !rest.is_empty() {
        let n_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = if n_len == 0 {
            1.0
        } else {
            rest[..n_len].parse::<f64>().ok()?
        };
        let after = rest[n_len..].trim_start();
        let u_len = after
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(after.len());
        let unit = &after[..u_len];
        let factor = match unit {
            "ms" | "millisecond" | "milliseconds" => 1.0,
            "" | "s" | "sec" | "secs" | "second" | "seconds" => 1000.0,
            "m" | "min" | "mins" | "minute" | "minutes" => MINUTE_MS,
            "h" | "hr" | "hrs" | "hour" | "hours" => 60.0 * MINUTE_MS,
            "d" | "day" | "days" => 24.0 * 60.0 * MINUTE_MS,
            _ => return None,
        };
        if n_len == 0 && unit.is_empty() {
            return None;
        }
        total += number * factor;
        rest = after[u_len..].trim_start();
    }
    total.is_finite().then_some(total)
}

/// What is wrong with a limit, as `(message, help)`; `None` when it is fine.
fn judge(limit: &Limit) -> Option<(String, String)> {
    const HELP: &str = "declare between 1 and 999,999 requests per minute, e.g. `100/min` or `{requests: 10, period: 1s}`";
    let (count, period_ms) = match limit {
        Limit::Skip => return None,
        Limit::Unreadable(why) => {
            return Some((
                why.clone(),
                "write a limit as `100/min`, `10/s`, `100rpm`, `{requests: 100, period: 1m}`, `{rpm: 100}` or a number of requests per minute (`cairn explain rate-limit-out-of-range` lists every shape)".to_owned(),
            ));
        }
        Limit::Rate { count, period_ms } => (*count, *period_ms),
    };
    if count <= 0.0 {
        return Some((
            format!("allows {} requests: every request is rejected", show(count)),
            HELP.to_owned(),
        ));
    }
    if count.fract() != 0.0 {
        return Some((
            format!("counts {} requests, not a whole number", show(count)),
            HELP.to_owned(),
        ));
    }
    if period_ms <= 0.0 {
        return Some((
            "has a period of zero".to_owned(),
            "give the period a length, e.g. `1m`".to_owned(),
        ));
    }
    let per_minute = count * MINUTE_MS / period_ms;
    if per_minute < 1.0 {
        return Some((
            format!(
                "is {} requests per minute, fewer than one a minute",
                show(per_minute)
            ),
            "check the unit: a limit below one request a minute is almost always a mistake"
                .to_owned(),
        ));
    }
    if per_minute > MAX_PER_MINUTE {
        return Some((
            format!(
                "is {} requests per minute, above the 999,999 a minute that a limit can sensibly mean",
                show(per_minute)
            ),
            "check the unit and the zeros: a limit this high limits nothing".to_owned(),
        ));
    }
    None
}

/// A number for messages: whole numbers without a fraction (thousands
/// grouped from 10,000 on), others with at most three decimals.
fn show(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        let digits = format!("{:.0}", n.abs());
        let sign = if n < 0.0 { "-" } else { "" };
        if digits.len() < 5 {
            return format!("{sign}{digits}");
        }
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        format!("{sign}{grouped}")
    } else {
        let s = format!("{n:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// Envoy local rate limits (`token_bucket`) in Istio `EnvoyFilter` objects.
fn envoy_limits(cx: &Ctx<'_>, out: &mut Out) {
    for (i, obj) in cx.of_kind("EnvoyFilter") {
        let Some(spec) = obj.spec() else { continue };
        let mut stack = vec![spec];
        while let Some(n) = stack.pop() {
            if let Some(items) = n.as_seq() {
                stack.extend(items.iter().rev());
                continue;
            }
            for (k, v) in n.as_map().unwrap_or(&[]) {
                if matches!(k.as_str(), Some("token_bucket" | "tokenBucket")) {
                    if let Some((message, help)) = token_bucket(v) {
                        out.object(
                            cx,
                            i,
                            k.pos,
                            format!("{}: token bucket {message}", describe(obj)),
                        )
                        .help(help);
                    }
                } else {
                    stack.push(v);
                }
            }
        }
    }
}

/// What is wrong with a `token_bucket`, as `(message, help)`.
fn token_bucket(v: &Node) -> Option<(String, String)> {
    let field = |snake: &str, camel: &str| v.get(snake).or_else(|| v.get(camel));
    if let Some(max) = field("max_tokens", "maxTokens")
        && max.as_i64().is_some_and(|m| m < 1)
    {
        return Some((
            "has `max_tokens` 0: the bucket holds no token and every request is rejected"
                .to_owned(),
            "set `max_tokens` to the burst to allow, at least 1".to_owned(),
        ));
    }
    let Some(interval) = field("fill_interval", "fillInterval") else {
        return Some((
            "has no `fill_interval`: Envoy rejects the configuration".to_owned(),
            "set `fill_interval`, e.g. `60s`, and `tokens_per_fill`".to_owned(),
        ));
    };
    // a proto Duration is a string (`60s`) or `{seconds, nanos}`
    let period_ms = if interval.as_map().is_some() {
        let secs = interval
            .get("seconds")
            .and_then(Node::as_f64)
            .unwrap_or(0.0);
        let nanos = interval.get("nanos").and_then(Node::as_f64).unwrap_or(0.0);
        Some(secs * 1000.0 + nanos / 1e6)
    } else {
        interval.as_str().and_then(duration_ms)
    };
    let Some(period_ms) = period_ms else {
        return Some((
            format!(
                "has `fill_interval` `{}`, which is not a duration",
                interval.as_str().unwrap_or("?")
            ),
            "write the interval as a duration, e.g. `60s`".to_owned(),
        ));
    };
    let count = match field("tokens_per_fill", "tokensPerFill") {
        None => 1.0,
        Some(n) => match n.as_f64() {
            Some(c) => c,
            None => {
                return Some((
                    format!(
                        "has `tokens_per_fill` `{}`, which is not a number",
                        n.as_str().unwrap_or("?")
                    ),
                    "set `tokens_per_fill` to a whole number of requests".to_owned(),
                ));
            }
        },
    };
    judge(&Limit::Rate { count, period_ms }).map(|(m, h)| {
        (
            format!(
                "(`tokens_per_fill` {} per `fill_interval`) {m}",
                show(count)
            ),
            h,
        )
    })
}
