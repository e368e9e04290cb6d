//! Loading a tree of `.proto` files into the model the rules compare.
//!
//! Files are compiled with protox in one pass; a file that does not compile
//! becomes a `proto-compile` diagnostic and the rest of the tree still loads.
//! protox has no editions support, so an `edition = "2023";` statement is
//! rewritten in place (same length, so every span stays put) to a proto3
//! `syntax` statement; features are then resolved here from the options.

// Descriptor indices and source-info numbers are `i32` in protobuf and
// bounded by the file-size cap, so the casts between them and `usize` cannot
// wrap; the model mirrors descriptor.proto's field names and flags.
#![allow(
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::struct_excessive_bools,
    clippy::struct_field_names,
    clippy::many_single_char_names
)]

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cairn_source::{Diagnostic, FileId, Pos, SourceMap};
use prost_types::{
    DescriptorProto, EnumDescriptorProto, FieldDescriptorProto, FileDescriptorProto,
    ServiceDescriptorProto, SourceCodeInfo, field_descriptor_proto::Label,
    field_descriptor_proto::Type,
};
use protox::file::{File, FileResolver, GoogleFileResolver};
use rayon::prelude::*;

/// A 1-based `[start_line, start_column, end_line, end_column]` span.
pub(crate) type Span = [u32; 4];

/// A small, fast, non-cryptographic hasher (the multiply-rotate scheme of
/// rustc's `FxHasher`) for the maps keyed by source paths and names that
/// the loader and the rules probe hundreds of thousands of times.
#[derive(Clone, Copy, Default)]
pub(crate) struct FxHasher {
    hash: u64,
}

impl FxHasher {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(Self::SEED);
    }
}

impl std::hash::Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        // The low bits of a product depend only on the low bits of its
        // factors, and hashbrown picks buckets with the low bits: bring the
        // well-mixed high bits down (as rustc-hash 2 does).
        self.hash.rotate_left(26)
    }
}

/// A `HashMap` with [`FxHasher`].
pub(crate) type FxHashMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<FxHasher>>;

/// A source path of at most [`SmallPath::CAP`] elements, stored inline: the
/// key of almost every location, without an allocation.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct SmallPath {
    len: u8,
    items: [i32; SmallPath::CAP],
}

impl SmallPath {
    const CAP: usize = 10;

    fn new(path: &[i32]) -> Option<Self> {
        if path.len() > Self::CAP {
            return None;
        }
        let mut items = [0; Self::CAP];
        items[..path.len()].copy_from_slice(path);
        Some(SmallPath {
            len: path.len() as u8,
            items,
        })
    }
}

/// Source path to span, for one file: short paths inline, longer ones
/// boxed.
#[derive(Clone, Debug, Default)]
pub(crate) struct Locations {
    short: FxHashMap<SmallPath, Span>,
    long: FxHashMap<Box<[i32]>, Span>,
}

impl std::fmt::Debug for SmallPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.items[..usize::from(self.len)].fmt(f)
    }
}

impl Locations {
    pub(crate) fn get(&self, path: &[i32]) -> Option<Span> {
        match SmallPath::new(path) {
            Some(key) => self.short.get(&key).copied(),
            None => self.long.get(path).copied(),
        }
    }

    fn reserve(&mut self, n: usize) {
        self.short.reserve(n);
    }

    /// Records `span` at `path`; of two spans at one path, the one that
    /// starts first is kept.
    fn add(&mut self, path: &[i32], span: Span) {
        let keep = |s: &mut Span| {
            if (span[0], span[1]) < (s[0], s[1]) {
                *s = span;
            }
        };
        match SmallPath::new(path) {
            Some(key) => {
                self.short.entry(key).and_modify(keep).or_insert(span);
            }
            None => {
                self.long
                    .entry(path.into())
                    .and_modify(keep)
                    .or_insert(span);
            }
        }
    }
}

/// A `HashSet` with [`FxHasher`].
pub(crate) type FxHashSet<K> =
    std::collections::HashSet<K, std::hash::BuildHasherDefault<FxHasher>>;

/// The syntax a file was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Syntax {
    Proto2,
    Proto3,
    Editions,
}

/// Feature values as resolved for one element (numbers of
/// `google.protobuf.FeatureSet` enums).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Features {
    pub field_presence: i32,
    pub enum_type: i32,
    pub utf8_validation: i32,
    pub message_encoding: i32,
    pub json_format: i32,
    pub cpp_string_type: i32,
    pub java_utf8: i32,
}

/// Feature numbers used below.
pub(crate) mod feat {
    pub const EXPLICIT: i32 = 1;
    pub const IMPLICIT: i32 = 2;
    pub const LEGACY_REQUIRED: i32 = 3;
    pub const OPEN: i32 = 1;
    pub const CLOSED: i32 = 2;
    pub const VERIFY: i32 = 2;
    pub const NONE: i32 = 3;
    pub const DELIMITED: i32 = 2;
    pub const ALLOW: i32 = 1;
    pub const LEGACY_BEST_EFFORT: i32 = 2;
    pub const CPP_STRING: i32 = 3;
    pub const JAVA_DEFAULT: i32 = 1;
}

impl Features {
    fn defaults(syntax: Syntax) -> Self {
        use feat::{
            ALLOW, CLOSED, CPP_STRING, EXPLICIT, IMPLICIT, JAVA_DEFAULT, LEGACY_BEST_EFFORT, NONE,
            OPEN, VERIFY,
        };
        match syntax {
            Syntax::Proto2 => Features {
                field_presence: EXPLICIT,
                enum_type: CLOSED,
                utf8_validation: NONE,
                message_encoding: 1,
                json_format: LEGACY_BEST_EFFORT,
                cpp_string_type: CPP_STRING,
                java_utf8: JAVA_DEFAULT,
            },
            Syntax::Proto3 => Features {
                field_presence: IMPLICIT,
                enum_type: OPEN,
                utf8_validation: VERIFY,
                message_encoding: 1,
                json_format: ALLOW,
                cpp_string_type: CPP_STRING,
                java_utf8: JAVA_DEFAULT,
            },
            Syntax::Editions => Features {
                field_presence: EXPLICIT,
                enum_type: OPEN,
                utf8_validation: VERIFY,
                message_encoding: 1,
                json_format: ALLOW,
                cpp_string_type: CPP_STRING,
                java_utf8: JAVA_DEFAULT,
            },
        }
    }
}

/// Overrides read from one element's `features` option.
#[derive(Clone, Copy, Debug, Default)]
struct FeatureOverrides {
    field_presence: Option<i32>,
    enum_type: Option<i32>,
    utf8_validation: Option<i32>,
    message_encoding: Option<i32>,
    json_format: Option<i32>,
    cpp_string_type: Option<i32>,
    java_utf8: Option<i32>,
}

impl Features {
    fn apply(mut self, o: FeatureOverrides) -> Self {
        if let Some(v) = o.field_presence {
            self.field_presence = v;
        }
        if let Some(v) = o.enum_type {
            self.enum_type = v;
        }
        if let Some(v) = o.utf8_validation {
            self.utf8_validation = v;
        }
        if let Some(v) = o.message_encoding {
            self.message_encoding = v;
        }
        if let Some(v) = o.json_format {
            self.json_format = v;
        }
        if let Some(v) = o.cpp_string_type {
            self.cpp_string_type = v;
        }
        if let Some(v) = o.java_utf8 {
            self.java_utf8 = v;
        }
        self
    }
}

/// A field's default value: what buf compares and what it prints.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum DefaultValue {
    /// string and bytes defaults compare as byte strings.
    Bytes(Vec<u8>),
    Bool(bool),
    Int(i128),
    F32(f32),
    F64(f64),
}

