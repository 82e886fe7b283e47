// Strings from certificates, bundles and tokens (identities, issuers, extension values,
// error details) are chosen by whoever made them. Printed raw, a newline or an ANSI escape
// in a certificate identity could draw a fake "Verified OK" line or repaint the terminal,
// and a bidirectional override could reorder what the reader sees. Every such string the
// CLI prints goes through printable() (text) or printableJson() (machine output).

/** C0 and C1 controls, DEL, line/paragraph separators and every Unicode format character (bidi overrides, zero-width, BOM). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]|\p{Cf}/gu;

/** What JSON.stringify leaves raw (it escapes C0 itself; its own newlines are layout). */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u2028\u2029]|\p{Cf}/gu;

function escapeChar(c: string): string {
  const cp = c.codePointAt(0)!;
  return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16)}}`;
}

/** `s` with every control and format character shown as an escape (`\x1b`, `\x0a`, `\u{202e}`): one visible line. */
export function printable(s: string): string {
  // Printable ASCII, what nearly every path and identity is, needs no Unicode-aware scan.
  return PRINTABLE_ASCII.test(s) ? s : s.replace(UNSAFE, escapeChar);
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * JSON.stringify, with the characters it leaves raw (C1 controls, DEL, U+2028/2029,
 * format characters) written as \u escapes too: the same data, safe on a terminal.
 */
export function printableJson(value: unknown, space?: number): string {
  return JSON.stringify(value, null, space).replace(UNSAFE_IN_JSON, (c) =>
    Array.from({ length: c.length }, (_, i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`).join(''),
  );
}
