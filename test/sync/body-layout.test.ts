// Where a body's module entries lie (src/sync/body-layout.ts): exact for any
// valid JSON, null whenever it cannot be sure which array JSON.parse used.
import { describe, expect, test } from "bun:test";
import { entriesLayout, firstEntryStart, objectSpans } from "../../src/sync/body-layout";

const encode = (text: string) => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Each entry's text as the layout places it: from its start to the next one's (less the separator), or to the end. */
function entryTexts(text: string): string[] | null {
  const bytes = encode(text);
  const value = JSON.parse(text) as { modules: unknown[] };
  const layout = entriesLayout(bytes, value.modules.length);
  if (layout === null) return null;
  const texts: string[] = [];
  for (let i = 0; i < layout.starts.length; i++) {
    const to = i + 1 < layout.starts.length ? layout.starts[i + 1]! : layout.end;
    texts.push(decode(bytes.subarray(layout.starts[i]!, to)).replace(/\s*,\s*$/, ""));
  }
  return texts;
}

const entries = [
  { machine_name: "node", display_name: "Node {with} [brackets]", enabled: true, version: "10.3.8" },
  { machine_name: "views", display_name: 'Quote " and backslash \\ and \\" both', enabled: false, version: null },
  { machine_name: "token", display_name: "Ünïcödé — 日本語 😀", description: "nested", extra: { deep: [1, { a: "}]" }] }, enabled: true },
];

describe("entriesLayout", () => {
  test("finds every entry of a compact body, whatever its strings hold", () => {
    const body = { site: { url: "https://x.example", name: "}{][" }, drupal_info: { modules: [{}] }, modules: entries, full_sync: true };
    const texts = entryTexts(JSON.stringify(body));
    expect(texts!.map((t) => JSON.parse(t))).toEqual(entries);
    expect(texts).toEqual(entries.map((e) => JSON.stringify(e)));
  });

  test("and of one written with spaces and new lines, `modules` first or last", () => {
    for (const body of [{ modules: entries, site: { url: "u" } }, { site: { url: "u" }, drupal_info: { x: "]" }, modules: entries }]) {
      const texts = entryTexts(JSON.stringify(body, null, 2));
      expect(texts!.map((t) => JSON.parse(t))).toEqual(entries);
    }
    const spaced = ` \n{ "site" : {"url":"u"} ,\r\n "modules" :\t[ ${entries.map((e) => JSON.stringify(e)).join(" ,\n ")} ] }\n`;
    expect(entryTexts(spaced)!.map((t) => JSON.parse(t))).toEqual(entries);
  });

  test("is null when unsure which array JSON.parse used, or for entries that are not all objects", () => {
    // Twice: JSON.parse keeps the last.
    expect(entryTexts(`{"modules":[{"a":1}],"modules":[{"b":2}]}`)).toBeNull();
    // A key written with an escape may be `modules`.
    expect(entryTexts(`{"modul\\u0065s":[{"a":1}],"modules":[{"b":2}]}`)).toBeNull();
    expect(entryTexts(`{"modules":[{"a":1},2]}`)).toBeNull();
    expect(entryTexts(`{"modules":[{"a":1},[]]}`)).toBeNull();
    expect(entryTexts(`{"modules":[]}`)).toBeNull();
    expect(entryTexts(`{"modules":{"a":1}}`)).toBeNull();
    // Asked for another count than the array holds.
    expect(entriesLayout(encode(`{"modules":[{"a":1},{"b":2}]}`), 3)).toBeNull();
  });

  test("skips other fields of every kind on the way", () => {
    const text = `{"n":-1.5e3,"t":true,"z":null,"s":"a\\"b","o":{"modules":[{"x":1}]},"a":[[{"modules":1}]],"modules":[{"ok":1}],"after":"x"}`;
    expect(entryTexts(text)).toEqual([`{"ok":1}`]);
  });
});

describe("objectSpans", () => {
  test("a run of objects and separators, and nothing else", () => {
    const text = `{"a":"}"} , {"b":[{}]}`;
    const run = objectSpans(encode(text), 0, text.length);
    expect(run).toEqual({ starts: [0, 12], ends: [9, text.length] });
    expect(objectSpans(encode(`{"a":1},`), 0, 8)).toBeNull();
    expect(objectSpans(encode(`{"a":1} 2`), 0, 9)).toBeNull();
    expect(objectSpans(encode(`  `), 0, 2)).toBeNull();
  });
});

describe("firstEntryStart", () => {
  const at = (text: string) => firstEntryStart(encode(text));
  test("where the first entry of the top-level `modules` starts, past fields of every kind", () => {
    const text = ` { "site": {"url":"\\"]}"}, "n": [1, {"modules":[{}]}], "x": -2e5,\n "modules" : [ \n{"a":1}]}`;
    expect(at(text)).toBe(text.indexOf(`{"a":1}`));
    // Only the fields before it are read: what follows may be anything.
    expect(at(`{"modules":[{"a":1}, garbage`)).toBe(12);
  });

  test("-1 when unsure, or when that array does not start with an object", () => {
    expect(at(`{"modul\\u0065s":[{"a":1}]}`)).toBe(-1);
    expect(at(`{"modules":[]}`)).toBe(-1);
    expect(at(`{"modules":[1,{"a":1}]}`)).toBe(-1);
    expect(at(`{"modules":{"a":1}}`)).toBe(-1);
    expect(at(`{"site":{"url":"u"}}`)).toBe(-1);
    expect(at(`["modules",[{"a":1}]]`)).toBe(-1);
    expect(at(`{"site":{"url":"u"} "modules":[{"a":1}]}`)).toBe(-1);
    expect(at(`{"site":"unterminated`)).toBe(-1);
    expect(at(``)).toBe(-1);
  });
});