/// One field or extension.
#[derive(Clone, Debug)]
pub(crate) struct Field {
    pub name: String,
    /// `pkg.Scope.name` for extensions (and for every field of an editions
    /// file); empty for the fields of other messages, where no rule reads it.
    pub full_name: String,
    pub number: i32,
    pub label: i32,
    /// protoreflect's kind name: `group` also for delimited message fields.
    pub kind: &'static str,
    pub type_name: String,
    /// Without the leading dot; empty for fields of a message.
    pub extendee: String,
    /// The simple name of the message the field is declared in.
    pub parent_name: String,
    pub parent_is_map_entry: bool,
    /// The (non-synthetic) oneof the field is in, if any.
    pub oneof: Option<String>,
    pub json_name: String,
    /// The value and how buf prints it (static for implicit defaults).
    pub default: Option<(DefaultValue, Cow<'static, str>)>,
    pub jstype: i32,
    pub ctype: Option<i32>,
    pub is_list: bool,
    pub is_map: bool,
    pub is_required: bool,
    pub has_presence: bool,
    pub features: Features,
    pub path: Vec<i32>,
}

/// One message, nested ones included.
#[derive(Clone, Debug)]
pub(crate) struct Message {
    pub name: String,
    pub full_name: String,
    pub nested_name: String,
    pub fields: Vec<Field>,
    pub oneofs: Vec<(String, bool)>,
    pub reserved_ranges: Vec<(i32, i32)>,
    pub reserved_names: Vec<String>,
    pub extension_ranges: Vec<(i32, i32)>,
    pub message_set_wire_format: bool,
    pub no_standard_descriptor_accessor: bool,
    pub features: Features,
    pub path: Vec<i32>,
    /// `(field number, index in fields)`, sorted by number: the rules pair
    /// fields by number without touching the (large) fields themselves.
    pub by_number: Vec<(i32, u32)>,
}

impl Message {
    /// The field with `number`, if any.
    pub(crate) fn field(&self, number: i32) -> Option<&Field> {
        let i = self
            .by_number
            .binary_search_by_key(&number, |&(n, _)| n)
            .ok()?;
        self.fields.get(self.by_number[i].1 as usize)
    }
}

/// One enum value.
#[derive(Clone, Debug)]
pub(crate) struct EnumValue {
    pub name: String,
    pub number: i32,
    pub path: Vec<i32>,
}

/// One enum, nested ones included.
#[derive(Clone, Debug)]
pub(crate) struct Enum {
    pub name: String,
    pub full_name: String,
    pub nested_name: String,
    pub values: Vec<EnumValue>,
    pub reserved_ranges: Vec<(i32, i32)>,
    pub reserved_names: Vec<String>,
    pub features: Features,
    pub path: Vec<i32>,
}

/// One RPC.
#[derive(Clone, Debug)]
pub(crate) struct Method {
    pub name: String,
    pub input: String,
    pub output: String,
    pub client_streaming: bool,
    pub server_streaming: bool,
    pub idempotency: i32,
    pub path: Vec<i32>,
}

/// One service.
#[derive(Clone, Debug)]
pub(crate) struct Service {
    pub name: String,
    pub full_name: String,
    pub methods: Vec<Method>,
    pub path: Vec<i32>,
}

/// One compiled file of the tree.
#[derive(Clone, Debug)]
pub(crate) struct ProtoFile {
    /// Path relative to its root, `/`-separated, as buf prints it.
    pub path: String,
    pub package: String,
    pub syntax: Syntax,
    /// `(option name, value)` of the file options buf compares, by rule.
    pub options: HashMap<&'static str, String>,
    pub java_string_check_utf8: Option<bool>,
    pub messages: Vec<Message>,
    pub enums: Vec<Enum>,
    pub services: Vec<Service>,
    pub extensions: Vec<Field>,
    /// Source path to span, built once per file from its source info.
    locations: Locations,
    /// Map entry message paths, and the path of the map field that
    /// declares them: the entry and its fields are located at the field.
    map_entries: FxHashMap<Vec<i32>, Vec<i32>>,
}

impl ProtoFile {
    /// The span recorded for a source path, if any.
    pub(crate) fn loc(&self, path: &[i32]) -> Option<Span> {
        if let Some(span) = self.locations.get(path) {
            return Some(span);
        }
        if self.map_entries.is_empty() {
            return None;
        }
        (2..=path.len()).find_map(|n| {
            let field = self.map_entries.get(&path[..n])?;
            let whole = self.locations.get(field);
            if path.len() <= n + 2 {
                // The entry message, or one of its fields.
                return whole;
            }
            // A part of an entry field (its type): the `map<K, V>` type.
            let mut type_path = field.clone();
            type_path.push(6);
            self.locations.get(&type_path).or(whole)
        })
    }
}

/// The compiled `.proto` files under one root, ready to be compared.
#[derive(Clone, Debug, Default)]
pub struct ProtoTree {
    root: PathBuf,
    pub(crate) files: Vec<ProtoFile>,
    pub(crate) by_path: HashMap<String, usize>,
    sources: SourceMap,
}

impl ProtoTree {
    /// The directory the tree was loaded from.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The files that compiled, by path relative to their root.
    pub fn file_paths(&self) -> impl Iterator<Item = &str> {
        self.files.iter().map(|f| f.path.as_str())
    }

    /// How many files compiled.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether no file compiled.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The source files read (their [`FileId`]s are those of the
    /// diagnostics [`load`] returned); paths are relative to the root.
    pub fn sources(&self) -> &SourceMap {
        &self.sources
    }
}

/// File options compared by the `FILE_SAME_*` rules: rule id, option name,
/// `FileOptions` field number.
pub(crate) const FILE_OPTIONS: &[(&str, &str, i32)] = &[
    ("FILE_SAME_JAVA_PACKAGE", "java_package", 1),
    ("FILE_SAME_JAVA_OUTER_CLASSNAME", "java_outer_classname", 8),
    ("FILE_SAME_OPTIMIZE_FOR", "optimize_for", 9),
    ("FILE_SAME_JAVA_MULTIPLE_FILES", "java_multiple_files", 10),
    ("FILE_SAME_GO_PACKAGE", "go_package", 11),
    ("FILE_SAME_CC_GENERIC_SERVICES", "cc_generic_services", 16),
    (
        "FILE_SAME_JAVA_GENERIC_SERVICES",
        "java_generic_services",
        17,
    ),
    ("FILE_SAME_PY_GENERIC_SERVICES", "py_generic_services", 18),
    ("FILE_SAME_CC_ENABLE_ARENAS", "cc_enable_arenas", 31),
    ("FILE_SAME_OBJC_CLASS_PREFIX", "objc_class_prefix", 36),
    ("FILE_SAME_CSHARP_NAMESPACE", "csharp_namespace", 37),
    ("FILE_SAME_SWIFT_PREFIX", "swift_prefix", 39),
    ("FILE_SAME_PHP_CLASS_PREFIX", "php_class_prefix", 40),
    ("FILE_SAME_PHP_NAMESPACE", "php_namespace", 41),
    (
        "FILE_SAME_PHP_METADATA_NAMESPACE",
        "php_metadata_namespace",
        44,
    ),
    ("FILE_SAME_RUBY_PACKAGE", "ruby_package", 45),
];

/// Feature files that editions sources import and that protox does not ship.
/// Written here from the published field numbers (only what the rules read).
const JAVA_FEATURES: &str = r#"syntax = "proto2";
package pb;
import "google/protobuf/descriptor.proto";
extend google.protobuf.FeatureSet { optional JavaFeatures java = 1001; }
message JavaFeatures {
  optional bool legacy_closed_enum = 1;
  enum Utf8Validation { UTF8_VALIDATION_UNKNOWN = 0; DEFAULT = 1; VERIFY = 2; }
  optional Utf8Validation utf8_validation = 2;
  optional bool large_enum = 3;
  optional bool use_old_outer_classname_default = 4;
  message NestInFileClassFeature {
    enum NestInFileClass { NEST_IN_FILE_CLASS_UNKNOWN = 0; NO = 1; YES = 2; LEGACY = 3; }
  }
  optional NestInFileClassFeature.NestInFileClass nest_in_file_class = 5;
}
"#;

const CPP_FEATURES: &str = r#"syntax = "proto2";
package pb;
import "google/protobuf/descriptor.proto";
extend google.protobuf.FeatureSet { optional CppFeatures cpp = 1000; }
message CppFeatures {
  optional bool legacy_closed_enum = 1;
  enum StringType { STRING_TYPE_UNKNOWN = 0; VIEW = 1; CORD = 2; STRING = 3; }
  optional StringType string_type = 2;
  optional bool enum_name_uses_string_view = 3;
}
"#;

/// Serves the tree's (rewritten) sources, then the feature shims, then the
/// well-known types.
struct TreeResolver {
    sources: HashMap<String, Arc<str>>,
    google: GoogleFileResolver,
}

impl FileResolver for TreeResolver {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        if let Some(src) = self.sources.get(name) {
            return File::from_source(name, src);
        }
        match name {
            "google/protobuf/java_features.proto" => File::from_source(name, JAVA_FEATURES),
            "google/protobuf/cpp_features.proto" => File::from_source(name, CPP_FEATURES),
            _ => self.google.open_file(name),
        }
    }
}

