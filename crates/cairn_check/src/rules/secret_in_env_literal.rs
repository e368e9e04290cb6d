//! A credential is written as a literal environment value.
//!
//! A password, token or key written into a manifest's `env` is readable by
//! everyone who can read the manifest: the repository, its history and
//! forks, CI logs, and anyone with `get` on the workload in the cluster
//! (the value is not a Secret, so no RBAC rule on Secrets protects it).
//! Rotating it means a commit and a rollout. A `secretKeyRef` (or an
//! external secret store) keeps the value out of the manifest and under
//! the access rules of Secrets.
//!
//! A literal is reported when its name says it is a credential (words such
//! as `password`, `passwd`, `secret`, `token`, `credentials`, `auth`,
//! `bearer`, `api_key`, `access_key`, `private_key`, `client_secret`, in
//! any case and word style: `DB_PASSWORD`, `jwtSecret`, `PGPASSWORD`), or
//! when the value itself has the shape of one, whatever the name: a PEM
//! or OpenSSH private key, an AWS access key id (`AKIA…`), a GitHub token
//! (`ghp_…`), a Slack token (`xox…`), a Stripe secret key (`sk_live_…`), a
//! Google API key (`AIza…`), a JSON web token (`eyJ….eyJ….…`), or a URL
//! with a password in it (`postgres://app:s3cret@db/app`).
//!
//! What is not reported: references the runtime fills in (`$(VAR)`,
//! `${VAR}`), empty values and placeholders (`<password>`, a value that
//! repeats the variable's name such as `API_KEY_VAL`); names that describe
//! a credential rather than hold one (`PASSWORD_FILE`, `DB_SECRET_NAME`,
//! `TOKEN_URL`, `AUTH_ENABLED`, `SECRET_KEY_REF`, `TOKEN_EXPIRY_SECONDS`);
//! and, under a credential-like name, values that are evidently not
//! credentials: booleans, paths, URLs without a password. Compose services'
//! `environment` entries written in the compose file are checked the same
//! way. The message never repeats the value, and the finding points at the
//! variable's name rather than its value, so that the source excerpt shown
//! in a CI log does not repeat it either (unless both are on one line).
//!
//! ## Example
//! ```yaml
//! env:
//!   - name: DB_PASSWORD
//!     value: hunter2
//! ```
//!
//! ## Fix
//! ```yaml
//! env:
//!   - name: DB_PASSWORD
//!     valueFrom:
//!       secretKeyRef: {name: shop-db, key: password}
//! ```
//! Then rotate the credential: it is in the repository's history.
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/configuration/secret/#using-secrets-as-environment-variables
//! - https://kubernetes.io/docs/concepts/security/secrets-good-practices/
//! - https://docs.docker.com/compose/how-tos/use-secrets/
//!
//! ## Differences from other tools
//! Polaris (`sensitiveContainerEnvVar`) matches a fixed list of names
//! (`AZURE_*KEY`, `OCI_CLI_KEY_CONTENT`, …); cairn reads the words of the
//! name and the shape of the value instead. Both catch a private key by its
//! value. kube-linter (`env-var-secret`) fires on any name containing
//! `secret` with a non-empty value, including `DB_SECRET_NAME=orders-db`
//! and `SECRET_FILE=/run/…`; cairn leaves such pointers to a credential
//! alone, and reads the other credential words too (`password`, `token`).
//!
//! ## Notes
//! A name-based heuristic can miss a credential with an innocent name, and
//! report a literal that merely looks like one (a demo's default password
//! is still a literal credential). Values in a compose `env_file` are not
//! reported: keeping them out of the compose file is the point of that
//! file. A compose value built from `${VAR}` is not judged, even when the
//! variable has a literal default.

use crate::kit_security::{container_desc, literal_secret, raw_text};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA908",
    name: "secret-in-env-literal",
    category: Category::Security,
    levels: levels!(warning, warning, warning, error, error),
    summary: "a credential is written as a literal environment value",
    help: "move the value into a Secret and read it with valueFrom.secretKeyRef, then rotate it",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    for (i, obj) in cx.workloads() {
        for c in cx.containers(obj) {
            for var in c.node.seq_at("env") {
                let (Some(name), Some(value)) = (
                    var.get_str("name"),
                    var.get("value").and_then(Node::as_scalar),
                ) else {
                    continue;
                };
                if let Some(why) = literal_secret(name, &value.text) {
                    // the variable's name, not its value: the excerpt shown in CI logs
                    // then does not repeat the credential (in the usual two-line form)
                    let pos = var.get("name").map_or(var.pos, |n| n.pos);
                    out.object(
                        cx,
                        i,
                        pos,
                        format!("env `{name}` of {} {why}", container_desc(obj, &c)),
                    )
                    .help(format!(
                        "read `{name}` from a Secret with valueFrom.secretKeyRef, then rotate the credential"
                    ));
                }
            }
        }
    }
    for project in &cx.ingest.compose {
        for svc in &project.services {
            for e in &svc.env {
                let Some(value) = e.value.as_deref() else {
                    continue;
                };
                // entries from an env_file are kept out of the compose file on purpose
                if !project.files.contains(&e.loc.file) {
                    continue;
                }
                // an interpolated value comes from the environment, not from the file
                let Some(raw) = raw_text(cx, e.loc.file, e.loc.pos) else {
                    continue;
                };
                // `- KEY` or `KEY:` without a value takes it from the shell or `.env`
                let written = raw.trim();
                if raw.contains('$')
                    || written.is_empty()
                    || written == e.key
                    || matches!(written, "~" | "null" | "Null" | "NULL")
                {
                    continue;
                }
                if let Some(why) = literal_secret(&e.key, value) {
                    let pos = compose_key_pos(svc, e, raw);
                    crate::rules_kit::report_compose(
                        out,
                        svc,
                        e.loc.file,
                        pos,
                        format!(
                            "environment `{}` of compose service `{}` {why}",
                            e.key, svc.name
                        ),
                    )
                    .help(format!(
                        "pass `{}` with compose `secrets:` or from the environment (`${{{}}}`), then rotate the credential",
                        e.key, e.key
                    ));
                }
            }
        }
    }
}

/// Where a compose variable's name is written, so that the excerpt does not
/// underline its value: the key of `KEY: value`, or the `KEY` of `- KEY=value`.
fn compose_key_pos(
    svc: &cairn_ingest::ComposeService,
    e: &cairn_ingest::compose::EnvEntry,
    raw: &str,
) -> Pos {
    let at = e.loc.pos;
    let key_of_map = svc
        .nodes
        .iter()
        .filter(|(file, _)| *file == e.loc.file)
        .filter_map(|(_, n)| n.get("environment")?.as_map())
        .flatten()
        .find(|(_, v)| v.pos.start == at.start && v.pos.line == at.line)
        .map(|(k, _)| k.pos);
    if let Some(k) = key_of_map {
        return k;
    }
    if raw.starts_with(e.key.as_str()) {
        return Pos {
            end: at.start + e.key.len() as u32,
            ..at
        };
    }
    at
}
