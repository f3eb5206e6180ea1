import { payload } from "./test/support/payload";
const text = JSON.stringify(payload(150));
const bytes = new TextEncoder().encode(text);
console.log("bytes", bytes.length);
const dec = new TextDecoder("utf-8", { fatal: true });
const N = 20000;
function time(name: string, f: () => unknown) { for (let i = 0; i < 2000; i++) f(); const t = performance.now(); for (let i = 0; i < N; i++) f(); console.log(name, ((performance.now() - t) * 1000 / N).toFixed(1), "µs"); }
for (let r = 0; r < 2; r++) {
time("decode", () => dec.decode(bytes));
time("decode+parse", () => JSON.parse(dec.decode(bytes)));
time("parse(text)", () => JSON.parse(text));
time("Buffer toString+parse", () => JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8")));
time("Response.json", () => new Response(bytes).json());
time("Bun.JSONL?", () => 0);
}
const r0 = performance.now(); for (let i = 0; i < 5000; i++) await new Response(bytes).json(); console.log("await Response.json", ((performance.now()-r0)*1000/5000).toFixed(1));