/// An editions file rewritten so protox (which has no editions support)
/// compiles it: the `edition` statement becomes a proto2 `syntax`
/// statement of the same length and singular fields get an `optional`
/// label; `inserted` maps columns back to the original text.
#[derive(Clone, Debug, Default)]
pub(crate) struct Rewrite {
    pub text: String,
    /// Per 0-based line: `(original 0-based column, inserted length)`,
    /// sorted by column.
    pub inserted: HashMap<u32, Vec<(u32, u32)>>,
}

impl Rewrite {
    /// The original 0-based column of 0-based `col` on 0-based `line` of
    /// the rewritten text.
    fn column(&self, line: u32, col: u32) -> u32 {
        let Some(ins) = self.inserted.get(&line) else {
            return col;
        };
        let mut shift = 0;
        for &(orig, len) in ins {
            let new_start = orig + shift;
            if col < new_start {
                break;
            }
            if col < new_start + len {
                return orig;
            }
            shift += len;
        }
        col - shift
    }
}

/// A token of proto source: its text and byte offset.
fn tokens(text: &str) -> Vec<(&str, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            i = text[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
        } else if c == b'"' || c == b'\'' {
            let start = i;
            i += 1;
            while i < b.len() && b[i] != c {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i = (i + 1).min(b.len());
            out.push((&text[start..i], start));
        } else if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.') {
                i += 1;
            }
            out.push((&text[start..i], start));
        } else {
            let len = text[i..].chars().next().map_or(1, char::len_utf8);
            out.push((&text[i..i + len], i));
            i += len;
        }
    }
    out
}

/// Skips one statement starting at token `i`: up to its `;` or the end of
/// its `{ ... }` body; returns the index after it.
fn skip_statement(toks: &[(&str, usize)], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < toks.len() {
        match toks[i].0 {
            "{" => depth += 1,
            "}" => {
                if depth == 0 {
                    return i;
                }
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            ";" if depth == 0 => return i + 1,
            _ => {}
        }
        i += 1;
    }
    i
}

/// Offsets of the field declarations that have no label, in message and
/// extend bodies (not in oneofs, enums or services).
fn unlabelled_fields(toks: &[(&str, usize)]) -> Vec<usize> {
    #[derive(Clone, Copy, PartialEq)]
    enum Block {
        Message,
        Extend,
        Oneof,
    }
    let mut out = Vec::new();
    let mut stack: Vec<Block> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let t = toks[i].0;
        let top = stack.last().copied();
        match t {
            "}" => {
                stack.pop();
                i += 1;
            }
            ";" => i += 1,
            "message" | "extend" | "oneof" if toks.get(i + 2).is_some_and(|x| x.0 == "{") => {
                stack.push(match t {
                    "message" => Block::Message,
                    "extend" => Block::Extend,
                    _ => Block::Oneof,
                });
                i += 3;
            }
            "enum" | "service" => {
                // Skip the whole body: nothing in it takes a label.
                let mut j = i;
                while j < toks.len() && toks[j].0 != "{" {
                    j += 1;
                }
                let mut depth = 0usize;
                while j < toks.len() {
                    match toks[j].0 {
                        "{" => depth += 1,
                        "}" => {
                            depth -= 1;
                            if depth == 0 {
                                j += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                i = j;
            }
            "option" | "reserved" | "extensions" | "import" | "package" | "syntax" | "edition"
            | "repeated" | "optional" | "required" => i = skip_statement(toks, i),
            "map" if toks.get(i + 1).is_some_and(|x| x.0 == "<") => i = skip_statement(toks, i),
            _ => {
                if matches!(top, Some(Block::Message | Block::Extend))
                    && toks.get(i + 2).is_some_and(|x| x.0 == "=")
                {
                    out.push(toks[i].1);
                }
                i = skip_statement(toks, i);
            }
        }
    }
    out
}

/// Whether the first token of `text` (after whitespace and comments) is
/// `edition`, as [`tokens`] would split it.
fn first_token_is_edition(text: &str) -> bool {
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("//") {
            rest = r.find('\n').map_or("", |e| &r[e..]);
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.find("*/").map_or("", |e| &r[e + 2..]);
        } else {
            break;
        }
    }
    rest.strip_prefix("edition").is_some_and(|r| {
        !r.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    })
}

/// Rewrites an editions file (one whose first statement is `edition`) so
/// protox compiles it; `None` for proto2 and proto3 files.
fn rewrite_edition(text: &str) -> Option<Rewrite> {
    // Most files are not editions: look at the first token before
    // tokenizing the whole file.
    if !first_token_is_edition(text) {
        return None;
    }
    let toks = tokens(text);
    let first = toks.first()?;
    if first.0 != "edition" {
        return None;
    }
    let semi = toks.iter().position(|t| t.0 == ";")?;
    let (start, end) = (first.1, toks[semi].1 + 1);
    let stmt = &text[start..end];
    let mut replacement = if stmt.len() >= 18 {
        String::from("syntax = \"proto2\";")
    } else {
        String::from("syntax=\"proto2\";")
    };
    // Keep line breaks inside the statement so later lines do not move.
    let newlines = stmt.matches('\n').count();
    while replacement.len() + newlines < stmt.len() {
        replacement.push(' ');
    }
    for _ in 0..newlines {
        replacement.push('\n');
    }
    let mut out = String::with_capacity(text.len() + 256);
    out.push_str(&text[..start]);
    out.push_str(&replacement);
    let mut rewrite = Rewrite::default();
    let mut cursor = end;
    for offset in unlabelled_fields(&toks) {
        if offset < cursor {
            continue;
        }
        out.push_str(&text[cursor..offset]);
        out.push_str("optional ");
        let before = &text[..offset];
        let line = before.matches('\n').count() as u32;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32;
        rewrite.inserted.entry(line).or_default().push((col, 9));
        cursor = offset;
    }
    out.push_str(&text[cursor..]);
    rewrite.text = out;
    Some(rewrite)
}

/// Lists `*.proto` files under `dir`, as `/`-separated paths relative to it.
fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>, diags: &mut Vec<Diagnostic>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            diags.push(
                Diagnostic::error(
                    "proto-read",
                    format!("cannot read directory {}: {e}", dir.display()),
                )
                .with_help("check that the directory exists and is readable"),
            );
            return;
        }
    };
    let mut items: Vec<(String, PathBuf, bool)> = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        items.push((name, entry.path(), is_dir));
    }
    items.sort();
    for (name, path, is_dir) in items {
        let rel = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        if is_dir {
            walk(&path, &rel, out, diags);
        } else if Path::new(&name)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("proto"))
        {
            out.push(rel);
        }
    }
}

/// Line and column (1-based, in characters) of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line as u32, col as u32)
}

/// The include roots a tree declares in its `buf.yaml` (v1beta1
/// `build.roots`, v2 `modules[].path`), or the root itself.
pub(crate) fn declared_roots(root: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(root.join("buf.yaml")) else {
        return vec![String::new()];
    };
    let parsed = cairn_yaml::parse(&text);
    let Some(doc) = parsed.documents.first() else {
        return vec![String::new()];
    };
    let mut roots: Vec<String> = Vec::new();
    if let Some(build) = doc.root.get("build") {
        for r in build.seq_at("roots") {
            if let Some(s) = r.as_str() {
                roots.push(s.trim_end_matches('/').to_owned());
            }
        }
    }
    for m in doc.root.seq_at("modules") {
        if let Some(p) = m.get_str("path") {
            roots.push(p.trim_end_matches('/').to_owned());
        }
    }
    roots.retain(|r| r != ".");
    if roots.is_empty() {
        roots.push(String::new());
    }
    roots
}

