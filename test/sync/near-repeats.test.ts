// Which bodies are near repeats of a site's last one, and what their changed
// run is (src/sync/near-repeats.ts). How they are applied, against a full
// parse, is test/sync/near-repeats-api.test.ts.
import { describe, expect, spyOn, test } from "bun:test";
import * as layout from "../../src/sync/body-layout";
import { NearRepeats, type KeptEnvelope } from "../../src/sync/near-repeats";

const SITE = { tokenHash: "hash", normalizedUrl: "https://x.example" };
const ENVELOPE: KeptEnvelope = { siteName: "X", drupalInfo: { coreVersion: "10.3.8", phpVersion: "8.3.2", ipAddress: null }, fullSync: true };
const encode = (text: string) => new TextEncoder().encode(text);

interface Entry { machine_name: string; version: string; enabled: boolean; display_name: string }
const base: Entry[] = Array.from({ length: 12 }, (_, i) => ({ machine_name: `m${i}`, version: "1.0.0", enabled: true, display_name: `Module ${i}` }));

function body(entries: readonly (Entry | string)[], { sep = ",", php = "8.3.2" } = {}): Uint8Array {
  const texts = entries.map((e) => (typeof e === "string" ? e : JSON.stringify(e)));
  return encode(`{"site":{"url":"https://x.example"},"drupal_info":{"php_version":"${php}"},"modules":[${texts.join(sep)}],"full_sync":true}`);
}

const withEntry = (at: number, change: Partial<Entry>, from: readonly Entry[] = base) => from.map((e, i) => (i === at ? { ...e, ...change } : e));
const ids = (n: number) => Uint32Array.from({ length: n }, (_, i) => 100 + i);

/** What a memory keeps of site 1's last body: where its entries start and end, and their hashes. */
function layoutOf(near: NearRepeats) {
  const kept = (near as unknown as { bySite: Map<number, { starts: Int32Array; end: number; hashes: BigUint64Array; length: number }> }).bySite.get(1)!;
  return { starts: [...kept.starts], end: kept.end, hashes: [...kept.hashes], length: kept.length };
}

/** The layout a memory keeps of `bytes` remembered as a whole body. */
function freshLayout(bytes: Uint8Array, count: number) {
  const near = new NearRepeats();
  near.remember(1, SITE, "user", bytes, "fp", ids(count), ENVELOPE);
  return layoutOf(near);
}

/** A memory holding `entries` as site 1's last body (module ids 100, 101, …). */
function remembering(entries: readonly Entry[] = base, bearer = "user"): NearRepeats {
  const near = new NearRepeats();
  near.remember(1, SITE, bearer, body(entries), "fp0", ids(entries.length), ENVELOPE);
  return near;
}

