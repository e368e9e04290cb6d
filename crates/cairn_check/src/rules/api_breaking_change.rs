//! An API contract changed in a way that breaks its clients, compared with a baseline.
//!
//! A removed endpoint, a response field that is no longer returned, a
//! request parameter that became required: each breaks clients that were
//! written against the old contract, and none shows in a review of the new
//! file alone. With `cairn check --baseline git:<rev>` (a git revision,
//! e.g. `git:main` or `git:HEAD~1`) or `--baseline <folder>` (a folder
//! holding the old version of the scanned tree), every OpenAPI and AsyncAPI
//! contract the scan finds is compared with its version in the baseline,
//! `$ref`s to other files included, and every change that breaks clients
//! (oasdiff's `ERR` level: `cairn diff --list-ids` lists them; for AsyncAPI
//! the same ids with `received`/`sent` for `request`/`response`, and
//! removed channels, operations and messages) is a finding. The message
//! names the change's id, so a team moving from oasdiff keeps its
//! vocabulary. The scan's `.proto` files are compared as one tree with
//! buf's default `FILE` rules (ids such as `FIELD_NO_DELETE`), as
//! `buf breaking` would compare them.
//!
//! A contract at path `P` is compared with `git show <rev>:./P` (run in
//! its folder) or `<folder>/P` (`P` relative to the scanned path). A
//! contract the baseline does not have is new and has no finding. A change
//! is reported where it is in the current contract; a removal is reported
//! on the contract's first line, and the message names where the removed
//! part was in the baseline.
//!
//! **Without `--baseline` the rule reports nothing**: there is nothing to
//! compare with. `cairn diff OLD NEW` compares two files with every option
//! (levels, ignore files, prefixes).
//!
//! ## Example
//! ```yaml
//! # baseline (git:main)
//! paths:
//!   /v1/pets/{id}:
//!     get:
//!       responses: {"200": {description: the pet}}
//!     delete:
//!       responses: {"204": {description: deleted}}
//! # current: `delete` is gone
//! paths:
//!   /v1/pets/{id}:
//!     get:
//!       responses: {"200": {description: the pet}}
//! ```
//!
//! ## Fix
//! Keep the operation, deprecate it first (`deprecated: true` and an
//! `x-sunset` date), and remove it once the sunset date has passed; or
//! publish the change as a new major version (`/v2/...`) beside the old one.
//!
//! ## References
//! - https://github.com/oasdiff/oasdiff/blob/main/BREAKING-CHANGES.md
//! - https://github.com/oasdiff/oasdiff/blob/main/docs/BREAKING-CHANGES-EXAMPLES.md
//! - https://semver.org/

use std::fmt::Write;

use cairn_contract::Level as ChangeLevel;
use cairn_contract::openapi::Options;

use crate::kit_api::{first_line, proto_breaks};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA1005",
    name: "api-breaking-change",
    category: Category::Api,
    levels: levels!(warning, warning, error, error, error),
    summary: "an OpenAPI, AsyncAPI or .proto contract changed in a way that breaks its clients, compared with `--baseline`",
    help: "keep the old behaviour (deprecate first, remove after the sunset date) or publish the change as a new major version",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let Some(baseline) = &cx.settings.baseline else {
        return;
    };
    let contracts = cx.contracts();
    let opts = Options::default();
    for c in &contracts.list {
        let Some(base) = c.base else { continue };
        let (changes, _) = cairn_contract::compare(&contracts.docs, base, c.current, &opts);
        for change in changes.iter().filter(|ch| ch.level == ChangeLevel::Err) {
            let operation = match (&change.operation, &change.path) {
                (Some(m), Some(p)) => format!(" in `{m} {p}`"),
                (None, Some(p)) => format!(" in `{p}`"),
                _ => String::new(),
            };
            let here = change
                .loc
                .and_then(|l| Some((contracts.scan_file(l.file)?, l.pos)));
            let mut message = format!(
                "breaking change `{}`{operation} since {}: {}",
                change.id,
                baseline.name(),
                change.text
            );
            let (file, pos) = match (here, change.loc) {
                (Some(at), _) => at,
                (None, Some(l)) => {
                    let _ = write!(message, " (in the baseline at {})", contracts.show(l));
                    (c.file, first_line())
                }
                (None, None) => (c.file, first_line()),
            };
            let f = out.at(Some(file), Some(pos), message);
            if let Some(help) = cairn_contract::output::help(change.id) {
                f.help(help);
            }
        }
    }
    for b in proto_breaks(cx.ingest, baseline) {
        let c = &b.change;
        let mut message = format!(
            "breaking change `{}` since {}: {}",
            c.rule,
            baseline.name(),
            c.message
        );
        let (file, pos) = if let Some(at) = b.at {
            at
        } else {
            if let Some(f) = &c.file {
                let _ = write!(message, " (in the baseline at {f}:{})", c.start_line.max(1));
            }
            (b.fallback, first_line())
        };
        let f = out.at(Some(file), Some(pos), message);
        if let Some(help) = cairn_contract::output::help(c.rule) {
            f.help(help);
        }
    }
}