/// Loads every `.proto` file under `root` (under the roots its `buf.yaml`
/// names, when it names some), compiles them with protox and builds the
/// model the rules compare.
///
/// Never fails: a file that cannot be read or compiled is a diagnostic
/// (`proto-read`, `proto-compile`) and the rest of the tree is loaded.
pub fn load(root: &Path) -> (ProtoTree, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    if !root.is_dir() {
        diags.push(
            Diagnostic::error(
                "proto-read",
                format!("{} is not a directory", root.display()),
            )
            .with_help("pass the directory that holds the .proto files"),
        );
        let tree = ProtoTree {
            root: root.to_path_buf(),
            ..ProtoTree::default()
        };
        return (tree, diags);
    }
    let mut files: Vec<(String, std::io::Result<Vec<u8>>)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for r in &declared_roots(root) {
        let dir = if r.is_empty() {
            root.to_path_buf()
        } else {
            root.join(r)
        };
        let mut found = Vec::new();
        walk(&dir, "", &mut found, &mut diags);
        for name in found {
            // Feature definitions that protox cannot compile are served by
            // the shims above; they define no API of the tree.
            if is_shimmed(&name) || !seen.insert(name.clone()) {
                continue;
            }
            let bytes = std::fs::read(dir.join(&name));
            files.push((name, bytes));
        }
    }
    let (tree, more) = load_files(root, files);
    diags.extend(more);
    (tree, diags)
}

/// Loads a tree from files already read (or that failed to read), by path
/// relative to the tree's root, e.g. the files of a git revision. `root`
/// is only what the tree is called. Like [`load`], never fails.
pub fn load_files(
    root: &Path,
    files: Vec<(String, std::io::Result<Vec<u8>>)>,
) -> (ProtoTree, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut tree = ProtoTree {
        root: root.to_path_buf(),
        ..ProtoTree::default()
    };
    let mut names: Vec<String> = Vec::new();
    let mut sources: HashMap<String, Arc<str>> = HashMap::new();
    let mut ids: HashMap<String, FileId> = HashMap::new();
    let mut texts: HashMap<String, Arc<str>> = HashMap::new();
    let mut editions: HashMap<String, Rewrite> = HashMap::new();
    for (name, read) in files {
        if sources.contains_key(&name) || is_shimmed(&name) {
            continue;
        }
        match read {
            Ok(bytes) => {
                if let Ok(text) = String::from_utf8(bytes) {
                    let text: Arc<str> = Arc::from(text);
                    let id = tree.sources.add(name.clone(), Some(text.clone()));
                    ids.insert(name.clone(), id);
                    texts.insert(name.clone(), text.clone());
                    let compiled: Arc<str> = match rewrite_edition(&text) {
                        Some(rewrite) => {
                            let compiled = Arc::from(rewrite.text.as_str());
                            editions.insert(name.clone(), rewrite);
                            compiled
                        }
                        None => text,
                    };
                    sources.insert(name.clone(), compiled);
                    names.push(name);
                } else {
                    let id = tree.sources.add(name.clone(), None);
                    diags.push(
                        Diagnostic::error(
                            "proto-read",
                            format!("{name} is not valid UTF-8; it was skipped"),
                        )
                        .in_file(id)
                        .with_help("save the file as UTF-8"),
                    );
                }
            }
            Err(e) => {
                let id = tree.sources.add(name.clone(), None);
                diags.push(
                    Diagnostic::error("proto-read", format!("cannot read {name}: {e}"))
                        .in_file(id)
                        .with_help("check the file's permissions"),
                );
            }
        }
    }

    let resolver = TreeResolver {
        sources,
        google: GoogleFileResolver::new(),
    };
    // Fast path: the whole tree parsed in parallel and resolved in one
    // batch, with the source info kept out of the descriptor pool. When
    // anything does not compile, the file-by-file compiler below reports
    // each error where protox finds it (and compiles the rest).
    let (pool, compiled, mut indexed) =
        if let Some((pool, indexed)) = compile_batch(&resolver, &names, &editions, &texts) {
            (pool, names, indexed)
        } else {
            let (pool, compiled) = compile_each(resolver, &names, &ids, &texts, &mut diags);
            (pool, compiled, HashMap::new())
        };
    let jobs: Vec<(String, Locations)> = compiled
        .into_iter()
        .map(|name| {
            let locations = indexed.remove(&name).unwrap_or_default();
            (name, locations)
        })
        .collect();
    let built: Vec<ProtoFile> = jobs
        .into_par_iter()
        .filter_map(|(name, locations)| {
            let fd = pool.get_file_by_name(&name)?;
            let proto = fd.file_descriptor_proto();
            let rewrite = editions.get(&name);
            let syntax = if rewrite.is_some() {
                Syntax::Editions
            } else if proto.syntax() == "proto3" {
                Syntax::Proto3
            } else {
                Syntax::Proto2
            };
            let text = texts.get(&name).map_or("", |t| &**t);
            Some(build_file(
                &name, proto, locations, syntax, &pool, rewrite, text,
            ))
        })
        .collect();
    // Freeing the pool (every descriptor twice over, in small pieces) costs
    // about as much as parsing the tree; nothing waits for it.
    drop_in_background(pool);
    for file in built {
        tree.by_path.insert(file.path.clone(), tree.files.len());
        tree.files.push(file);
    }
    (tree, diags)
}

/// Drops `value` on a thread of its own (or here, when no thread can be
/// started: the failed spawn drops the closure and the value with it).
fn drop_in_background<T: Send + 'static>(value: T) {
    let _ = std::thread::Builder::new()
        .name("cairn-proto-drop".to_owned())
        .spawn(move || drop(value));
}

/// Loads the previous and the current tree, as [`load`] does each, both at
/// once.
pub fn load_pair(
    previous: &Path,
    current: &Path,
) -> ((ProtoTree, Vec<Diagnostic>), (ProtoTree, Vec<Diagnostic>)) {
    rayon::join(|| load(previous), || load(current))
}

