//! OpenAPI 2.0, 3.0 and 3.1: reading a specification and comparing two versions.

pub(crate) mod diff;
pub mod ids;
mod load;
pub(crate) mod schema;
pub(crate) mod spec;

use std::path::Path;

use cairn_source::{Diagnostic, FileId};

pub use diff::{Options, parse_date, show_date};
pub use load::{At, Docs, Reader, normalize};
pub use spec::{METHODS, Spec, path_key};

use crate::Change;

/// Compares the specifications whose root documents are `base` and `revision`.
///
/// A root that is not an OpenAPI or Swagger document is a diagnostic; it
/// is still compared, as far as it has the shape of one.
pub fn compare(
    docs: &Docs,
    base: FileId,
    revision: FileId,
    opts: &Options,
) -> (Vec<Change>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    for f in [base, revision] {
        if let Some(root) = docs.root(f)
            && root.node.get("openapi").is_none()
            && root.node.get("swagger").is_none()
        {
            diags.push(
                Diagnostic::warning("contract-not-openapi", "document has no `openapi` or `swagger` version field; it was compared as OpenAPI 3")
                    .in_file(f)
                    .at(root.node.pos)
                    .with_help("start the document with `openapi: 3.1.0` (or the version it follows)"),
            );
        }
    }
    match (Spec::new(docs, base), Spec::new(docs, revision)) {
        (Some(b), Some(r)) => (diff::compare(b, r, opts), diags),
        _ => (Vec::new(), diags),
    }
}

/// Reads two specification files (and what their `$ref`s reach) and compares them.
pub fn diff_files(base: &Path, revision: &Path, opts: &Options) -> (Docs, Vec<Change>) {
    let mut docs = Docs::new();
    let b = docs.load(base);
    let r = docs.load(revision);
    let changes = match (b, r) {
        (Some(b), Some(r)) => {
            let (changes, diags) = compare(&docs, b, r, opts);
            docs.diagnostics.extend(diags);
            changes
        }
        _ => Vec::new(),
    };
    (docs, changes)
}
