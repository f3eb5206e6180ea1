// The memory of parsed entries (src/sync/parsed-entries.ts) is bounded by
// entries and by text, and starts over when full.
import { expect, test } from "bun:test";
import { ParsedEntries } from "../../src/sync/parsed-entries";

const entry = (n: number) => ({ value: { n }, suspectText: false, length: 7 });

test("past its number of entries it starts over, the new one kept", () => {
  const parsed = new ParsedEntries(3, 1_000);
  for (let n = 1; n <= 3; n++) parsed.remember(BigInt(n), entry(n), 10);
  expect(parsed.size).toBe(3);
  expect(parsed.get(2n)?.value).toEqual({ n: 2 });
  parsed.remember(4n, entry(4), 10);
  expect(parsed.size).toBe(1);
  expect(parsed.get(2n)).toBeUndefined();
  expect(parsed.get(4n)?.value).toEqual({ n: 4 });
});

test("past its text size it starts over; an entry larger than one may be is not kept", () => {
  const parsed = new ParsedEntries(100, 100, 70);
  parsed.remember(1n, entry(1), 60);
  parsed.remember(2n, entry(2), 30);
  expect(parsed.size).toBe(2);
  parsed.remember(3n, entry(3), 20);
  expect([parsed.get(1n), parsed.get(3n)?.value]).toEqual([undefined, { n: 3 }]);
  parsed.remember(4n, entry(4), 71);
  expect(parsed.get(4n)).toBeUndefined();
  expect(parsed.get(3n)?.value).toEqual({ n: 3 });
});
