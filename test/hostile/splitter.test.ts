// Issue 10, items 2 and 4, at the splitter itself: however a body arrives
// (one chunk of megabytes, or many small ones), the entries in hand at once
// stay bounded, and an entry past 64 KiB is skipped unread. Before, both
// depended on the chunking: a 2 MB chunk of `{}` put 700,000 entries in hand
// at once, and a 1 MB entry that happened to sit inside one chunk was parsed
// whole.
import { expect, test } from "bun:test";
import { MAX_VALUE_CHARS, OVERSIZED_ENTRY, PayloadSplitter } from "../../src/sync/stream";

const encoder = new TextEncoder();

/** Splits `text` pushed in chunks of `chunk` bytes; the entries of each hand-over. */
async function handOvers(text: string, chunk: number) {
  const batches: unknown[][] = [];
  const splitter = new PayloadSplitter({
    field: () => {},
    modules: (entries) => void batches.push(entries.map((e) => e.value)),
  });
  const bytes = encoder.encode(text);
  for (let at = 0; at < bytes.length; at += chunk) await splitter.push(bytes.subarray(at, at + chunk));
  splitter.end();
  return batches;
}

test("one 2 MB chunk of 700,000 `{}` is handed over a slice at a time, never all at once", async () => {
  const text = `{"modules":[${"{},".repeat(699_999)}{}]}`;
  const batches = await handOvers(text, text.length);
  expect(batches.reduce((n, b) => n + b.length, 0)).toBe(700_000);
  // 64 KiB of `{},` is 21,845 entries.
  expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(Math.ceil((64 * 1024) / 3) + 1);
});

test("an entry past 64 KiB is skipped unread whether it arrives in one chunk or in many", async () => {
  const huge = JSON.stringify({ machine_name: "huge", display_name: "d".repeat(MAX_VALUE_CHARS * 4), module_type: "core", enabled: true });
  const text = `{"modules":[{"machine_name":"a"},${huge},{"machine_name":"b"}]}`;
  for (const chunk of [text.length, 64 * 1024, 1000]) {
    const entries = (await handOvers(text, chunk)).flat();
    expect({ chunk, entries }).toEqual({ chunk, entries: [{ machine_name: "a" }, OVERSIZED_ENTRY, { machine_name: "b" }] });
  }
});
