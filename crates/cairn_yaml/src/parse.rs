//! From text to [`Document`]s: events in, tree out.

use std::collections::HashMap;

use cairn_source::{CharToByte, Pos};
use saphyr_parser::{Event, Parser, ScalarStyle, Span};

use crate::node::{CompactString, Node, Scalar, Value};

/// Bounds that keep hostile input from exhausting time or memory.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Deepest nesting of collections accepted in one document.
    pub max_depth: usize,
    /// Most nodes that alias expansion may create in one file.
    pub max_alias_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        // Real manifests nest about 15 deep; a Helm chart rarely passes 40.
        // 1,000,000 expanded nodes is far beyond any honest use of anchors and
        // stops a billion-laughs file after a few milliseconds.
        Limits {
            max_depth: 256,
            max_alias_nodes: 1_000_000,
        }
    }
}

/// One YAML document: its root node and where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    /// The root node.
    pub root: Node,
    /// 0-based index of the document in its file.
    pub index: usize,
}

/// What went wrong while reading YAML.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum YamlErrorKind {
    /// The text is not YAML; the document it is in was dropped.
    Syntax,
    /// A mapping names the same key twice; the last value was kept.
    DuplicateKey,
    /// Alias expansion passed [`Limits::max_alias_nodes`]; the document was dropped.
    AliasLimit,
    /// Nesting passed [`Limits::max_depth`]; the document was dropped.
    TooDeep,
    /// An alias names no anchor; it was read as null.
    UnknownAlias,
    /// A merge key (`<<`) whose value is not a mapping or a list of mappings.
    BadMerge,
    /// A line indented less than the YAML spec allows, read leniently as other loaders do.
    LenientIndentation,
}

/// A problem in the YAML text, with its position.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    /// What kind of problem.
    pub kind: YamlErrorKind,
    /// What was found, for a person.
    pub message: String,
    /// Where.
    pub pos: Pos,
}

/// The documents that could be read and the problems found.
#[derive(Clone, Debug, Default)]
pub struct Parsed {
    /// Documents, in file order (a dropped document leaves no entry).
    pub documents: Vec<Document>,
    /// Problems, in file order.
    pub errors: Vec<YamlError>,
}

/// Parses `text` with default [`Limits`].
pub fn parse(text: &str) -> Parsed {
    parse_with(text, Limits::default())
}

/// Parses `text` with the given limits.
///
/// saphyr follows the YAML spec strictly on the indentation of flow
/// collections and multi-line quoted scalars, where `PyYAML`, `go-yaml` (and so
/// kubectl and docker compose) accept a closing `]` or `'` at the parent's
/// indentation. Real files do this (the OpenTelemetry demo's compose file),
/// and dropping a whole file over it would help nobody: such lines are
/// re-indented and parsed again, positions are mapped back to the original
/// text, and a warning names each line.
pub fn parse_with(text: &str, limits: Limits) -> Parsed {
    const MAX_FIXUPS: usize = 64;
    if text.trim_start().starts_with(['{', '['])
        && let Some(root) = crate::json::parse(text, limits.max_depth)
    {
        return Parsed {
            documents: vec![Document { root, index: 0 }],
            errors: Vec::new(),
        };
    }
    let mut work = std::borrow::Cow::Borrowed(text);
    // (byte offset in the text as it was then, spaces inserted, 1-based line)
    let mut inserts: Vec<(usize, u32, u32)> = Vec::new();
    loop {
        let mut out = parse_chunks(&work, limits);
        let fix = if inserts.len() < MAX_FIXUPS {
            lenient_fix(&work, &out.errors)
        } else {
            None
        };
        if let Some((at, spaces, line)) = fix {
            work.to_mut().insert_str(at, &" ".repeat(spaces as usize));
            inserts.push((at, spaces, line));
            continue;
        }
        if !inserts.is_empty() {
            remap(&mut out, &inserts);
            for &(at, _, line) in &inserts {
                out.errors.push(YamlError {
                    kind: YamlErrorKind::LenientIndentation,
                    message: format!(
                        "line {line} is indented less than YAML allows inside a flow collection or quoted text; it was read as kubectl and docker compose read it"
                    ),
                    pos: Pos { line, column: 1, start: at as u32, end: at as u32 },
                });
            }
            remap_errors_only_lenient(&mut out, &inserts);
            out.errors.sort_by_key(|e| (e.pos.line, e.pos.column));
        }
        return out;
    }
}

