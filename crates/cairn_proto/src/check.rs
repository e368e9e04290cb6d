//! The breaking rules: each compares the previous tree with the current one
//! and reports what buf would, where buf would.

use std::collections::{BTreeMap, BTreeSet};

use crate::rules::{RULES, RuleSet};
use crate::tree::{
    DefaultValue, Enum, Field, FxHashMap, FxHashSet, Message, ProtoFile, ProtoTree, Service, Span,
    feat,
};

/// The position of a rule in [`crate::RULES`], found at compile time.
macro_rules! rule {
    ($id:literal) => {
        const { crate::rules::rule_index($id) }
    };
}

/// A finding before ignores are applied: where in the current tree, and
/// where in the previous one.
#[derive(Clone, Debug)]
pub(crate) struct Finding {
    pub rule: &'static str,
    pub message: String,
    pub file: Option<String>,
    pub loc: Option<Span>,
    pub against_file: Option<String>,
    pub against_loc: Option<Span>,
}

/// Lookups over one tree, keyed by fully-qualified names.
struct Index<'a> {
    messages: FxHashMap<&'a str, (&'a ProtoFile, &'a Message)>,
    enums: FxHashMap<&'a str, (&'a ProtoFile, &'a Enum)>,
    services: FxHashMap<&'a str, (&'a ProtoFile, &'a Service)>,
    extensions: FxHashMap<(&'a str, i32), (&'a ProtoFile, &'a Field)>,
}

impl<'a> Index<'a> {
    fn new(tree: &'a ProtoTree) -> Self {
        let count = |n: fn(&ProtoFile) -> usize| tree.files.iter().map(n).sum::<usize>();
        let mut ix = Index {
            messages: FxHashMap::default(),
            enums: FxHashMap::default(),
            services: FxHashMap::default(),
            extensions: FxHashMap::default(),
        };
        ix.messages.reserve(count(|f| f.messages.len()));
        ix.enums.reserve(count(|f| f.enums.len()));
        ix.services.reserve(count(|f| f.services.len()));
        for f in &tree.files {
            for m in &f.messages {
                ix.messages.entry(m.full_name.as_str()).or_insert((f, m));
            }
            for e in &f.enums {
                ix.enums.entry(e.full_name.as_str()).or_insert((f, e));
            }
            for s in &f.services {
                ix.services.entry(s.full_name.as_str()).or_insert((f, s));
            }
            for x in &f.extensions {
                ix.extensions
                    .entry((x.extendee.as_str(), x.number))
                    .or_insert((f, x));
            }
        }
        ix
    }
}

fn join(base: &[i32], tail: &[i32]) -> Vec<i32> {
    let mut v = Vec::with_capacity(base.len() + tail.len());
    v.extend_from_slice(base);
    v.extend_from_slice(tail);
    v
}

/// The nested name of an extension: its full name without the package.
fn ext_nested_name<'a>(file: &ProtoFile, x: &'a Field) -> &'a str {
    if file.package.is_empty() {
        &x.full_name
    } else {
        x.full_name
            .strip_prefix(file.package.as_str())
            .and_then(|r| r.strip_prefix('.'))
            .unwrap_or(&x.full_name)
    }
}

struct Checker<'a> {
    prev: &'a ProtoTree,
    cur: &'a ProtoTree,
    pix: Index<'a>,
    cix: Index<'a>,
    rules: RuleSet,
    out: Vec<Finding>,
}

/// Runs the enabled rules over the two trees.
pub(crate) fn run(
    prev: &ProtoTree,
    cur: &ProtoTree,
    rules: &BTreeSet<&'static str>,
) -> Vec<Finding> {
    let rules = RuleSet::of(rules.iter().copied());
    let mut c = Checker {
        prev,
        cur,
        pix: Index::new(prev),
        cix: Index::new(cur),
        rules,
        out: Vec::new(),
    };
    c.files();
    c.packages();
    c.enums();
    c.messages();
    c.fields();
    c.services();
    c.out
}

fn field_description(f: &Field) -> String {
    field_description_with_name(
        f,
        if f.extendee.is_empty() {
            &f.name
        } else {
            &f.full_name
        },
    )
}

fn field_description_with_name(f: &Field, name: &str) -> String {
    let name = if name.is_empty() {
        String::new()
    } else {
        format!(" with name {name:?}")
    };
    if f.extendee.is_empty() {
        format!(
            "Field \"{}\"{name} on message {:?}",
            f.number, f.parent_name
        )
    } else {
        format!(
            "Extension \"{}\"{name} on message {:?}",
            f.number, f.extendee
        )
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Cardinality {
    Explicit,
    Implicit,
    Required,
    Repeated,
    Map,
}

impl Cardinality {
    fn of(f: &Field) -> Self {
        if f.is_list {
            Cardinality::Repeated
        } else if f.is_map {
            Cardinality::Map
        } else if f.is_required {
            Cardinality::Required
        } else if f.has_presence {
            Cardinality::Explicit
        } else {
            Cardinality::Implicit
        }
    }
    fn name(self) -> &'static str {
        match self {
            Cardinality::Explicit => "optional with explicit presence",
            Cardinality::Implicit => "optional with implicit presence",
            Cardinality::Required => "required",
            Cardinality::Repeated => "repeated",
            Cardinality::Map => "map",
        }
    }
    fn wire_group(self) -> u8 {
        match self {
            Cardinality::Explicit | Cardinality::Implicit => 1,
            Cardinality::Required => 2,
            Cardinality::Repeated | Cardinality::Map => 3,
        }
    }
    fn wire_json_group(self) -> u8 {
        match self {
            Cardinality::Map => 4,
            other => other.wire_group(),
        }
    }
}

fn wire_group(kind: &str) -> u8 {
    match kind {
        "int32" | "int64" | "uint32" | "uint64" | "bool" => 1,
        "sint32" | "sint64" => 2,
        "string" => 3,
        "bytes" => 4,
        "fixed32" | "sfixed32" => 5,
        "fixed64" | "sfixed64" => 6,
        "double" => 7,
        "float" => 8,
        "group" => 9,
        "message" => 10,
        "enum" => 11,
        _ => 0,
    }
}

fn wire_json_group(kind: &str) -> u8 {
    match kind {
        "int32" | "uint32" => 1,
        "int64" | "uint64" => 2,
        "fixed32" | "sfixed32" => 3,
        "fixed64" | "sfixed64" => 4,
        "bool" => 5,
        "sint32" => 6,
        "sint64" => 7,
        "string" => 8,
        "bytes" => 9,
        "double" => 10,
        "float" => 11,
        "group" => 12,
        "message" => 13,
        "enum" => 14,
        _ => 0,
    }
}

fn pretty_kind(file: &ProtoFile, f: &Field) -> &'static str {
    if f.kind == "group" && file.syntax != crate::tree::Syntax::Proto2 {
        "message (delimited encoding)"
    } else {
        f.kind
    }
}

