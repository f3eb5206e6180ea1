// A fingerprint of the exact request body, stored on the site row when the
// sync left the site holding exactly that body's modules. A later body with
// the same fingerprint therefore changes nothing, and its sync is a single
// conditional UPDATE of the site row, with no look at site_modules at all:
// the common re-sync of an untouched site costs one statement.
//
// wyhash (64-bit, ~1 µs for a 150-module body) rather than SHA-256 (~16 µs):
// a fingerprint is only ever compared with the same site's previous one, and
// only a caller holding that site's own tokens could aim for a collision,
// which would merely make its own update a no-op.

// Which modules a body yields depends on the validation rules too: a body
// whose entry was skipped under old rules may be valid under new ones. The
// rules' version is part of the fingerprint, so changing them (bump
// VALIDATION_RULES_VERSION in validate.ts) makes every stored one stale.
//
// The fingerprint also covers what the site's checks compared the body with:
// its token hash and registered URL. A body that passed them once is answered
// unparsed only while both are unchanged; after a token rotation or a URL
// change the same bytes are checked again in full. And how the caller
// authenticated: a body without site.token that a site token's bearer synced
// is no proof of anything for a person's token, which needs it in the body.
import type { SiteRecord } from "../store/types";
import type { Bearer } from "./service";
import { VALIDATION_RULES_VERSION } from "./validate";

const SCHEME = `wy2.r${VALIDATION_RULES_VERSION}:`;

export function payloadFingerprint(body: Uint8Array, site: Pick<SiteRecord, "tokenHash" | "normalizedUrl">, bearer: Bearer): string {
  const checkedAgainst = Bun.hash.wyhash(`${site.tokenHash}\n${site.normalizedUrl}\n${bearer}`, 0n);
  return SCHEME + Bun.hash.wyhash(body, checkedAgainst).toString(36);
}