/// Where to re-indent for the first strict-indentation error: the line that
/// closes the flow collection or quoted scalar too far left.
fn lenient_fix(text: &str, errors: &[YamlError]) -> Option<(usize, u32, u32)> {
    let e = errors
        .iter()
        .find(|e| e.kind == YamlErrorKind::Syntax && e.message.contains("invalid indentation"))?;
    let lines: Vec<(usize, &str)> = line_starts(text);
    let err_idx = (e.pos.line as usize).checked_sub(1)?;
    let indent = |s: &str| s.len() - s.trim_start_matches(' ').len();
    let is_closer = |s: &str| s.trim_start().starts_with([']', '}', '\'', '"']);
    let (_, err_line) = *lines.get(err_idx)?;
    // Either the error is at the closing line itself, or at the line that
    // opened the construct and the closer comes later at or left of it.
    let (target, want) = if is_closer(err_line) {
        let prev = lines[..err_idx]
            .iter()
            .rev()
            .find(|(_, l)| !l.trim().is_empty())?;
        (err_idx, indent(prev.1).max(indent(err_line) + 1))
    } else {
        let base = indent(err_line);
        let found = lines
            .iter()
            .enumerate()
            .skip(err_idx + 1)
            .take(2000)
            .find(|(_, (_, l))| !l.trim().is_empty() && indent(l) <= base && is_closer(l))?;
        (found.0, base + 2)
    };
    let (start, line) = lines[target];
    let have = indent(line);
    if want <= have {
        return None;
    }
    Some((start, (want - have) as u32, target as u32 + 1))
}

fn line_starts(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    for l in text.split('\n') {
        out.push((start, l));
        start += l.len() + 1;
    }
    out
}

/// Maps positions in the re-indented text back to the original.
fn remap(out: &mut Parsed, inserts: &[(usize, u32, u32)]) {
    let fix = |pos: &mut Pos| {
        for &(at, spaces, line) in inserts.iter().rev() {
            let at = at as u32;
            for b in [&mut pos.start, &mut pos.end] {
                if *b >= at + spaces {
                    *b -= spaces;
                } else if *b > at {
                    *b = at;
                }
            }
            if pos.line == line && pos.column > spaces {
                pos.column -= spaces;
            }
        }
    };
    for d in &mut out.documents {
        let mut stack = vec![&mut d.root];
        while let Some(n) = stack.pop() {
            fix(&mut n.pos);
            match &mut n.value {
                Value::Scalar(_) => {}
                Value::Seq(items) => stack.extend(items.iter_mut()),
                Value::Map(entries) => {
                    for (k, v) in entries.iter_mut() {
                        stack.push(k);
                        stack.push(v);
                    }
                }
            }
        }
    }
    for e in out
        .errors
        .iter_mut()
        .filter(|e| e.kind != YamlErrorKind::LenientIndentation)
    {
        fix(&mut e.pos);
    }
}

/// The warnings' byte offsets were recorded in the text of their time; map
/// each through the insertions made after it.
fn remap_errors_only_lenient(out: &mut Parsed, inserts: &[(usize, u32, u32)]) {
    let mut lenient: Vec<&mut YamlError> = out
        .errors
        .iter_mut()
        .filter(|e| e.kind == YamlErrorKind::LenientIndentation)
        .collect();
    for (i, e) in lenient.iter_mut().enumerate() {
        for &(at, spaces, _) in inserts[..i].iter().rev() {
            let at = at as u32;
            if e.pos.start >= at + spaces {
                e.pos.start -= spaces;
                e.pos.end -= spaces;
            }
        }
    }
}

fn parse_chunks(text: &str, limits: Limits) -> Parsed {
    let mut out = Parsed::default();
    let mut offset = 0usize; // byte offset of the chunk being parsed
    let mut line_offset = 0u32; // lines before the chunk
    let mut doc_index = 0usize;
    let mut alias_budget = limits.max_alias_nodes;
    loop {
        let chunk = &text[offset..];
        let mut builder = Builder {
            conv: CharToByte::new(chunk),
            byte_offset: offset as u32,
            line_offset,
            limits,
            alias_budget: &mut alias_budget,
            stack: Vec::new(),
            anchors: HashMap::new(),
            root: None,
            errors: &mut out.errors,
        };
        let stopped_at = builder.run(chunk, &mut out.documents, &mut doc_index);
        let Some(stop) = stopped_at else { break };
        // Resume at the next document marker after the failure.
        let abs = offset + stop.min(chunk.len());
        match next_document_start(text, abs) {
            Some(next) => {
                line_offset += count_lines(&text[offset..next]);
                offset = next;
                doc_index += 1;
            }
            None => break,
        }
    }
    out
}

