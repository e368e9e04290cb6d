//! Reading contract files and resolving `$ref`s across them.
//!
//! [`Docs`] holds every file read for one comparison (both versions and
//! the files their `$ref`s reach) in one [`SourceMap`], so a change can
//! point into any of them. A `$ref` is resolved on use, by walking the
//! JSON pointer in the target file's tree; the tree is never rewritten,
//! so recursive schemas cost nothing to load and every node keeps its
//! position.

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use cairn_source::{Diagnostic, FileId, Pos, SourceMap};
use cairn_yaml::{Node, Value};

/// Largest contract file read: far above the largest public specifications
/// (Stripe's is about 7 MB as YAML), far below what would exhaust memory.
const MAX_FILE_BYTES: u64 = 128 * 1024 * 1024;

/// Most `$ref` hops followed from one reference before it counts as a cycle.
const MAX_REF_HOPS: usize = 64;

/// Where file bytes come from: the file system, or another place (a git
/// revision) that maps a path to its bytes.
pub type Reader<'r> = &'r dyn Fn(&Path) -> std::io::Result<Vec<u8>>;

/// Every file read for one comparison, with its tree.
#[derive(Default)]
pub struct Docs {
    /// The files, for positions and excerpts.
    pub sources: SourceMap,
    roots: Vec<Option<Node>>,
    real: Vec<PathBuf>,
    space: Vec<u32>,
    by_path: HashMap<(u32, PathBuf), FileId>,
    /// What went wrong while reading; the comparison runs on what was read.
    pub diagnostics: Vec<Diagnostic>,
    /// Resolved references: `(file, $ref)` to the target file and the
    /// entry indices from its root, so a reference used many times is
    /// looked up once (a large specification has thousands of schemas).
    resolved: Mutex<HashMap<FileId, HashMap<Box<str>, Target>>>,
}

/// Where a resolved `$ref` leads: the file, and entry indices from its root.
type Target = (FileId, Vec<u32>);

/// A node and the file it is in: what a `$ref` inside it is relative to.
#[derive(Clone, Copy, Debug)]
pub struct At<'a> {
    /// The file.
    pub file: FileId,
    /// The node.
    pub node: &'a Node,
    /// Where the key that holds the node is, when it is a mapping value:
    /// changes to the whole node point there (`post:`, `'200':`).
    pub key: Option<Pos>,
}

impl Docs {
    /// Nothing read yet.
    pub fn new() -> Self {
        Docs::default()
    }

    /// Nothing read yet; files are added to `sources` (which may hold
    /// other files already, such as configuration the caller read).
    pub fn with_sources(sources: SourceMap) -> Self {
        let n = sources.len();
        Docs {
            sources,
            roots: vec![None; n],
            real: vec![PathBuf::new(); n],
            space: vec![u32::MAX; n],
            ..Docs::default()
        }
    }

    /// Reads the file at `path` from the file system, and every file its `$ref`s reach.
    pub fn load(&mut self, path: &Path) -> Option<FileId> {
        let read = |p: &Path| -> std::io::Result<Vec<u8>> {
            let meta = std::fs::metadata(p)?;
            if meta.is_dir() {
                return Err(std::io::Error::other("it is a folder, not a file"));
            }
            if meta.len() > MAX_FILE_BYTES {
                return Err(std::io::Error::other(format!(
                    "it is {} MB, above the {} MB limit",
                    meta.len() / 1_000_000,
                    MAX_FILE_BYTES / 1_000_000
                )));
            }
            std::fs::read(p)
        };
        self.load_with(path, path.display().to_string(), 0, &read)
    }

