//! A container does not drop all Linux capabilities.
//!
//! Containers start with the runtime's default capability set (about
//! fourteen, among them `NET_RAW`, which lets a process forge packets and
//! spoof ARP on the pod network, `CHOWN`, `SETUID`, `DAC_OVERRIDE`). Few
//! applications need any of them. Dropping `ALL` and adding back only what
//! the process needs (often nothing, sometimes `NET_BIND_SERVICE`) removes
//! that attack surface, and is what the Pod Security `restricted` profile
//! requires.
//!
//! The rule fires when the container's `securityContext.capabilities.drop`
//! does not contain `ALL` (any letter case), or when `add` puts `ALL` back.
//! A long explicit drop list is not enough: the runtime's default set
//! changes between runtimes and versions, and only `ALL` covers them all.
//! The message also names dangerous capabilities the container adds
//! (`ALL`, `SYS_ADMIN`, `NET_ADMIN`, `NET_RAW`). Init and ephemeral
//! containers count; Windows pods are skipped. `capabilities` exists only
//! in the container's `securityContext`; a pod-level key is ignored.
//!
//! ## Example
//! ```yaml
//! containers:
//!   - name: web
//!     image: shop/web:1.4.2
//!     securityContext:
//!       capabilities:
//!         add: [NET_RAW]
//! ```
//!
//! ## Fix
//! ```yaml
//!     securityContext:
//!       capabilities:
//!         drop: [ALL]
//!         add: [NET_BIND_SERVICE]   # only if it binds a port below 1024
//! ```
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
//! - https://kubernetes.io/docs/tasks/configure-pod-container/security-context/#set-capabilities-for-a-container
//! - https://man7.org/linux/man-pages/man7/capabilities.7.html
//!
//! ## Differences from other tools
//! Polaris (`insecureCapabilities`) also accepts a container that drops a
//! fixed list of named capabilities instead of `ALL`; cairn does not,
//! because a list only covers the capabilities its author thought of, while
//! `ALL` covers the runtime's whole default set. kube-linter's
//! `drop-net-raw-capability` is silent on `capabilities: null`; cairn fires
//! there, since nothing is dropped.
//!
//! ## Notes
//! cairn accepts `all` in any letter case, as container runtimes do. The
//! Pod Security admission controller compares the upper-case `ALL`
//! exactly, so in a namespace enforcing `restricted` write it upper-case.

use crate::kit_security::{capabilities, container_security, linux_containers, security_anchor};
use crate::prelude::*;

/// Added capabilities worth naming in the message.
const DANGEROUS: &[&str] = &[
    "ALL",
    "SYS_ADMIN",
    "NET_ADMIN",
    "NET_RAW",
    "SYS_PTRACE",
    "SYS_MODULE",
];

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA904",
    name: "capabilities-not-dropped",
    category: Category::Security,
    levels: levels!(info, info, info, warning, warning),
    summary: "a container does not drop all Linux capabilities",
    help: "set securityContext.capabilities.drop: [ALL] and add back only what the process needs",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    for wc in linux_containers(cx) {
        let (i, c) = (wc.index, &wc.c);
        let drop = capabilities(c, "drop");
        let add = capabilities(c, "add");
        let drops_all = drop.iter().any(|(n, _)| n == "ALL");
        let adds_all = add.iter().find(|(n, _)| n == "ALL");
        let who = || wc.desc();
        if let Some((_, node)) = adds_all.filter(|_| drops_all) {
            out.object(
                cx,
                i,
                node.pos,
                format!(
                    "{} drops all capabilities but adds them all back (add: [ALL])",
                    who()
                ),
            )
            .help("replace `add: [ALL]` with the few capabilities the process needs");
            continue;
        }
        if drops_all {
            continue;
        }
        let caps = container_security(c, "capabilities");
        let pos = caps
            .and_then(|n| n.get("drop"))
            .map(|n| n.pos)
            .or_else(|| {
                c.node
                    .get("securityContext")
                    .and_then(|s| key_pos(s, "capabilities"))
            })
            .unwrap_or_else(|| security_anchor(c));
        let what = if drop.is_empty() {
            "drops no capabilities, so it keeps the runtime's default set"
        } else {
            "drops some capabilities but not ALL, so it keeps the rest of the runtime's default set"
        };
        let mut dangerous: Vec<&str> = add
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(|n| DANGEROUS.contains(n))
            .collect();
        dangerous.sort_unstable();
        dangerous.dedup();
        let message = if dangerous.is_empty() {
            format!("{} {what}", who())
        } else {
            format!(
                "{} {what}, and it adds {}",
                who(),
                dangerous
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        out.object(cx, i, pos, message);
    }
}
