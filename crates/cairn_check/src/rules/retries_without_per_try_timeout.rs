//! Retries are configured without a timeout for each attempt.
//!
//! Retries help against failures that are quick: a refused connection, a
//! 503 from a pod that is shutting down. They do nothing against the
//! failure that hurts most, a callee that hangs, unless each attempt has its
//! own deadline. Without one, the first attempt waits until the whole
//! request times out (or forever, when no request timeout is set) and the
//! retries never run. In Istio a route's `perTryTimeout` defaults to the
//! route's `timeout`, so `retries: {attempts: 3}` alone gives one attempt
//! all of the time.
//!
//! The opposite mistake is reported too: per-attempt timeouts that add up
//! to more than the request timeout (the first try plus `attempts` retries
//! of `perTryTimeout` each), so that when attempts time out the last
//! retries can never run and the configuration promises more than it does.
//!
//! Read from: Istio `VirtualService` HTTP routes (`retries.attempts`,
//! `retries.perTryTimeout`, `timeout`); Gateway API `HTTPRoute` and
//! `GRPCRoute` rules (`retry.attempts`, `timeouts.backendRequest`,
//! `timeouts.request`); Linkerd annotations on a Service or route
//! (`retry.linkerd.io/http` or `retry.linkerd.io/grpc`, `retry.linkerd.io/limit`,
//! `retry.linkerd.io/timeout`, `timeout.linkerd.io/request`); and
//! `cairn.yaml` dependencies, whose `timeout:` is the client's timeout for
//! one call (`retries:` without it is reported).
//!
//! ## Example
//! ```yaml
//! apiVersion: networking.istio.io/v1
//! kind: VirtualService
//! metadata: {name: orders}
//! spec:
//!   hosts: [orders]
//!   http:
//!     - route:
//!         - destination: {host: orders}
//!       timeout: 6s
//!       retries:
//!         attempts: 3
//!         retryOn: 5xx,connect-failure
//! ```
//!
//! ## Fix
//! Give each attempt a deadline, and keep the attempts within the request
//! timeout:
//! ```yaml
//!       timeout: 6s
//!       retries:
//!         attempts: 2
//!         perTryTimeout: 2s
//!         retryOn: 5xx,connect-failure,reset
//! ```
//!
//! ## References
//! - https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPRetry
//! - https://istio.io/latest/docs/concepts/traffic-management/#retries
//! - https://gateway-api.sigs.k8s.io/geps/gep-1731/
//! - https://linkerd.io/2/reference/retries/
//! - https://aws.amazon.com/builders-library/timeouts-retries-and-backoff-with-jitter/
//!
//! ## Notes
//! Routes without a `retries` block are not reported, though Istio retries
//! them twice by default (with no per-try timeout either); Linkerd
//! `ServiceProfile` retries are budget-based and have no per-try timeout to
//! set, so they are not reported either.

use crate::kit_graph::format_ms;
use crate::prelude::*;

use cairn_ingest::config::parse_duration_ms;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA603",
    name: "retries-without-per-try-timeout",
    category: Category::Resilience,
    levels: levels!(info, info, warning, warning, warning),
    summary: "retries are configured without a timeout for each attempt",
    help: "set a per-attempt timeout (Istio `perTryTimeout`) so that a hung attempt is cut short and retried",
    check,
};

/// `1 retry`, `3 retries`.
fn retries_word(n: i64) -> String {
    if n == 1 {
        "1 retry".to_owned()
    } else {
        format!("{n} retries")
    }
}

/// A duration as written (`2s`), in milliseconds.
fn duration(node: Option<&Node>) -> Option<f64> {
    node.and_then(Node::as_str).and_then(parse_duration_ms)
}

/// What the first try and `retries` retries of `per_try` each take, when that
/// is more than `total`.
fn over_budget(retries: i64, per_try: f64, total: f64) -> Option<f64> {
    let need = (retries as f64 + 1.0) * per_try;
    (need > total).then_some(need)
}

