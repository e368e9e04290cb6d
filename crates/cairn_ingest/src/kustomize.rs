//! Kustomize folders.
//!
//! A `kustomization.yaml` that only lists local resource files changes
//! nothing: its files are read as they are, keeping their positions (and
//! listed files outside the scanned folders are added). One that transforms
//! (patches, name prefixes, generators, components, remote bases) is rendered
//! with `kubectl kustomize` when kubectl is on PATH; the files it consumed are
//! then not read again on their own. Without kubectl, its resources are read
//! as they are and a diagnostic says the transformations were not applied.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use cairn_source::Diagnostic;
use cairn_yaml::Node;
use rayon::prelude::*;

use crate::walk::{canonical, display_path};
use crate::{Candidate, Options};

const NAMES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];
const PLAIN_KEYS: &[&str] = &["apiVersion", "kind", "resources", "metadata"];

pub(crate) fn expand(candidates: &mut Vec<Candidate>, opts: &Options, diags: &mut Vec<Diagnostic>) {
    let kfiles: Vec<PathBuf> = candidates
        .iter()
        .filter_map(|c| c.path.clone())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| NAMES.contains(&n))
        })
        .collect();
    if kfiles.is_empty() {
        return;
    }
    let mut consumed: BTreeSet<PathBuf> = BTreeSet::new();
    // Kustomization folders that another kustomization builds on.
    let mut bases: BTreeSet<PathBuf> = BTreeSet::new();
    // Each transforming kustomization and the local files it is built from.
    let mut to_render: Vec<(PathBuf, BTreeSet<PathBuf>)> = Vec::new();
    let mut extra: Vec<PathBuf> = Vec::new();
    for kf in &kfiles {
        let Some(dir) = kf.parent() else { continue };
        let Ok(text) = std::fs::read_to_string(kf) else {
            continue;
        };
        let parsed = cairn_yaml::parse(&text);
        let Some(root) = parsed.documents.first().map(|d| &d.root) else {
            continue;
        };
        let plain = root.as_map().is_some_and(|m| {
            m.iter()
                .all(|(k, _)| k.as_str().is_some_and(|k| PLAIN_KEYS.contains(&k)))
        }) && list(root, "resources")
            .iter()
            .all(|r| dir.join(r).is_file());
        if root.get_str("kind") == Some("Component") {
            // A Component is a fragment (patches, partial objects) applied by the
            // kustomizations that list it; on its own it renders nothing useful.
            consumed_by(dir, root, &mut consumed, &mut bases, 0);
            bases.insert(canonical(dir));
            diags.push(Diagnostic::info(
                "kustomize-component",
                format!(
                    "{}: a Kustomize Component is read only through the kustomizations that use it",
                    display_path(kf)
                ),
            ));
            continue;
        }
        if plain {
            for r in list(root, "resources") {
                extra.push(dir.join(r));
            }
        } else {
            let mut own = BTreeSet::new();
            consumed_by(dir, root, &mut own, &mut bases, 0);
            consumed.extend(own.iter().cloned());
            to_render.push((kf.clone(), own));
        }
    }
    // A kustomization consumed by another one is rendered as part of it.
    to_render.retain(|(kf, _)| !bases.contains(&canonical(kf.parent().unwrap_or(Path::new(".")))));
    let kubectl = opts.render_kustomize && kubectl_available();
    if !to_render.is_empty() && !kubectl {
        for (kf, _) in &to_render {
            diags.push(
                Diagnostic::warning(
                    "kustomize-not-rendered",
                    format!("{}: kubectl is not on PATH, so patches and transformations were not applied; its resources were read as they are", display_path(kf)),
                )
                .with_help("install kubectl to render Kustomize folders"),
            );
        }
        return;
    }
    // kubectl runs are independent: render them in parallel, use the results in order.
    let rendered: Vec<std::io::Result<std::process::Output>> = to_render
        .par_iter()
        .map(|(kf, _)| {
            let mut cmd = Command::new("kubectl");
            cmd.arg("kustomize")
                .arg(kf.parent().unwrap_or(Path::new(".")));
            output_within(cmd, RENDER_TIMEOUT)
        })
        .collect();
    for ((kf, own), result) in to_render.iter().zip(rendered) {
        let dir = kf.parent().unwrap_or(Path::new("."));
        match result {
            Ok(o) if o.status.success() => {
                candidates.push(Candidate {
                    path: None,
                    display: format!("{} (rendered)", display_path(kf)),
                    explicit: true,
                    text: Some(o.stdout),
                    origins: own
                        .iter()
                        .filter(|p| {
                            p.is_file()
                                && !p
                                    .file_name()
                                    .and_then(|n| n.to_str())
                                    .is_some_and(|n| NAMES.contains(&n))
                        })
                        .cloned()
                        .collect(),
                });
            }
            Ok(o) => {
                let err = String::from_utf8_lossy(&o.stderr);
                diags.push(Diagnostic::warning(
                    "kustomize-render-failed",
                    format!(
                        "{}: kubectl kustomize failed: {}; its resources were read as they are",
                        display_path(kf),
                        err.trim().lines().next().unwrap_or("")
                    ),
                ));
                unconsume(dir, &mut consumed);
            }
            Err(e) => {
                diags.push(Diagnostic::warning(
                    "kustomize-render-failed",
                    format!("{}: kubectl could not run: {e}", display_path(kf)),
                ));
                unconsume(dir, &mut consumed);
            }
        }
    }
    candidates.retain(|c| {
        c.path
            .as_ref()
            .is_none_or(|p| !consumed.contains(&canonical(p)))
    });
    let have: BTreeSet<PathBuf> = candidates
        .iter()
        .filter_map(|c| c.path.as_deref().map(canonical))
        .collect();
    for p in extra {
        let cp = canonical(&p);
        if !have.contains(&cp) && !consumed.contains(&cp) {
            candidates.push(Candidate {
                display: display_path(&p),
                path: Some(p),
                explicit: false,
                text: None,
                origins: Vec::new(),
            });
        }
    }
}

