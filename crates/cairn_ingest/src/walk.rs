//! Turning input paths into a list of files to read.

use std::io::Read;
use std::path::{Path, PathBuf};

use cairn_source::Diagnostic;

use crate::{Candidate, InputPath, Options};

/// Extensions read when walking a folder; other files are counted and named
/// in one summary diagnostic, so nothing is skipped silently.
const READ_EXTENSIONS: &[&str] = &["yaml", "yml", "json", "proto"];

/// A path as shown to the user: relative paths stay relative, `/` separators, no `./` prefix.
pub(crate) fn display_path(p: &Path) -> String {
    let s = p.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_owned).unwrap_or(s)
}

pub(crate) fn collect(
    inputs: &[InputPath],
    opts: &Options,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    for input in inputs {
        match input {
            InputPath::Stdin => {
                let mut buf = Vec::new();
                match std::io::stdin()
                    .lock()
                    .take(opts.max_file_size + 1)
                    .read_to_end(&mut buf)
                {
                    Ok(_) if buf.len() as u64 > opts.max_file_size => {
                        diags.push(Diagnostic::error(
                            "file-too-large",
                            format!(
                                "<stdin> is larger than the {} byte limit; it was not read",
                                opts.max_file_size
                            ),
                        ));
                    }
                    Ok(_) => out.push(Candidate {
                        path: None,
                        display: "<stdin>".into(),
                        explicit: true,
                        text: Some(buf),
                        origins: Vec::new(),
                    }),
                    Err(e) => diags.push(Diagnostic::error(
                        "file-unreadable",
                        format!("<stdin> could not be read: {e}"),
                    )),
                }
            }
            InputPath::Path(p) => walk_path(p, opts, &mut out, &mut skipped, diags),
        }
    }
    if !skipped.is_empty() {
        let examples: Vec<&str> = skipped.iter().take(5).map(String::as_str).collect();
        diags.push(
            Diagnostic::info(
                "files-not-read",
                format!(
                    "{} file(s) in the given folders were not read because their extension is not .yaml, .yml, .json or .proto (e.g. {})",
                    skipped.len(),
                    examples.join(", ")
                ),
            )
            .with_help("name a file explicitly to read it whatever its extension"),
        );
    }
    out
}

fn walk_path(
    root: &Path,
    opts: &Options,
    out: &mut Vec<Candidate>,
    skipped: &mut Vec<String>,
    diags: &mut Vec<Diagnostic>,
) {
    let meta = match std::fs::metadata(root) {
        Ok(m) => m,
        Err(e) => {
            diags.push(
                Diagnostic::error(
                    "path-unreadable",
                    format!("{}: {}", display_path(root), io_reason(&e)),
                )
                .with_help("check the path and its permissions"),
            );
            return;
        }
    };
    if meta.is_file() {
        out.push(Candidate {
            path: Some(root.to_path_buf()),
            display: display_path(root),
            explicit: true,
            text: None,
            origins: Vec::new(),
        });
        return;
    }
    let mut ob = ignore::overrides::OverrideBuilder::new(root);
    for g in &opts.exclude {
        if let Err(e) = ob.add(&format!("!{g}")) {
            diags.push(Diagnostic::error(
                "bad-exclude",
                format!("--exclude `{g}` is not a valid glob: {e}"),
            ));
        }
    }
    let overrides = ob
        .build()
        .unwrap_or_else(|_| ignore::overrides::Override::empty());
    let walker = ignore::WalkBuilder::new(root)
        .follow_links(true)
        .require_git(false)
        .overrides(overrides)
        .sort_by_file_name(std::cmp::Ord::cmp)
        .build();
    for entry in walker {
        match entry {
            Ok(e) => {
                if !e.file_type().is_some_and(|t| t.is_file()) {
                    continue;
                }
                let path = e.path();
                let ext = path
                    .extension()
                    .and_then(|x| x.to_str())
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                let display = display_path(path);
                if READ_EXTENSIONS.contains(&ext.as_str()) {
                    out.push(Candidate {
                        path: Some(path.to_path_buf()),
                        display,
                        explicit: false,
                        text: None,
                        origins: Vec::new(),
                    });
                } else {
                    skipped.push(display);
                }
            }
            Err(err) => diags.push(walk_error(&err)),
        }
    }
}

fn walk_error(err: &ignore::Error) -> Diagnostic {
    match err {
        ignore::Error::WithPath { path, err } => {
            let mut d = walk_error(err);
            d.message = format!("{}: {}", display_path(path), d.message);
            d
        }
        ignore::Error::Loop { child, ancestor } => Diagnostic::warning(
            "path-symlink-loop",
            format!(
                "{}: symbolic link loops back to {}; it was not followed",
                display_path(child),
                display_path(ancestor)
            ),
        ),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            walk_error(err)
        }
        ignore::Error::Io(e) => Diagnostic::error("path-unreadable", io_reason(e)),
        other => Diagnostic::warning("path-unreadable", other.to_string()),
    }
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or folder".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string().to_lowercase(),
    }
}

/// Reads a file, refusing ones over `max` bytes.
pub(crate) fn read_limited(p: &Path, max: u64) -> Result<Vec<u8>, Diagnostic> {
    let f = std::fs::File::open(p).map_err(|e| {
        Diagnostic::error(
            "file-unreadable",
            format!("file could not be read: {}", io_reason(&e)),
        )
        .with_help("check the file's permissions")
    })?;
    let len = f.metadata().map_or(0, |m| m.len());
    if len > max {
        return Err(Diagnostic::error(
            "file-too-large",
            format!(
                "file is {} MiB, over the {} MiB limit; it was not read",
                len / (1024 * 1024),
                max / (1024 * 1024)
            ),
        )
        .with_help("raise the limit with --max-file-size, or exclude the file"));
    }
    let mut buf = Vec::with_capacity(len as usize);
    f.take(max + 1).read_to_end(&mut buf).map_err(|e| {
        Diagnostic::error(
            "file-unreadable",
            format!("file could not be read: {}", io_reason(&e)),
        )
    })?;
    Ok(buf)
}

/// The canonical form of a candidate's path, for de-duplication.
pub(crate) fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}
