//! A suppression that does not say why.
//!
//! A suppression silences a rule for one object or one line. Without a
//! reason, the next reader cannot tell a considered exception from a
//! shortcut, and nobody revisits it when the reason goes away.
//!
//! ## Example
//! ```yaml
//! metadata:
//!   annotations:
//!     cairn.dev/ignore: run-as-root
//! ```
//!
//! ## Fix
//! Write the reason after the rule names:
//! `cairn.dev/ignore: "run-as-root vendor image runs as uid 0, tracked in OPS-12"`,
//! or `# cairn:ignore run-as-root vendor image runs as uid 0`.
//!
//! ## References
//! - docs/check.md, "Suppressing findings"
//!
//! ## Notes
//! The engine reports this rule after every other rule has run, because it
//! reads the suppressions themselves; the check function has nothing to do.

use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA001",
    name: "suppression-without-reason",
    category: Category::Suppression,
    levels: levels!(info, info, warning, warning, warning),
    summary: "a `cairn.dev/ignore` annotation or `cairn:ignore` comment gives no reason",
    help: "write the reason after the rule names",
    check,
};

fn check(_: &Ctx<'_>, _: &mut Out) {
    // reported by the engine (see `suppress.rs`) once every rule has run
}
