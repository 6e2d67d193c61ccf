// No function in web/ is longer than MAX_LINES lines (issue 25: tool pages are made of small parts).
// Every function counts: declarations, expressions, arrows, methods, getters, nested closures; a
// function's length is its lines from `function`/its name to its closing brace. Parsed with acorn, so
// a brace in a string or a template never miscounts. web/ holds no third-party code (vendored files are
// copied into dist/ by the build), so nothing under it is skipped.
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "acorn";

const MAX_LINES = 150;
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const WEB = join(ROOT, "web");

function* sources(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (/\.m?js$/.test(entry.name)) yield path;
  }
}

/** The name a function is known by: its own, the variable, property or method it is assigned to. */
function nameOf(node, parent) {
  if (node.id?.name) return node.id.name;
  const key = parent?.key ?? parent?.id ?? parent?.left?.property ?? parent?.left;
  return key?.name ?? key?.value ?? "(anonymous)";
}

/** Every function in a parsed program: {name, line, lines}. */
export function functionsOf(program) {
  const found = [];
  const visit = (node, parent) => {
    if (node.type.includes("Function")) {
      found.push({ name: nameOf(node, parent), line: node.loc.start.line, lines: node.loc.end.line - node.loc.start.line + 1 });
    }
    for (const [key, value] of Object.entries(node)) {
      if (key === "loc") continue;
      for (const child of Array.isArray(value) ? value : [value]) {
        if (child && typeof child.type === "string") visit(child, node);
      }
    }
  };
  visit(program, null);
  return found;
}

const parseModule = (text) => parse(text, { ecmaVersion: "latest", sourceType: "module", locations: true });

test("the check itself counts nested closures, methods and arrows, with their names", () => {
  const body = (n) => Array.from({ length: n }, (_, i) => `  const v${i} = ${i};`).join("\n");
  const program = parseModule(`export function outer() {\n  const inner = () => {\n${body(3)}\n  };\n}\n`
    + `class Panel { show() {\n${body(2)}\n} }\nconst ui = { render: function () {} };\n`);
  assert.deepEqual(functionsOf(program).map(({ name, lines }) => [name, lines]),
    [["outer", 7], ["inner", 5], ["show", 4], ["render", 1]]);
});

test(`no function in web/ is longer than ${MAX_LINES} lines`, () => {
  const tooLong = [];
  let files = 0;
  for (const path of sources(WEB)) {
    files += 1;
    for (const fn of functionsOf(parseModule(readFileSync(path, "utf8")))) {
      if (fn.lines > MAX_LINES) tooLong.push(`${relative(ROOT, path)}:${fn.line} ${fn.name}() is ${fn.lines} lines`);
    }
  }
  assert.ok(files > 40, `found only ${files} sources under web/`);
  assert.deepEqual(tooLong, [], `split these into small named parts (at most ${MAX_LINES} lines each):\n${tooLong.join("\n")}`);
});