fn is_named_kind(kind: &str) -> bool {
    matches!(kind, "message" | "enum" | "group")
}

fn utf8_name(v: i32) -> &'static str {
    match v {
        feat::VERIFY => "VERIFY",
        feat::NONE => "NONE",
        _ => "UTF8_VALIDATION_UNKNOWN",
    }
}

fn json_format_name(v: i32) -> &'static str {
    match v {
        feat::ALLOW => "ALLOW",
        feat::LEGACY_BEST_EFFORT => "LEGACY_BEST_EFFORT",
        _ => "JSON_FORMAT_UNKNOWN",
    }
}

fn jstype_name(v: i32) -> &'static str {
    match v {
        1 => "JS_STRING",
        2 => "JS_NUMBER",
        _ => "JS_NORMAL",
    }
}

fn idempotency_name(v: i32) -> &'static str {
    match v {
        1 => "NO_SIDE_EFFECTS",
        2 => "IDEMPOTENT",
        _ => "IDEMPOTENCY_UNKNOWN",
    }
}

/// `(string type, is STRING_PIECE)` from `ctype` or `(pb.cpp).string_type`.
fn cpp_string_type(file: &ProtoFile, f: &Field) -> (i32, bool) {
    match f.ctype {
        Some(1) => return (2, false),
        Some(2) => return (3, true),
        Some(0) => return (3, false),
        Some(_) if file.syntax != crate::tree::Syntax::Editions => return (3, false),
        _ => {}
    }
    (f.features.cpp_string_type, false)
}

fn cpp_name(t: i32, piece: bool) -> &'static str {
    if piece {
        return "STRING_PIECE";
    }
    match t {
        1 => "VIEW",
        2 => "CORD",
        3 => "STRING",
        _ => "STRING_TYPE_UNKNOWN",
    }
}

fn java_utf8(file: &ProtoFile, f: &Field) -> i32 {
    let default = f.features.utf8_validation;
    if file.syntax != crate::tree::Syntax::Editions || file.java_string_check_utf8.is_some() {
        if file.java_string_check_utf8 == Some(true) {
            return feat::VERIFY;
        }
        return default;
    }
    if f.features.java_utf8 == 2 {
        feat::VERIFY
    } else {
        default
    }
}

fn is_zero(d: &DefaultValue) -> bool {
    match d {
        DefaultValue::Bytes(b) => b.is_empty(),
        DefaultValue::Bool(b) => !*b,
        DefaultValue::Int(i) => *i == 0,
        DefaultValue::F32(v) => v.to_bits() == 0,
        DefaultValue::F64(v) => v.to_bits() == 0,
    }
}

// buf compares defaults exactly (as Go's `==` and `big.Float` do).
#[allow(clippy::float_cmp)]
fn defaults_equal(a: &DefaultValue, b: &DefaultValue) -> bool {
    use DefaultValue as D;
    match (a, b) {
        (D::Bytes(x), D::Bytes(y)) => x == y,
        (D::Bytes(_), _) | (_, D::Bytes(_)) => false,
        (D::F32(x), D::F64(y)) | (D::F64(y), D::F32(x)) => {
            (x.is_nan() && y.is_nan()) || *x == *y as f32
        }
        _ => {
            let num = |d: &D| -> Result<i128, f64> {
                match d {
                    D::Bool(b) => Ok(i128::from(*b)),
                    D::Int(i) => Ok(*i),
                    D::F32(v) => Err(f64::from(*v)),
                    D::F64(v) => Err(*v),
                    D::Bytes(_) => Ok(0),
                }
            };
            match (num(a), num(b)) {
                (Ok(x), Ok(y)) => x == y,
                (Err(x), Err(y)) => (x.is_nan() && y.is_nan()) || x == y,
                (Ok(i), Err(v)) | (Err(v), Ok(i)) => !v.is_nan() && (i as f64) == v,
            }
        }
    }
}

/// Collapses ranges (inclusive) into sorted, non-overlapping ones.
fn collapse(ranges: &[(i32, i32)]) -> Vec<(i64, i64)> {
    let mut v: Vec<(i64, i64)> = ranges
        .iter()
        .map(|&(s, e)| (i64::from(s), i64::from(e)))
        .collect();
    v.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(v.len());
    for (s, e) in v {
        if let Some(last) = out.last_mut()
            && s <= last.1 + 1
        {
            last.1 = last.1.max(e);
            continue;
        }
        out.push((s, e));
    }
    out
}

/// The parts of `start..=end` that no collapsed range covers.
fn missing(start: i64, end: i64, collapsed: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let mut cursor = start;
    for &(s, e) in collapsed {
        if e < cursor {
            continue;
        }
        if s > end {
            break;
        }
        if s > cursor {
            out.push((cursor, s - 1));
        }
        cursor = e + 1;
        if cursor > end {
            break;
        }
    }
    if cursor <= end {
        out.push((cursor, end));
    }
    out
}

fn range_string(s: i64, e: i64, max: i64) -> String {
    if s == e {
        format!("[{s}]")
    } else if e == max {
        format!("[{s},max]")
    } else {
        format!("[{s},{e}]")
    }
}

const MESSAGE_MAX: i64 = 536_870_911;
const MESSAGE_SET_MAX: i64 = 2_147_483_646;
const ENUM_MAX: i64 = 2_147_483_647;

