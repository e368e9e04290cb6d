//! A security requirement names a scheme the contract does not define.
//!
//! A security requirement (`security: [{bearerAuth: []}]`) refers to a
//! scheme by name; the scheme itself is defined under 3.x
//! `components.securitySchemes` or 2.0 `securityDefinitions`. A name that
//! matches no definition (a typo, a scheme renamed or moved to another
//! file) makes the contract invalid: generators fail or, worse, produce
//! clients and gateway configuration that send no credentials, and the
//! operation looks protected in review while nothing says how.
//!
//! Every requirement is checked, the document's global `security` and each
//! operation's. A scheme defined with a `type` OpenAPI does not know
//! (anything but `http`, `basic`, `apiKey`, `oauth2`, `openIdConnect` and
//! `mutualTLS`) defines nothing a client can use and is reported the same
//! way. The finding is at the scheme's name in the requirement.
//!
//! ## Example
//! ```yaml
//! openapi: 3.0.3
//! security: [{bearerAuht: []}]
//! components:
//!   securitySchemes:
//!     bearerAuth: {type: http, scheme: bearer}
//! ```
//!
//! ## Fix
//! ```yaml
//! openapi: 3.0.3
//! security: [{bearerAuth: []}]
//! components:
//!   securitySchemes:
//!     bearerAuth: {type: http, scheme: bearer}
//! ```
//!
//! ## References
//! - https://spec.openapis.org/oas/v3.1.0#security-requirement-object
//! - https://spec.openapis.org/oas/v3.1.0#security-scheme-object
//! - https://swagger.io/specification/v2/#security-definitions-object

use crate::kit_api::{first_line, operations, schemes, security};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA1003",
    name: "api-security-scheme-undefined",
    category: Category::Api,
    levels: levels!(warning, warning, error, error, error),
    summary: "a security requirement names a scheme the contract does not define",
    help: "define the scheme under `components.securitySchemes` (2.0: `securityDefinitions`) or fix the name in the requirement",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let contracts = cx.contracts();
    for c in contracts.list.iter().filter(|c| !c.asyncapi) {
        let Some(spec) = contracts.spec(c) else {
            continue;
        };
        let defined = schemes(&spec);
        let section = if spec.swagger2 {
            "securityDefinitions"
        } else {
            "components.securitySchemes"
        };
        let names: Vec<&str> = defined.iter().map(|s| s.name).collect();
        let mut lists: Vec<(String, _)> = security(spec.root)
            .map(|s| ("the document's `security`".to_owned(), s))
            .into_iter()
            .collect();
        for op in operations(&spec) {
            if let Some(s) = security(op.node) {
                lists.push((format!("`{} {}`", op.method, op.path), s));
            }
        }
        for (whose, list) in &lists {
            for (_, alternative) in &list.alternatives {
                for &(name, pos) in alternative {
                    let message = match defined.iter().find(|s| s.name == name) {
                        Some(s) if s.kind().is_some() => continue,
                        Some(s) => format!(
                            "{whose} requires the scheme `{name}`, whose type `{}` is not a security scheme type OpenAPI defines",
                            s.node.node.get_str("type").unwrap_or("(none)")
                        ),
                        None => format!(
                            "{whose} requires the scheme `{name}`, which `{section}` does not define"
                        ),
                    };
                    let (file, at) = contracts
                        .scan_file(list.file)
                        .map_or((c.file, first_line()), |f| (f, pos));
                    let help = if names.is_empty() {
                        format!("define `{name}` under `{section}`")
                    } else {
                        format!(
                            "define `{name}` under `{section}`, or name one that is defined: {}",
                            names.join(", ")
                        )
                    };
                    out.at(Some(file), Some(at), message).help(help);
                }
            }
        }
    }
}
