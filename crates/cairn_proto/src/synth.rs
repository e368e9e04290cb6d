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
    for i in 0..files {
        let pkg_dir = dir.join(format!("svc{}", i / 10)).join("v1");
        std::fs::create_dir_all(&pkg_dir)?;
        let text = synth_file(i, seed);
        std::fs::write(pkg_dir.join(format!("file{i}.proto")), text)?;
    }
    Ok(())
}

fn synth_file(i: usize, seed: u64) -> String {
    let mut layout = Rng(i as u64 * 7919 + 17);
    let mut drift = Rng(seed.wrapping_mul(1_000_003).wrapping_add(i as u64));
    let mut s = String::with_capacity(4096);
    let pkg = format!("svc{}.v1", i / 10);
    let _ = writeln!(s, "syntax = \"proto3\";\n\npackage {pkg};\n");
    if !i.is_multiple_of(10) {
        let _ = writeln!(s, "import \"svc{}/v1/file{}.proto\";", i / 10, i - 1);
    }
    let _ = writeln!(
        s,
        "option go_package = \"example.com/gen/svc{}/v1;svcv1\";\n",
        i / 10
    );
    let messages = 4 + layout.below(4) as usize;
    for m in 0..messages {
        let _ = writeln!(s, "// Message {m} of file {i}.\nmessage M{i}x{m} {{");
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
            let label = if layout.below(6) == 0 {
                "repeated "
            } else {
                ""
            };
            let _ = writeln!(s, "  {label}{ty} {name} = {number};");
        }
        let _ = writeln!(s, "  map<string, int64> counts = 50;");
        if m > 0 {
            let _ = writeln!(s, "  M{i}x{} previous = 51;", m - 1);
        }
        if !i.is_multiple_of(10) && m == 0 {
            let _ = writeln!(s, "  M{}x0 imported = 52;", i - 1);
        }
        let _ = writeln!(
            s,
            "  oneof choice {{\n    string text = 60;\n    int64 number = 61;\n  }}"
        );
        let _ = writeln!(
            s,
            "  message Inner {{\n    string id = 1;\n    repeated int32 values = 2;\n  }}\n  Inner inner = 62;\n  reserved 70 to 79;\n  reserved \"legacy\";"
        );
        let _ = writeln!(s, "}}\n");
    }
    let _ = writeln!(s, "enum E{i} {{\n  E{i}_UNSPECIFIED = 0;");
    for v in 1..6 {
        if drift.below(40) != 0 {
            let _ = writeln!(s, "  E{i}_VALUE_{v} = {v};");
        }
    }
    let _ = writeln!(s, "}}\n");
    let _ = writeln!(s, "service S{i} {{");
    for r in 0..3 {
        if drift.below(50) != 0 {
            let _ = writeln!(
                s,
                "  rpc Call{r}(M{i}x{r}) returns (M{i}x{}) {{}}",
                (r + 1) % messages
            );
        }
    }
    let _ = writeln!(s, "}}");
    s
}