/// Compiles the whole tree at once: parses every file in parallel, adds the
/// imports from outside the tree (shims and well-known types), orders the
/// files dependencies first and resolves them into one descriptor pool.
/// Each file's source info is indexed as it is parsed (in parallel) and
/// then left out of the pool, which neither copies nor keeps it, except for
/// option locations, whose paths the pool rewrites; the indexes are
/// returned by file name.
///
/// `None` when any file does not parse, an import is missing, duplicated
/// or circular, or the pool rejects a file: the caller then compiles file
/// by file with protox's compiler, which reports each error as protox does
/// and still compiles the rest.
fn compile_batch(
    resolver: &TreeResolver,
    names: &[String],
    editions: &HashMap<String, Rewrite>,
    texts: &HashMap<String, Arc<str>>,
) -> Option<(prost_reflect::DescriptorPool, HashMap<String, Locations>)> {
    type Parsed = (FileDescriptorProto, Locations);
    let parsed: Vec<Option<Parsed>> = names
        .par_iter()
        .map(|name| {
            let src = resolver.sources.get(name)?;
            let result = std::panic::catch_unwind(|| {
                File::from_source(name, src).map(FileDescriptorProto::from)
            });
            let mut proto = result.ok()?.ok()?;
            let mut locations = Locations::default();
            if let Some(info) = proto.source_code_info.as_mut() {
                let text = texts.get(name).map_or("", |t| &**t);
                index_locations(&mut locations, info, editions.get(name), text);
                // Option locations go to the pool: it rewrites their paths
                // from `uninterpreted_option` (999) to the option's own
                // field. The rest of the source info is no longer needed.
                info.location.retain(|l| l.path.contains(&999));
            }
            Some((proto, locations))
        })
        .collect();
    let mut files: HashMap<String, FileDescriptorProto> = HashMap::with_capacity(names.len() + 8);
    let mut indexed: HashMap<String, Locations> = HashMap::with_capacity(names.len());
    for (name, parsed) in names.iter().zip(parsed) {
        let (proto, locations) = parsed?;
        files.insert(name.clone(), proto);
        indexed.insert(name.clone(), locations);
    }
    // Imports from outside the tree, transitively.
    let mut queue: Vec<String> = files
        .values()
        .flat_map(|f| f.dependency.iter())
        .filter(|d| !files.contains_key(*d))
        .cloned()
        .collect();
    while let Some(dep) = queue.pop() {
        if files.contains_key(&dep) {
            continue;
        }
        let proto = FileDescriptorProto::from(resolver.open_file(&dep).ok()?);
        queue.extend(
            proto
                .dependency
                .iter()
                .filter(|d| !files.contains_key(*d))
                .cloned(),
        );
        files.insert(dep, proto);
    }
    // Dependencies first; a duplicated or circular import is an error.
    let mut order: Vec<String> = Vec::with_capacity(files.len());
    let mut state: HashMap<&str, bool> = HashMap::with_capacity(files.len());
    let mut sorted: Vec<&String> = files.keys().collect();
    sorted.sort();
    for start in sorted {
        if state.contains_key(start.as_str()) {
            continue;
        }
        // Iterative DFS: (file, next dependency to visit).
        let mut stack: Vec<(&str, usize)> = vec![(start.as_str(), 0)];
        state.insert(start.as_str(), false);
        while let Some(&mut (name, ref mut next)) = stack.last_mut() {
            let deps = &files.get(name)?.dependency;
            if *next == 0 {
                let mut seen: Vec<&str> = deps.iter().map(String::as_str).collect();
                seen.sort_unstable();
                if seen.windows(2).any(|w| w[0] == w[1]) {
                    return None;
                }
            }
            if let Some(dep) = deps.get(*next) {
                *next += 1;
                match state.get(dep.as_str()) {
                    Some(false) => return None,
                    Some(true) => {}
                    None => {
                        state.insert(dep.as_str(), false);
                        stack.push((dep.as_str(), 0));
                    }
                }
            } else {
                state.insert(name, true);
                order.push(name.to_owned());
                stack.pop();
            }
        }
    }
    let batch: Vec<FileDescriptorProto> = order
        .into_iter()
        .filter_map(|name| {
            let mut proto = files.remove(&name)?;
            if !resolver.sources.contains_key(&name) {
                proto.source_code_info = None;
            }
            Some(proto)
        })
        .collect();
    let mut pool = prost_reflect::DescriptorPool::new();
    let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // One file at a time, dependencies first, as protox's compiler
        // adds them: measurably cheaper than one batch of the whole tree.
        for p in batch {
            pool.add_file_descriptor_proto(p)?;
        }
        Ok::<(), prost_reflect::DescriptorError>(())
    }));
    built.ok()?.ok()?;
    Some((pool, indexed))
}

/// Compiles the tree file by file with one protox compiler: each file is
/// compiled once, and a file that fails is a diagnostic and leaves the ones
/// already added in place. Returns the pool and the files that compiled.
fn compile_each(
    resolver: TreeResolver,
    names: &[String],
    ids: &HashMap<String, FileId>,
    texts: &HashMap<String, Arc<str>>,
    diags: &mut Vec<Diagnostic>,
) -> (prost_reflect::DescriptorPool, Vec<String>) {
    let mut compiler = protox::Compiler::with_file_resolver(resolver);
    compiler.include_source_info(true);
    compiler.include_imports(true);
    let mut compiled: Vec<String> = Vec::new();
    for name in names {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            compiler.open_file(name).map(|_| ())
        }));
        match result {
            Ok(Ok(())) => compiled.push(name.clone()),
            Ok(Err(err)) => diags.push(compile_diagnostic(&err, name, ids, texts)),
            Err(_) => diags.push(
                Diagnostic::error("proto-compile", format!("{name}: the compiler failed"))
                    .in_file(ids[name]),
            ),
        }
    }
    (compiler.descriptor_pool(), compiled)
}

/// Turns a protox error into a diagnostic at the file, line and column it
/// names.
fn compile_diagnostic(
    err: &protox::Error,
    name: &str,
    ids: &HashMap<String, FileId>,
    texts: &HashMap<String, Arc<str>>,
) -> Diagnostic {
    use miette::Diagnostic as _;
    let file = err
        .file()
        .filter(|f| ids.contains_key(*f))
        .unwrap_or(name)
        .to_owned();
    let mut message = err.to_string();
    if let Some(src) = err.file().filter(|f| *f != name) {
        let _ = write!(message, " (in {src}, while compiling {name})");
    }
    let mut diag = Diagnostic::error("proto-compile", format!("{name}: {message}"))
        .with_help("fix the file so it compiles; the rest of the tree was still compared");
    if let Some(id) = ids.get(&file) {
        diag = diag.in_file(*id);
        let offset = err
            .labels()
            .and_then(|mut labels| labels.next())
            .map(|l| (l.offset(), l.len()));
        if let (Some((start, len)), Some(text)) = (offset, texts.get(&file)) {
            let (line, column) = line_col(text, start);
            diag = diag.at(Pos {
                line,
                column,
                start: start as u32,
                end: (start + len) as u32,
            });
        }
    }
    diag
}

fn is_shimmed(name: &str) -> bool {
    matches!(
        name,
        "google/protobuf/java_features.proto" | "google/protobuf/cpp_features.proto"
    )
}

/// A source-info span as 1-based line and columns of the original text.
fn span_of(raw: &[i32], rewrite: Option<&Rewrite>) -> Option<Span> {
    let u = |v: i32| u32::try_from(v).unwrap_or(0);
    let (sl, sc, el, ec) = match raw {
        [sl, sc, ec] => (u(*sl), u(*sc), u(*sl), u(*ec)),
        [sl, sc, el, ec] => (u(*sl), u(*sc), u(*el), u(*ec)),
        _ => return None,
    };
    let (sc, ec) = match rewrite {
        Some(r) => (r.column(sl, sc), r.column(el, ec)),
        None => (sc, ec),
    };
    Some([sl + 1, sc + 1, el + 1, ec + 1])
}

/// protox spans a `default` option by its value; buf (like protoc) spans
/// `default = value`. Moves the start back over `default =` on its line.
fn widen_default(span: &mut Span, text: &str) {
    let Some(line) = text.lines().nth(span[0] as usize - 1) else {
        return;
    };
    let chars: Vec<char> = line.chars().collect();
    let mut i = (span[1] as usize - 1).min(chars.len());
    while i > 0 && chars[i - 1].is_whitespace() {
        i -= 1;
    }
    if i == 0 || chars[i - 1] != '=' {
        return;
    }
    i -= 1;
    while i > 0 && chars[i - 1].is_whitespace() {
        i -= 1;
    }
    let word: String = chars[i.saturating_sub(7)..i].iter().collect();
    if word == "default" {
        span[1] = (i - 7 + 1) as u32;
    }
}

/// Everything needed while walking one file.
struct Builder<'a> {
    package: &'a str,
    syntax: Syntax,
    pool: &'a prost_reflect::DescriptorPool,
    file: ProtoFile,
}

/// Adds the spans of `info` to `locations`, in the original text's lines
/// and columns, with buf's extent for `default` options.
fn index_locations(
    locations: &mut Locations,
    info: &SourceCodeInfo,
    rewrite: Option<&Rewrite>,
    text: &str,
) {
    locations.reserve(info.location.len());
    for loc in &info.location {
        let Some(mut span) = span_of(&loc.span, rewrite) else {
            continue;
        };
        let n = loc.path.len();
        if n >= 3 && loc.path[n - 1] == 7 && matches!(loc.path[n - 3], 2 | 6 | 7) {
            widen_default(&mut span, text);
        }
        // protox records some options twice (value, then the whole
        // option); buf spans the whole option: keep the earliest start.
        locations.add(&loc.path, span);
    }
}

