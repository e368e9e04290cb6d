//! Source files, positions and diagnostics.
//!
//! Every fact cairn reports points back at the bytes it came from. This crate
//! holds the few types that make that possible and that every other crate
//! shares: [`FileId`], [`Pos`], [`Loc`], [`SourceMap`] and [`Diagnostic`].
//! It does no IO.

pub mod codes;
mod diagnostic;

pub use diagnostic::{Diagnostic, Severity};

use serde::Serialize;

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct FileId(pub u32);

/// A position in one file: 1-based line and column (in characters) of the
/// start, and the byte range `start..end`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Pos {
    /// 1-based line of the first character.
    pub line: u32,
    /// 1-based column, counted in characters, of the first character.
    pub column: u32,
    /// Byte offset of the first byte.
    pub start: u32,
    /// Byte offset one past the last byte.
    pub end: u32,
}

impl Pos {
    /// A position that covers from the start of `self` to the end of `other`.
    #[must_use]
    pub fn to(self, other: Pos) -> Pos {
        Pos {
            end: other.end.max(self.start),
            ..self
        }
    }
}

/// A position in a known file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Loc {
    /// The file.
    pub file: FileId,
    /// Where in the file.
    pub pos: Pos,
}

impl Loc {
    /// A location in `file` at `pos`.
    pub fn new(file: FileId, pos: Pos) -> Self {
        Loc { file, pos }
    }
}

/// What cairn knows of one input file.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The path as the user named it (relative paths stay relative), with `/`
    /// separators; shared, because every piece of evidence names it.
    pub path: std::sync::Arc<str>,
    /// The text, when the file was read and was UTF-8.
    pub text: Option<std::sync::Arc<str>>,
}

impl SourceFile {
    /// The 1-based `line` of the text, without its line break.
    pub fn line(&self, line: u32) -> Option<&str> {
        let text = self.text.as_deref()?;
        text.lines().nth(line.checked_sub(1)? as usize)
    }
}

/// All files of one run, addressed by [`FileId`].
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file and returns its id.
    pub fn add(&mut self, path: impl Into<String>, text: Option<std::sync::Arc<str>>) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(SourceFile {
            path: std::sync::Arc::from(path.into()),
            text,
        });
        id
    }

    /// Sets the text of a file added before its content was read.
    pub fn set_text(&mut self, id: FileId, text: std::sync::Arc<str>) {
        if let Some(f) = self.files.get_mut(id.0 as usize) {
            f.text = Some(text);
        }
    }

    /// The file behind `id`.
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// The path of `id`, or `"<unknown>"`.
    pub fn path(&self, id: FileId) -> &str {
        self.get(id).map_or("<unknown>", |f| &*f.path)
    }

    /// The shared path of `id`, or `"<unknown>"`.
    pub fn path_arc(&self, id: FileId) -> std::sync::Arc<str> {
        self.get(id)
            .map_or_else(|| std::sync::Arc::from("<unknown>"), |f| f.path.clone())
    }

    /// Every file, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    /// How many files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether no file was added.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// Converts parser positions, counted in characters, into byte offsets.
///
/// saphyr reports character indices; ASCII text (the common case for
/// manifests) maps one to one, anything else goes through a table built once.
#[derive(Debug)]
pub struct CharToByte {
    table: Option<Vec<u32>>,
}

impl CharToByte {
    /// Builds the converter for `text`.
    pub fn new(text: &str) -> Self {
        if text.is_ascii() {
            return CharToByte { table: None };
        }
        let mut table: Vec<u32> = text.char_indices().map(|(b, _)| b as u32).collect();
        table.push(text.len() as u32);
        CharToByte { table: Some(table) }
    }

    /// The byte offset of character index `chars`, clamped to the text.
    pub fn byte(&self, chars: usize) -> u32 {
        match &self.table {
            None => chars as u32,
            Some(t) => t
                .get(chars)
                .copied()
                .unwrap_or_else(|| t.last().copied().unwrap_or(0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn char_to_byte_maps_multibyte_text() {
        let c = CharToByte::new("aé b");
        assert_eq!(c.byte(0), 0);
        assert_eq!(c.byte(2), 3);
        assert_eq!(c.byte(4), 5);
        assert_eq!(c.byte(99), 5);
    }

    #[test]
    fn source_line_is_one_based() {
        let mut m = SourceMap::new();
        let id = m.add("a.yaml", Some("x: 1\ny: 2\n".into()));
        assert_eq!(m.get(id).unwrap().line(2), Some("y: 2"));
        assert_eq!(m.get(id).unwrap().line(0), None);
    }
}
