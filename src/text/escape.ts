/**
 * Making outside text safe to show. A string that came from outside flux (a server's error
 * body, an event field, a YAML key, a file name) may hold bytes a terminal obeys: ESC
 * sequences that retitle the window or clear the screen, a carriage return that overwrites a
 * line, bidirectional overrides that reorder what is read. Every such string is passed through
 * `escapeControl` before it is printed, so it shows as text and is never executed.
 */

// C0 controls, DEL, C1 controls (0x9B is a one-byte CSI on some terminals), and the Unicode
// bidirectional embedding, override and isolate characters.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_KEEP_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\u001b': '\\e' };

function escapeOne(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Escapes control characters as visible text (`\e`, `\n`, `\x07`, `\u202e`). With
 * `keepLines`, newlines and tabs stay as they are (for multi-line text shown as a block).
 */
export function escapeControl(text: string, options: { keepLines?: boolean } = {}): string {
  const pattern = options.keepLines ? CONTROL_KEEP_LINES : CONTROL;
  pattern.lastIndex = 0;
  return pattern.test(text) ? text.replace(pattern, escapeOne) : text;
}