/// Builds the model of one compiled file. `locations` holds the spans
/// indexed while parsing, when the file was; those of the source info the
/// pool kept (all of them, or the options') are added.
fn build_file(
    name: &str,
    proto: &FileDescriptorProto,
    mut locations: Locations,
    syntax: Syntax,
    pool: &prost_reflect::DescriptorPool,
    rewrite: Option<&Rewrite>,
    text: &str,
) -> ProtoFile {
    if let Some(info) = &proto.source_code_info {
        index_locations(&mut locations, info, rewrite, text);
    }
    let mut options = HashMap::new();
    let mut java_string_check_utf8 = None;
    if let Some(o) = &proto.options {
        let b = |v: Option<bool>| v.unwrap_or(false).to_string();
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        for (rule, _, _) in FILE_OPTIONS {
            let value = match *rule {
                "FILE_SAME_JAVA_PACKAGE" => s(&o.java_package),
                "FILE_SAME_JAVA_OUTER_CLASSNAME" => s(&o.java_outer_classname),
                "FILE_SAME_OPTIMIZE_FOR" => optimize_for_name(o.optimize_for.unwrap_or(1)),
                "FILE_SAME_JAVA_MULTIPLE_FILES" => b(o.java_multiple_files),
                "FILE_SAME_GO_PACKAGE" => s(&o.go_package),
                "FILE_SAME_CC_GENERIC_SERVICES" => b(o.cc_generic_services),
                "FILE_SAME_JAVA_GENERIC_SERVICES" => b(o.java_generic_services),
                "FILE_SAME_PY_GENERIC_SERVICES" => b(o.py_generic_services),
                "FILE_SAME_CC_ENABLE_ARENAS" => o.cc_enable_arenas.unwrap_or(true).to_string(),
                "FILE_SAME_OBJC_CLASS_PREFIX" => s(&o.objc_class_prefix),
                "FILE_SAME_CSHARP_NAMESPACE" => s(&o.csharp_namespace),
                "FILE_SAME_SWIFT_PREFIX" => s(&o.swift_prefix),
                "FILE_SAME_PHP_CLASS_PREFIX" => s(&o.php_class_prefix),
                "FILE_SAME_PHP_NAMESPACE" => s(&o.php_namespace),
                "FILE_SAME_PHP_METADATA_NAMESPACE" => s(&o.php_metadata_namespace),
                "FILE_SAME_RUBY_PACKAGE" => s(&o.ruby_package),
                _ => String::new(),
            };
            options.insert(*rule, value);
        }
        java_string_check_utf8 = o.java_string_check_utf8;
    } else {
        for (rule, _, _) in FILE_OPTIONS {
            let value = match *rule {
                "FILE_SAME_OPTIMIZE_FOR" => optimize_for_name(1),
                "FILE_SAME_CC_ENABLE_ARENAS" => "true".to_owned(),
                "FILE_SAME_JAVA_MULTIPLE_FILES"
                | "FILE_SAME_CC_GENERIC_SERVICES"
                | "FILE_SAME_JAVA_GENERIC_SERVICES"
                | "FILE_SAME_PY_GENERIC_SERVICES" => "false".to_owned(),
                _ => String::new(),
            };
            options.insert(*rule, value);
        }
    }
    let package = proto.package().to_owned();
    let mut b = Builder {
        package: &package,
        syntax,
        pool,
        file: ProtoFile {
            path: name.to_owned(),
            package: package.clone(),
            syntax,
            options,
            java_string_check_utf8,
            messages: Vec::new(),
            enums: Vec::new(),
            services: Vec::new(),
            extensions: Vec::new(),
            locations,
            map_entries: FxHashMap::default(),
        },
    };
    let mut features = Features::defaults(syntax);
    if syntax == Syntax::Editions
        && let Some(fd) = pool.get_file_by_name(name)
    {
        features = features.apply(read_features(&fd.options(), pool));
    }
    let prefix = if package.is_empty() {
        String::new()
    } else {
        format!("{package}.")
    };
    for (i, m) in proto.message_type.iter().enumerate() {
        b.message(m, &prefix, "", &[4, i as i32], features);
    }
    for (i, e) in proto.enum_type.iter().enumerate() {
        b.enumeration(e, &prefix, "", vec![5, i as i32], features);
    }
    for (i, ext) in proto.extension.iter().enumerate() {
        let f = b.field(
            ext,
            "",
            &prefix,
            false,
            &[],
            vec![7, i as i32],
            features,
            &[],
        );
        b.file.extensions.push(f);
    }
    for (i, s) in proto.service.iter().enumerate() {
        b.service(s, &prefix, vec![6, i as i32]);
    }
    b.file
}

fn optimize_for_name(v: i32) -> String {
    match v {
        2 => "CODE_SIZE",
        3 => "LITE_RUNTIME",
        _ => "SPEED",
    }
    .to_owned()
}

/// Reads the `features` field of an options message.
fn read_features(
    options: &prost_reflect::DynamicMessage,
    pool: &prost_reflect::DescriptorPool,
) -> FeatureOverrides {
    let mut o = FeatureOverrides::default();
    if !options.has_field_by_name("features") {
        return o;
    }
    let Some(value) = options.get_field_by_name("features") else {
        return o;
    };
    let Some(features) = value.as_message() else {
        return o;
    };
    let get = |name: &str| -> Option<i32> {
        if features.has_field_by_name(name) {
            features
                .get_field_by_name(name)
                .and_then(|v| v.as_enum_number())
        } else {
            None
        }
    };
    o.field_presence = get("field_presence");
    o.enum_type = get("enum_type");
    // protox's descriptor.proto predates the renumbering of NONE (1 -> 3).
    o.utf8_validation = get("utf8_validation").map(|v| if v == 1 { feat::NONE } else { v });
    o.message_encoding = get("message_encoding");
    o.json_format = get("json_format");
    let ext_enum = |ext_name: &str, field: &str| -> Option<i32> {
        let ext = pool.get_extension_by_name(ext_name)?;
        if !features.has_extension(&ext) {
            return None;
        }
        let v = features.get_extension(&ext);
        let m = v.as_message()?;
        if !m.has_field_by_name(field) {
            return None;
        }
        m.get_field_by_name(field)?.as_enum_number()
    };
    o.cpp_string_type = ext_enum("pb.cpp", "string_type");
    o.java_utf8 = ext_enum("pb.java", "utf8_validation");
    o
}

