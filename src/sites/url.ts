// Two spellings of one site URL must compare equal: scheme and host case, the
// default port and a trailing slash do not make a different site.

/** The canonical form of an http(s) site URL, or null when it is not one. */
export function normalizeSiteUrl(raw: string): string | null {
  if (raw.length > 2048) return null;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  if (url.username || url.password || url.hostname === "") return null;
  // WHATWG URL already lower-cases scheme and host and drops the default port.
  const path = url.pathname.replace(/\/+$/, "");
  return `${url.protocol}//${url.host}${path}${url.search}`;
}
