// A small XML reader for release-history documents: elements, text, CDATA,
// comments and the XML declaration; nothing else. A DOCTYPE (so any entity
// declaration) is refused, as is every entity but the five predefined ones
// and character references, so a hostile document cannot expand. Work and
// memory are linear in the input, which the caller caps (MAX_XML_BYTES).

export interface XmlElement {
  name: string;
  children: XmlElement[];
  /** The element's own text (CDATA included), child elements' text excluded. */
  text: string;
}

export class XmlError extends Error {}

/** The largest document read: drupal.org's biggest release history (core's) is a few MiB. */
export const MAX_XML_BYTES = 16 * 1024 * 1024;
const MAX_DEPTH = 32;
const MAX_ELEMENTS = 500_000;

/** Attributes per start tag: release histories use one (xmlns:dc); a bound keeps a tag that never ends cheap to refuse. */
const MAX_ATTRIBUTES = 16;

// One token at `lastIndex`: CDATA, comment, declaration/PI, DOCTYPE-like, end tag, start tag, text.
const TOKEN = new RegExp(
  "<!\\[CDATA\\[([\\s\\S]*?)\\]\\]>|<!--[\\s\\S]*?-->|<\\?[\\s\\S]*?\\?>|<!([^>]*)>|<\\/([^\\s<>]+)\\s*>"
    + `|<([^\\s<>/!?]+)((?:\\s+[^\\s=<>/]+\\s*=\\s*(?:"[^"<]*"|'[^'<]*')){0,${MAX_ATTRIBUTES}})\\s*(\\/?)>`
    + "|([^<]+)",
  "y",
);

const PREDEFINED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decodeText(raw: string, at: number): string {
  return raw.replace(/&([^;&\s]{0,10});?/g, (whole, name: string) => {
    if (!whole.endsWith(";")) throw new XmlError(`bare "&" at offset ${at}`);
    if (name in PREDEFINED) return PREDEFINED[name]!;
    const code = /^#x[0-9a-f]{1,6}$/i.test(name) ? parseInt(name.slice(2), 16) : /^#\d{1,7}$/.test(name) ? Number(name.slice(1)) : NaN;
    if (!Number.isInteger(code) || code < 1 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
      throw new XmlError(`unknown entity "&${name};" at offset ${at}`);
    }
    return String.fromCodePoint(code);
  });
}

/** The document's root element; throws XmlError naming what is wrong. */
export function parseXml(source: string): XmlElement {
  if (source.length > MAX_XML_BYTES) throw new XmlError(`document larger than ${MAX_XML_BYTES} bytes`);
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  let elements = 0;
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < source.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(source);
    if (!m) throw new XmlError(`malformed markup at offset ${at}`);
    const [, cdata, declaration, endName, startName, , selfClosing, text] = m;
    const open = stack.at(-1);
    if (cdata !== undefined) {
      if (!open) throw new XmlError(`text outside the root element at offset ${at}`);
      open.text += cdata;
    } else if (declaration !== undefined) {
      throw new XmlError(`declarations (DOCTYPE, ENTITY) are not accepted (offset ${at})`);
    } else if (endName !== undefined) {
      if (!open || open.name !== endName) throw new XmlError(`unexpected </${endName}> at offset ${at}`);
      stack.pop();
    } else if (startName !== undefined) {
      if (root && stack.length === 0) throw new XmlError(`second root element <${startName}> at offset ${at}`);
      if (++elements > MAX_ELEMENTS) throw new XmlError(`more than ${MAX_ELEMENTS} elements`);
      const element: XmlElement = { name: startName, children: [], text: "" };
      if (open) open.children.push(element);
      else root = element;
      if (selfClosing !== "/") {
        if (stack.length >= MAX_DEPTH) throw new XmlError(`elements nested deeper than ${MAX_DEPTH}`);
        stack.push(element);
      }
    } else if (text !== undefined) {
      if (open) open.text += decodeText(text, at);
      else if (text.trim() !== "") throw new XmlError(`text outside the root element at offset ${at}`);
    }
  }
  if (stack.length > 0) throw new XmlError(`<${stack.at(-1)!.name}> is never closed`);
  if (!root) throw new XmlError("no root element");
  return root;
}

/** The first child element named `name`. */
export function child(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => c.name === name);
}

/** The trimmed text of the first child named `name`, or null when there is none. */
export function childText(element: XmlElement, name: string): string | null {
  const found = child(element, name);
  return found ? found.text.trim() : null;
}