    /// Reads `path` with `read`, shown to the user as `display`. `space`
    /// keeps apart files of the same path from different places (a git
    /// revision and the work tree).
    pub fn load_with(
        &mut self,
        path: &Path,
        display: String,
        space: u32,
        read: Reader<'_>,
    ) -> Option<FileId> {
        let known = self.by_path.contains_key(&(space, normalize(path)));
        let start = self.read_one(&normalize(path), display, space, read, None)?;
        if known {
            // Read already (`cairn diff api.yaml api.yaml`), with its
            // references: their problems were reported then.
            return Some(start);
        }
        // Follow external `$ref`s breadth first; each file is read once.
        let mut queue = vec![start];
        let mut seen = HashSet::new();
        while let Some(f) = queue.pop() {
            if !seen.insert(f) {
                continue;
            }
            for (pos, target) in self.external_refs(f) {
                let dir = self.real[f.0 as usize]
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default();
                let p = normalize(&dir.join(&target));
                let shown = display_join(self.sources.path(f), &target);
                if let Some(id) = self.read_one(&p, shown, space, read, Some((f, pos))) {
                    queue.push(id);
                }
            }
        }
        self.check_refs(&seen);
        Some(start)
    }

    fn read_one(
        &mut self,
        path: &Path,
        display: String,
        space: u32,
        read: Reader<'_>,
        from: Option<(FileId, Pos)>,
    ) -> Option<FileId> {
        if let Some(id) = self.by_path.get(&(space, path.to_path_buf())) {
            return self.roots[id.0 as usize].is_some().then_some(*id);
        }
        let id = self.sources.add(display, None);
        self.roots.push(None);
        self.real.push(path.to_path_buf());
        self.space.push(space);
        self.by_path.insert((space, path.to_path_buf()), id);
        let bytes = match read(path) {
            Ok(b) => b,
            Err(e) => {
                let d = match from {
                    Some((f, pos)) => Diagnostic::error(
                        "contract-ref-unresolved",
                        format!(
                            "`$ref` points to {}, which cannot be read: {e}",
                            path.display()
                        ),
                    )
                    .in_file(f)
                    .at(pos)
                    .with_help("fix the path; it is relative to the file that holds the `$ref`"),
                    None => Diagnostic::error(
                        "contract-read",
                        format!("cannot read {}: {e}", path.display()),
                    )
                    .in_file(id),
                };
                self.diagnostics.push(d);
                return None;
            }
        };
        let text: Arc<str> = match String::from_utf8(bytes) {
            Ok(t) => Arc::from(t),
            Err(e) => {
                let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
                self.diagnostics.push(
                    Diagnostic::warning(
                        "contract-not-utf8",
                        "file is not valid UTF-8; invalid bytes were read as U+FFFD",
                    )
                    .in_file(id)
                    .with_help("save the file as UTF-8"),
                );
                Arc::from(lossy)
            }
        };
        self.sources.set_text(id, text.clone());
        let parsed = cairn_yaml::parse(&text);
        for e in &parsed.errors {
            self.diagnostics.push(
                Diagnostic::error("contract-syntax", e.message.clone())
                    .in_file(id)
                    .at(e.pos)
                    .with_help("fix the YAML or JSON syntax; the rest of the file was read as far as it parses"),
            );
        }
        let Some(doc) = parsed.documents.into_iter().next() else {
            if parsed.errors.is_empty() {
                self.diagnostics.push(
                    Diagnostic::error("contract-empty", "file holds no document").in_file(id),
                );
            }
            return None;
        };
        self.roots[id.0 as usize] = Some(doc.root);
        Some(id)
    }

