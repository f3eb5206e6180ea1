import { expect, test } from "bun:test";
import { NameSet } from "../../src/sync/name-set";

test("finds every repeat and nothing else, across growth", () => {
  const names = new NameSet();
  for (let i = 0; i < 50_000; i++) expect(names.add(`custom_feature_${i}`)).toBe(true);
  for (let i = 0; i < 50_000; i += 7) expect(names.add(`custom_feature_${i}`)).toBe(false);
  expect(names.add("views")).toBe(true);
  expect(names.add("views")).toBe(false);
  expect(names.add("")).toBe(true);
  expect(names.add("")).toBe(false);
});

test("the names held as they are still count once the hashed table takes over (4,096 names), and repeats are found on both sides of it", () => {
  for (const held of [4095, 4096, 4097]) {
    const names = new NameSet();
    for (let i = 0; i < held; i++) expect(names.add(`m${i}`)).toBe(true);
    expect(names.add("m0")).toBe(false);
    expect(names.add(`m${held - 1}`)).toBe(false);
    expect(names.add("extra")).toBe(true);
    for (let i = 0; i < held; i += 97) expect(names.add(`m${i}`)).toBe(false);
    expect(names.add("extra")).toBe(false);
    expect(names.add(`m${held}`)).toBe(true);
  }
});

test("long names are never held as they are, and their repeats are found, before and after the switch", () => {
  const names = new NameSet();
  const long = (i: number) => `${"x".repeat(1000)}${i}`;
  for (let i = 0; i < 10; i++) expect(names.add(long(i))).toBe(true);
  expect(names.add(long(3))).toBe(false);
  for (let i = 0; i < 5000; i++) expect(names.add(`m${i}`)).toBe(true);
  expect(names.add(long(3))).toBe(false);
  expect(names.add(long(10))).toBe(true);
  expect(names.add(long(10))).toBe(false);
  expect(names.add("m1")).toBe(false);
});

test("4,096 names of 60,000 characters each hold no more than a few megabytes", () => {
  Bun.gc(true);
  const before = process.memoryUsage().heapUsed;
  const names = new NameSet();
  // Each a fresh string, as JSON.parse makes them: held, they would be ~235 MB.
  for (let i = 0; i < 4096; i++) names.add(JSON.parse(`"${i}${"y".repeat(60_000)}"`) as string);
  Bun.gc(true);
  expect(process.memoryUsage().heapUsed - before).toBeLessThan(16 * 1024 * 1024);
  expect(names.add(`7${"y".repeat(60_000)}`)).toBe(false);
});