describe("NearRepeats.match", () => {
  test("one entry changed: that entry alone, the rest untouched, the envelope and ids as remembered", () => {
    const next = withEntry(5, { version: "1.0.1" });
    const found = remembering().match(1, SITE, "user", body(next), "fp1");
    expect(found).toMatchObject({ values: [next[5]], first: 5, untouched: 11, assumes: "fp0", envelopeText: null, suspectText: false });
    expect(found!.next.envelope).toEqual(ENVELOPE);
    expect([...found!.moduleIds]).toEqual([105]);
  });

  test("the first, the last, and an entry whose length changes (those after it move)", () => {
    for (const at of [0, 11, 3]) {
      const next = withEntry(at, { version: at === 3 ? "1.0.10-alpha1" : "2.0.0" });
      expect(remembering().match(1, SITE, "user", body(next), "fp1")).toMatchObject({ values: [next[at]], first: at, untouched: 11 });
    }
  });

  test("several changes: the run from the first to the last of them", () => {
    const next = withEntry(8, { enabled: false }, withEntry(2, { display_name: "Renamed" }));
    const found = remembering().match(1, SITE, "user", body(next), "fp1");
    expect(found).toMatchObject({ values: next.slice(2, 9), first: 2, untouched: 5 });
    expect([...found!.moduleIds]).toEqual([102, 103, 104, 105, 106, 107, 108]);
  });

  test("chained: each applied body's layout is the one the next is matched against", () => {
    const near = remembering();
    let entries: Entry[] = base;
    for (const [step, at] of [3, 9, 0, 3, 11].entries()) {
      entries = withEntry(at, { version: `1.${step}.${"9".repeat(step + 1)}` }, entries);
      const found = near.match(1, SITE, "user", body(entries), `fp${step + 1}`);
      expect(found).toMatchObject({ values: [entries[at]], first: at, assumes: `fp${step}` });
      near.applied(1, found!);
    }
  });

  test("an entry written differently but equal, or a separator changed: a run of that one entry", () => {
    const spaced = base.map((e, i) => (i === 4 ? JSON.stringify(e, null, 1) : e));
    expect(remembering().match(1, SITE, "user", body(spaced), "fp1")).toMatchObject({ values: [base[4]], first: 4 });
    const texts = base.map((e) => JSON.stringify(e));
    const separated = encode(new TextDecoder().decode(body(base)).replace(`${texts[6]},`, `${texts[6]} ,\n `));
    expect(remembering().match(1, SITE, "user", separated, "fp1")).toMatchObject({ values: [base[6]], first: 6 });
  });

  test("a run's escapes that may hide NUL or a lone surrogate are flagged", () => {
    const next = base.map((e, i) => (i === 7 ? JSON.stringify(e).replace("Module 7", "M\\u0000") : e));
    expect(remembering().match(1, SITE, "user", body(next), "fp1")).toMatchObject({ first: 7, suspectText: true });
  });

  test("an entry's segment met before, byte for byte, in any site's body: the value parsed then; another separator, parsed anew", () => {
    const near = remembering();
    near.remember(2, SITE, "user", body(base), "fp0", ids(12), ENVELOPE);
    const next = withEntry(5, { version: "1.0.1" });
    const first = near.match(1, SITE, "user", body(next), "fp1")!;
    const again = near.match(2, SITE, "user", body(next), "fp1")!;
    expect(again.values[0]).toBe(first.values[0]);
    expect(again.next.hashes).toEqual(first.next.hashes);
    const texts = next.map((e) => JSON.stringify(e));
    const spaced = encode(new TextDecoder().decode(body(next)).replace(`${texts[5]},`, `${texts[5]} ,`));
    const other = near.match(2, SITE, "user", spaced, "fp2")!;
    expect(other.values[0]).not.toBe(first.values[0]);
    expect(other.values).toEqual([next[5]]);
  });

  test("the same entry at the end of one body and within another: each segment as it is, parsed apart", () => {
    // Site 2 lists m11 fifth: the same entry text, followed there by a separator.
    const reordered = base.map((e, i) => (i === 4 ? base[11]! : i === 11 ? base[4]! : e));
    const near = remembering();
    near.remember(2, SITE, "user", body(reordered), "fp0", ids(12), ENVELOPE);
    const atEnd = near.match(1, SITE, "user", body(withEntry(11, { version: "3.0.0" })), "fp1")!;
    const within = near.match(2, SITE, "user", body(withEntry(4, { version: "3.0.0" }, reordered)), "fp1")!;
    expect(within).toMatchObject({ first: 4, values: atEnd.values });
    expect(within.values[0]).not.toBe(atEnd.values[0]);
    // Met again where each was: the value parsed then.
    expect(near.match(2, SITE, "user", body(withEntry(4, { version: "3.0.0" }, reordered)), "fp1")!.values[0]).toBe(within.values[0]);
  });

  test("a release: a run of entries met before in another site's body, each as long as the one it replaces or all grown alike", () => {
    for (const version of ["1.0.1", "1.0.10", "1.1"]) {
      const near = remembering();
      near.remember(2, SITE, "user", body(base), "fp0", ids(12), ENVELOPE);
      const released = base.map((e, i) => (i >= 2 && i <= 9 ? { ...e, version } : e));
      const bytes = body(released);
      const first = near.match(2, SITE, "user", bytes, "fp1")!;
      // Met again: each entry where its segment was guessed, but the first when the versions' length changed.
      const walked = spyOn(layout, "containerEnd");
      const again = near.match(1, SITE, "user", bytes, "fp1")!;
      const walks = walked.mock.calls.length;
      walked.mockRestore();
      expect(walks).toBe(version.length === 5 ? 0 : 1);
      expect(again).toMatchObject({ first: 2, values: released.slice(2, 10), untouched: 4 });
      again.values.forEach((value, i) => expect(value).toBe(first.values[i]));
      near.applied(1, again);
      expect(layoutOf(near)).toEqual(freshLayout(bytes, 12));
    }
  });

  test("an entry met before as the last of a body, glued to the next one where a separator is due: not a near repeat", () => {
    // Site 2 sends X, m5 one byte longer, as its last entry: X's segment is X alone.
    const x = { ...base[5]!, version: "1.0.10" };
    const near = remembering();
    near.remember(2, SITE, "user", body(base), "fp0", ids(12), ENVELOPE);
    expect(near.match(2, SITE, "user", body(withEntry(11, x)), "fp1")).toMatchObject({ first: 11, values: [x] });
    // Site 1 sends X where m5 was (its segment, with its comma, as long as X), glued to a changed m6.
    const texts = base.map((e) => JSON.stringify(e));
    const glued = `{"site":{"url":"https://x.example"},"drupal_info":{"php_version":"8.3.2"},"modules":[${texts.slice(0, 5).join(",")},${JSON.stringify(x)}${JSON.stringify({ ...base[6]!, version: "1.0.2" })},${texts.slice(7).join(",")}],"full_sync":true}`;
    expect(() => JSON.parse(glued)).toThrow();
    expect(near.match(1, SITE, "user", encode(glued), "fp1")).toBeNull();
  });

  test("an entry met before with its separator, last before the text after the entries: a trailing comma, not a near repeat", () => {
    // Site 2 lists m11 fifth and sends m11' there: its segment is m11' and a comma.
    const reordered = base.map((e, i) => (i === 4 ? base[11]! : i === 11 ? base[4]! : e));
    const changed = { ...base[11]!, version: "3.0.0" };
    const near = remembering();
    near.remember(2, SITE, "user", body(reordered), "fp0", ids(12), ENVELOPE);
    expect(near.match(2, SITE, "user", body(withEntry(4, changed, reordered)), "fp1")).toMatchObject({ first: 4, values: [changed] });
    // Site 1 sends m11' last, followed by that comma.
    const texts = base.map((e) => JSON.stringify(e));
    const trailing = `{"site":{"url":"https://x.example"},"drupal_info":{"php_version":"8.3.2"},"modules":[${texts.slice(0, 11).join(",")},${JSON.stringify(changed)},],"full_sync":true}`;
    expect(() => JSON.parse(trailing)).toThrow();
    expect(near.match(1, SITE, "user", encode(trailing), "fp1")).toBeNull();
  });

  test("the layout kept after a near repeat is the one the body itself would get, whatever changed", () => {
    const cases: [Entry[], { php?: string; sep?: string }][] = [
      [withEntry(5, { version: "1.0.10" }), {}],
      [withEntry(0, { version: "2" }), { php: "8.4.10" }],
      [withEntry(11, { enabled: false }), {}],
      [base, { php: "8.4.0" }],
      [withEntry(7, { display_name: "Renamed" }, withEntry(2, { version: "1.1" })), {}],
    ];
    for (const [entries, options] of cases) {
      const near = remembering();
      const bytes = body(entries, options);
      const found = near.match(1, SITE, "user", bytes, "fp1")!;
      near.applied(1, found);
      expect(layoutOf(near)).toEqual(freshLayout(bytes, 12));
    }
    // The envelope alone changed, then one entry: a run of that entry alone.
    const near = remembering();
    near.applied(1, near.match(1, SITE, "user", body(base, { php: "8.4.0" }), "fp1")!);
    const next = withEntry(11, { version: "1.0.1" });
    expect(near.match(1, SITE, "user", body(next, { php: "8.4.0" }), "fp2")).toMatchObject({ values: [next[11]], first: 11 });
  });

  test("entries moved: a run whose values name other modules than the ids it must have (the service refuses it)", () => {
    const found = remembering().match(1, SITE, "user", body([...base.slice(0, 3), base[4]!, base[3]!, ...base.slice(5)]), "fp1");
    expect((found!.values as Entry[]).map((v) => v.machine_name)).toEqual(["m4", "m3"]);
    expect([...found!.moduleIds]).toEqual([103, 104]);
  });

  test("the envelope changed: its text to be checked again (the body without entries), and the entries' run, if any", () => {
    const envelopeOnly = remembering().match(1, SITE, "user", body(base, { php: "8.4.0" }), "fp1");
    expect(envelopeOnly).toMatchObject({ values: [], untouched: 12, first: 12 });
    expect(JSON.parse(envelopeOnly!.envelopeText!)).toEqual({ site: { url: "https://x.example" }, drupal_info: { php_version: "8.4.0" }, modules: [], full_sync: true });
    // A release: a longer envelope, and the first entries changed; those after them move.
    const near = remembering();
    let entries = base.map((e, i) => (i < 4 ? { ...e, version: "10.4.10" } : e));
    const release = near.match(1, SITE, "user", body(entries, { php: "8.4.10" }), "fp1");
    expect(release).toMatchObject({ values: entries.slice(0, 4), first: 0, untouched: 8 });
    expect(JSON.parse(release!.envelopeText!).drupal_info).toEqual({ php_version: "8.4.10" });
    near.applied(1, release!);
    // Then one entry after them, the envelope as it now is.
    entries = withEntry(9, { version: "2.0.0" }, entries);
    expect(near.match(1, SITE, "user", body(entries, { php: "8.4.10" }), "fp2")).toMatchObject({ values: [entries[9]], first: 9, envelopeText: null });
    expect(near.match(1, SITE, "user", body(entries, { php: "8.4.1" }), "fp2")).toMatchObject({ values: [entries[9]], first: 9 });
  });

  test("not near repeats: the text after the entries changed, entries added or removed, no change, invalid text", () => {
    const near = remembering();
    const none = (bytes: Uint8Array) => expect(near.match(1, SITE, "user", bytes, "fp1")).toBeNull();
    none(encode(new TextDecoder().decode(body(base)).replace('"full_sync":true', '"full_sync":false')));
    // Another `modules` before the entries: not the array remembered.
    none(encode(new TextDecoder().decode(body(base)).replace('{"site"', '{"modules":[{"a":1}],"site"')));
    none(body([...base.slice(0, 6), { ...base[0]!, machine_name: "added" }, ...base.slice(6)]));
    none(body([...base.slice(0, 6), ...base.slice(7)]));
    none(body(base.slice(0, 11)));
    none(body(base));
    none(body(base, { sep: ", " }).subarray(0, 100));
    none(body(base.map((e, i) => (i === 5 ? JSON.stringify(e).replace('"version"', '"version') : e))));
    none(body(base.map((e, i) => (i === 5 ? `${JSON.stringify(e)},{}` : e))));
    none(body(base.map((e, i) => (i === 5 ? "7" : e))));
    const bad = body(withEntry(5, { display_name: "Module Ω" }));
    bad[bad.indexOf(0xa9)] = 0xff; // Ω's second byte: no longer UTF-8
    none(bad);
  });

  test("only for the site, the token, URL and kind of bearer it was remembered with", () => {
    const near = remembering();
    const next = body(withEntry(5, { version: "1.0.1" }));
    expect(near.match(2, SITE, "user", next, "fp1")).toBeNull();
    expect(near.match(1, SITE, "site", next, "fp1")).toBeNull();
    expect(near.match(1, { ...SITE, tokenHash: "rotated" }, "user", next, "fp1")).toBeNull();
    expect(near.match(1, { ...SITE, normalizedUrl: "https://y.example" }, "user", next, "fp1")).toBeNull();
    expect(near.match(1, SITE, "user", next, "fp1")).not.toBeNull();
    near.forget(1);
    expect(near.match(1, SITE, "user", next, "fp1")).toBeNull();
  });

  test("a body that cannot be laid out is not remembered, and forgets the last", () => {
    const near = remembering();
    near.remember(1, SITE, "user", encode(`{"modules":[{"a":1}],"modules":[{"b":2}]}`), "fp1", ids(1), ENVELOPE);
    expect(near.match(1, SITE, "user", body(withEntry(5, { version: "1.0.1" })), "fp2")).toBeNull();
    expect(near.size).toBe(0);
  });

  test("memory is bounded: past it, the least recently remembered sites go", () => {
    const near = new NearRepeats(3 * (12 * 16 + 400));
    for (let site = 1; site <= 10; site++) near.remember(site, SITE, "user", body(base), `fp${site}`, ids(12), ENVELOPE);
    expect(near.size).toBeLessThanOrEqual(3 * (12 * 16 + 400));
    const next = body(withEntry(5, { version: "1.0.1" }));
    expect(near.match(10, SITE, "user", next, "x")).not.toBeNull();
    expect(near.match(1, SITE, "user", next, "x")).toBeNull();
  });
});

