/**
 * Secret masking. Every resolved secret value, and every credential derived from one (a basic
 * auth header, an OAuth access token), is replaced by `***` wherever flux writes: terminal,
 * run log, error messages, dry-run output. Each value is masked in the forms it takes on the
 * way out: as is, URL-encoded (both %20 and + for spaces), JSON-escaped, and base64.
 */

export const MASK = '***';

/** Shorter secret values cannot be masked without garbling ordinary text, so runs refuse them. */
export const MIN_SECRET_LENGTH = 4;

export class Masker {
  private readonly values = new Set<string>();
  private pattern: RegExp | undefined;

  /** Adds a secret value (and its encoded forms). Values shorter than 3 characters are masked as is only. */
  add(value: string): void {
    if (value === '') return;
    const forms = [value];
    if (value.length >= 3) {
      forms.push(encodeURIComponent(value), encodeURIComponent(value).replace(/%20/g, '+'), new URLSearchParams({ v: value }).toString().slice(2));
      // As the WHATWG URL parser writes it into a query string or a path (it leaves @ / + & = alone).
      forms.push(new URL(`http://x/?${value}`).search.slice(1), new URL(`http://x/${value.replace(/[?#]/g, encodeURIComponent)}`).pathname.slice(1));
      forms.push(JSON.stringify(value).slice(1, -1));
      forms.push(Buffer.from(value).toString('base64'), Buffer.from(value).toString('base64').replace(/=+$/, ''));
      forms.push(JSON.stringify(JSON.stringify(value).slice(1, -1)).slice(1, -1));
    }
    let changed = false;
    for (const f of forms) {
      if (f !== '' && !this.values.has(f)) {
        this.values.add(f);
        changed = true;
      }
    }
    if (changed) this.pattern = undefined;
  }

  /** True when there is nothing to mask. */
  get empty(): boolean {
    return this.values.size === 0;
  }

  /** Masks a string. */
  mask(text: string): string {
    if (this.values.size === 0 || text === '') return text;
    if (!this.pattern) {
      // Longest first, so a secret's encoded form is not half-masked by a shorter one.
      const sorted = [...this.values].sort((a, b) => b.length - a.length).map(escapeRegExp);
      this.pattern = new RegExp(sorted.join('|'), 'g');
    }
    return text.replace(this.pattern, MASK);
  }

  /**
   * Masks every string inside a JSON value; returns a new value. Keys are masked too with
   * `keys: true`, for data from outside (a response body, an event), never for flux's own
   * records, whose keys must stay readable.
   */
  maskValue<T>(value: T, options: { keys?: boolean } = {}): T {
    if (this.values.size === 0) return value;
    return this.walk(value, options.keys === true) as T;
  }

  private walk(value: unknown, keys: boolean): unknown {
    if (typeof value === 'string') return this.mask(value);
    if (Array.isArray(value)) return value.map((v) => this.walk(v, keys));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[keys ? this.mask(k) : k] = this.walk(v, keys);
      return out;
    }
    return value;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
