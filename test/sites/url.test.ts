import { expect, test } from "bun:test";
import { normalizeSiteUrl } from "../../src/sites/url";

test("scheme and host case, default port and trailing slash do not matter", () => {
  const canonical = normalizeSiteUrl("https://example.com/drupal");
  for (const url of ["HTTPS://EXAMPLE.com/drupal/", "https://example.com:443/drupal", "https://example.com/drupal//", " https://example.com/drupal "]) {
    expect(normalizeSiteUrl(url)).toBe(canonical);
  }
  expect(normalizeSiteUrl("http://example.com:80/")).toBe("http://example.com");
});

test("path case, scheme, port and query do matter", () => {
  const canonical = normalizeSiteUrl("https://example.com/drupal");
  for (const url of ["https://example.com/Drupal", "http://example.com/drupal", "https://example.com:8443/drupal", "https://example.com/drupal?x=1"]) {
    expect(normalizeSiteUrl(url)).not.toBe(canonical);
  }
});

test("non-http(s), credentials, relative and overlong URLs are refused", () => {
  for (const url of ["ftp://example.com", "javascript:alert(1)", "https://user:pw@example.com", "/relative", "example.com", "", `https://e.com/${"a".repeat(2100)}`]) {
    expect(normalizeSiteUrl(url)).toBeNull();
  }
});
