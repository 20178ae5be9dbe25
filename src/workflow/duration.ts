/**
 * Durations as workflows write them: `90s`, `15m`, `48h`, `7d`, `1h30m`, `250ms`.
 */

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const PART = /(\d+)(ms|s|m|h|d|w)/y;

export type DurationResult = { readonly ok: true; readonly ms: number } | { readonly ok: false; readonly message: string };

/** Parses a duration string into milliseconds, or says in words what is wrong with it. */
export function parseDuration(text: string): DurationResult {
  const s = text.trim();
  if (s === '') return { ok: false, message: 'empty duration; write e.g. 30s, 15m, 48h or 7d' };
  if (/^\d+(\.\d+)?$/.test(s)) return { ok: false, message: `duration \`${text}\` has no unit; write e.g. \`${s}s\` or \`${s}m\`` };
  let ms = 0;
  let at = 0;
  PART.lastIndex = 0;
  while (at < s.length) {
    PART.lastIndex = at;
    const m = PART.exec(s);
    if (!m) {
      return { ok: false, message: `invalid duration \`${text}\`; write a number and a unit (ms, s, m, h, d, w), e.g. 90s, 15m, 48h, 1h30m` };
    }
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
    at = PART.lastIndex;
  }
  if (!Number.isSafeInteger(ms)) return { ok: false, message: `duration \`${text}\` is too large` };
  return { ok: true, ms };
}