impl Builder<'_> {
    fn overrides(&self, kind: u8, full_name: &str) -> FeatureOverrides {
        if self.syntax != Syntax::Editions {
            return FeatureOverrides::default();
        }
        let options = match kind {
            b'm' => self
                .pool
                .get_message_by_name(full_name)
                .map(|m| m.options()),
            b'e' => self.pool.get_enum_by_name(full_name).map(|e| e.options()),
            b'o' => {
                let (msg, oneof) = full_name.rsplit_once('.').unwrap_or(("", full_name));
                self.pool
                    .get_message_by_name(msg)
                    .and_then(|m| m.oneofs().find(|o| o.name() == oneof).map(|o| o.options()))
            }
            b'x' => self
                .pool
                .get_extension_by_name(full_name)
                .map(|e| e.options()),
            _ => {
                let (msg, field) = full_name.rsplit_once('.').unwrap_or(("", full_name));
                self.pool
                    .get_message_by_name(msg)
                    .and_then(|m| m.get_field_by_name(field).map(|f| f.options()))
            }
        };
        options.map_or_else(FeatureOverrides::default, |o| read_features(&o, self.pool))
    }

    fn message(
        &mut self,
        m: &DescriptorProto,
        prefix: &str,
        nested_prefix: &str,
        path: &[i32],
        parent: Features,
    ) {
        let full_name = format!("{prefix}{}", m.name());
        let nested_name = format!("{nested_prefix}{}", m.name());
        let features = parent.apply(self.overrides(b'm', &full_name));
        let is_map_entry = m.options.as_ref().and_then(|o| o.map_entry) == Some(true);
        let map_entries: Vec<String> = m
            .nested_type
            .iter()
            .filter(|n| n.options.as_ref().and_then(|o| o.map_entry) == Some(true))
            .map(|n| format!(".{full_name}.{}", n.name()))
            .collect();
        let oneofs: Vec<(String, bool)> = m
            .oneof_decl
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let synthetic = m
                    .field
                    .iter()
                    .any(|f| f.oneof_index == Some(i as i32) && f.proto3_optional());
                (o.name().to_owned(), synthetic)
            })
            .collect();
        let oneof_features: Vec<Features> = oneofs
            .iter()
            .map(|(n, _)| features.apply(self.overrides(b'o', &format!("{full_name}.{n}"))))
            .collect();
        let mut fields = Vec::with_capacity(m.field.len());
        let field_prefix = format!("{full_name}.");
        // A map entry takes its features from the map field.
        let mut entry_features: HashMap<String, Features> = HashMap::new();
        for (i, f) in m.field.iter().enumerate() {
            let mut field_path = path.to_vec();
            field_path.extend([2, i as i32]);
            let base = f
                .oneof_index
                .and_then(|o| oneof_features.get(o as usize).copied())
                .unwrap_or(features);
            let field = self.field(
                f,
                m.name(),
                &field_prefix,
                is_map_entry,
                &oneofs,
                field_path,
                base,
                &map_entries,
            );
            if field.is_map {
                entry_features.insert(field.type_name.clone(), field.features);
            }
            if field.is_map
                && let Some(j) = m
                    .nested_type
                    .iter()
                    .position(|n| field.type_name.strip_prefix(&field_prefix) == Some(n.name()))
            {
                self.file
                    .map_entries
                    .insert(join_path(path, &[3, j as i32]), field.path.clone());
            }
            fields.push(field);
        }
        let mo = m.options.as_ref();
        let mut by_number: Vec<(i32, u32)> = fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.number, i as u32))
            .collect();
        by_number.sort_unstable();
        self.file.messages.push(Message {
            by_number,
            name: m.name().to_owned(),
            full_name: full_name.clone(),
            nested_name: nested_name.clone(),
            fields,
            oneofs,
            reserved_ranges: m
                .reserved_range
                .iter()
                .map(|r| (r.start(), r.end() - 1))
                .collect(),
            reserved_names: m.reserved_name.clone(),
            extension_ranges: m
                .extension_range
                .iter()
                .map(|r| (r.start(), r.end() - 1))
                .collect(),
            message_set_wire_format: mo.and_then(|o| o.message_set_wire_format) == Some(true),
            no_standard_descriptor_accessor: mo.and_then(|o| o.no_standard_descriptor_accessor)
                == Some(true),
            features,
            path: path.to_vec(),
        });
        let child_prefix = format!("{full_name}.");
        let child_nested = format!("{nested_name}.");
        for (i, n) in m.nested_type.iter().enumerate() {
            let mut p = path.to_vec();
            p.extend([3, i as i32]);
            let parent_features = entry_features
                .get(&format!("{full_name}.{}", n.name()))
                .copied()
                .unwrap_or(features);
            self.message(n, &child_prefix, &child_nested, &p, parent_features);
        }
        for (i, e) in m.enum_type.iter().enumerate() {
            let mut p = path.to_vec();
            p.extend([4, i as i32]);
            self.enumeration(e, &child_prefix, &child_nested, p, features);
        }
        for (i, ext) in m.extension.iter().enumerate() {
            let mut p = path.to_vec();
            p.extend([6, i as i32]);
            let f = self.field(ext, m.name(), &child_prefix, false, &[], p, features, &[]);
            self.file.extensions.push(f);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn field(
        &self,
        f: &FieldDescriptorProto,
        parent_name: &str,
        scope_prefix: &str,
        parent_is_map_entry: bool,
        oneofs: &[(String, bool)],
        path: Vec<i32>,
        parent: Features,
        map_entries: &[String],
    ) -> Field {
        let extendee = f.extendee().trim_start_matches('.').to_owned();
        // Only extensions keep their full name; fields of a message need it
        // only to look their features up, which only editions files do.
        let needs_name = !extendee.is_empty() || self.syntax == Syntax::Editions;
        let full_name = if needs_name {
            format!("{scope_prefix}{}", f.name())
        } else {
            String::new()
        };
        let features = if extendee.is_empty() {
            parent.apply(self.overrides(b'f', &full_name))
        } else {
            parent.apply(self.overrides(b'x', &full_name))
        };
        let label = f.label.unwrap_or(1);
        let ty = f.r#type.unwrap_or(0);
        let repeated = label == Label::Repeated as i32;
        let is_map = repeated
            && ty == Type::Message as i32
            && map_entries.iter().any(|e| e == f.type_name());
        let mut kind = kind_name(ty);
        if ty == Type::Message as i32
            && self.syntax == Syntax::Editions
            && features.message_encoding == feat::DELIMITED
            && !is_map
        {
            kind = "group";
        }
        let oneof_entry = f.oneof_index.and_then(|i| oneofs.get(i as usize));
        let in_any_oneof = oneof_entry.is_some();
        let oneof = oneof_entry
            .filter(|(_, synthetic)| !synthetic)
            .map(|(n, _)| n.clone());
        let is_required = label == Label::Required as i32
            || (self.syntax == Syntax::Editions
                && !repeated
                && features.field_presence == feat::LEGACY_REQUIRED);
        let has_presence = !repeated
            && (ty == Type::Message as i32
                || ty == Type::Group as i32
                || in_any_oneof
                || !extendee.is_empty()
                || match self.syntax {
                    Syntax::Proto2 => true,
                    Syntax::Proto3 => f.proto3_optional(),
                    Syntax::Editions => features.field_presence != feat::IMPLICIT,
                });
        let json_name = f
            .json_name
            .clone()
            .unwrap_or_else(|| default_json_name(f.name()));
        let fo = f.options.as_ref();
        Field {
            name: f.name().to_owned(),
            full_name,
            number: f.number(),
            label,
            kind,
            type_name: f.type_name().trim_start_matches('.').to_owned(),
            extendee,
            parent_name: parent_name.to_owned(),
            parent_is_map_entry,
            oneof,
            json_name,
            default: self.default_of(f, ty, repeated),
            jstype: fo.and_then(|o| o.jstype).unwrap_or(0),
            ctype: fo.and_then(|o| o.ctype),
            is_list: repeated && !is_map,
            is_map,
            is_required,
            has_presence,
            features,
            path,
        }
    }

    /// The default buf compares: explicit or implied, `None` for fields that
    /// cannot have one.
    fn default_of(
        &self,
        f: &FieldDescriptorProto,
        ty: i32,
        repeated: bool,
    ) -> Option<(DefaultValue, Cow<'static, str>)> {
        if repeated || ty == Type::Message as i32 || ty == Type::Group as i32 {
            return None;
        }
        let raw = f.default_value.as_deref();
        let t = Type::try_from(ty).ok()?;
        // Implicit defaults (every proto3 field) print without allocating.
        if raw.is_none() {
            let implicit: Option<(DefaultValue, &'static str)> = match t {
                Type::String => Some((DefaultValue::Bytes(Vec::new()), "\"\"")),
                Type::Bytes => Some((DefaultValue::Bytes(Vec::new()), "[]")),
                Type::Bool => Some((DefaultValue::Bool(false), "false")),
                Type::Float => Some((DefaultValue::F32(0.0), "0")),
                Type::Double => Some((DefaultValue::F64(0.0), "0")),
                Type::Enum | Type::Message | Type::Group => None,
                _ => Some((DefaultValue::Int(0), "0")),
            };
            if let Some((v, printed)) = implicit {
                return Some((v, Cow::Borrowed(printed)));
            }
        }
        let (value, printed) = match t {
            Type::String => {
                let s = raw.unwrap_or("").to_owned();
                (
                    DefaultValue::Bytes(s.clone().into_bytes()),
                    format!("{s:?}"),
                )
            }
            Type::Bytes => {
                let data = unescape_c(raw.unwrap_or(""));
                let printable: Vec<String> = data.iter().map(|b| format!("0x{b:X}")).collect();
                (
                    DefaultValue::Bytes(data),
                    format!("[{}]", printable.join(",")),
                )
            }
            Type::Bool => {
                let v = raw == Some("true");
                (DefaultValue::Bool(v), v.to_string())
            }
            Type::Float => {
                let v = parse_float(raw.unwrap_or("0")) as f32;
                (DefaultValue::F32(v), format_float(f64::from(v)))
            }
            Type::Double => {
                let v = parse_float(raw.unwrap_or("0"));
                (DefaultValue::F64(v), format_float(v))
            }
            Type::Enum => {
                let type_name = f.type_name().trim_start_matches('.');
                let e = self.pool.get_enum_by_name(type_name);
                let enum_name = e.as_ref().map_or_else(
                    || type_name.rsplit('.').next().unwrap_or("").to_owned(),
                    |e| e.name().to_owned(),
                );
                let (number, value_name) = match (raw, &e) {
                    (Some(name), Some(e)) => (
                        e.get_value_by_name(name).map_or(0, |v| v.number()),
                        name.to_owned(),
                    ),
                    (None, Some(e)) => e
                        .values()
                        .next()
                        .map_or((0, String::new()), |v| (v.number(), v.name().to_owned())),
                    (Some(name), None) => (0, name.to_owned()),
                    (None, None) => (0, String::new()),
                };
                (
                    DefaultValue::Int(i128::from(number)),
                    format!("{enum_name}.{value_name}"),
                )
            }
            _ => {
                let v: i128 = raw.and_then(|s| s.parse().ok()).unwrap_or(0);
                (DefaultValue::Int(v), v.to_string())
            }
        };
        Some((value, Cow::Owned(printed)))
    }

    fn enumeration(
        &mut self,
        e: &EnumDescriptorProto,
        prefix: &str,
        nested_prefix: &str,
        path: Vec<i32>,
        parent: Features,
    ) {
        let full_name = format!("{prefix}{}", e.name());
        let features = parent.apply(self.overrides(b'e', &full_name));
        let values = e
            .value
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let mut p = path.clone();
                p.extend([2, i as i32]);
                EnumValue {
                    name: v.name().to_owned(),
                    number: v.number(),
                    path: p,
                }
            })
            .collect();
        self.file.enums.push(Enum {
            name: e.name().to_owned(),
            full_name,
            nested_name: format!("{nested_prefix}{}", e.name()),
            values,
            reserved_ranges: e
                .reserved_range
                .iter()
                .map(|r| (r.start(), r.end()))
                .collect(),
            reserved_names: e.reserved_name.clone(),
            features,
            path,
        });
    }

    fn service(&mut self, s: &ServiceDescriptorProto, prefix: &str, path: Vec<i32>) {
        let methods = s
            .method
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let mut p = path.clone();
                p.extend([2, i as i32]);
                Method {
                    name: m.name().to_owned(),
                    input: m.input_type().trim_start_matches('.').to_owned(),
                    output: m.output_type().trim_start_matches('.').to_owned(),
                    client_streaming: m.client_streaming(),
                    server_streaming: m.server_streaming(),
                    idempotency: m
                        .options
                        .as_ref()
                        .and_then(|o| o.idempotency_level)
                        .unwrap_or(0),
                    path: p,
                }
            })
            .collect();
        let _ = self.package;
        self.file.services.push(Service {
            name: s.name().to_owned(),
            full_name: format!("{prefix}{}", s.name()),
            methods,
            path,
        });
    }
}

