//! A fast path for JSON documents.
//!
//! JSON is YAML, and the YAML parser reads it correctly, but a general
//! YAML scanner spends most of its time on what JSON cannot contain
//! (indentation, plain scalars, anchors). Large JSON files are common
//! (`kubectl get -o json`, API specifications of 10 MB and more), so a
//! text that starts with `{` or `[` is first read by this parser. It
//! builds the same tree the YAML parser would (strings are quoted
//! scalars, numbers, booleans and null are plain ones, positions cover the
//! same characters) and gives up on anything that is not strict JSON, so
//! the YAML parser, with its diagnostics, reads that instead.

use cairn_source::Pos;

use crate::node::{CompactString, Node, Scalar, Value};

/// Parses `text` as one JSON value, or `None` when it is not strict JSON
/// (or nests deeper than `max_depth`).
pub fn parse(text: &str, max_depth: usize) -> Option<Node> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        i: 0,
        line: 1,
        line_start: 0,
        col_at: (0, 1),
        max_depth,
    };
    p.ws();
    let node = p.value(0)?;
    p.ws();
    (p.i == p.s.len()).then_some(node)
}

struct Parser<'t> {
    s: &'t [u8],
    text: &'t str,
    i: usize,
    line: u32,
    line_start: usize,
    /// The last (byte offset, column) computed on the current line, so
    /// columns are counted in characters without rescanning long lines.
    col_at: (usize, u32),
    max_depth: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while let Some(&c) = self.s.get(self.i) {
            match c {
                b' ' | b'\t' | b'\r' => self.i += 1,
                b'\n' => {
                    self.i += 1;
                    self.line += 1;
                    self.line_start = self.i;
                    self.col_at = (self.i, 1);
                }
                _ => break,
            }
        }
    }

    /// The position of the byte at `self.i`.
    fn here(&mut self) -> Pos {
        let (from, col) = if self.col_at.0 >= self.line_start && self.col_at.0 <= self.i {
            self.col_at
        } else {
            (self.line_start, 1)
        };
        let chars = self.text.get(from..self.i).map_or(0, |t| t.chars().count()) as u32;
        let column = col + chars;
        self.col_at = (self.i, column);
        Pos {
            line: self.line,
            column,
            start: self.i as u32,
            end: self.i as u32,
        }
    }

    fn value(&mut self, depth: usize) -> Option<Node> {
        if depth > self.max_depth {
            return None;
        }
        let start = self.here();
        match *self.s.get(self.i)? {
            b'{' => {
                self.i += 1;
                let mut entries: Vec<(Node, Node)> = Vec::new();
                // Keys seen, once a mapping is too large for a linear check.
                let mut seen: Option<std::collections::HashSet<CompactString>> = None;
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                } else {
                    loop {
                        self.ws();
                        if self.s.get(self.i) != Some(&b'"') {
                            return None;
                        }
                        let key = self.string()?;
                        self.ws();
                        if self.s.get(self.i) != Some(&b':') {
                            return None;
                        }
                        self.i += 1;
                        self.ws();
                        let value = self.value(depth + 1)?;
                        // A repeated key is reported by the YAML reader: leave it that file.
                        let text = match &key.value {
                            Value::Scalar(sc) => sc.text.clone(),
                            _ => return None,
                        };
                        if let Some(set) = &mut seen {
                            if !set.insert(text) {
                                return None;
                            }
                        } else if entries.iter().any(|(k, _)| k.value == key.value) {
                            return None;
                        } else if entries.len() >= 16 {
                            let mut set: std::collections::HashSet<CompactString> = entries
                                .iter()
                                .filter_map(|(k, _)| k.as_scalar().map(|sc| sc.text.clone()))
                                .collect();
                            set.insert(text);
                            seen = Some(set);
                        }
                        entries.push((key, value));
                        self.ws();
                        match self.s.get(self.i)? {
                            b',' => self.i += 1,
                            b'}' => {
                                self.i += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
                Some(Node {
                    value: Value::Map(entries),
                    pos: Pos {
                        end: self.i as u32,
                        ..start
                    },
                })
            }
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                } else {
                    loop {
                        self.ws();
                        items.push(self.value(depth + 1)?);
                        self.ws();
                        match self.s.get(self.i)? {
                            b',' => self.i += 1,
                            b']' => {
                                self.i += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
                Some(Node {
                    value: Value::Seq(items),
                    pos: Pos {
                        end: self.i as u32,
                        ..start
                    },
                })
            }
            b'"' => self.string(),
            _ => {
                let from = self.i;
                while let Some(&c) = self.s.get(self.i) {
                    if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.') {
                        self.i += 1;
                    } else {
                        break;
                    }
                }
                let word = &self.text[from..self.i];
                if !(matches!(word, "true" | "false" | "null") || is_number(word)) {
                    return None;
                }
                Some(Node {
                    value: Value::Scalar(Scalar {
                        text: CompactString::from(word),
                        plain: true,
                    }),
                    pos: Pos {
                        end: self.i as u32,
                        ..start
                    },
                })
            }
        }
    }

    /// A string at `self.i` (which is `"`), as a quoted scalar.
    fn string(&mut self) -> Option<Node> {
        let start = self.here();
        self.i += 1;
        let from = self.i;
        // Fast path: no escapes.
        while let Some(&c) = self.s.get(self.i) {
            match c {
                b'"' => {
                    let text = CompactString::from(&self.text[from..self.i]);
                    self.i += 1;
                    return Some(Node {
                        value: Value::Scalar(Scalar { text, plain: false }),
                        pos: Pos {
                            end: self.i as u32,
                            ..start
                        },
                    });
                }
                b'\\' => break,
                c if c < 0x20 => return None,
                _ => self.i += 1,
            }
        }
        let mut out = String::from(&self.text[from..self.i]);
        loop {
            match *self.s.get(self.i)? {
                b'"' => {
                    self.i += 1;
                    return Some(Node {
                        value: Value::Scalar(Scalar {
                            text: CompactString::from(out),
                            plain: false,
                        }),
                        pos: Pos {
                            end: self.i as u32,
                            ..start
                        },
                    });
                }
                b'\\' => {
                    self.i += 1;
                    let c = *self.s.get(self.i)?;
                    self.i += 1;
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let ch = if (0xD800..0xDC00).contains(&hi) {
                                if self.s.get(self.i..self.i + 2) != Some(b"\\u") {
                                    return None;
                                }
                                self.i += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return None;
                                }
                                char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))?
                            } else {
                                char::from_u32(hi)?
                            };
                            out.push(ch);
                        }
                        _ => return None,
                    }
                }
                c if c < 0x20 => return None,
                _ => {
                    // Copy one UTF-8 character.
                    let ch = self.text.get(self.i..)?.chars().next()?;
                    out.push(ch);
                    self.i += ch.len_utf8();
                }
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.text.get(self.i..self.i + 4)?;
        self.i += 4;
        u32::from_str_radix(h, 16).ok()
    }
}

