//! A container allows privilege escalation.
//!
//! `allowPrivilegeEscalation` controls the kernel's `no_new_privs` flag:
//! unless it is `false`, a process in the container can gain privileges
//! it did not start with, through a set-uid binary such as `sudo` or
//! through file capabilities. Kubernetes' default is `true`, so the rule
//! fires unless the container's `securityContext` sets it to `false`.
//!
//! A privileged container, or one that adds `CAP_SYS_ADMIN`, can always
//! escalate, whatever `allowPrivilegeEscalation` says (the API server
//! rejects `false` together with either), so those fire as well. Init and
//! ephemeral containers count. The field exists only in the container's
//! `securityContext`; a pod-level key of that name is ignored. Windows pods
//! (`spec.os.name: windows`) are skipped.
//!
//! ## Example
//! ```yaml
//! containers:
//!   - name: web
//!     image: shop/web:1.4.2
//!     securityContext:
//!       runAsNonRoot: true
//! ```
//!
//! ## Fix
//! ```yaml
//!     securityContext:
//!       runAsNonRoot: true
//!       allowPrivilegeEscalation: false
//! ```
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
//! - https://kubernetes.io/docs/tasks/configure-pod-container/security-context/
//! - https://www.kernel.org/doc/html/latest/userspace-api/no_new_privs.html

use crate::kit_security::{capabilities, container_security, linux_containers, unsafe_bool};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA905",
    name: "privilege-escalation-allowed",
    category: Category::Security,
    levels: levels!(info, info, warning, warning, error),
    summary: "a container allows privilege escalation",
    help: "set securityContext.allowPrivilegeEscalation: false",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    for wc in linux_containers(cx) {
        let (i, c) = (wc.index, &wc.c);
        let who = || wc.desc();
        let privileged = container_security(c, "privileged").filter(|n| n.as_bool() == Some(true));
        let sys_admin = capabilities(c, "add")
            .into_iter()
            .find(|(name, _)| name == "SYS_ADMIN" || name == "ALL");
        if let Some(p) = privileged {
            out.object(
                cx,
                i,
                p.pos,
                format!(
                    "{} allows privilege escalation: it runs privileged, which always allows it",
                    who()
                ),
            )
            .help("remove `privileged: true` and set allowPrivilegeEscalation: false");
            continue;
        }
        if let Some((name, n)) = sys_admin {
            let what = if name == "ALL" {
                "every capability"
            } else {
                "the capability SYS_ADMIN"
            };
            out.object(
                cx,
                i,
                n.pos,
                format!(
                    "{} allows privilege escalation: it adds {what}, which always allows it",
                    who()
                ),
            )
            .help("do not add SYS_ADMIN; set allowPrivilegeEscalation: false");
            continue;
        }
        unsafe_bool(
            cx,
            out,
            &wc,
            "allowPrivilegeEscalation",
            false,
            [
                "allows privilege escalation (allowPrivilegeEscalation: true)",
                "may allow privilege escalation: allowPrivilegeEscalation is not a boolean",
                "allows privilege escalation: allowPrivilegeEscalation is not set, and defaults to true",
            ],
        );
    }
}
