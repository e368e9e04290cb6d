//! Positions for rendered Kustomize output.
//!
//! `kubectl kustomize` prints objects that no file holds as such. To keep
//! every fact pointing at a file a person can open, each rendered object is
//! matched to the resource it was built from (same kind; same name, or the
//! name inside a `namePrefix`/`nameSuffix`), and its nodes take the
//! positions of the source nodes at the same path. A value a patch changed
//! points at the field it replaced in the base; a node the base does not
//! have (added by a patch or a transformer) points at its nearest ancestor
//! that the base does have.

use std::path::Path;

use cairn_source::{FileId, Pos};
use cairn_yaml::{Node, Value};

/// A resource file's objects, as read from disk.
pub(crate) struct Origin {
    pub(crate) file: FileId,
    pub(crate) kind: String,
    pub(crate) name: String,
    pub(crate) root: Node,
}

/// Reads the objects of one origin file.
pub(crate) fn objects_of(file: FileId, text: &str) -> Vec<Origin> {
    cairn_yaml::parse(text)
        .documents
        .into_iter()
        .filter_map(|d| {
            let kind = d.root.get_str("kind")?.to_owned();
            let name = d
                .root
                .path(&["metadata", "name"])
                .and_then(Node::as_str)?
                .to_owned();
            Some(Origin {
                file,
                kind,
                name,
                root: d.root,
            })
        })
        .collect()
}

/// The origin a rendered object was built from: same kind, exact name first,
/// else the longest origin name that the rendered name contains.
pub(crate) fn find<'a>(origins: &'a [Origin], kind: &str, name: &str) -> Option<&'a Origin> {
    origins
        .iter()
        .filter(|o| o.kind == kind)
        .find(|o| o.name == name)
        .or_else(|| {
            origins
                .iter()
                .filter(|o| o.kind == kind && !o.name.is_empty() && name.contains(o.name.as_str()))
                .max_by_key(|o| o.name.len())
        })
}

/// Gives `rendered` the positions of `source`, path by path.
pub(crate) fn remap(rendered: &mut Node, source: &Node) {
    let mut stack: Vec<(&mut Node, Option<&Node>, Pos)> =
        vec![(rendered, Some(source), source.pos)];
    while let Some((r, s, fallback)) = stack.pop() {
        let Some(s) = s else {
            r.pos = fallback;
            match &mut r.value {
                Value::Scalar(_) => {}
                Value::Seq(items) => stack.extend(items.iter_mut().map(|i| (i, None, fallback))),
                Value::Map(entries) => {
                    for (k, v) in entries.iter_mut() {
                        k.pos = fallback;
                        stack.push((v, None, fallback));
                    }
                }
            }
            continue;
        };
        r.pos = s.pos;
        match (&mut r.value, &s.value) {
            (Value::Map(entries), Value::Map(src)) => {
                for (k, v) in entries.iter_mut() {
                    let found = k
                        .as_str()
                        .and_then(|key| src.iter().find(|(sk, _)| sk.as_str() == Some(key)));
                    if let Some((sk, sv)) = found {
                        k.pos = sk.pos;
                        stack.push((v, Some(sv), sv.pos));
                    } else {
                        k.pos = s.pos;
                        stack.push((v, None, s.pos));
                    }
                }
            }
            (Value::Seq(items), Value::Seq(src)) => {
                // Lists of named things (containers, env, ports) match by name, others by index.
                for (i, item) in items.iter_mut().enumerate() {
                    let by_name = item
                        .get_str("name")
                        .and_then(|n| src.iter().find(|x| x.get_str("name") == Some(n)));
                    let matched = by_name.or_else(|| {
                        if item.get_str("name").is_none() {
                            src.get(i)
                        } else {
                            None
                        }
                    });
                    stack.push((item, matched, s.pos));
                }
            }
            (Value::Map(entries), _) => {
                for (k, v) in entries.iter_mut() {
                    k.pos = s.pos;
                    stack.push((v, None, s.pos));
                }
            }
            (Value::Seq(items), _) => stack.extend(items.iter_mut().map(|i| (i, None, s.pos))),
            (Value::Scalar(_), _) => {}
        }
    }
}

/// A display path for an origin file: relative to the working folder when inside it.
pub(crate) fn display(p: &Path) -> String {
    let rel = std::env::current_dir()
        .ok()
        .and_then(|cwd| p.strip_prefix(cwd).ok().map(Path::to_path_buf));
    crate::walk::display_path(rel.as_deref().unwrap_or(p))
}