fn is_number(w: &str) -> bool {
    let b = w.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let s = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > s
    };
    if !digits(&mut i) {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(n: &Node) -> String {
        match &n.value {
            Value::Scalar(s) => format!(
                "{}{}@{}:{}-{}",
                if s.plain { "" } else { "'" },
                s.text,
                n.pos.line,
                n.pos.column,
                n.pos.end
            ),
            Value::Seq(items) => format!(
                "[{}]@{}:{}",
                items.iter().map(strip).collect::<Vec<_>>().join(","),
                n.pos.line,
                n.pos.column
            ),
            Value::Map(e) => format!(
                "{{{}}}@{}:{}",
                e.iter()
                    .map(|(k, v)| format!("{}={}", strip(k), strip(v)))
                    .collect::<Vec<_>>()
                    .join(","),
                n.pos.line,
                n.pos.column
            ),
        }
    }

    #[test]
    fn json_reads_like_the_yaml_parser() {
        let texts = [
            "{\"a\": 1, \"b\": [true, null, \"x\\u00e9\\n\"],\n \"c\": {\"d\": -1.5e3}}",
            "[\n  {\"kind\": \"Service\", \"é\": \"ü\"},\n  {}\n]",
        ];
        for t in texts {
            let fast = parse(t, 64).expect("strict JSON");
            let slow = crate::parse::parse_chunks_for_test(t);
            assert_eq!(strip(&fast), strip(&slow), "{t}");
        }
    }

    #[test]
    fn not_strict_json_falls_back() {
        for t in [
            "{\"dup\": 1, \"dup\": 2}",
            "{a: 1}",
            "{\"a\": 1,}",
            "[1, 2",
            "{\"a\": tru}",
            "{\"a\": 01x}",
            "[\"\t\"]",
        ] {
            assert!(parse(t, 64).is_none(), "{t}");
        }
        assert!(parse("[[[[1]]]]", 2).is_none());
    }
}