fn join_path(base: &[i32], tail: &[i32]) -> Vec<i32> {
    let mut v = base.to_vec();
    v.extend_from_slice(tail);
    v
}

fn kind_name(ty: i32) -> &'static str {
    match Type::try_from(ty) {
        Ok(Type::Double) => "double",
        Ok(Type::Float) => "float",
        Ok(Type::Int64) => "int64",
        Ok(Type::Uint64) => "uint64",
        Ok(Type::Int32) => "int32",
        Ok(Type::Fixed64) => "fixed64",
        Ok(Type::Fixed32) => "fixed32",
        Ok(Type::Bool) => "bool",
        Ok(Type::String) => "string",
        Ok(Type::Group) => "group",
        Ok(Type::Message) => "message",
        Ok(Type::Bytes) => "bytes",
        Ok(Type::Uint32) => "uint32",
        Ok(Type::Enum) => "enum",
        Ok(Type::Sfixed32) => "sfixed32",
        Ok(Type::Sfixed64) => "sfixed64",
        Ok(Type::Sint32) => "sint32",
        Ok(Type::Sint64) => "sint64",
        Err(_) => "unknown",
    }
}

/// protoc's default JSON name: underscores dropped, the next letter upper
/// case.
fn default_json_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn parse_float(s: &str) -> f64 {
    match s {
        "inf" => f64::INFINITY,
        "-inf" => f64::NEG_INFINITY,
        "nan" | "-nan" => f64::NAN,
        _ => s.parse().unwrap_or(0.0),
    }
}

/// Formats a float the way Go's `%v` does for the common cases.
fn format_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        let abs = v.abs();
        if abs != 0.0 && !(1e-4..1e21).contains(&abs) {
            let s = format!("{v:e}");
            // Go writes `1e+21`, Rust `1e21`.
            match s.split_once('e') {
                Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
                _ => s,
            }
        } else {
            format!("{v}")
        }
    }
}

/// Undoes the C escaping protoc applies to `bytes` defaults.
fn unescape_c(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 >= b.len() {
            out.push(b[i]);
            i += 1;
            continue;
        }
        i += 1;
        match b[i] {
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'x' | b'X' => {
                let mut v: u32 = 0;
                let mut n = 0;
                while n < 2 && i + 1 < b.len() && b[i + 1].is_ascii_hexdigit() {
                    i += 1;
                    v = v * 16 + char::from(b[i]).to_digit(16).unwrap_or(0);
                    n += 1;
                }
                out.push(v as u8);
            }
            c @ b'0'..=b'7' => {
                let mut v = u32::from(c - b'0');
                let mut n = 1;
                while n < 3 && i + 1 < b.len() && (b'0'..=b'7').contains(&b[i + 1]) {
                    i += 1;
                    v = v * 8 + u32::from(b[i] - b'0');
                    n += 1;
                }
                out.push(v as u8);
            }
            c => out.push(c),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edition_statement_keeps_its_length() {
        let src = "// c\nedition = \"2023\";\npackage a;\n";
        let out = rewrite_edition(src).unwrap();
        assert_eq!(out.text.len(), src.len());
        assert!(rewrite_edition("syntax = \"proto3\";").is_none());
    }

    #[test]
    fn only_files_that_start_with_edition_are_tokenized() {
        for text in [
            "edition = \"2023\";",
            "// c\n/* d */ edition=\"2023\";",
            "\n\t edition\n= \"2023\";",
        ] {
            assert!(first_token_is_edition(text), "{text}");
            assert!(rewrite_edition(text).is_some(), "{text}");
        }
        for text in [
            "syntax = \"proto3\";",
            "editions = 1;",
            "edition.x = 1;",
            "/* edition */ syntax = \"proto2\";",
            "// edition\nsyntax = \"proto2\";",
            "/* edition",
            "",
        ] {
            assert!(!first_token_is_edition(text), "{text}");
            assert!(rewrite_edition(text).is_none(), "{text}");
        }
    }

    #[test]
    fn locations_keep_the_earliest_span_for_short_and_long_paths() {
        let mut l = Locations::default();
        let long: Vec<i32> = (0..SmallPath::CAP as i32 + 3).collect();
        for path in [&[4, 0, 2, 1][..], &long, &[]] {
            l.add(path, [3, 5, 3, 9]);
            l.add(path, [3, 2, 3, 9]);
            l.add(path, [4, 1, 4, 2]);
            assert_eq!(l.get(path), Some([3, 2, 3, 9]), "{path:?}");
        }
        assert_eq!(l.get(&[4, 0, 2]), None);
        assert_eq!(l.get(&[4, 0, 2, 1, 0]), None);
        assert_eq!(l.get(&long[..long.len() - 1]), None);
    }

    #[test]
    fn json_names_follow_protoc() {
        assert_eq!(default_json_name("foo_bar_baz"), "fooBarBaz");
        assert_eq!(default_json_name("one"), "one");
    }
}
