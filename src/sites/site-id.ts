// Site ids are positive 32-bit integers (both dialects' id columns).
const SITE_ID = /^[1-9]\d{0,9}$/;
const MAX_SITE_ID = 2 ** 31 - 1;

/** A path's (or cursor's) site id, or null when it cannot name a site. */
export function parseSiteId(raw: string): number | null {
  if (!SITE_ID.test(raw)) return null;
  const id = Number(raw);
  return id <= MAX_SITE_ID ? id : null;
}
