//! An OpenAPI operation that requires no authentication.
//!
//! Every operation of a contract is open to anyone who can reach it unless a
//! security requirement says otherwise. An operation without one is either
//! a deliberately public endpoint, which the contract should say, or a
//! forgotten one: the OWASP API Security Top 10 puts broken authentication
//! second. The contract is where clients, gateways and reviewers learn what
//! an endpoint needs, so the rule reads it as they do:
//!
//! - an operation's `security` overrides the document's global `security`;
//! - no requirement at either level means no authentication;
//! - an explicit empty list (`security: []`) or an empty alternative
//!   (`- {}`) means anonymous access is allowed, and the finding says so;
//! - any scheme OpenAPI defines counts: 3.x `components.securitySchemes`
//!   and 2.0 `securityDefinitions` of type `http` (bearer or JWT, basic),
//!   `basic`, `apiKey`, `oauth2`, `openIdConnect` and `mutualTLS`. A
//!   requirement naming a scheme that is not defined is
//!   `api-security-scheme-undefined`'s finding, not this rule's.
//!
//! Health, readiness, liveness and metrics endpoints (`/health`,
//! `/healthz`, `/readyz`, `/livez`, `/metrics`), `/.well-known/…` and the
//! API's own description (`/openapi.json`) are public by design and not
//! reported. Mark another deliberately public operation with a
//! `# cairn:ignore api-operation-unauthenticated <reason>` comment on its
//! method line.
//!
//! ## Example
//! ```yaml
//! openapi: 3.0.3
//! paths:
//!   /v1/orders:
//!     get:                # no security here or at the top
//!       responses: {"200": {description: the orders}}
//! ```
//!
//! ## Fix
//! ```yaml
//! openapi: 3.0.3
//! security: [{bearerAuth: []}]
//! components:
//!   securitySchemes:
//!     bearerAuth: {type: http, scheme: bearer, bearerFormat: JWT}
//! paths:
//!   /v1/orders:
//!     get:
//!       responses: {"200": {description: the orders}}
//! ```
//!
//! ## References
//! - https://spec.openapis.org/oas/v3.1.0#security-requirement-object
//! - https://swagger.io/docs/specification/authentication/
//! - https://owasp.org/API-Security/editions/2023/en/0xa2-broken-authentication/

use crate::kit_api::{first_line, is_well_known, operations, schemes, security};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA1002",
    name: "api-operation-unauthenticated",
    category: Category::Api,
    levels: levels!(info, info, warning, warning, error),
    summary: "an OpenAPI operation requires no authentication (no effective `security`, or an empty requirement)",
    help: "require a security scheme with `security` on the operation or the document, or mark a deliberately public operation with `# cairn:ignore api-operation-unauthenticated <reason>`",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let contracts = cx.contracts();
    let prefix = cx.settings.api.prefix.as_deref();
    for c in contracts.list.iter().filter(|c| !c.asyncapi) {
        let Some(spec) = contracts.spec(c) else {
            continue;
        };
        let global = security(spec.root);
        let defined = schemes(&spec);
        let hint = defined.first().map_or_else(
            || {
                let section = if spec.swagger2 {
                    "securityDefinitions"
                } else {
                    "components.securitySchemes"
                };
                format!(
                    "define a scheme under `{section}` and require it with `security` on the operation or the document"
                )
            },
            |s| {
                format!(
                    "require a scheme the document defines, e.g. `security: [{{{}: []}}]`, on the operation or the document",
                    s.name
                )
            },
        );
        for op in operations(&spec) {
            if is_well_known(op.path, prefix) {
                continue;
            }
            let own = security(op.node);
            let from_op = own.is_some();
            let what = format!("`{} {}`", op.method, op.path);
            let effective = own.as_ref().or(global.as_ref());
            let message = match effective {
                None if defined.is_empty() => format!(
                    "{what} requires no authentication: neither it nor the document declares `security`, and the document defines no security scheme"
                ),
                None => format!(
                    "{what} requires no authentication: the document defines security schemes but neither the operation nor the document requires one with `security`"
                ),
                Some(s) if s.empty => format!(
                    "{what} allows anonymous access: {} `security: []` turns authentication off",
                    if from_op { "its" } else { "the document's" }
                ),
                Some(s) if s.anonymous() => format!(
                    "{what} allows anonymous access: an empty requirement (`{{}}`) in {} `security` makes credentials optional",
                    if from_op { "its" } else { "the document's" }
                ),
                Some(_) => continue,
            };
            let (file, pos) = contracts
                .scan_file(op.loc.file)
                .map_or((c.file, first_line()), |f| (f, op.loc.pos));
            let help = if effective.is_some() {
                // an explicit anonymous requirement is often on purpose: say how to record that
                format!(
                    "if it is public on purpose, record why with `# cairn:ignore api-operation-unauthenticated <reason>` on this line; otherwise {hint}"
                )
            } else {
                hint.clone()
            };
            out.at(Some(file), Some(pos), message).help(help);
        }
    }
}
