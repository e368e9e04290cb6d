//! A datastore is used by more than one application service.
//!
//! Database per service: each service owns its data and others reach it
//! only through the service's API or its events. When two services read and
//! write the same database, its schema becomes a contract nobody versions:
//! one team's migration breaks the other's queries, a slow report from one
//! service starves the other's transactions, and neither can be deployed,
//! scaled or moved to another engine alone.
//!
//! The rule reports a datastore (a service whose role is `datastore`:
//! recognised from its image, name or port, or stated in `cairn.yaml`) that
//! more than one application service (role `app`) depends on, listing them.
//! A cache counts like a database: a shared cache couples the services' keys,
//! formats and eviction just the same. A compose `depends_on` alone is start
//! order, not use; a connection string, host variable or `cairn.yaml`
//! dependency is use.
//!
//! Left out, because they are not the services the pattern is about:
//! brokers (role `broker`: sharing a broker is what it is for), dashboards
//! and collectors reading a datastore (role `observability`), platform
//! plumbing (`infra`), load generators, and one service deployed in several
//! namespaces (`orders` and `orders.staging` are one service). Services that
//! state the same bounded context (`context:` in `cairn.yaml`) share their
//! data knowingly and are not reported.
//!
//! ## Example
//! ```yaml
//! # orders and invoicing both connect to orders-db
//! env:
//!   - name: DATABASE_URL
//!     value: postgres://orders-db:5432/orders
//! ---
//! env:
//!   - name: ORDERS_DB_HOST
//!     value: orders-db
//! ```
//!
//! ## Fix
//! Give each service its own database (at least its own schema and
//! credentials), and let `invoicing` read orders through the `orders` API
//! or the `order-placed` event stream. If the services really are one
//! bounded context, say so in `cairn.yaml`:
//! ```yaml
//! services:
//!   orders: {context: ordering}
//!   invoicing: {context: ordering}
//! ```
//!
//! ## References
//! - https://microservices.io/patterns/data/database-per-service.html
//! - https://microservices.io/patterns/data/shared-database.html
//! - https://learn.microsoft.com/en-us/azure/architecture/microservices/design/data-considerations
//!
//! ## Notes
//! cairn sees which server each service connects to, not which database or
//! schema on it: services that keep separate databases on one server are
//! reported too. They still share its capacity, failures and upgrades; when
//! that is intended, suppress the finding with the reason.

use std::collections::{BTreeSet, HashMap};

use cairn_model::{Role, Service};

use crate::kit_graph::{beyond_start_order, list_some, report, services_by_name};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA502",
    name: "shared-datastore",
    category: Category::Architecture,
    levels: levels!(off, info, info, warning, warning),
    summary: "a datastore is used by more than one application service",
    help: "give each service its own database and share data through an API or events",
    check,
};

/// A service's name without the namespace the model adds when a name is
/// shared across namespaces (`orders.staging` is `orders`).
fn base_name(s: &Service) -> &str {
    s.namespace
        .as_deref()
        .and_then(|ns| s.name.strip_suffix(ns)?.strip_suffix('.'))
        .unwrap_or(&s.name)
}

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let by_name = services_by_name(cx.system);
    let mut users: HashMap<&str, Vec<&Service>> = HashMap::new();
    for e in &cx.system.edges {
        let (Some(from), Some(to)) = (
            by_name.get(e.from.as_str()).copied(),
            by_name.get(e.to.as_str()).copied(),
        ) else {
            continue;
        };
        if to.role == Role::Datastore
            && from.role == Role::App
            && !std::ptr::eq(from, to)
            && beyond_start_order(e)
        {
            users.entry(to.name.as_str()).or_default().push(from);
        }
    }
    for ds in cx
        .system
        .services
        .iter()
        .filter(|s| s.role == Role::Datastore)
    {
        let Some(apps) = users.get(ds.name.as_str()) else {
            continue;
        };
        let names: BTreeSet<&str> = apps.iter().map(|s| base_name(s)).collect();
        if names.len() < 2 {
            continue;
        }
        let contexts: BTreeSet<Option<&str>> = apps.iter().map(|s| s.context.as_deref()).collect();
        if contexts.len() == 1 && contexts.first().is_some_and(Option::is_some) {
            continue;
        }
        let engine = cx
            .system
            .datastores
            .iter()
            .find(|d| d.name == ds.name)
            .map(|d| d.engine.as_str())
            .filter(|e| *e != "unknown");
        let names: Vec<&str> = names.into_iter().collect();
        let message = format!(
            "datastore `{}`{} is used by {} application services: {}",
            ds.name,
            engine.map_or_else(String::new, |e| format!(" ({e})")),
            names.len(),
            list_some(&names, 20)
        );
        report(cx, out, ds.evidence.first(), Some(ds), message).help(format!(
            "let one service own `{}` and the others reach its data through that service's API or events; if they are one bounded context, state the same `context:` for them in cairn.yaml",
            ds.name
        ));
    }
}
