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
