//! A generator of realistic `.proto` trees, for benchmarks and tests.

use std::fmt::Write as _;
use std::path::Path;

/// A small deterministic generator (splitmix64), so trees are reproducible
/// without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const SCALARS: &[&str] = &[
    "string", "int32", "int64", "bool", "bytes", "double", "uint32", "sint64", "fixed32",
];

/// Writes `files` proto3 files under `dir` (in `svcN/v1/` packages, each
/// importing its predecessor), with messages, nested messages, enums,
/// oneofs, maps and services.
///
/// The layout depends only on `files`; about one field in twenty changes
/// name, type or number with `seed`, and so does the presence of a few
/// enum values and RPCs, so two seeds give two versions of one API with a
/// realistic number of breaking changes between them.
pub fn synth_tree(dir: &Path, files: usize, seed: u64) -> std::io::Result<()> {
    write_tree(dir, files, seed, false)
}

/// Writes two versions of one `files`-file API: `dir/old` (the tree
/// [`synth_tree`] writes for seed 1) and `dir/new`, the same tree after a
/// realistic set of breaking edits: deleted and renamed fields, changed
/// field types and cardinalities, removed oneofs and reserved names,
/// deleted nested and top-level messages, deleted and renamed enum values,
/// deleted RPCs and services, changed request types and streaming, changed
/// `go_package` options and deleted files. `dir/new` gets a `buf.yaml` (v2,
/// `breaking: use: [FILE]`). Both trees compile with protox and with buf.
pub fn synth_pair(dir: &Path, files: usize) -> std::io::Result<()> {
    write_tree(&dir.join("old"), files, 1, false)?;
    let new = dir.join("new");
    write_tree(&new, files, 1, true)?;
    std::fs::write(
        new.join("buf.yaml"),
        "version: v2\nbreaking:\n  use:\n    - FILE\n",
    )
}

fn write_tree(dir: &Path, files: usize, seed: u64, edit: bool) -> std::io::Result<()> {
    for i in 0..files {
        let pkg_dir = dir.join(format!("svc{}", i / 10)).join("v1");
        std::fs::create_dir_all(&pkg_dir)?;
        if let Some(text) = synth_file(i, seed, edit) {
            std::fs::write(pkg_dir.join(format!("file{i}.proto")), text)?;
        }
    }
    Ok(())
}

/// The edits applied to the new version of a file: each `chance(n)` is a
/// one-in-`n` draw, from a generator of its own so the layout and the
/// seeded drift stay those of the old version.
struct Edits(Option<Rng>);

impl Edits {
    fn chance(&mut self, n: u64) -> bool {
        self.0.as_mut().is_some_and(|r| r.below(n) == 0)
    }
}

fn synth_file(i: usize, seed: u64, edit: bool) -> Option<String> {
    let mut layout = Rng(i as u64 * 7919 + 17);
    let mut drift = Rng(seed.wrapping_mul(1_000_003).wrapping_add(i as u64));
    let mut ed = Edits(edit.then(|| Rng(0xC0FF_EE00 ^ (i as u64).wrapping_mul(2_654_435_761))));
    // One file in a hundred goes: the last of its package, which no other
    // file imports.
    if edit && i % 100 == 49 {
        return None;
    }
    let mut s = String::with_capacity(4096);
    let pkg = format!("svc{}.v1", i / 10);
    let _ = writeln!(s, "syntax = \"proto3\";\n\npackage {pkg};\n");
    if !i.is_multiple_of(10) {
        let _ = writeln!(s, "import \"svc{}/v1/file{}.proto\";", i / 10, i - 1);
    }
    let go_suffix = if ed.chance(80) { "api" } else { "svcv1" };
    let _ = writeln!(
        s,
        "option go_package = \"example.com/gen/svc{}/v1;{go_suffix}\";\n",
        i / 10
    );
    let messages = 4 + layout.below(4) as usize;
    for m in 0..messages {
        // No message or RPC refers to the last message when there are more
        // than four.
        let delete_message = m == messages - 1 && messages > 4 && ed.chance(25);
        let mut body = String::with_capacity(1024);
        let _ = writeln!(body, "// Message {m} of file {i}.\nmessage M{i}x{m} {{");
        let fields = 5 + layout.below(8) as usize;
        for f in 1..=fields {
            let mut ty = SCALARS[layout.below(SCALARS.len() as u64) as usize].to_owned();
            let mut name = format!("field_{f}");
            let mut number = f;
            if drift.below(20) == 0 {
                match drift.below(3) {
                    0 => name = format!("renamed_{f}"),
                    1 => SCALARS[drift.below(SCALARS.len() as u64) as usize].clone_into(&mut ty),
                    _ => number = f + 100,
                }
            }
            let mut label = if layout.below(6) == 0 {
                "repeated "
            } else {
                ""
            };
            if ed.chance(30) {
                continue;
            }
            if ed.chance(30) {
                let other = SCALARS
                    .iter()
                    .position(|t| *t == ty)
                    .map_or(0, |p| (p + 1) % SCALARS.len());
                SCALARS[other].clone_into(&mut ty);
            }
            if ed.chance(40) {
                name = format!("{name}_v2");
            }
            if ed.chance(60) {
                label = if label.is_empty() { "repeated " } else { "" };
            }
            let _ = writeln!(body, "  {label}{ty} {name} = {number};");
        }
        let _ = writeln!(body, "  map<string, int64> counts = 50;");
        if m > 0 {
            let _ = writeln!(body, "  M{i}x{} previous = 51;", m - 1);
        }
        if !i.is_multiple_of(10) && m == 0 {
            let _ = writeln!(body, "  M{}x0 imported = 52;", i - 1);
        }
        if ed.chance(40) {
            // The oneof goes; its fields stay.
            let _ = writeln!(body, "  string text = 60;\n  int64 number = 61;");
        } else {
            let _ = writeln!(
                body,
                "  oneof choice {{\n    string text = 60;\n    int64 number = 61;\n  }}"
            );
        }
        if ed.chance(40) {
            let _ = writeln!(body, "  reserved 70 to 79;");
        } else {
            let _ = writeln!(
                body,
                "  message Inner {{\n    string id = 1;\n    repeated int32 values = 2;\n  }}\n  Inner inner = 62;\n  reserved 70 to 79;"
            );
        }
        if !ed.chance(40) {
            let _ = writeln!(body, "  reserved \"legacy\";");
        }
        let _ = writeln!(body, "}}\n");
        if !delete_message {
            s.push_str(&body);
        }
    }
    let _ = writeln!(s, "enum E{i} {{\n  E{i}_UNSPECIFIED = 0;");
    for v in 1..6 {
        if drift.below(40) != 0 {
            if ed.chance(40) {
                continue;
            }
            let suffix = if ed.chance(40) { "_RENAMED" } else { "" };
            let _ = writeln!(s, "  E{i}_VALUE_{v}{suffix} = {v};");
        }
    }
    let _ = writeln!(s, "}}\n");
    if ed.chance(40) {
        return Some(s);
    }
    let _ = writeln!(s, "service S{i} {{");
    for r in 0..3 {
        if drift.below(50) != 0 {
            if ed.chance(30) {
                continue;
            }
            let input = if ed.chance(40) { r + 1 } else { r };
            let stream = if ed.chance(60) { "stream " } else { "" };
            let _ = writeln!(
                s,
                "  rpc Call{r}(M{i}x{input}) returns ({stream}M{i}x{}) {{}}",
                (r + 1) % messages
            );
        }
    }
    let _ = writeln!(s, "}}");
    Some(s)
}