/// Byte offset of the first line at or after `from` that starts a new document.
fn next_document_start(text: &str, from: usize) -> Option<usize> {
    let mut start = text[..from].rfind('\n').map_or(0, |i| i + 1);
    // The failing line itself is never a restart point.
    start = text[start..].find('\n').map(|i| start + i + 1)?;
    while start < text.len() {
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let line = &text[start..line_end];
        if line == "---" || line.starts_with("--- ") || line.starts_with("---\t") || line == "---\r"
        {
            return Some(start);
        }
        start = line_end + 1;
    }
    None
}

fn count_lines(s: &str) -> u32 {
    s.bytes().filter(|&b| b == b'\n').count() as u32
}

enum Frame {
    Seq {
        items: Vec<Node>,
        pos: Pos,
        anchor: usize,
    },
    Map {
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        pos: Pos,
        anchor: usize,
    },
}

/// The end of a quoted scalar: just after its closing quote. saphyr's span
/// of a quoted scalar can run on over a trailing comment on the same line.
fn quoted_end(chunk: &str, pos: Pos, offset: u32) -> u32 {
    let start = (pos.start - offset) as usize;
    let bytes = chunk.as_bytes();
    let Some(&quote) = bytes.get(start).filter(|b| matches!(b, b'"' | b'\'')) else {
        return pos.end;
    };
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 2,
            b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b if b == quote => return (i + 1) as u32 + offset,
            _ => i += 1,
        }
    }
    pos.end
}

struct Builder<'a> {
    conv: CharToByte,
    byte_offset: u32,
    line_offset: u32,
    limits: Limits,
    alias_budget: &'a mut usize,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    errors: &'a mut Vec<YamlError>,
}

