// Parses Mermaid files with the official parser (the `mermaid` package, as
// a browser would run it, on a jsdom window). Prints one line per file and
// exits 1 when any file does not parse. Used by crates/cairn/tests/map.rs;
// `.ci/run` installs the packages into target/mermaid-check.
import { JSDOM } from 'jsdom';
import fs from 'fs';

const dom = new JSDOM('<!DOCTYPE html><body></body>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
globalThis.DOMParser = dom.window.DOMParser;
const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false });
for (const f of process.argv.slice(2)) {
  const text = fs.readFileSync(f, 'utf8');
  try {
    const r = await mermaid.parse(text);
    console.log(`${f}: ok ${r.diagramType}`);
  } catch (e) {
    console.log(`${f}: ${e.message}`);
    process.exitCode = 1;
  }
}
