#!/usr/bin/env bash
# Times `buf breaking` against cairn_proto on a generated tree of .proto
# files, end to end (load the previous tree, load the current one, compare),
# and checks that both report the same findings.
#
#   crates/cairn_proto/bench-vs-buf.sh [FILES]     # default 1000
#
# Environment:
#   RUNS=5              timed runs per tool (after one warm-up run each)
#   BUF=path/to/buf     use this buf; otherwise `buf` on PATH, otherwise
#                       @bufbuild/buf from npm, installed once into
#                       BUF_INSTALL_DIR (default: $TMPDIR/cairn-bench-buf)
#   CARGO_TARGET_DIR    where the release example is built (cargo's default
#                       otherwise)
#   KEEP=1              keep the generated trees and outputs
#
# Needs cargo, npm (unless buf is found), /usr/bin/time (Debian: `time`) and
# python3 (for the medians and the findings comparison).
set -euo pipefail

FILES="${1:-1000}"
RUNS="${RUNS:-5}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

for tool in cargo python3; do
  command -v "$tool" >/dev/null || { echo "bench-vs-buf: $tool is required" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "bench-vs-buf: /usr/bin/time is required (apt-get install time)" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-vs-buf.XXXXXX")"
cleanup() { if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT

# --- buf -------------------------------------------------------------------
if [ -z "${BUF:-}" ]; then
  if command -v buf >/dev/null; then
    BUF="$(command -v buf)"
  else
    install_dir="${BUF_INSTALL_DIR:-${TMPDIR:-/tmp}/cairn-bench-buf}"
    if [ ! -x "$install_dir/node_modules/.bin/buf" ]; then
      command -v npm >/dev/null || { echo "bench-vs-buf: npm is needed to install buf" >&2; exit 2; }
      echo "installing @bufbuild/buf into $install_dir" >&2
      mkdir -p "$install_dir"
      (cd "$install_dir" && npm install --silent --no-audit --no-fund @bufbuild/buf >/dev/null)
    fi
    BUF="$install_dir/node_modules/.bin/buf"
  fi
fi
echo "buf $("$BUF" --version) ($BUF)"

# --- cairn -----------------------------------------------------------------
(cd "$root" && cargo build --quiet --release -p cairn_proto --example vs_buf)
target="${CARGO_TARGET_DIR:-$root/target}"
cairn="$target/release/examples/vs_buf"
[ -x "$cairn" ] || { echo "bench-vs-buf: $cairn was not built" >&2; exit 2; }

# --- the trees ---------------------------------------------------------------
"$cairn" synth "$work/pair" "$FILES"
cd "$work/pair"
echo "trees: $(find old -name '*.proto' | wc -l) files in old/, $(find new -name '*.proto' | wc -l) in new/ ($(du -sh old | cut -f1) each); new/buf.yaml uses FILE"
"$BUF" build old -o /dev/null
"$BUF" build new -o /dev/null

# --- timing ------------------------------------------------------------------
# One run: wall seconds and peak RSS (KiB) appended to $1; breaking changes
# (exit 100) are the expected outcome.
timed() {
  local out="$1"; shift
  local rc=0
  /usr/bin/time -o "$work/time.txt" -f "%e %M" "$@" >"$work/stdout.txt" 2>"$work/stderr.txt" || rc=$?
  if [ "$rc" != 0 ] && [ "$rc" != 100 ]; then
    echo "bench-vs-buf: '$*' failed ($rc):" >&2; cat "$work/stderr.txt" >&2; exit 1
  fi
  tail -n 1 "$work/time.txt" >>"$out"
}

buf_cache="$work/buf-cache"
cairn_run() { timed "$1" "$cairn" diff old new --json; }
buf_warm() { BUF_CACHE_DIR="$buf_cache" timed "$1" "$BUF" breaking new --against old --error-format json; }
buf_cold() {
  rm -rf "$work/buf-cold-cache"
  BUF_CACHE_DIR="$work/buf-cold-cache" timed "$1" "$BUF" breaking new --against old --error-format json
}

cairn_run "$work/warmup"; cp "$work/stdout.txt" "$work/cairn.json"
buf_warm "$work/warmup"; cp "$work/stdout.txt" "$work/buf.json"
: >"$work/cairn.times"; : >"$work/buf.times"; : >"$work/buf-cold.times"
for _ in $(seq "$RUNS"); do
  cairn_run "$work/cairn.times"
  buf_warm "$work/buf.times"
  buf_cold "$work/buf-cold.times"
done

python3 - "$work" "$RUNS" "$FILES" <<'PY'
import json, statistics, sys, collections
work, runs, files = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def times(name):
    rows = [l.split() for l in open(f"{work}/{name}.times") if l.strip()]
    return [float(r[0]) for r in rows], [int(r[1]) for r in rows]
res = {}
for name in ("cairn", "buf", "buf-cold"):
    wall, rss = times(name)
    res[name] = (min(wall[:3]), statistics.median(wall), max(rss) / 1024)
print(f"\n{files} files, {runs} runs each after a warm-up (wall seconds; peak RSS)")
print(f"{'':10} {'best of 3':>10} {'median':>10} {'peak MiB':>10}")
for name, (best, med, mib) in res.items():
    print(f"{name:10} {best:10.3f} {med:10.3f} {mib:10.0f}")
cb, cm, cmem = res["cairn"]
for name in ("buf", "buf-cold"):
    b, m, mem = res[name]
    print(f"{name} / cairn: {b / cb:.1f}x (best), {m / cm:.1f}x (median), memory {mem / cmem:.1f}x")

def findings(path, full):
    c = collections.Counter()
    for line in open(path):
        line = line.strip()
        if not line:
            continue
        d = json.loads(line)
        p = d.get("path", "")
        p = p.split("/", 1)[1] if p.startswith(("new/", "old/")) else p
        key = (d["type"], p, d.get("start_line", 0))
        if full:
            key += (d.get("start_column", 0), d.get("end_line", 0), d.get("end_column", 0), d["message"])
        c[key] += 1
    return c
b, c = findings(f"{work}/buf.json", False), findings(f"{work}/cairn.json", False)
print(f"\nfindings: buf {sum(b.values())}, cairn {sum(c.values())}; "
      f"(rule, file, line) only in buf: {sum((b - c).values())}, only in cairn: {sum((c - b).values())}")
for k, v in list((b - c).items())[:10]:
    print("  only in buf:  ", k, v)
for k, v in list((c - b).items())[:10]:
    print("  only in cairn:", k, v)
bf, cf = findings(f"{work}/buf.json", True), findings(f"{work}/cairn.json", True)
print(f"with columns and messages: only in buf {sum((bf - cf).values())}, only in cairn {sum((cf - bf).values())}")
by_rule = collections.Counter(k[0] for k in b.elements())
print("by rule: " + ", ".join(f"{r} {n}" for r, n in sorted(by_rule.items())))
sys.exit(0 if b == c else 1)
PY
