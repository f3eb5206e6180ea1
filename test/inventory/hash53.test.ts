// hash53 stands for text in stored rows (site_modules.details_hash,
// site_project_updates.values_hash): it must stay the value those rows were
// written with, the low 53 bits of wyhash, and a safe integer.
import { expect, test } from "bun:test";
import { hash53 } from "../../src/inventory";

test("hash53 is the low 53 bits of wyhash, a safe integer, for 2,000 texts", () => {
  for (let i = 0; i < 2000; i++) {
    const text = `${"é✓\0x".repeat(i % 7)}${i}${"y".repeat(i % 97)}`;
    const hash = hash53(text);
    expect(hash).toBe(Number(BigInt.asUintN(53, Bun.hash.wyhash(text))));
    expect(Number.isSafeInteger(hash) && hash >= 0).toBe(true);
  }
});