impl Builder<'_> {
    fn pos(&self, span: &Span) -> Pos {
        let start = self.conv.byte(span.start.index());
        let end = self.conv.byte(span.end.index()).max(start);
        Pos {
            line: span.start.line() as u32 + self.line_offset,
            column: span.start.col() as u32 + 1,
            start: start + self.byte_offset,
            end: end + self.byte_offset,
        }
    }

    fn error(&mut self, kind: YamlErrorKind, message: String, pos: Pos) {
        self.errors.push(YamlError { kind, message, pos });
    }

    /// Runs the parser over `chunk`. Returns the chunk-relative byte offset
    /// where a fatal problem stopped it, or `None` when it reached the end.
    fn run(&mut self, chunk: &str, docs: &mut Vec<Document>, index: &mut usize) -> Option<usize> {
        let mut parser = Parser::new_from_str(chunk);
        let mut started = false;
        loop {
            let (event, span) = match parser.next_event() {
                None => return None,
                Some(Ok(ev)) => ev,
                Some(Err(e)) => {
                    let m = e.marker();
                    let byte = self.conv.byte(m.index());
                    let pos = Pos {
                        line: m.line() as u32 + self.line_offset,
                        column: m.col() as u32 + 1,
                        start: byte + self.byte_offset,
                        end: byte + self.byte_offset,
                    };
                    if e.info().contains("recursion limit") {
                        // saphyr bounds flow-collection nesting itself
                        self.error(
                            YamlErrorKind::TooDeep,
                            "nesting too deep for the parser; the document was dropped".into(),
                            pos,
                        );
                    } else {
                        self.error(
                            YamlErrorKind::Syntax,
                            format!("invalid YAML: {}", e.info()),
                            pos,
                        );
                    }
                    return Some(byte as usize);
                }
            };
            match event {
                Event::StreamStart | Event::Nothing => {}
                Event::StreamEnd => return None,
                Event::DocumentStart(_) => {
                    if started {
                        *index += 1;
                    }
                    started = true;
                    self.stack.clear();
                    self.anchors.clear();
                    self.root = None;
                }
                Event::DocumentEnd => {
                    if let Some(root) = self.root.take() {
                        docs.push(Document {
                            root,
                            index: *index,
                        });
                    }
                }
                Event::Scalar(text, style, anchor, _tag) => {
                    let mut pos = self.pos(&span);
                    if matches!(style, ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted) {
                        pos.end = quoted_end(chunk, pos, self.byte_offset);
                    }
                    let node = Node {
                        value: Value::Scalar(Scalar {
                            text: CompactString::from(text.as_ref()),
                            plain: style == ScalarStyle::Plain,
                        }),
                        pos,
                    };
                    if anchor > 0 {
                        self.anchors.insert(anchor, node.clone());
                    }
                    self.push(node);
                }
                Event::Alias(id) => {
                    let pos = self.pos(&span);
                    let node = if let Some(node) = self.anchors.get(&id) {
                        let n = node.count();
                        if n > *self.alias_budget {
                            *self.alias_budget = 0;
                            self.error(
                                YamlErrorKind::AliasLimit,
                                format!(
                                    "alias expansion passes {} nodes; the document looks like an alias bomb and was dropped",
                                    self.limits.max_alias_nodes
                                ),
                                pos,
                            );
                            return Some((pos.start - self.byte_offset) as usize);
                        }
                        *self.alias_budget -= n;
                        node.clone()
                    } else {
                        self.error(
                            YamlErrorKind::UnknownAlias,
                            "alias names no anchor defined before it; read as null".into(),
                            pos,
                        );
                        Node::plain("", pos)
                    };
                    self.push(node);
                }
                Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                    let pos = self.pos(&span);
                    if self.stack.len() >= self.limits.max_depth {
                        self.error(
                            YamlErrorKind::TooDeep,
                            format!(
                                "nesting deeper than {} levels; the document was dropped",
                                self.limits.max_depth
                            ),
                            pos,
                        );
                        return Some((pos.start - self.byte_offset) as usize);
                    }
                    self.stack
                        .push(if matches!(event, Event::SequenceStart(..)) {
                            Frame::Seq {
                                items: Vec::new(),
                                pos,
                                anchor,
                            }
                        } else {
                            Frame::Map {
                                entries: Vec::new(),
                                key: None,
                                pos,
                                anchor,
                            }
                        });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let end = self.pos(&span);
                    let (node, anchor) = match self.stack.pop() {
                        Some(Frame::Seq {
                            mut items,
                            pos,
                            anchor,
                        }) => (
                            Node {
                                value: Value::Seq({
                                    items.shrink_to_fit();
                                    items
                                }),
                                pos: pos.to(end),
                            },
                            anchor,
                        ),
                        Some(Frame::Map {
                            entries,
                            pos,
                            anchor,
                            ..
                        }) => {
                            let entries = self.finish_map(entries);
                            (
                                Node {
                                    value: Value::Map(entries),
                                    pos: pos.to(end),
                                },
                                anchor,
                            )
                        }
                        None => continue,
                    };
                    if anchor > 0 {
                        self.anchors.insert(anchor, node.clone());
                    }
                    self.push(node);
                }
            }
        }
    }

    fn push(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            },
        }
    }

    /// Applies merge keys and drops duplicate keys (the last one wins, as in
    /// most loaders; the duplicate is reported).
    fn finish_map(&mut self, entries: Vec<(Node, Node)>) -> Vec<(Node, Node)> {
        let has_merge = entries.iter().any(|(k, _)| is_merge_key(k));
        let mut explicit: Vec<(Node, Node)> = Vec::with_capacity(entries.len());
        let mut merged: Vec<(Node, Node)> = Vec::new();
        for (k, v) in entries {
            if has_merge && is_merge_key(&k) {
                match &v.value {
                    Value::Map(m) => merged.extend(m.iter().cloned()),
                    Value::Seq(items) => {
                        for item in items {
                            if let Value::Map(m) = &item.value {
                                merged.extend(m.iter().cloned());
                            } else {
                                self.error(
                                    YamlErrorKind::BadMerge,
                                    format!(
                                        "merge key `<<` lists {}, expected mappings; it was ignored",
                                        item.type_name()
                                    ),
                                    item.pos,
                                );
                            }
                        }
                    }
                    Value::Scalar(_) => self.error(
                        YamlErrorKind::BadMerge,
                        format!(
                            "merge key `<<` holds {}, expected a mapping or a list of mappings; it was ignored",
                            v.type_name()
                        ),
                        v.pos,
                    ),
                }
                continue;
            }
            if let Some(text) = key_text(&k)
                && let Some(i) = explicit
                    .iter()
                    .position(|(ek, _)| key_text(ek) == Some(text))
            {
                let first = explicit[i].0.pos;
                self.error(
                    YamlErrorKind::DuplicateKey,
                    format!(
                        "duplicate key `{text}` (first at line {}); the last value is used",
                        first.line
                    ),
                    k.pos,
                );
                explicit.remove(i);
            }
            explicit.push((k, v));
        }
        // Merged entries fill in keys not set explicitly; earlier sources win.
        for (k, v) in merged {
            let text = key_text(&k);
            if text.is_some() && explicit.iter().any(|(ek, _)| key_text(ek) == text) {
                continue;
            }
            explicit.push((k, v));
        }
        explicit
    }
}

fn is_merge_key(k: &Node) -> bool {
    matches!(&k.value, Value::Scalar(s) if s.plain && s.text == "<<")
}

fn key_text(k: &Node) -> Option<&str> {
    match &k.value {
        Value::Scalar(s) => Some(&s.text),
        _ => None,
    }
}

/// The root node as the YAML parser reads it, for comparing the JSON fast path.
#[cfg(test)]
pub(crate) fn parse_chunks_for_test(text: &str) -> Node {
    parse_chunks(text, Limits::default())
        .documents
        .remove(0)
        .root
}