    /// The root node of a file that was read.
    pub fn root(&self, file: FileId) -> Option<At<'_>> {
        self.roots.get(file.0 as usize)?.as_ref().map(|node| At {
            file,
            node,
            key: None,
        })
    }

    /// The `$ref`s in `file` that name another file (not a remote URL),
    /// with their positions.
    fn external_refs(&mut self, file: FileId) -> Vec<(Pos, String)> {
        let mut out = Vec::new();
        let mut remote = Vec::new();
        if let Some(root) = &self.roots[file.0 as usize] {
            walk_refs(root, &mut |r, pos| {
                let target = r.split('#').next().unwrap_or("");
                if target.is_empty() {
                    return;
                }
                if target.contains("://") {
                    remote.push((pos, r.to_owned()));
                } else {
                    out.push((pos, percent_decode(target)));
                }
            });
        }
        for (pos, r) in remote {
            self.diagnostics.push(
                Diagnostic::warning(
                    "contract-ref-remote",
                    format!("`$ref` to a remote document ({r}) was not followed: cairn does not use the network"),
                )
                .in_file(file)
                .at(pos)
                .with_help("download the document next to the specification and point the `$ref` at the local copy"),
            );
        }
        out
    }

    /// Reports every `$ref` in `files` that resolves nowhere or loops.
    fn check_refs(&mut self, files: &HashSet<FileId>) {
        let mut found = Vec::new();
        let mut ids: Vec<_> = files.iter().copied().collect();
        ids.sort();
        for f in ids {
            if let Some(root) = &self.roots[f.0 as usize] {
                walk_refs(root, &mut |r, pos| {
                    if !r.split('#').next().unwrap_or("").contains("://") {
                        found.push((f, pos, r.to_owned()));
                    }
                });
            }
        }
        let mut diags = Vec::new();
        for (f, pos, r) in found {
            let mut chain = vec![r.clone()];
            let mut cur = (f, r);
            for hop in 0..=MAX_REF_HOPS {
                match self.resolve(cur.0, &cur.1) {
                    Err(why) => {
                        // A file that cannot be read is reported where it is first named.
                        if !why.starts_with("file ") || !self.was_reported(cur.0, &cur.1) {
                            diags.push(
                                Diagnostic::error(
                                    "contract-ref-unresolved",
                                    format!("`$ref: {}` resolves to nothing: {why}", cur.1),
                                )
                                .in_file(f)
                                .at(pos)
                                .with_help("point the `$ref` at an existing node, e.g. `#/components/schemas/Name`"),
                            );
                        }
                        break;
                    }
                    Ok(at) => match ref_of(at.node) {
                        Some(next) if hop < MAX_REF_HOPS => {
                            if chain.iter().any(|c| c == next) && at.file == f {
                                chain.push(next.to_owned());
                                diags.push(
                                    Diagnostic::error(
                                        "contract-ref-cycle",
                                        format!("`$ref` loops without reaching a definition: {}", chain.join(" -> ")),
                                    )
                                    .in_file(f)
                                    .at(pos)
                                    .with_help("one of the references must point at a schema, not at another bare `$ref`"),
                                );
                                break;
                            }
                            chain.push(next.to_owned());
                            cur = (at.file, next.to_owned());
                        }
                        Some(_) => {
                            diags.push(
                                Diagnostic::error(
                                    "contract-ref-cycle",
                                    format!(
                                        "`$ref` chain is longer than {MAX_REF_HOPS} hops: {}",
                                        chain.join(" -> ")
                                    ),
                                )
                                .in_file(f)
                                .at(pos),
                            );
                            break;
                        }
                        None => break,
                    },
                }
            }
        }
        diags.sort();
        diags.dedup();
        self.diagnostics.extend(diags);
    }

    fn was_reported(&self, from: FileId, r: &str) -> bool {
        let target = r.split('#').next().unwrap_or("");
        let dir = self.real[from.0 as usize]
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let p = normalize(&dir.join(percent_decode(target)));
        self.by_path
            .iter()
            .any(|((_, q), id)| *q == p && self.roots[id.0 as usize].is_none())
    }

    /// The node a `$ref` written in `file` names.
    pub fn resolve(&self, file: FileId, r: &str) -> Result<At<'_>, String> {
        if let Ok(m) = self.resolved.lock()
            && let Some((tf, steps)) = m.get(&file).and_then(|f| f.get(r))
        {
            let mut node = self.root(*tf).map(|a| a.node).ok_or("file not read")?;
            for &i in steps {
                node = match &node.value {
                    Value::Map(entries) => &entries[i as usize].1,
                    Value::Seq(items) => &items[i as usize],
                    Value::Scalar(_) => return Err("stale reference".into()),
                };
            }
            return Ok(At {
                file: *tf,
                node,
                key: None,
            });
        }
        let (tf, steps, node) = self.walk(file, r)?;
        if let Ok(mut m) = self.resolved.lock() {
            m.entry(file).or_default().insert(Box::from(r), (tf, steps));
        }
        Ok(At {
            file: tf,
            node,
            key: None,
        })
    }

    fn walk(&self, file: FileId, r: &str) -> Result<(FileId, Vec<u32>, &Node), String> {
        let (target, pointer) = match r.split_once('#') {
            Some((t, p)) => (t, p),
            None => (r, ""),
        };
        let tf = if target.is_empty() {
            file
        } else {
            let dir = self
                .real
                .get(file.0 as usize)
                .and_then(|p| p.parent())
                .map(Path::to_path_buf)
                .unwrap_or_default();
            let p = normalize(&dir.join(percent_decode(target)));
            let space = self.space.get(file.0 as usize).copied().unwrap_or(0);
            *self
                .by_path
                .get(&(space, p.clone()))
                .ok_or_else(|| format!("file {} was not read", p.display()))?
        };
        let root = self
            .root(tf)
            .ok_or_else(|| format!("file {} could not be read", self.sources.path(tf)))?;
        let mut node = root.node;
        let mut steps = Vec::new();
        let pointer = percent_decode(pointer);
        for raw in pointer.split('/').skip(1) {
            let key = raw.replace("~1", "/").replace("~0", "~");
            let (i, next) = match &node.value {
                Value::Map(entries) => entries
                    .iter()
                    .enumerate()
                    .find(|(_, (k, _))| k.as_str() == Some(key.as_str()))
                    .map(|(i, (_, v))| (i, v))
                    .ok_or_else(|| format!("no `{key}` in {}", self.sources.path(tf)))?,
                Value::Seq(items) => key
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get(i).map(|v| (i, v)))
                    .ok_or_else(|| format!("no item {key} in {}", self.sources.path(tf)))?,
                Value::Scalar(_) => return Err(format!("`{key}` is inside a scalar")),
            };
            steps.push(i as u32);
            node = next;
        }
        Ok((tf, steps, node))
    }

    /// Follows `$ref`s from `at` to the node they end at; a reference that
    /// resolves nowhere stays as it is (it was reported when read).
    pub fn deref<'a>(&'a self, at: At<'a>) -> At<'a> {
        let mut cur = at;
        for _ in 0..MAX_REF_HOPS {
            let Some(r) = ref_of(cur.node) else { break };
            match self.resolve(cur.file, r) {
                Ok(next) => {
                    cur = At {
                        key: cur.key,
                        ..next
                    }
                }
                Err(_) => break,
            }
        }
        cur
    }
}

