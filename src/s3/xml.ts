// The S3 API's XML, both ways. Reading uses @rgrove/parse-xml: zero dependencies, ~12 KB, a strict XML 1.0 parser
// that refuses malformed documents and never expands external or custom entities (no XXE, no billion laughs), so a
// hostile or broken endpoint cannot make us misread a listing. fast-xml-parser would do too but is larger and lenient
// by default; a hand-written regex reader would silently accept truncated documents. The few request bodies we send
// (CompleteMultipartUpload, Delete) are written here with escaping.
import { parseXml, XmlElement } from "@rgrove/parse-xml";

export type { XmlElement };

/** The document's root element; throws a plain Error (the caller names the request) when it is not XML. */
export function parseRoot(text: string): XmlElement {
  const document = parseXml(text);
  const root = document.children.find((node): node is XmlElement => node instanceof XmlElement);
  if (!root) throw new Error("the answer holds no XML element");
  return root;
}

export function children(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((node): node is XmlElement => node instanceof XmlElement && node.name === name);
}

export function child(element: XmlElement, name: string): XmlElement | undefined {
  return children(element, name)[0];
}

/** Text of a child element, or undefined when absent. An empty element gives "". */
export function text(element: XmlElement, name: string): string | undefined {
  return child(element, name)?.text;
}

export function requiredText(element: XmlElement, name: string): string {
  const value = text(element, name);
  if (value === undefined) throw new Error(`<${element.name}> has no <${name}>`);
  return value;
}

export function escapeXml(value: string): string {
  return value.replace(/[<>&'"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[c]!);
}

const XMLNS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';

export function completeMultipartXml(parts: Array<{ partNumber: number; etag: string }>): string {
  const body = parts.map((p) => `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>${escapeXml(p.etag)}</ETag></Part>`).join("");
  return `<CompleteMultipartUpload ${XMLNS}>${body}</CompleteMultipartUpload>`;
}

export function deleteObjectsXml(objects: Array<{ key: string; versionId?: string }>, quiet: boolean): string {
  const body = objects
    .map((o) => `<Object><Key>${escapeXml(o.key)}</Key>${o.versionId ? `<VersionId>${escapeXml(o.versionId)}</VersionId>` : ""}</Object>`)
    .join("");
  return `<Delete ${XMLNS}>${quiet ? "<Quiet>true</Quiet>" : ""}${body}</Delete>`;
}
