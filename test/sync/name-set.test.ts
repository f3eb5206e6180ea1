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
