// A site's projects as update statuses judge them: core modules are the
// drupal project at the site's core version (the statuses thread reads only
// whether the site holds one), contrib modules their project, custom none.
import { expect, test } from "bun:test";
import { installedProjects, type InstalledModule } from "../../src/releases";

const contrib = (machineName: string, version: string | null, project: string | null = null): InstalledModule =>
  ({ machineName, moduleType: "contrib", version, project });
const byName = (projects: { project: string; version: string | null }[]) =>
  [...projects].sort((a, b) => a.project.localeCompare(b.project));

test("core is the drupal project at the core version, whether its modules are given or only said to be there", () => {
  const node: InstalledModule = { machineName: "node", moduleType: "core", version: "10.3.8", project: null };
  expect(installedProjects("10.3.8", [node])).toEqual([{ project: "drupal", version: "10.3.8" }]);
  expect(installedProjects(null, [node])).toEqual([{ project: "drupal", version: null }]);
  expect(installedProjects(null, [], true)).toEqual([{ project: "drupal", version: null }]);
  expect(installedProjects("10.3.8", [], false)).toEqual([{ project: "drupal", version: "10.3.8" }]);
  expect(installedProjects(null, [contrib("token", "8.x-1.9")], false)).toEqual([{ project: "token", version: "8.x-1.9" }]);
});

test("contrib modules are their project, once, at the version of the module named after it; custom modules and unusable names are none", () => {
  const mine: InstalledModule = { machineName: "mine", moduleType: "custom", version: "1.0.0", project: null };
  expect(byName(installedProjects(null, [
    contrib("webform_ui", "6.2.0", "webform"), contrib("webform", "6.2.1", "webform"), contrib("webform_node", "6.2.0", "webform"),
    contrib("token", null), contrib("Bad-Name", "1.0.0"), mine,
  ]))).toEqual([{ project: "token", version: null }, { project: "webform", version: "6.2.1" }]);
});

test("without a module named after the project that has a version, the first by machine name with one says it, in whatever order rows come", () => {
  const modules = [contrib("webform", null, "webform"), contrib("webform_ui", "6.2.0", "webform"), contrib("webform_node", "6.2.1", "webform"),
    contrib("tools_b", "2.0.0", "tools"), contrib("tools_a", "1.0.0", "tools")];
  const expected = [{ project: "tools", version: "1.0.0" }, { project: "webform", version: "6.2.1" }];
  expect(byName(installedProjects(null, modules))).toEqual(expected);
  expect(byName(installedProjects(null, [...modules].reverse()))).toEqual(expected);
});
