// Each module entry is checked against ModuleEntryChecked (model.ts), ModuleEntry with its
// enums as literals, which TypeBox compiles inline: it must accept exactly what ModuleEntry does.
import { expect, test } from "bun:test";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { ModuleEntry, ModuleEntryChecked } from "../../src/sync/model";
import { EXTENSION_TYPES, MODULE_TYPES } from "../../src/inventory";

const valid = { machine_name: "views", display_name: "Views", module_type: "core", extension_type: "module", enabled: true, version: "10.3.8", description: null, project: null };

/** Entries valid and not: each field missing, each enum's values and near misses, wrong types. */
function cases(): unknown[] {
  const out: unknown[] = [valid, { ...valid, extra: 1 }, null, 1, "views", [], {}];
  for (const key of Object.keys(valid)) {
    const { [key as keyof typeof valid]: _, ...without } = valid;
    out.push(without);
    for (const value of [null, undefined, 1, true, "", "x", "Core", "core ", [], {}]) out.push({ ...valid, [key]: value });
  }
  for (const value of [...MODULE_TYPES, ...EXTENSION_TYPES]) {
    out.push({ ...valid, module_type: value }, { ...valid, extension_type: value });
  }
  return out;
}

test("ModuleEntryChecked accepts exactly what ModuleEntry accepts", () => {
  const documented = TypeCompiler.Compile(ModuleEntry);
  const checked = TypeCompiler.Compile(ModuleEntryChecked);
  let accepted = 0;
  let refused = 0;
  for (const value of cases()) {
    expect({ value, checked: checked.Check(value) }).toEqual({ value, checked: documented.Check(value) });
    if (documented.Check(value)) accepted++;
    else refused++;
  }
  expect(accepted).toBeGreaterThan(5);
  expect(refused).toBeGreaterThan(20);
});

test("ModuleEntryChecked compiles without calls to the type registry", () => {
  expect(TypeCompiler.Code(ModuleEntry)).toContain("kind(");
  expect(TypeCompiler.Code(ModuleEntryChecked)).not.toContain("kind(");
});