fn check(cx: &Ctx<'_>, out: &mut Out) {
    for (i, vs) in cx.of_kind("VirtualService") {
        if !vs.group().contains("istio") {
            continue;
        }
        let Some(spec) = vs.spec() else { continue };
        for route in spec.seq_at("http") {
            let Some(retries) = route.get("retries") else {
                continue;
            };
            let attempts = retries.get("attempts").and_then(Node::as_i64).unwrap_or(0);
            if attempts <= 0 {
                continue;
            }
            let hosts: Vec<String> = route
                .seq_at("route")
                .iter()
                .filter_map(|r| r.path(&["destination", "host"]).and_then(Node::as_str))
                .map(|h| format!("`{h}`"))
                .collect();
            let to = if hosts.is_empty() {
                String::new()
            } else {
                format!(" to {}", hosts.join(", "))
            };
            let timeout = duration(route.get("timeout"));
            let per_try = retries.get("perTryTimeout").filter(|n| !n.is_null());
            let who = describe(vs);
            match (per_try, timeout) {
                (None, _) => {
                    let Some(at) = key_pos(route, "retries") else {
                        continue;
                    };
                    let message = match timeout {
                        Some(t) => format!(
                            "{who} retries calls{to} up to {attempts} times without a perTryTimeout: one hung attempt uses the whole {} route timeout and no retry runs",
                            format_ms(t)
                        ),
                        None => format!(
                            "{who} retries calls{to} up to {attempts} times without a perTryTimeout or a route timeout: a hung attempt waits until the caller gives up and is never retried"
                        ),
                    };
                    out.object(cx, i, at, message);
                }
                (Some(p), Some(t)) => {
                    let Some(need) = duration(Some(p)).and_then(|pt| over_budget(attempts, pt, t))
                    else {
                        continue;
                    };
                    out.object(
                        cx,
                        i,
                        p.pos,
                        format!(
                            "{who} gives the first try and {}{to} {} each ({}), more than the {} route timeout: when attempts time out, not every retry can run",
                            retries_word(attempts),
                            format_ms(duration(Some(p)).unwrap_or_default()),
                            format_ms(need),
                            format_ms(t)
                        ),
                    )
                    .help("lower `attempts` or `perTryTimeout` so that (attempts + 1) × perTryTimeout fits in the route's `timeout`, or raise the timeout");
                }
                (Some(_), None) => {}
            }
        }
    }
    gateway_api(cx, out);
    linkerd(cx, out);
    declared(cx, out);
}

/// Gateway API routes: `retry.attempts` needs `timeouts.backendRequest`.
fn gateway_api(cx: &Ctx<'_>, out: &mut Out) {
    for kind in ["HTTPRoute", "GRPCRoute"] {
        for (i, r) in cx.of_kind(kind) {
            if !r.group().contains("gateway.networking.k8s.io") {
                continue;
            }
            let Some(spec) = r.spec() else { continue };
            for (n, rule) in spec.seq_at("rules").iter().enumerate() {
                let Some(retry) = rule.get("retry") else {
                    continue;
                };
                let attempts = retry.get("attempts").and_then(Node::as_i64).unwrap_or(0);
                if attempts <= 0 {
                    continue;
                }
                let timeouts = rule.get("timeouts");
                let backend = timeouts
                    .and_then(|t| t.get("backendRequest"))
                    .filter(|b| !b.is_null());
                let request = duration(timeouts.and_then(|t| t.get("request")));
                let who = format!("rule {} of {}", n + 1, describe(r));
                match backend {
                    None => {
                        let Some(at) = key_pos(rule, "retry") else {
                            continue;
                        };
                        out.object(
                            cx,
                            i,
                            at,
                            format!(
                                "{who} retries up to {attempts} times without `timeouts.backendRequest`: a hung attempt is never cut short, so it is not retried"
                            ),
                        )
                        .help("set `timeouts.backendRequest` on the rule: it bounds each attempt");
                    }
                    Some(b) => {
                        let (Some(per_try), Some(total)) = (duration(Some(b)), request) else {
                            continue;
                        };
                        let Some(need) = over_budget(attempts, per_try, total) else {
                            continue;
                        };
                        out.object(
                            cx,
                            i,
                            b.pos,
                            format!(
                                "{who} gives the first try and {} {} each ({}), more than its {} request timeout: when attempts time out, not every retry can run",
                                retries_word(attempts),
                                format_ms(per_try),
                                format_ms(need),
                                format_ms(total)
                            ),
                        )
                        .help("lower `retry.attempts` or `timeouts.backendRequest`, or raise `timeouts.request`");
                    }
                }
            }
        }
    }
}

