//! A container's root filesystem is writable.
//!
//! With a writable root filesystem, an attacker who gets code execution in
//! the container can drop tools, rewrite the application's own files and
//! persist for the life of the container. A read-only root filesystem also
//! makes the container's state plain: whatever it writes goes to a volume
//! that the manifest names. The rule fires unless the container's
//! `securityContext.readOnlyRootFilesystem` is `true` (Kubernetes'
//! default is writable). Init and ephemeral containers count.
//!
//! `readOnlyRootFilesystem` exists only in the container's
//! `securityContext`; a pod-level key of that name is ignored by Kubernetes
//! and by cairn. Windows pods (`spec.os.name: windows`) are skipped.
//!
//! ## Example
//! ```yaml
//! containers:
//!   - name: web
//!     image: shop/web:1.4.2
//!     securityContext:
//!       readOnlyRootFilesystem: false
//! ```
//!
//! ## Fix
//! Make the root filesystem read-only and mount an `emptyDir` where the
//! application must write (temporary files, caches):
//!
//! ```yaml
//!     securityContext:
//!       readOnlyRootFilesystem: true
//!     volumeMounts:
//!       - {name: tmp, mountPath: /tmp}
//! volumes:
//!   - {name: tmp, emptyDir: {}}
//! ```
//!
//! ## References
//! - https://kubernetes.io/docs/tasks/configure-pod-container/security-context/
//! - https://kubernetes.io/docs/concepts/storage/volumes/#emptydir

use crate::kit_security::{container_desc, container_security, security_anchor, windows_pod};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA903",
    name: "writable-root-filesystem",
    category: Category::Security,
    levels: levels!(off, info, info, warning, warning),
    summary: "a container's root filesystem is writable",
    help: "set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the container writes",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    for (i, obj) in cx.workloads() {
        if windows_pod(obj) {
            continue;
        }
        for c in cx.containers(obj) {
            let node = container_security(&c, "readOnlyRootFilesystem");
            let who = || container_desc(obj, &c);
            match node.map(|n| (n, n.as_bool())) {
                Some((_, Some(true))) => {}
                Some((n, Some(false))) => {
                    out.object(
                        cx,
                        i,
                        n.pos,
                        format!(
                            "{} has a writable root filesystem (readOnlyRootFilesystem: false)",
                            who()
                        ),
                    );
                }
                Some((n, None)) => {
                    out.object(
                        cx,
                        i,
                        n.pos,
                        format!("{} has a writable root filesystem: readOnlyRootFilesystem is not a boolean", who()),
                    );
                }
                None => {
                    out.object(
                        cx,
                        i,
                        security_anchor(&c),
                        format!(
                            "{} has a writable root filesystem: readOnlyRootFilesystem is not set",
                            who()
                        ),
                    );
                }
            }
        }
    }
}
