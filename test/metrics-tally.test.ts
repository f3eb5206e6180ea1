// The tallies behind the per-sync counters: plain numbers until a scrape moves them into prom-client.
import { describe, expect, test } from "bun:test";
import { Counter, Registry } from "prom-client";
import { Tally } from "../src/metrics/tally";

describe("Tally", () => {
  test("a scrape sees every count added since the last one, once; a count of 0 still shows its series", async () => {
    const tally = new Tally([{ outcome: "created" }, { outcome: "removed" }, { outcome: "unused" }]);
    const registry = new Registry();
    const counter: Counter<"outcome"> = new Counter({
      name: "t_total", help: "t", labelNames: ["outcome"] as const, registers: [registry],
      collect: (): void => tally.flushInto(counter),
    });
    tally.add(0, 3);
    tally.add(0);
    tally.add(1, 0);
    const first = await registry.metrics();
    expect(first).toContain('t_total{outcome="created"} 4');
    expect(first).toContain('t_total{outcome="removed"} 0');
    expect(first).not.toContain("unused");
    tally.add(0, 2);
    expect(await registry.metrics()).toContain('t_total{outcome="created"} 6');
    expect(await registry.metrics()).toContain('t_total{outcome="created"} 6');
  });
});