fn unconsume(dir: &Path, consumed: &mut BTreeSet<PathBuf>) {
    let d = canonical(dir);
    consumed.retain(|p| !p.starts_with(&d));
}

fn list<'a>(root: &'a Node, key: &str) -> Vec<&'a str> {
    root.seq_at(key).iter().filter_map(Node::as_str).collect()
}

/// Every local file a kustomization reads, recursively.
fn consumed_by(
    dir: &Path,
    root: &Node,
    out: &mut BTreeSet<PathBuf>,
    bases: &mut BTreeSet<PathBuf>,
    depth: usize,
) {
    if depth > 20 {
        return;
    }
    for name in NAMES {
        out.insert(canonical(&dir.join(name)));
    }
    out.insert(canonical(dir));
    let mut paths: Vec<&str> = Vec::new();
    for key in [
        "resources",
        "bases",
        "components",
        "patchesStrategicMerge",
        "crds",
    ] {
        paths.extend(list(root, key));
    }
    for p in root
        .seq_at("patches")
        .iter()
        .chain(root.seq_at("patchesJson6902"))
    {
        if let Some(path) = p.get_str("path") {
            paths.push(path);
        }
    }
    for g in root
        .seq_at("configMapGenerator")
        .iter()
        .chain(root.seq_at("secretGenerator"))
    {
        for f in g.seq_at("files").iter().chain(g.seq_at("envs")) {
            if let Some(s) = f.as_str() {
                paths.push(s.rsplit('=').next().unwrap_or(s));
            }
        }
    }
    for p in paths {
        if p.contains("://") || p.starts_with("github.com/") {
            continue;
        }
        let full = dir.join(p);
        if full.is_dir() {
            let sub = NAMES.iter().map(|n| full.join(n)).find(|f| f.is_file());
            if let Some(sub) = sub
                && let Ok(text) = std::fs::read_to_string(&sub)
                && let Some(d) = cairn_yaml::parse(&text).documents.first()
            {
                bases.insert(canonical(&full));
                consumed_by(&full, &d.root, out, bases, depth + 1);
            }
        } else {
            out.insert(canonical(&full));
        }
    }
}

fn kubectl_available() -> bool {
    Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// How long one `kubectl kustomize` may take: a remote base on an unreachable
/// host must not hang the scan.
const RENDER_TIMEOUT: std::time::Duration = std::time::Duration::from_mins(2);

/// Runs a command to completion or until `limit`, reading its output while it runs.
fn output_within(
    mut cmd: Command,
    limit: std::time::Duration,
) -> std::io::Result<std::process::Output> {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(o) = out.as_mut() {
            let _ = o.read_to_end(&mut buf);
        }
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(e) = err.as_mut() {
            let _ = e.read_to_end(&mut buf);
        }
        buf
    });
    let start = std::time::Instant::now();
    // poll often at first (kubectl usually answers in tens of milliseconds), then less
    let mut pause = std::time::Duration::from_millis(1);
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer within {} s", limit.as_secs()),
            ));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(std::time::Duration::from_millis(50));
    };
    Ok(std::process::Output {
        status,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    })
}
