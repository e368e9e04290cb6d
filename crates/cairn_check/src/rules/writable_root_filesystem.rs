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

use crate::kit_security::{linux_containers, unsafe_bool};
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
    for wc in linux_containers(cx) {
        unsafe_bool(
            cx,
            out,
            &wc,
            "readOnlyRootFilesystem",
            true,
            [
                "has a writable root filesystem (readOnlyRootFilesystem: false)",
                "has a writable root filesystem: readOnlyRootFilesystem is not a boolean",
                "has a writable root filesystem: readOnlyRootFilesystem is not set",
            ],
        );
    }
}
