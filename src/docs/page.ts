// The docs UI: Scalar's API reference, its script served by this server from
// the pinned npm package (no CDN, so it works offline and air-gapped), told to
// load no web fonts and send no telemetry, reading the document from an
// absolute path (a relative one resolves differently from /swagger and /swagger/).
// Not mounted on an element with id "api-reference": the script mounts a
// second, unconfigured reference there by itself (web fonts, AI agent and all).
import { join } from "node:path";

/** The standalone build of the pinned @scalar/api-reference (a dev dependency; the image copies this one file). */
export const SCALAR_SCRIPT = join(import.meta.dir, "..", "..", "node_modules", "@scalar", "api-reference", "dist", "browser", "standalone.js");

export function docsPage({ title, specUrl, scriptUrl }: { title: string; specUrl: string; scriptUrl: string }): string {
  const config = {
    url: specUrl,
    withDefaultFonts: false,
    telemetry: false,
    defaultOpenAllTags: true,
    hideClientButton: true,
    showDeveloperTools: "never",
    agent: { disabled: true },
    mcp: { disabled: true },
  };
  // JSON in a script element: "<" escaped so no value can close the element.
  const json = JSON.stringify(config).replaceAll("<", "\\u003c");
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${escapeHtml(title)}</title>
  </head>
  <body>
    <div id="docs"></div>
    <script src="${escapeHtml(scriptUrl)}"></script>
    <script>Scalar.createApiReference("#docs", ${json});</script>
  </body>
</html>
`;
}

const escapeHtml = (s: string) =>
  s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