describe("NearRepeats.match against JSON.parse, on bodies broken at random", () => {
  /** A fixed sequence (mulberry32): the same cases every run. */
  function random(seed: number) {
    return () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const PIECES = ["{", "}", "[", "]", ",", ":", '"', "\\", " ", "\n", "a", "1", "é", '"modules":', '{"machine_name":"x"}', ","];

  type Edit = { at: number; piece: string; kind: number };
  const apply = (text: string, { at, piece, kind }: Edit) =>
    kind < 0.4 ? text.slice(0, at) + piece + text.slice(at) : kind < 0.7 ? text.slice(0, at) + text.slice(at + 1) : text.slice(0, at) + piece + text.slice(at + 1);

  // With one memory for all rounds, each round's edits are drawn from a few made up front: the
  // entries they break meet again in later rounds, beside other edits, and are not parsed again.
  test.each([["its own memory", false], ["one memory for all rounds", true]])("whatever it takes for a near repeat parses, in full, to the last body with the run in place (%s)", (_, shared) => {
    const text = new TextDecoder().decode(body(base));
    const last = JSON.parse(text) as Record<string, unknown> & { modules: unknown[] };
    const next = random(shared ? 12 : 11);
    const edit = (length: number): Edit => ({ at: Math.floor(next() * length), piece: PIECES[Math.floor(next() * PIECES.length)]!, kind: next() });
    const pool = Array.from({ length: 40 }, () => edit(text.length));
    const memory = new NearRepeats();
    const seenValues = new Set<unknown>();
    let found = 0;
    let metAgain = 0;
    for (let round = 0; round < 3000; round++) {
      let mutated = text;
      const edits = 1 + Math.floor(next() * 3);
      if (shared) {
        // Distinct edits of the pool, from the end of the text back: each lands where it was made.
        const picked = [...new Set(Array.from({ length: edits }, () => pool[Math.floor(next() * pool.length)]!))];
        for (const e of picked.sort((a, b) => b.at - a.at)) mutated = apply(mutated, e);
      } else for (let n = 0; n < edits; n++) mutated = apply(mutated, edit(mutated.length));
      const near = shared ? memory : new NearRepeats();
      near.remember(1, SITE, "user", body(base), "fp0", ids(base.length), ENVELOPE);
      const nearRepeat = near.match(1, SITE, "user", encode(mutated), "fp1");
      if (nearRepeat === null) continue;
      for (const value of nearRepeat.values) {
        if (seenValues.has(value)) metAgain++;
        seenValues.add(value);
      }
      // A changed envelope is parsed and checked by the caller (SyncService.applyNear), which refuses it unless valid.
      let envelopeOnly: unknown = null;
      try {
        envelopeOnly = nearRepeat.envelopeText === null ? null : JSON.parse(nearRepeat.envelopeText);
      } catch {
        continue;
      }
      found++;
      // The layout kept for the next body is the one this body would get remembered whole.
      near.applied(1, nearRepeat);
      expect(layoutOf(near)).toEqual(freshLayout(encode(mutated), base.length));
      const parsed = JSON.parse(mutated) as Record<string, unknown> & { modules: unknown[] };
      const expected = [...last.modules];
      expected.splice(nearRepeat.first, nearRepeat.values.length, ...nearRepeat.values);
      expect(parsed.modules).toEqual(expected);
      const { modules: _m, ...envelope } = parsed;
      if (nearRepeat.envelopeText === null) expect(JSON.parse(text)).toEqual({ ...envelope, modules: last.modules });
      else expect(envelopeOnly).toEqual({ ...envelope, modules: [] });
    }
    // Some of the edits land inside entries' strings, and so make near repeats to check.
    expect(found).toBeGreaterThan(shared ? 30 : 100);
    if (shared) expect(metAgain).toBeGreaterThan(100);
    else expect(metAgain).toBe(0);
  });
});
