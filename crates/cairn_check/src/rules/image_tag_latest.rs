//! An image has no tag, or the tag `latest`.
//!
//! An image without a tag means `:latest`, and `latest` means whatever was
//! pushed last. Two nodes can run two different builds of the same pod;
//! a restart can silently upgrade a service; a rollback to the previous
//! manifest rolls back nothing, because the manifest never said which build
//! it ran. Kubernetes also defaults `imagePullPolicy` to `Always` for
//! these, so a registry outage stops pods from starting.
//!
//! The rule fires on every container (init and ephemeral included) and
//! every compose service whose image has no tag or the tag `latest`. A
//! digest (`app@sha256:…`) pins the image whatever the tag says, so it
//! passes. A colon in the registry host (`registry:5000/app`) is a port,
//! not a tag.
//!
//! ## Example
//! ```yaml
//! containers:
//!   - name: web
//!     image: shop/web:latest
//! ```
//!
//! ## Fix
//! Name the build: a version tag, or better a digest, which cannot move.
//!
//! ```yaml
//!     image: shop/web:1.4.2@sha256:3b5e…
//! ```
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/containers/images/#image-names
//! - https://kubernetes.io/docs/concepts/configuration/overview/#container-images
//! - https://docs.docker.com/reference/compose-file/services/#image
//!
//! ## Notes
//! An image left for a tool to fill in (`${TAG}`, `{{ .Values.tag }}`) is
//! not judged. An untagged image that Skaffold builds is skipped, because
//! Skaffold replaces it with the tag it builds: an image named as a build
//! artifact of a Skaffold `Config` in the scan (`build.artifacts[].image`),
//! or a bare local name (no `/`) in a file under a folder that such a
//! config `requires`. A Kustomize `images:` override is
//! honoured when the kustomization is rendered; cairn does not apply it
//! to unrendered bases.

use std::collections::HashSet;

use crate::kit_security::{
    ImageVersion, container_desc, image_is_templated, image_version, raw_text,
};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA909",
    name: "image-tag-latest",
    category: Category::Security,
    levels: levels!(off, info, info, warning, error),
    summary: "an image has no tag, or the tag `latest`",
    help: "pin the image to a version tag or, better, a digest (`@sha256:…`)",
    check,
};

/// What is wrong with an image reference, if anything.
fn problem(image: &str) -> Option<String> {
    match image_version(image) {
        ImageVersion::Latest => Some(format!(
            "uses the `latest` tag of `{}`, so what runs changes with every push",
            image.trim_end_matches(":latest")
        )),
        ImageVersion::Untagged => Some(format!(
            "runs `{image}` without a tag, so it gets whatever `latest` is at pull time"
        )),
        ImageVersion::Digest | ImageVersion::Tag => None,
    }
}

/// What Skaffold configs in the scan build and tag at deploy time: image
/// names (`build.artifacts[].image`) and folders of the configs they
/// require (`requires[].path`), whose own artifact lists may not be in the
/// scan.
struct Skaffold<'a> {
    images: HashSet<&'a str>,
    folders: Vec<String>,
}

impl Skaffold<'_> {
    /// Whether an untagged `image` in `path` is a Skaffold build artifact.
    fn builds(&self, image: &str, path: &str) -> bool {
        self.images.contains(image)
            || (!image.contains('/')
                && self.folders.iter().any(|f| {
                    path.strip_prefix(f.as_str())
                        .is_some_and(|r| r.starts_with('/'))
                }))
    }
}

fn skaffold<'a>(cx: &Ctx<'a>) -> Skaffold<'a> {
    let mut images = HashSet::new();
    let mut folders = Vec::new();
    for (_, o) in cx.of_kind("Config") {
        if !o.api_version.starts_with("skaffold/") {
            continue;
        }
        images.extend(
            o.root
                .path(&["build", "artifacts"])
                .and_then(Node::as_seq)
                .unwrap_or(&[])
                .iter()
                .filter_map(|a| a.get_str("image")),
        );
        let base = cx.path(o.file).rsplit_once('/').map_or("", |(dir, _)| dir);
        for r in o.root.seq_at("requires") {
            let Some(required) = r.get_str("path") else {
                continue;
            };
            // `requires[].path` names a skaffold.yaml or the folder holding one
            let path = std::path::Path::new(required);
            let is_file = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
            let dir = if is_file {
                required.rsplit_once('/').map_or("", |(dir, _)| dir)
            } else {
                required
            }
            .trim_start_matches("./")
            .trim_end_matches('/');
            if !dir.is_empty() && !dir.starts_with("..") {
                folders.push(if base.is_empty() {
                    dir.to_owned()
                } else {
                    format!("{base}/{dir}")
                });
            }
        }
    }
    Skaffold { images, folders }
}

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let built = skaffold(cx);
    for (i, obj) in cx.workloads() {
        for c in cx.containers(obj) {
            let Some(node) = c.node.get("image") else {
                continue;
            };
            let Some(image) = node.as_str().map(str::trim).filter(|s| !s.is_empty()) else {
                continue;
            };
            if image_is_templated(image)
                || (image_version(image) == ImageVersion::Untagged
                    && built.builds(image, cx.path(obj.file)))
            {
                continue;
            }
            if let Some(p) = problem(image) {
                out.object(cx, i, node.pos, format!("{} {p}", container_desc(obj, &c)));
            }
        }
    }
    for project in &cx.ingest.compose {
        for svc in &project.services {
            let Some(image) = &svc.image else {
                continue;
            };
            let text = image.value.trim();
            // an interpolated variable left empty (`app:${TAG}` with TAG unset) is not a choice of tag
            let raw = raw_text(cx, image.loc.file, image.loc.pos);
            if text.is_empty()
                || image_is_templated(text)
                || (raw.is_some_and(|r| r.contains('$'))
                    && image_version(text) == ImageVersion::Untagged)
            {
                continue;
            }
            if let Some(p) = problem(text) {
                crate::rules_kit::report_compose(
                    out,
                    svc,
                    image.loc.file,
                    image.loc.pos,
                    format!("compose service `{}` {p}", svc.name),
                );
            }
        }
    }
}