/// The `$ref` string of a mapping that holds one.
pub fn ref_of(node: &Node) -> Option<&str> {
    node.get("$ref").and_then(Node::as_str)
}

fn walk_refs(root: &Node, f: &mut dyn FnMut(&str, Pos)) {
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        match &n.value {
            Value::Map(entries) => {
                for (k, v) in entries {
                    match k.as_str() {
                        Some("$ref") => {
                            if let Some(s) = v.as_str() {
                                f(s, v.pos);
                            }
                        }
                        // Examples are data, not schema: a `$ref` key there is a value.
                        Some("example" | "examples") => {}
                        _ => stack.push(v),
                    }
                }
            }
            Value::Seq(items) => stack.extend(items),
            Value::Scalar(_) => {}
        }
    }
}

/// Removes `.` and resolves `..` without touching the file system, so
/// the same file reached two ways is read once.
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn display_join(from: &str, target: &str) -> String {
    let dir = Path::new(from).parent().unwrap_or_else(|| Path::new(""));
    normalize(&dir.join(target)).display().to_string()
}

fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) =
                u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_read_twice_reports_its_problems_once() {
        // `cairn diff api.yaml api.yaml` listed every unresolved `$ref` twice.
        let text = "openapi: 3.0.0\npaths:\n  /a:\n    get:\n      responses:\n        '200': {$ref: '#/components/responses/Nope'}\n";
        let read = |_: &Path| Ok(text.as_bytes().to_vec());
        let mut docs = Docs::new();
        let a = docs.load_with(Path::new("api.yaml"), "api.yaml".into(), 0, &read);
        let b = docs.load_with(Path::new("api.yaml"), "api.yaml".into(), 0, &read);
        assert_eq!(a, b);
        let codes: Vec<_> = docs.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["contract-ref-unresolved"]);
    }
}