/// Linkerd retry annotations on Services and routes.
fn linkerd(cx: &Ctx<'_>, out: &mut Out) {
    for kind in ["Service", "HTTPRoute", "GRPCRoute"] {
        for (i, o) in cx.of_kind(kind) {
            let Some(ann) = o.metadata().and_then(|m| m.get("annotations")) else {
                continue;
            };
            let Some((key, _)) = ann
                .entry("retry.linkerd.io/http")
                .or_else(|| ann.entry("retry.linkerd.io/grpc"))
            else {
                continue;
            };
            // the limit defaults to 1
            let limit = match ann.get("retry.linkerd.io/limit") {
                Some(l) => match l.as_i64().or_else(|| l.as_str()?.trim().parse().ok()) {
                    Some(n) => n,
                    None => continue,
                },
                None => 1,
            };
            if limit <= 0 {
                continue;
            }
            let request = duration(ann.get("timeout.linkerd.io/request"));
            match ann.get("retry.linkerd.io/timeout").filter(|n| !n.is_null()) {
                None => {
                    out.object(
                        cx,
                        i,
                        key.pos,
                        format!(
                            "{} retries failed requests up to {limit} times without `retry.linkerd.io/timeout`: a hung attempt is never cut short, so it is not retried",
                            describe(o)
                        ),
                    )
                    .help("add the annotation `retry.linkerd.io/timeout` (e.g. `300ms`): it bounds each attempt");
                }
                Some(t) => {
                    let (Some(per_try), Some(total)) = (duration(Some(t)), request) else {
                        continue;
                    };
                    let Some(need) = over_budget(limit, per_try, total) else {
                        continue;
                    };
                    out.object(
                        cx,
                        i,
                        t.pos,
                        format!(
                            "{} gives the first try and {} {} each ({}), more than its {} request timeout: when attempts time out, not every retry can run",
                            describe(o),
                            retries_word(limit),
                            format_ms(per_try),
                            format_ms(need),
                            format_ms(total)
                        ),
                    )
                    .help("lower `retry.linkerd.io/limit` or `retry.linkerd.io/timeout`, or raise `timeout.linkerd.io/request`");
                }
            }
        }
    }
}

/// `cairn.yaml` dependencies: `retries:` needs the `timeout:` of one call.
fn declared(cx: &Ctx<'_>, out: &mut Out) {
    let Some(cfg) = cx.ingest.configs.first() else {
        return;
    };
    for s in &cfg.services {
        for d in &s.dependencies {
            let Some(retries) = d.retries.filter(|r| *r > 0) else {
                continue;
            };
            if d.timeout_ms.is_some() {
                continue;
            }
            out.at(
                d.loc.map(|l| l.file).or(cfg.file),
                d.loc.map(|l| l.pos),
                format!(
                    "the cairn.yaml dependency of `{}` on `{}` retries up to {retries} times but states no `timeout:` for one call: a hung attempt is never cut short, so it is not retried",
                    s.name, d.to
                ),
            )
            .help("state the client's per-call `timeout:` on the dependency (and set it in the client)");
        }
    }
}
