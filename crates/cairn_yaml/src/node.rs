//! The tree: [`Node`], [`Value`] and [`Scalar`].

use cairn_source::Pos;
pub use compact_str::CompactString;

/// A YAML node and its position.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The content.
    pub value: Value,
    /// Where the node's text is: for a collection, from its first to its last character.
    pub pos: Pos,
}

/// The content of a node.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A scalar, with its text as written.
    Scalar(Scalar),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in source order, duplicates removed and merge keys applied.
    Map(Vec<(Node, Node)>),
}

/// A scalar's text and whether it was written plain (unquoted, not a block).
///
/// The text is a [`CompactString`]: keys and most values of manifests are
/// under 24 bytes and live inline, which halves the memory of a large scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scalar {
    /// The text after unescaping and folding.
    pub text: CompactString,
    /// `true` for a plain scalar: only plain scalars resolve to null, bool or numbers.
    pub plain: bool,
}

impl Node {
    /// A plain scalar node (used by tests and synthesized values).
    pub fn plain(text: impl Into<CompactString>, pos: Pos) -> Self {
        Node {
            value: Value::Scalar(Scalar {
                text: text.into(),
                plain: true,
            }),
            pos,
        }
    }

    /// The mapping entries, if this is a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The items, if this is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The scalar, if this is one.
    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The text of a scalar that is not null.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) if !s.is_null() => Some(&s.text),
            _ => None,
        }
    }

    /// Whether the node is null (`~`, `null`, or empty).
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar(s) if s.is_null())
    }

    /// The value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node and value node of `key` in a mapping.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_scalar().is_some_and(|s| s.text == key))
            .map(|(k, v)| (k, v))
    }

    /// Follows a path of mapping keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |n, k| n.get(k))
    }

    /// The string at `key`.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key)?.as_str()
    }

    /// The items of the sequence at `key`, empty when absent or not a sequence.
    pub fn seq_at(&self, key: &str) -> &[Node] {
        self.get(key).and_then(Node::as_seq).unwrap_or(&[])
    }

    /// The entries of the mapping at `key`, empty when absent or not a mapping.
    pub fn map_at(&self, key: &str) -> &[(Node, Node)] {
        self.get(key).and_then(Node::as_map).unwrap_or(&[])
    }

    /// The node as an integer, if it is a plain integer scalar (`3`, `0x1f`, `-2`)
    /// or a quoted string holding decimal digits only when `lenient`.
    pub fn as_i64(&self) -> Option<i64> {
        let s = self.as_scalar()?;
        if !s.plain {
            return None;
        }
        parse_int(&s.text)
    }

    /// The node as a float, if it is a plain number.
    pub fn as_f64(&self) -> Option<f64> {
        let s = self.as_scalar()?;
        if !s.plain {
            return None;
        }
        if let Some(i) = parse_int(&s.text) {
            return Some(i as f64);
        }
        let t = s.text.trim();
        if t.chars().any(|c| c.is_ascii_digit()) {
            t.replace('_', "").parse().ok()
        } else {
            None
        }
    }

    /// The node as a boolean, if it is a plain boolean (`true`, `false`, and
    /// YAML 1.1's `yes`/`no`/`on`/`off`, which Kubernetes and Compose still accept).
    pub fn as_bool(&self) -> Option<bool> {
        let s = self.as_scalar()?;
        if !s.plain {
            return None;
        }
        match s.text.as_str() {
            "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y" | "Y" => {
                Some(true)
            }
            "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "n"
            | "N" => Some(false),
            _ => None,
        }
    }

    /// A short name for the node's type, for diagnostics ("a mapping", "a string").
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Map(_) => "a mapping",
            Value::Seq(_) => "a sequence",
            Value::Scalar(s) if s.is_null() => "null",
            Value::Scalar(s) if s.plain && parse_int(&s.text).is_some() => "a number",
            Value::Scalar(_) if self.as_bool().is_some() => "a boolean",
            Value::Scalar(_) => "a string",
        }
    }

    /// How many nodes this subtree holds, itself included.
    pub fn count(&self) -> usize {
        let mut n = 0;
        let mut stack = vec![self];
        while let Some(node) = stack.pop() {
            n += 1;
            match &node.value {
                Value::Scalar(_) => {}
                Value::Seq(items) => stack.extend(items),
                Value::Map(entries) => {
                    for (k, v) in entries {
                        stack.push(k);
                        stack.push(v);
                    }
                }
            }
        }
        n
    }
}

impl Scalar {
    /// Whether the scalar is a YAML null.
    pub fn is_null(&self) -> bool {
        self.plain && matches!(self.text.as_str(), "" | "~" | "null" | "Null" | "NULL")
    }
}

fn parse_int(text: &str) -> Option<i64> {
    let t = text.trim();
    let (neg, digits) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let value = if let Some(hex) = digits.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(oct) = digits.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()?
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
        digits.replace('_', "").parse().ok()?
    } else {
        return None;
    };
    Some(if neg { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(t: &str) -> Node {
        Node::plain(t, Pos::default())
    }

    #[test]
    fn integers_resolve_only_when_plain() {
        assert_eq!(plain("3").as_i64(), Some(3));
        assert_eq!(plain("-0x10").as_i64(), Some(-16));
        assert_eq!(plain("three").as_i64(), None);
        let quoted = Node {
            value: Value::Scalar(Scalar {
                text: "3".into(),
                plain: false,
            }),
            pos: Pos::default(),
        };
        assert_eq!(quoted.as_i64(), None);
        assert_eq!(quoted.as_str(), Some("3"));
    }

    #[test]
    fn yaml_1_1_booleans_resolve() {
        assert_eq!(plain("yes").as_bool(), Some(true));
        assert_eq!(plain("off").as_bool(), Some(false));
        assert_eq!(plain("maybe").as_bool(), None);
    }

    #[test]
    fn nulls_have_no_text() {
        assert!(plain("~").is_null());
        assert_eq!(plain("").as_str(), None);
    }
}
