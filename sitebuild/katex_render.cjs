// Renders TeX to HTML with KaTeX for the mkdocs build (see sitebuild/katex.py).
// Protocol: one JSON request per stdin line, [{"tex": "...", "display": true}, ...];
// one JSON reply per stdout line, [{"html": "..."} | {"error": "..."}, ...] in the same order.
"use strict";
const katex = require("katex");
const readline = require("readline");

const options = { throwOnError: true, strict: "error", output: "htmlAndMathml", trust: false };

function render(item) {
  try {
    return { html: katex.renderToString(item.tex, { ...options, displayMode: item.display }) };
  } catch (err) {
    return { error: String(err && err.message ? err.message : err) };
  }
}

const lines = readline.createInterface({ input: process.stdin, terminal: false });
lines.on("line", (line) => {
  const reply = JSON.parse(line).map(render);
  process.stdout.write(JSON.stringify(reply) + "\n");
});
