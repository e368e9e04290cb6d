//! The registry of diagnostic codes that reading and modelling can report.
//!
//! Every code a scan emits is listed here once, with what it means; the
//! documentation (`docs/scan-diagnostics.md`) is generated from this table
//! and a test fails when a code is used without being listed, or the
//! documentation is stale.

use std::fmt::Write;

use crate::Severity;

/// One diagnostic code and what it means.
#[derive(Clone, Copy, Debug)]
pub struct CodeInfo {
    /// The kebab-case code.
    pub code: &'static str,
    /// The severity it is reported with.
    pub severity: Severity,
    /// What it means and what cairn did about it.
    pub summary: &'static str,
}

const fn code(code: &'static str, severity: Severity, summary: &'static str) -> CodeInfo {
    CodeInfo {
        code,
        severity,
        summary,
    }
}

use Severity::{Error, Info, Warning};

/// Every scan diagnostic, sorted by code.
pub const SCAN_CODES: &[CodeInfo] = &[
    code(
        "bad-exclude",
        Error,
        "an `--exclude` pattern is not a valid glob; it was ignored",
    ),
    code(
        "buf-config-invalid",
        Error,
        "`buf.yaml` next to a `.proto` tree is not valid or names an unknown rule; the default rules (or the valid part) were used",
    ),
    code(
        "check-config-invalid",
        Error,
        "the `checks:` section of cairn.yaml names an unknown rule, severity, glob or threshold; that setting was ignored",
    ),
    code(
        "compose-env-file-missing",
        Warning,
        "a compose `env_file` could not be read; the service's other settings were read",
    ),
    code(
        "compose-unknown-service",
        Warning,
        "`depends_on` or `links` names a service the compose project does not define",
    ),
    code(
        "compose-unset-variable",
        Info,
        "a `${VAR}` has no value in `.env` and no default; it reads as empty, as in Compose",
    ),
    code(
        "compose-wrong-type",
        Warning,
        "a compose service or its `environment` has the wrong type; it was ignored",
    ),
    code(
        "config-duplicate",
        Warning,
        "more than one cairn.yaml was given; only the first is used",
    ),
    code(
        "config-invalid-value",
        Warning,
        "a cairn.yaml value is not one of the allowed values",
    ),
    code(
        "config-service-not-deployed",
        Info,
        "cairn.yaml names a service that no manifest defines; it is modelled as stated only",
    ),
    code(
        "config-unknown-key",
        Warning,
        "cairn.yaml has a key cairn does not know (a typo, often); it was ignored",
    ),
    code(
        "config-wrong-type",
        Warning,
        "a cairn.yaml value has the wrong type; it was ignored",
    ),
    code(
        "contract-empty",
        Error,
        "a contract file holds no document; it was not compared",
    ),
    code(
        "contract-file-added",
        Info,
        "comparing two folders, a contract file is only in the new version",
    ),
    code(
        "contract-file-removed",
        Warning,
        "comparing two folders, a contract file is only in the base; if it moved, compare the two files directly",
    ),
    code(
        "contract-kind-mismatch",
        Error,
        "one version is an AsyncAPI document and the other OpenAPI; they were not compared",
    ),
    code(
        "contract-not-openapi",
        Warning,
        "a document compared as OpenAPI has no `openapi` or `swagger` version field; it was compared as OpenAPI 3",
    ),
    code(
        "contract-not-utf8",
        Warning,
        "a contract file is not valid UTF-8; invalid bytes were read as U+FFFD",
    ),
    code(
        "contract-read",
        Error,
        "a contract file could not be read; nothing was compared for it",
    ),
    code(
        "contract-ref-cycle",
        Error,
        "`$ref`s point at each other without reaching a schema; the reference is left unresolved and the rest compared",
    ),
    code(
        "contract-ref-remote",
        Warning,
        "a `$ref` names a remote document; cairn never uses the network, so it was not followed",
    ),
    code(
        "contract-ref-unresolved",
        Error,
        "a `$ref` points to a file that cannot be read or a node that does not exist; the rest was compared",
    ),
    code(
        "contract-syntax",
        Error,
        "a contract file is not valid YAML or JSON; it was read as far as it parses",
    ),
    code(
        "contract-version-changed",
        Warning,
        "the AsyncAPI major version differs between the two versions; channels and operations were matched by name",
    ),
    code(
        "diff-config-invalid",
        Error,
        "a line of a `cairn diff` severity or ignore file names no known id, level or operation; the other lines apply",
    ),
    code(
        "file-binary",
        Warning,
        "the file holds NUL bytes and was not read",
    ),
    code("file-empty", Info, "the file is empty"),
    code(
        "file-not-utf8",
        Warning,
        "the file is not valid UTF-8; invalid bytes were read as U+FFFD",
    ),
    code(
        "file-too-large",
        Error,
        "the file is over the `--max-file-size` limit and was not read",
    ),
    code(
        "file-unreadable",
        Error,
        "the file could not be opened or read",
    ),
    code(
        "files-not-read",
        Info,
        "files in the scanned folders whose extension is not .yaml, .yml, .json or .proto were not read",
    ),
    code(
        "helm-template-not-rendered",
        Info,
        "a Helm chart template is only YAML after `helm template`; it was not read",
    ),
    code(
        "k8s-missing-kind",
        Warning,
        "a `List` item has no apiVersion or kind; it was ignored",
    ),
    code(
        "k8s-missing-name",
        Warning,
        "an object has no metadata.name",
    ),
    code(
        "k8s-unknown-kind",
        Info,
        "a kind cairn does not model (a CRD, often); it is kept as a generic object",
    ),
    code(
        "k8s-wrong-type",
        Warning,
        "a well-known field has the wrong type (`replicas: \"three\"`); the field was ignored",
    ),
    code(
        "kustomize-component",
        Info,
        "a Kustomize Component is read only through the kustomizations that use it",
    ),
    code(
        "kustomize-not-rendered",
        Warning,
        "kubectl is not on PATH: a transforming kustomization's resources were read without its patches",
    ),
    code(
        "kustomize-render-failed",
        Warning,
        "`kubectl kustomize` failed or timed out; the resources were read as they are",
    ),
    code(
        "path-symlink-loop",
        Warning,
        "a symbolic link loops back to a folder above it; it was not followed",
    ),
    code(
        "path-unreadable",
        Error,
        "a path given or found could not be read (missing, permission denied, dangling link)",
    ),
    code(
        "proto-compile",
        Error,
        "a `.proto` file does not compile (syntax, a missing import); the rest of the tree was compared",
    ),
    code(
        "proto-read",
        Error,
        "a `.proto` file or folder could not be read",
    ),
    code(
        "unrecognised-document",
        Info,
        "a YAML document is not Kubernetes, Compose, a contract or cairn.yaml; it was not used",
    ),
    code(
        "unrecognised-file",
        Info,
        "a file named explicitly holds no format cairn reads",
    ),
    code(
        "yaml-alias-limit",
        Error,
        "alias expansion passed one million nodes (an alias bomb); the document was dropped",
    ),
    code(
        "yaml-bad-merge",
        Warning,
        "a merge key `<<` holds something other than mappings; it was ignored",
    ),
    code(
        "yaml-duplicate-key",
        Warning,
        "a mapping names a key twice; the last value is used",
    ),
    code(
        "yaml-lenient-indentation",
        Warning,
        "a closing line is indented less than YAML allows; read as kubectl and docker compose read it",
    ),
    code(
        "yaml-syntax",
        Error,
        "the text is not YAML; the document it is in was dropped, the rest of the file was read",
    ),
    code(
        "yaml-too-deep",
        Error,
        "nesting passed 256 levels; the document was dropped",
    ),
    code("yaml-unknown-alias", Error, "an alias names no anchor"),
];

/// The entry for `code`.
pub fn lookup(code: &str) -> Option<&'static CodeInfo> {
    SCAN_CODES.iter().find(|c| c.code == code)
}

/// The Markdown reference of every code (`docs/scan-diagnostics.md`).
pub fn markdown() -> String {
    let mut out = String::from(
        "# Scan diagnostics\n\nWhat `cairn scan` reports about its input. Generated from\n`crates/cairn_source/src/codes.rs`; a test keeps this file fresh.\n\n| code | severity | meaning |\n|---|---|---|\n",
    );
    for c in SCAN_CODES {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} |",
            c.code,
            c.severity.as_str(),
            c.summary
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_sorted_unique_and_kebab_case() {
        let codes: Vec<&str> = SCAN_CODES.iter().map(|c| c.code).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(codes, sorted);
        assert!(codes.iter().all(|c| {
            c.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        }));
    }
}
