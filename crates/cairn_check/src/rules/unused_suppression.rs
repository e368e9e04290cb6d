//! A suppression that silences nothing.
//!
//! A suppression whose rule no longer fires on its object or line, or that
//! names a rule that does not exist (often a typo), is noise at best; at
//! worst it hides the next real finding there. cairn reports it so it can
//! be removed.
//!
//! ## Example
//! ```yaml
//! # cairn:ignore image-tag-lastest pinned by the release pipeline
//! image: shop/web:1.4.2
//! ```
//!
//! ## Fix
//! Remove the suppression, or correct the rule name (`cairn rules` lists them).
//!
//! ## References
//! - docs/check.md, "Suppressing findings"
//!
//! ## Notes
//! The engine reports this rule after every other rule has run; a
//! suppression of a rule that the configuration turned off is not reported.

use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA002",
    name: "unused-suppression",
    category: Category::Suppression,
    levels: levels!(info, info, warning, warning, warning),
    summary: "a suppression names no rule, or its rule reports nothing there",
    help: "remove the suppression or correct the rule name",
    check,
};

fn check(_: &Ctx<'_>, _: &mut Out) {
    // reported by the engine (see `suppress.rs`) once every rule has run
}