impl<'a> Checker<'a> {
    #[inline]
    fn on(&self, rule: usize) -> bool {
        self.rules.has(rule)
    }

    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        rule: usize,
        file: Option<&ProtoFile>,
        loc: Option<Span>,
        against_file: Option<&ProtoFile>,
        against_loc: Option<Span>,
        message: String,
    ) {
        self.out.push(Finding {
            rule: RULES[rule].id,
            message,
            file: file.map(|f| f.path.clone()),
            loc: if file.is_some() { loc } else { None },
            against_file: against_file.map(|f| f.path.clone()),
            against_loc: if against_file.is_some() {
                against_loc
            } else {
                None
            },
        });
    }

    /// Where buf points for an element deleted from `file`: the closest
    /// enclosing message that still exists, or nowhere.
    fn deleted_location(file: &ProtoFile, nested: &str) -> Option<Span> {
        let mut parts: Vec<&str> = nested.split('.').collect();
        while parts.len() > 1 {
            parts.pop();
            let parent = parts.join(".");
            if let Some(m) = file.messages.iter().find(|m| m.nested_name == parent) {
                return file.loc(&m.path);
            }
        }
        None
    }

    fn files(&mut self) {
        let (prev, cur) = (self.prev, self.cur);
        if self.on(rule!("FILE_NO_DELETE")) {
            for pf in &prev.files {
                if !cur.by_path.contains_key(&pf.path) {
                    self.add(
                        rule!("FILE_NO_DELETE"),
                        None,
                        None,
                        Some(pf),
                        None,
                        format!("Previously present file {:?} was deleted.", pf.path),
                    );
                }
            }
        }
        for pf in &prev.files {
            let Some(&ci) = cur.by_path.get(&pf.path) else {
                continue;
            };
            let cf = &cur.files[ci];
            self.file_pair(pf, cf);
        }
    }

    fn file_pair(&mut self, pf: &'a ProtoFile, cf: &'a ProtoFile) {
        // Deletions within the file.
        if self.on(rule!("ENUM_NO_DELETE")) {
            let names: FxHashSet<&str> = cf.enums.iter().map(|e| e.nested_name.as_str()).collect();
            for e in &pf.enums {
                if !names.contains(e.nested_name.as_str()) {
                    let loc = Self::deleted_location(cf, &e.nested_name);
                    self.add(
                        rule!("ENUM_NO_DELETE"),
                        Some(cf),
                        loc,
                        Some(pf),
                        pf.loc(&e.path),
                        format!(
                            "Previously present enum {:?} was deleted from file.",
                            e.nested_name
                        ),
                    );
                }
            }
        }
        if self.on(rule!("MESSAGE_NO_DELETE")) {
            let names: FxHashSet<&str> =
                cf.messages.iter().map(|m| m.nested_name.as_str()).collect();
            for m in &pf.messages {
                if !names.contains(m.nested_name.as_str()) {
                    let loc = Self::deleted_location(cf, &m.nested_name);
                    self.add(
                        rule!("MESSAGE_NO_DELETE"),
                        Some(cf),
                        loc,
                        Some(pf),
                        pf.loc(&m.path),
                        format!(
                            "Previously present message {:?} was deleted from file.",
                            m.nested_name
                        ),
                    );
                }
            }
        }
        if self.on(rule!("EXTENSION_NO_DELETE")) {
            let names: FxHashSet<&str> = cf
                .extensions
                .iter()
                .map(|x| ext_nested_name(cf, x))
                .collect();
            for x in &pf.extensions {
                let nested = ext_nested_name(pf, x);
                if !names.contains(nested) {
                    let loc = Self::deleted_location(cf, nested);
                    self.add(
                        rule!("EXTENSION_NO_DELETE"),
                        Some(cf),
                        loc,
                        Some(pf),
                        pf.loc(&x.path),
                        format!("Previously present extension {nested:?} was deleted from file."),
                    );
                }
            }
        }
        if self.on(rule!("SERVICE_NO_DELETE")) {
            let names: FxHashSet<&str> = cf.services.iter().map(|s| s.name.as_str()).collect();
            for s in &pf.services {
                if !names.contains(s.name.as_str()) {
                    self.add(
                        rule!("SERVICE_NO_DELETE"),
                        Some(cf),
                        None,
                        Some(pf),
                        pf.loc(&s.path),
                        format!(
                            "Previously present service {:?} was deleted from file.",
                            s.name
                        ),
                    );
                }
            }
        }
        // File-level values.
        for &(rule, option, number) in crate::tree::FILE_OPTIONS {
            let Ok(ri) = RULES.binary_search_by(|r| r.id.cmp(rule)) else {
                continue;
            };
            if !self.on(ri) {
                continue;
            }
            let before = pf.options.get(rule).map_or("", String::as_str);
            let after = cf.options.get(rule).map_or("", String::as_str);
            if before != after {
                self.add(
                    ri,
                    Some(cf),
                    cf.loc(&[8, number]),
                    Some(pf),
                    pf.loc(&[8, number]),
                    format!("File option {option:?} changed from {before:?} to {after:?}."),
                );
            }
        }
        if self.on(rule!("FILE_SAME_PACKAGE")) && pf.package != cf.package {
            self.add(
                rule!("FILE_SAME_PACKAGE"),
                Some(cf),
                cf.loc(&[2]),
                Some(pf),
                pf.loc(&[2]),
                format!(
                    "File package changed from {:?} to {:?}.",
                    pf.package, cf.package
                ),
            );
        }
        if self.on(rule!("FILE_SAME_SYNTAX")) {
            let name = |f: &ProtoFile| match f.syntax {
                crate::tree::Syntax::Proto2 => "proto2",
                crate::tree::Syntax::Proto3 => "proto3",
                crate::tree::Syntax::Editions => "editions",
            };
            if name(pf) != name(cf) {
                self.add(
                    rule!("FILE_SAME_SYNTAX"),
                    Some(cf),
                    cf.loc(&[12]),
                    Some(pf),
                    pf.loc(&[12]),
                    format!("File syntax changed from {:?} to {:?}.", name(pf), name(cf)),
                );
            }
        }
    }

    fn packages(&mut self) {
        let (prev, cur) = (self.prev, self.cur);
        let mut prev_pkgs: BTreeMap<&str, Vec<&ProtoFile>> = BTreeMap::new();
        for f in &prev.files {
            prev_pkgs.entry(f.package.as_str()).or_default().push(f);
        }
        let mut cur_pkgs: FxHashMap<&str, Vec<&ProtoFile>> = FxHashMap::default();
        for f in &cur.files {
            cur_pkgs.entry(f.package.as_str()).or_default().push(f);
        }
        if self.on(rule!("PACKAGE_NO_DELETE")) {
            for (pkg, files) in &prev_pkgs {
                if !cur_pkgs.contains_key(pkg) {
                    let first = files.iter().min_by(|a, b| a.path.cmp(&b.path)).copied();
                    self.add(
                        rule!("PACKAGE_NO_DELETE"),
                        None,
                        None,
                        first,
                        None,
                        format!("Previously present package {pkg:?} was deleted."),
                    );
                }
            }
        }
        let want_enum = self.on(rule!("PACKAGE_ENUM_NO_DELETE"));
        let want_msg = self.on(rule!("PACKAGE_MESSAGE_NO_DELETE"));
        let want_ext = self.on(rule!("PACKAGE_EXTENSION_NO_DELETE"));
        let want_svc = self.on(rule!("PACKAGE_SERVICE_NO_DELETE"));
        if !(want_enum || want_msg || want_ext || want_svc) {
            return;
        }
        for (pkg, pfiles) in &prev_pkgs {
            let Some(cfiles) = cur_pkgs.get(pkg) else {
                continue;
            };
            let cur_enums: FxHashSet<&str> = cfiles
                .iter()
                .flat_map(|f| f.enums.iter().map(|e| e.nested_name.as_str()))
                .collect();
            let cur_msgs: FxHashMap<&str, (&ProtoFile, &Message)> = cfiles
                .iter()
                .flat_map(|f| {
                    f.messages
                        .iter()
                        .map(move |m| (m.nested_name.as_str(), (*f, m)))
                })
                .collect();
            let cur_exts: FxHashSet<&str> = cfiles
                .iter()
                .flat_map(|f| f.extensions.iter().map(|x| ext_nested_name(f, x)))
                .collect();
            let cur_svcs: FxHashSet<&str> = cfiles
                .iter()
                .flat_map(|f| f.services.iter().map(|s| s.name.as_str()))
                .collect();
            for pf in pfiles {
                let cf = cur.by_path.get(&pf.path).map(|&i| &cur.files[i]);
                let deleted_at =
                    |nested: &str| cf.and_then(|cf| Self::deleted_location(cf, nested));
                if want_enum {
                    for e in &pf.enums {
                        if !cur_enums.contains(e.nested_name.as_str()) {
                            let loc = deleted_at(&e.nested_name);
                            self.add(
                                rule!("PACKAGE_ENUM_NO_DELETE"),
                                cf,
                                loc,
                                Some(pf),
                                pf.loc(&e.path),
                                format!(
                                    "Previously present enum {:?} was deleted from package {pkg:?}.",
                                    e.nested_name
                                ),
                            );
                        }
                    }
                }
                if want_msg {
                    for m in &pf.messages {
                        if !cur_msgs.contains_key(m.nested_name.as_str()) {
                            // The closest enclosing message still in the
                            // package, in whichever file it now lives.
                            let mut parts: Vec<&str> = m.nested_name.split('.').collect();
                            let mut at = (cf, None);
                            while parts.len() > 1 {
                                parts.pop();
                                if let Some(&(pfile, parent)) =
                                    cur_msgs.get(parts.join(".").as_str())
                                {
                                    at = (Some(pfile), pfile.loc(&parent.path));
                                    break;
                                }
                            }
                            self.add(
                                rule!("PACKAGE_MESSAGE_NO_DELETE"),
                                at.0,
                                at.1,
                                Some(pf),
                                pf.loc(&m.path),
                                format!(
                                    "Previously present message {:?} was deleted from package {pkg:?}.",
                                    m.nested_name
                                ),
                            );
                        }
                    }
                }
                if want_ext {
                    for x in &pf.extensions {
                        let nested = ext_nested_name(pf, x);
                        if !cur_exts.contains(nested) {
                            let loc = deleted_at(nested);
                            self.add(
                                rule!("PACKAGE_EXTENSION_NO_DELETE"),
                                cf,
                                loc,
                                Some(pf),
                                pf.loc(&x.path),
                                format!(
                                    "Previously present extension {nested:?} was deleted from package {pkg:?}."
                                ),
                            );
                        }
                    }
                }
                if want_svc {
                    for s in &pf.services {
                        if !cur_svcs.contains(s.name.as_str()) {
                            self.add(
                                rule!("PACKAGE_SERVICE_NO_DELETE"),
                                cf,
                                None,
                                Some(pf),
                                pf.loc(&s.path),
                                format!(
                                    "Previously present service {:?} was deleted from package {pkg:?}.",
                                    s.name
                                ),
                            );
                        }
                    }
                }
            }
        }
    }

    fn enums(&mut self) {
        let pairs: Vec<_> = self
            .pix
            .enums
            .iter()
            .filter_map(|(name, &(pf, pe))| {
                self.cix.enums.get(name).map(|&(cf, ce)| (pf, pe, cf, ce))
            })
            .collect();
        for (pf, pe, cf, ce) in pairs {
            self.enum_pair(pf, pe, cf, ce);
        }
    }

    fn enum_pair(&mut self, pf: &ProtoFile, pe: &Enum, cf: &ProtoFile, ce: &Enum) {
        let eloc = || cf.loc(&ce.path);
        let ploc = || pf.loc(&pe.path);
        if self.on(rule!("ENUM_SAME_TYPE")) {
            let was_closed = pe.features.enum_type == feat::CLOSED;
            let is_closed = ce.features.enum_type == feat::CLOSED;
            if was_closed != is_closed {
                let (a, b) = if is_closed {
                    ("open", "closed")
                } else {
                    ("closed", "open")
                };
                self.add(
                    rule!("ENUM_SAME_TYPE"),
                    Some(cf),
                    cf.loc(&join(&ce.path, &[3, 7, 2])).or_else(eloc),
                    Some(pf),
                    pf.loc(&join(&pe.path, &[3, 7, 2])).or_else(ploc),
                    format!("Enum {:?} changed from {a} to {b}.", ce.name),
                );
            }
        }
        if self.on(rule!("ENUM_SAME_JSON_FORMAT"))
            && pe.features.json_format == feat::ALLOW
            && ce.features.json_format != feat::ALLOW
        {
            self.add(
                rule!("ENUM_SAME_JSON_FORMAT"),
                Some(cf),
                cf.loc(&join(&ce.path, &[3, 7, 6])).or_else(eloc),
                Some(pf),
                pf.loc(&join(&pe.path, &[3, 7, 6])).or_else(ploc),
                format!(
                    "Enum {:?} JSON format support changed from {} to {}.",
                    ce.name,
                    json_format_name(pe.features.json_format),
                    json_format_name(ce.features.json_format)
                ),
            );
        }
        let mut prev_numbers: BTreeMap<i32, Vec<&crate::tree::EnumValue>> = BTreeMap::new();
        for v in &pe.values {
            prev_numbers.entry(v.number).or_default().push(v);
        }
        let mut cur_numbers: BTreeMap<i32, Vec<&crate::tree::EnumValue>> = BTreeMap::new();
        for v in &ce.values {
            cur_numbers.entry(v.number).or_default().push(v);
        }
        for (rule, by_number, by_name) in [
            (rule!("ENUM_VALUE_NO_DELETE"), false, false),
            (
                rule!("ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED"),
                true,
                false,
            ),
            (
                rule!("ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED"),
                false,
                true,
            ),
        ] {
            if !self.on(rule) {
                continue;
            }
            for (number, values) in &prev_numbers {
                if cur_numbers.contains_key(number) {
                    continue;
                }
                let mut names: Vec<&str> = values.iter().map(|v| v.name.as_str()).collect();
                names.sort_unstable();
                names.dedup();
                let allowed = if by_number {
                    ce.reserved_ranges
                        .iter()
                        .any(|&(s, e)| (s..=e).contains(number))
                } else if by_name {
                    names
                        .iter()
                        .all(|n| ce.reserved_names.iter().any(|r| r == n))
                } else {
                    false
                };
                if allowed {
                    continue;
                }
                let suffix = if by_number {
                    format!(" without reserving the number \"{number}\"")
                } else if by_name {
                    let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
                    format!(
                        " without reserving the name{} {}",
                        if names.len() > 1 { "s" } else { "" },
                        quoted.join(", ")
                    )
                } else {
                    String::new()
                };
                self.add(
                    rule,
                    Some(cf),
                    eloc(),
                    Some(pf),
                    ploc(),
                    format!(
                        "Previously present enum value \"{number}\" on enum {:?} was deleted{suffix}.",
                        ce.name
                    ),
                );
            }
        }
        if self.on(rule!("ENUM_VALUE_SAME_NAME")) {
            for (number, pvalues) in &prev_numbers {
                let Some(cvalues) = cur_numbers.get(number) else {
                    continue;
                };
                let mut pnames: Vec<&str> = pvalues.iter().map(|v| v.name.as_str()).collect();
                pnames.sort_unstable();
                pnames.dedup();
                let mut cnames: Vec<&str> = cvalues.iter().map(|v| v.name.as_str()).collect();
                cnames.sort_unstable();
                cnames.dedup();
                if pnames.iter().all(|n| cnames.contains(n)) {
                    continue;
                }
                let q = |v: &[&str]| {
                    v.iter()
                        .map(|n| format!("{n:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let suffix = if pnames.len() > 1 && cnames.len() > 1 {
                    "s"
                } else {
                    ""
                };
                for cv in cvalues {
                    let against = pvalues
                        .iter()
                        .find(|pv| pv.name == cv.name)
                        .and_then(|pv| pf.loc(&join(&pv.path, &[2])));
                    self.add(
                        rule!("ENUM_VALUE_SAME_NAME"),
                        Some(cf),
                        cf.loc(&join(&cv.path, &[2])),
                        if against.is_some() { Some(pf) } else { None },
                        against,
                        format!(
                            "Enum value \"{number}\" on enum {:?} changed name{suffix} from {} to {}.",
                            ce.name,
                            q(&pnames),
                            q(&cnames)
                        ),
                    );
                }
            }
        }
        if self.on(rule!("RESERVED_ENUM_NO_DELETE")) {
            self.tag_ranges(
                rule!("RESERVED_ENUM_NO_DELETE"),
                "reserved",
                "enum",
                &ce.name,
                ENUM_MAX,
                (pf, ploc, &pe.reserved_ranges),
                (cf, eloc, &ce.reserved_ranges),
            );
            for name in &pe.reserved_names {
                if !ce.reserved_names.contains(name) {
                    self.add(
                        rule!("RESERVED_ENUM_NO_DELETE"),
                        Some(cf),
                        eloc(),
                        Some(pf),
                        ploc(),
                        format!(
                            "Previously present reserved name {name:?} on enum {:?} was deleted.",
                            ce.name
                        ),
                    );
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn tag_ranges(
        &mut self,
        rule: usize,
        range_kind: &str,
        element_kind: &str,
        element_name: &str,
        max: i64,
        (pf, ploc, previous): (&ProtoFile, impl Fn() -> Option<Span>, &[(i32, i32)]),
        (cf, cloc, current): (&ProtoFile, impl Fn() -> Option<Span>, &[(i32, i32)]),
    ) {
        if previous.is_empty() {
            return;
        }
        let collapsed = collapse(current);
        for &(s, e) in previous {
            let (s, e) = (i64::from(s), i64::from(e));
            let gone = missing(s, e, &collapsed);
            if gone.is_empty() {
                continue;
            }
            let removed: Vec<String> = gone.iter().map(|&(a, b)| range_string(a, b, max)).collect();
            self.add(
                rule,
                Some(cf),
                cloc(),
                Some(pf),
                ploc(),
                format!(
                    "Previously present {range_kind} range {:?} on {element_kind} {element_name:?} is missing values: {} were removed.",
                    range_string(s, e, max),
                    removed.join(", ")
                ),
            );
        }
    }

    fn messages(&mut self) {
        let pairs: Vec<_> = self
            .pix
            .messages
            .iter()
            .filter_map(|(name, &(pf, pm))| {
                self.cix
                    .messages
                    .get(name)
                    .map(|&(cf, cm)| (pf, pm, cf, cm))
            })
            .collect();
        for (pf, pm, cf, cm) in pairs {
            self.message_pair(pf, pm, cf, cm);
        }
    }

    fn message_pair(&mut self, pf: &ProtoFile, pm: &Message, cf: &ProtoFile, cm: &Message) {
        let mloc = || cf.loc(&cm.path);
        let ploc = || pf.loc(&pm.path);
        let max = if cm.message_set_wire_format {
            MESSAGE_SET_MAX
        } else {
            MESSAGE_MAX
        };
        if self.on(rule!("EXTENSION_MESSAGE_NO_DELETE")) {
            self.tag_ranges(
                rule!("EXTENSION_MESSAGE_NO_DELETE"),
                "extension",
                "message",
                &cm.name,
                max,
                (pf, ploc, &pm.extension_ranges),
                (cf, mloc, &cm.extension_ranges),
            );
        }
        if self.on(rule!("RESERVED_MESSAGE_NO_DELETE")) {
            self.tag_ranges(
                rule!("RESERVED_MESSAGE_NO_DELETE"),
                "reserved",
                "message",
                &cm.name,
                max,
                (pf, ploc, &pm.reserved_ranges),
                (cf, mloc, &cm.reserved_ranges),
            );
            for name in &pm.reserved_names {
                if !cm.reserved_names.contains(name) {
                    self.add(
                        rule!("RESERVED_MESSAGE_NO_DELETE"),
                        Some(cf),
                        mloc(),
                        Some(pf),
                        ploc(),
                        format!(
                            "Previously present reserved name {name:?} on message {:?} was deleted.",
                            cm.name
                        ),
                    );
                }
            }
        }
        for (rule, by_number, by_name) in [
            (rule!("FIELD_NO_DELETE"), false, false),
            (rule!("FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED"), true, false),
            (rule!("FIELD_NO_DELETE_UNLESS_NAME_RESERVED"), false, true),
        ] {
            if !self.on(rule) {
                continue;
            }
            for &(number, i) in &pm.by_number {
                if cm.field(number).is_some() {
                    continue;
                }
                let pfield = &pm.fields[i as usize];
                let allowed = (by_number
                    && cm
                        .reserved_ranges
                        .iter()
                        .any(|&(s, e)| (s..=e).contains(&pfield.number)))
                    || (by_name && cm.reserved_names.contains(&pfield.name));
                if allowed {
                    continue;
                }
                let suffix = if by_number {
                    format!(" without reserving the number \"{}\"", pfield.number)
                } else if by_name {
                    format!(" without reserving the name {:?}", pfield.name)
                } else {
                    String::new()
                };
                self.add(
                    rule,
                    Some(cf),
                    mloc(),
                    Some(pf),
                    ploc(),
                    format!(
                        "Previously present {} was deleted{suffix}.",
                        lower_first(&field_description(pfield))
                    ),
                );
            }
        }
        if self.on(rule!("ONEOF_NO_DELETE")) {
            for (name, synthetic) in &pm.oneofs {
                if *synthetic || cm.oneofs.iter().any(|(n, _)| n == name) {
                    continue;
                }
                self.add(
                    rule!("ONEOF_NO_DELETE"),
                    Some(cf),
                    mloc(),
                    Some(pf),
                    ploc(),
                    format!(
                        "Previously present oneof {name:?} on message {:?} was deleted.",
                        cm.name
                    ),
                );
            }
        }
        if self.on(rule!("MESSAGE_NO_REMOVE_STANDARD_DESCRIPTOR_ACCESSOR"))
            && !pm.no_standard_descriptor_accessor
            && cm.no_standard_descriptor_accessor
        {
            self.add(
                rule!("MESSAGE_NO_REMOVE_STANDARD_DESCRIPTOR_ACCESSOR"),
                Some(cf),
                cf.loc(&join(&cm.path, &[7, 2])),
                Some(pf),
                pf.loc(&join(&pm.path, &[7, 2])),
                "Message option \"no_standard_descriptor_accessor\" changed from \"false\" to \"true\"."
                    .to_owned(),
            );
        }
        if self.on(rule!("MESSAGE_SAME_JSON_FORMAT"))
            && pm.features.json_format == feat::ALLOW
            && cm.features.json_format != feat::ALLOW
        {
            self.add(
                rule!("MESSAGE_SAME_JSON_FORMAT"),
                Some(cf),
                cf.loc(&join(&cm.path, &[7, 12, 6])).or_else(mloc),
                Some(pf),
                pf.loc(&join(&pm.path, &[7, 12, 6])).or_else(ploc),
                format!(
                    "Message {:?} JSON format support changed from {} to {}.",
                    cm.name,
                    json_format_name(pm.features.json_format),
                    json_format_name(cm.features.json_format)
                ),
            );
        }
        if self.on(rule!("MESSAGE_SAME_REQUIRED_FIELDS")) {
            let required = Label::Required;
            let prev_req: FxHashSet<i32> = pm
                .fields
                .iter()
                .filter(|f| f.label == required)
                .map(|f| f.number)
                .collect();
            let cur_req: FxHashSet<i32> = cm
                .fields
                .iter()
                .filter(|f| f.label == required)
                .map(|f| f.number)
                .collect();
            for f in pm.fields.iter().filter(|f| f.label == required) {
                if !cur_req.contains(&f.number) {
                    self.add(
                        rule!("MESSAGE_SAME_REQUIRED_FIELDS"),
                        Some(cf),
                        mloc(),
                        Some(pf),
                        ploc(),
                        format!(
                            "Message {:?} had required field \"{}\" deleted. Required fields must always be sent, so if one side does not know about the required field, this will result in a breakage.",
                            pm.name, f.number
                        ),
                    );
                }
            }
            for f in cm.fields.iter().filter(|f| f.label == required) {
                if !prev_req.contains(&f.number) {
                    self.add(
                        rule!("MESSAGE_SAME_REQUIRED_FIELDS"),
                        Some(cf),
                        cf.loc(&f.path),
                        None,
                        None,
                        format!(
                            "Message {:?} had required field \"{}\" added. Required fields must always be sent, so if one side does not know about the required field, this will result in a breakage.",
                            cm.name, f.number
                        ),
                    );
                }
            }
        }
    }

    fn fields(&mut self) {
        let mut pairs: Vec<(&ProtoFile, &Field, &ProtoFile, &Field)> = Vec::new();
        for (name, &(pf, pm)) in &self.pix.messages {
            let Some(&(cf, cm)) = self.cix.messages.get(name) else {
                continue;
            };
            // Both sorted by number: one merge pass pairs them.
            let (mut i, mut j) = (0, 0);
            while i < pm.by_number.len() && j < cm.by_number.len() {
                let ((pn, pi), (cn, ci)) = (pm.by_number[i], cm.by_number[j]);
                match pn.cmp(&cn) {
                    std::cmp::Ordering::Less => i += 1,
                    std::cmp::Ordering::Greater => j += 1,
                    std::cmp::Ordering::Equal => {
                        pairs.push((pf, &pm.fields[pi as usize], cf, &cm.fields[ci as usize]));
                        i += 1;
                        j += 1;
                    }
                }
            }
        }
        for (key, &(pf, px)) in &self.pix.extensions {
            if let Some(&(cf, cx)) = self.cix.extensions.get(key) {
                pairs.push((pf, px, cf, cx));
            }
        }
        for (pf, pfield, cf, cfield) in pairs {
            self.field_pair(pf, pfield, cf, cfield);
        }
    }

    fn field_pair(&mut self, pf: &ProtoFile, p: &Field, cf: &ProtoFile, c: &Field) {
        // Located only when a rule reports.
        let floc = || cf.loc(&c.path);
        let ploc = || pf.loc(&p.path);
        let both_map_entries = p.parent_is_map_entry && c.parent_is_map_entry;
        let (pc, cc) = (Cardinality::of(p), Cardinality::of(c));
        for (rule, differs) in [
            (rule!("FIELD_SAME_CARDINALITY"), pc != cc),
            (
                rule!("FIELD_WIRE_COMPATIBLE_CARDINALITY"),
                pc.wire_group() != cc.wire_group(),
            ),
            (
                rule!("FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY"),
                pc.wire_json_group() != cc.wire_json_group(),
            ),
        ] {
            if self.on(rule) && !both_map_entries && differs {
                self.add(
                    rule,
                    Some(cf),
                    floc(),
                    Some(pf),
                    ploc(),
                    format!(
                        "{} changed cardinality from {:?} to {:?}.",
                        field_description(c),
                        pc.name(),
                        cc.name()
                    ),
                );
            }
        }
        let stringish = |f: &Field| f.kind == "string" || f.kind == "bytes";
        if self.on(rule!("FIELD_SAME_CPP_STRING_TYPE"))
            && !both_map_entries
            && stringish(p)
            && stringish(c)
        {
            let (pt, ppiece) = cpp_string_type(pf, p);
            let (ct, cpiece) = cpp_string_type(cf, c);
            if (pt != ct || ppiece != cpiece) && !(ppiece && ct == 3) {
                self.add(
                    rule!("FIELD_SAME_CPP_STRING_TYPE"),
                    Some(cf),
                    cf.loc(&join(&c.path, &[8, 1]))
                        .or_else(|| cf.loc(&join(&c.path, &[8, 21, 1000, 2])))
                        .or_else(floc),
                    Some(pf),
                    pf.loc(&join(&p.path, &[8, 1]))
                        .or_else(|| pf.loc(&join(&p.path, &[8, 21, 1000, 2])))
                        .or_else(ploc),
                    format!(
                        "{} changed C++ string type from {:?} to {:?}.",
                        field_description(c),
                        cpp_name(pt, ppiece),
                        cpp_name(ct, cpiece)
                    ),
                );
            }
        }
        if self.on(rule!("FIELD_SAME_JAVA_UTF8_VALIDATION"))
            && p.kind == "string"
            && c.kind == "string"
        {
            let (pv, cv) = (java_utf8(pf, p), java_utf8(cf, c));
            if pv != cv {
                self.add(
                    rule!("FIELD_SAME_JAVA_UTF8_VALIDATION"),
                    Some(cf),
                    cf.loc(&[8, 27])
                        .or_else(|| cf.loc(&join(&c.path, &[8, 21, 1001, 2])))
                        .or_else(floc),
                    Some(pf),
                    pf.loc(&[8, 27])
                        .or_else(|| pf.loc(&join(&p.path, &[8, 21, 1001, 2])))
                        .or_else(ploc),
                    format!(
                        "{} changed Java string UTF8 validation from {:?} to {:?}.",
                        field_description(c),
                        utf8_name(pv),
                        utf8_name(cv)
                    ),
                );
            }
        }
        let is64 = |f: &Field| {
            matches!(
                f.kind,
                "int64" | "sint64" | "uint64" | "fixed64" | "sfixed64"
            )
        };
        if self.on(rule!("FIELD_SAME_JSTYPE")) && is64(p) && is64(c) && p.jstype != c.jstype {
            self.add(
                rule!("FIELD_SAME_JSTYPE"),
                Some(cf),
                cf.loc(&join(&c.path, &[8, 6])).or_else(floc),
                Some(pf),
                pf.loc(&join(&p.path, &[8, 6])).or_else(ploc),
                format!(
                    "{} changed option \"jstype\" from {:?} to {:?}.",
                    field_description(c),
                    jstype_name(p.jstype),
                    jstype_name(c.jstype)
                ),
            );
        }
        if self.on(rule!("FIELD_SAME_TYPE")) {
            if p.kind != c.kind {
                self.changed_type(rule!("FIELD_SAME_TYPE"), pf, p, cf, c, "");
            } else if is_named_kind(c.kind) && p.type_name != c.type_name {
                self.changed_type_name(rule!("FIELD_SAME_TYPE"), pf, p, cf, c);
            }
        }
        for (rule, json) in [
            (rule!("FIELD_WIRE_COMPATIBLE_TYPE"), false),
            (rule!("FIELD_WIRE_JSON_COMPATIBLE_TYPE"), true),
        ] {
            if !self.on(rule) {
                continue;
            }
            let (pg, cg) = if json {
                (wire_json_group(p.kind), wire_json_group(c.kind))
            } else {
                (wire_group(p.kind), wire_group(c.kind))
            };
            if pg != cg {
                let extra = if json {
                    " See https://developers.google.com/protocol-buffers/docs/proto3#updating for wire compatibility rules and https://developers.google.com/protocol-buffers/docs/proto3#json for JSON compatibility rules."
                } else if p.kind == "string" && c.kind == "bytes" {
                    continue;
                } else if p.kind == "bytes" && c.kind == "string" {
                    " See https://developers.google.com/protocol-buffers/docs/proto3#updating for wire compatibility rules. Note that while string and bytes are compatible if the data is valid UTF-8, there is no way to enforce that a bytes field is UTF-8, so these fields may be incompatible."
                } else {
                    " See https://developers.google.com/protocol-buffers/docs/proto3#updating for wire compatibility rules."
                };
                self.changed_type(rule, pf, p, cf, c, extra);
                continue;
            }
            if p.type_name == c.type_name {
                continue;
            }
            if c.kind == "enum" {
                let compatible = match (
                    self.pix.enums.get(p.type_name.as_str()),
                    self.cix.enums.get(c.type_name.as_str()),
                ) {
                    (Some(&(_, pe)), Some(&(_, ce))) => {
                        pe.name == ce.name
                            && pe.values.iter().all(|pv| {
                                ce.values
                                    .iter()
                                    .any(|cv| cv.name == pv.name && cv.number == pv.number)
                            })
                    }
                    _ => false,
                };
                if !compatible {
                    self.changed_type_name(rule, pf, p, cf, c);
                }
            } else if c.kind == "message" || c.kind == "group" {
                self.changed_type_name(rule, pf, p, cf, c);
            }
        }
        if self.on(rule!("FIELD_SAME_UTF8_VALIDATION"))
            && p.kind == "string"
            && c.kind == "string"
            && p.features.utf8_validation != c.features.utf8_validation
        {
            self.add(
                rule!("FIELD_SAME_UTF8_VALIDATION"),
                Some(cf),
                cf.loc(&join(&c.path, &[8, 21, 4])).or_else(floc),
                Some(pf),
                pf.loc(&join(&p.path, &[8, 21, 4])).or_else(ploc),
                format!(
                    "{} changed UTF8 validation from {} to {}.",
                    field_description(c),
                    utf8_name(p.features.utf8_validation),
                    utf8_name(c.features.utf8_validation)
                ),
            );
        }
        if self.on(rule!("FIELD_SAME_DEFAULT"))
            && let (Some((pd, pprint)), Some((cd, cprint))) = (&p.default, &c.default)
            && !(is_zero(pd) && is_zero(cd))
            && !defaults_equal(pd, cd)
        {
            self.add(
                rule!("FIELD_SAME_DEFAULT"),
                Some(cf),
                cf.loc(&join(&c.path, &[7])).or_else(floc),
                Some(pf),
                pf.loc(&join(&p.path, &[7])).or_else(ploc),
                format!(
                    "{} changed default value from {pprint} to {cprint}.",
                    field_description(c)
                ),
            );
        }
        if self.on(rule!("FIELD_SAME_JSON_NAME"))
            && p.extendee.is_empty()
            && p.json_name != c.json_name
        {
            self.add(
                rule!("FIELD_SAME_JSON_NAME"),
                Some(cf),
                cf.loc(&join(&c.path, &[10])).or_else(floc),
                Some(pf),
                pf.loc(&join(&p.path, &[10])).or_else(ploc),
                format!(
                    "{} changed option \"json_name\" from {:?} to {:?}.",
                    field_description(c),
                    p.json_name,
                    c.json_name
                ),
            );
        }
        if self.on(rule!("FIELD_SAME_NAME")) {
            let (pn, cn) = if p.extendee.is_empty() {
                (&p.name, &c.name)
            } else {
                (&p.full_name, &c.full_name)
            };
            if pn != cn {
                self.add(
                    rule!("FIELD_SAME_NAME"),
                    Some(cf),
                    cf.loc(&join(&c.path, &[1])),
                    Some(pf),
                    pf.loc(&join(&p.path, &[1])),
                    format!(
                        "{} changed name from {pn:?} to {cn:?}.",
                        field_description_with_name(c, "")
                    ),
                );
            }
        }
        if self.on(rule!("FIELD_SAME_ONEOF")) && p.extendee.is_empty() {
            match (&p.oneof, &c.oneof) {
                (None, None) => {}
                (Some(a), Some(b)) => {
                    if a != b {
                        self.add(
                            rule!("FIELD_SAME_ONEOF"),
                            Some(cf),
                            floc(),
                            Some(pf),
                            ploc(),
                            format!(
                                "{} moved from oneof {a:?} to oneof {b:?}.",
                                field_description(c)
                            ),
                        );
                    }
                }
                (was, _) => {
                    let (a, b) = if was.is_some() {
                        ("inside", "outside")
                    } else {
                        ("outside", "inside")
                    };
                    self.add(
                        rule!("FIELD_SAME_ONEOF"),
                        Some(cf),
                        floc(),
                        Some(pf),
                        ploc(),
                        format!("{} moved from {a} to {b} a oneof.", field_description(c)),
                    );
                }
            }
        }
    }

    fn type_loc(file: &ProtoFile, f: &Field) -> Option<Span> {
        if is_named_kind(f.kind) {
            file.loc(&join(&f.path, &[6]))
        } else {
            file.loc(&join(&f.path, &[5]))
        }
    }

    fn changed_type(
        &mut self,
        rule: usize,
        pf: &ProtoFile,
        p: &Field,
        cf: &ProtoFile,
        c: &Field,
        extra: &str,
    ) {
        self.add(
            rule,
            Some(cf),
            Self::type_loc(cf, c),
            Some(pf),
            Self::type_loc(pf, p),
            format!(
                "{} changed type from {:?} to {:?}.{extra}",
                field_description(c),
                pretty_kind(pf, p),
                pretty_kind(cf, c)
            ),
        );
    }

    fn changed_type_name(
        &mut self,
        rule: usize,
        pf: &ProtoFile,
        p: &Field,
        cf: &ProtoFile,
        c: &Field,
    ) {
        self.add(
            rule,
            Some(cf),
            cf.loc(&join(&c.path, &[6])),
            Some(pf),
            pf.loc(&join(&p.path, &[6])),
            format!(
                "{} changed type from {:?} to {:?}.",
                field_description(c),
                p.type_name,
                c.type_name
            ),
        );
    }

    fn services(&mut self) {
        let pairs: Vec<_> = self
            .pix
            .services
            .iter()
            .filter_map(|(name, &(pf, ps))| {
                self.cix
                    .services
                    .get(name)
                    .map(|&(cf, cs)| (pf, ps, cf, cs))
            })
            .collect();
        for (pf, ps, cf, cs) in pairs {
            let sloc = || cf.loc(&cs.path);
            let ploc = || pf.loc(&ps.path);
            let cur: FxHashMap<&str, &crate::tree::Method> =
                cs.methods.iter().map(|m| (m.name.as_str(), m)).collect();
            for pm in &ps.methods {
                let Some(cm) = cur.get(pm.name.as_str()) else {
                    if self.on(rule!("RPC_NO_DELETE")) {
                        self.add(
                            rule!("RPC_NO_DELETE"),
                            Some(cf),
                            sloc(),
                            Some(pf),
                            ploc(),
                            format!(
                                "Previously present RPC {:?} on service {:?} was deleted.",
                                pm.name, cs.name
                            ),
                        );
                    }
                    continue;
                };
                let mloc = || cf.loc(&cm.path);
                let pmloc = || pf.loc(&pm.path);
                for (rule, side, before, after) in [
                    (
                        rule!("RPC_SAME_CLIENT_STREAMING"),
                        "client",
                        pm.client_streaming,
                        cm.client_streaming,
                    ),
                    (
                        rule!("RPC_SAME_SERVER_STREAMING"),
                        "server",
                        pm.server_streaming,
                        cm.server_streaming,
                    ),
                ] {
                    if self.on(rule) && before != after {
                        let (a, b) = if after {
                            ("unary", "streaming")
                        } else {
                            ("streaming", "unary")
                        };
                        self.add(
                            rule,
                            Some(cf),
                            mloc(),
                            Some(pf),
                            pmloc(),
                            format!(
                                "RPC {:?} on service {:?} changed from {side} {a} to {side} {b}.",
                                cm.name, cs.name
                            ),
                        );
                    }
                }
                if self.on(rule!("RPC_SAME_IDEMPOTENCY_LEVEL")) && pm.idempotency != cm.idempotency
                {
                    self.add(
                        rule!("RPC_SAME_IDEMPOTENCY_LEVEL"),
                        Some(cf),
                        cf.loc(&join(&cm.path, &[4, 34])),
                        Some(pf),
                        pf.loc(&join(&pm.path, &[4, 34])),
                        format!(
                            "RPC {:?} on service {:?} changed option \"idempotency_level\" from {:?} to {:?}.",
                            cm.name,
                            cs.name,
                            idempotency_name(pm.idempotency),
                            idempotency_name(cm.idempotency)
                        ),
                    );
                }
                for (rule, what, tag, before, after) in [
                    (
                        rule!("RPC_SAME_REQUEST_TYPE"),
                        "request",
                        2,
                        &pm.input,
                        &cm.input,
                    ),
                    (
                        rule!("RPC_SAME_RESPONSE_TYPE"),
                        "response",
                        3,
                        &pm.output,
                        &cm.output,
                    ),
                ] {
                    if self.on(rule) && before != after {
                        self.add(
                            rule,
                            Some(cf),
                            cf.loc(&join(&cm.path, &[tag])),
                            Some(pf),
                            pf.loc(&join(&pm.path, &[tag])),
                            format!(
                                "RPC {:?} on service {:?} changed {what} type from {before:?} to {after:?}.",
                                cm.name, cs.name
                            ),
                        );
                    }
                }
            }
        }
    }
}

/// `LABEL_REQUIRED`.
#[allow(non_snake_case, non_upper_case_globals)]
mod Label {
    pub const Required: i32 = 2;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_ranges_are_the_uncovered_parts() {
        let c = collapse(&[(5, 10), (11, 12), (20, 30)]);
        assert_eq!(c, vec![(5, 12), (20, 30)]);
        assert_eq!(missing(1, 25, &c), vec![(1, 4), (13, 19)]);
        assert_eq!(missing(6, 8, &c), vec![]);
        assert_eq!(missing(28, 40, &c), vec![(31, 40)]);
        assert_eq!(range_string(3, MESSAGE_MAX, MESSAGE_MAX), "[3,max]");
    }

    #[test]
    fn defaults_compare_across_numeric_kinds() {
        use DefaultValue as D;
        assert!(defaults_equal(&D::Int(1), &D::F64(1.0)));
        assert!(defaults_equal(&D::F32(0.1), &D::F64(f64::from(0.1f32))));
        assert!(!defaults_equal(&D::Bytes(b"1".to_vec()), &D::Int(1)));
        assert!(defaults_equal(&D::F64(f64::NAN), &D::F32(f32::NAN)));
    }
}
