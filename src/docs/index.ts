// Controller: the OpenAPI document at /swagger/json and its UI at /swagger
// (and /swagger/), with the UI's script at /swagger/assets/api-reference.js.
// None of these routes is in the document itself.
import { Elysia } from "elysia";
import { notFound } from "../errors";
import { buildDocument, type Document } from "./document";
import { documentation } from "./documentation";
import { docsPage, SCALAR_SCRIPT } from "./page";

export const DOCS_PATH = "/swagger";
const SPEC_PATH = `${DOCS_PATH}/json`;
const SCRIPT_PATH = `${DOCS_PATH}/assets/api-reference.js`;
const hidden = { detail: { hide: true } };

export function docsRoutes() {
  const page = docsPage({ title: documentation.info.title, specUrl: SPEC_PATH, scriptUrl: SCRIPT_PATH });
  const answerPage = () => new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } });
  let document: Document | undefined;
  const plugin: Elysia = new Elysia({ name: "docs" });
  return plugin
    // Built on first request, once every route of the app is registered.
    .get(SPEC_PATH, () => (document ??= buildDocument(plugin, documentation)), hidden)
    .get(DOCS_PATH, answerPage, hidden)
    .get(`${DOCS_PATH}/`, answerPage, hidden)
    .get(SCRIPT_PATH, async () => {
      const script = Bun.file(SCALAR_SCRIPT);
      if (!(await script.exists())) throw notFound("The docs UI's script is not installed (node_modules/@scalar/api-reference)");
      return new Response(script, { headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=3600" } });
    }, hidden);
}
