// The streaming splitter must agree with JSON.parse on every valid body, however
// it is cut into chunks, and refuse every invalid one.
import { expect, test } from "bun:test";
import { PayloadSplitter, PayloadSyntaxError } from "../../src/sync/stream";

async function split(text: string, cut: (i: number) => number) {
  const fields: Record<string, unknown> = {};
  const modules: unknown[] = [];
  const suspect: boolean[] = [];
  const splitter = new PayloadSplitter({
    field: (name, value) => void (fields[name] = value),
    modules: (entries) => {
      for (const e of entries) {
        modules.push(e.value);
        suspect.push(e.suspectText);
      }
    },
  });
  const bytes = new TextEncoder().encode(text);
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = Math.max(1, cut(i));
    await splitter.push(bytes.subarray(at, at + size));
    at += size;
  }
  splitter.end();
  return { fields, modules, suspect };
}

const tricky = {
  site: { url: "https://x.example/a\"b", name: "Ünïcødé \u{1F600} \\\"", token: "t" },
  drupal_info: { core_version: "10.3.8", php_version: "8.3", ip_address: "::1" },
  modules: [
    { machine_name: "a", display_name: "quote \" and backslash \\", module_type: "core", enabled: true, version: null },
    { machine_name: "b", nested: { deep: [1, [2, { x: "]}," }]] }, enabled: false },
    "a string entry, with ] and } inside",
    42, -1.5e3, true, null, [], {},
    { machine_name: "c", description: "\\\\" },
  ],
  full_sync: true,
  extra: [1, 2, { modules: [9] }],
  n: 12.5,
};

test("agrees with JSON.parse for every chunking", async () => {
  const text = JSON.stringify(tricky, null, 1);
  const expected = JSON.parse(text);
  for (const size of [1, 2, 3, 7, 64, 1_000_000]) {
    const { fields, modules } = await split(text, () => size);
    expect({ ...fields, modules }).toEqual(expected);
  }
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 17) + 1;
  for (let round = 0; round < 50; round++) {
    const { fields, modules } = await split(JSON.stringify(tricky), random);
    expect({ ...fields, modules }).toEqual(JSON.parse(JSON.stringify(tricky)));
  }
});

test("flags entries whose text may hold NUL or unpaired surrogates", async () => {
  const text = '{"modules":[{"a":"x\\u0000"},{"a":"ok"},{"a":"\\ud800"},{"a":"\\u00e9"}]}';
  const { suspect } = await split(text, () => 5);
  expect(suspect).toEqual([true, false, true, false]);
});

test("a modules value that is not an array arrives as a field", async () => {
  const { fields, modules } = await split('{"modules":{"views":1},"site":"s"}', () => 3);
  expect(fields).toEqual({ modules: { views: 1 }, site: "s" });
  expect(modules).toEqual([]);
});

test("refuses what JSON.parse refuses, and duplicate properties", async () => {
  const bad = [
    "", "[]", '"x"', "42", "{", '{"a":1', '{"a" 1}', '{"a":1,}', "{,}", '{"a":1}x', '{"a":1}{}',
    '{"modules":[1,]}', '{"modules":[,1]}', '{"modules":[1 2]}', '{"modules":[{"a":1}', '{"modules":[tru]}',
    '{"a":1,"a":2}', '{"modules":[],"modules":[]}', '{"a":"unterminated}', "{'a':1}", '{"a":01}',
  ];
  for (const text of bad) {
    let error: unknown;
    try {
      await split(text, () => 2);
    } catch (err) {
      error = err;
    }
    expect({ text, refused: error instanceof PayloadSyntaxError }).toEqual({ text, refused: true });
  }
});

test("refuses invalid UTF-8 inside a value", async () => {
  const bytes = new Uint8Array([...new TextEncoder().encode('{"modules":[{"a":"'), 0xff, ...new TextEncoder().encode('"}]}')]);
  const splitter = new PayloadSplitter({ field() {}, modules() {} });
  await expect((async () => {
    await splitter.push(bytes);
    splitter.end();
  })()).rejects.toBeInstanceOf(PayloadSyntaxError);
});
