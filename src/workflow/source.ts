/**
 * Loading a workflow file: reading it safely (size, encoding, binary), parsing the YAML once
 * while keeping every node's position, and answering "where in the file is this value?".
 * Everything downstream (schema errors, lint rules, `flux run`) asks this module for positions.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node, type Pair } from 'yaml';
import type { Diagnostic, Position } from '../lint/diagnostic.js';

/** Largest workflow file flux reads; real workflows are a few kilobytes. */
export const MAX_FILE_BYTES = 1024 * 1024;
/** Deepest nesting of flow collections or indentation accepted, far beyond any real workflow. */
export const MAX_NESTING = 500;
/** Aliases allowed when a document is expanded; keeps "billion laughs" documents from exhausting memory. */
export const MAX_ALIAS_COUNT = 100;

export type PathSegment = string | number;
export type Path = readonly PathSegment[];

/** A parsed workflow file: its text, its YAML document with positions, and its plain value. */
export interface SourceFile {
  readonly file: string;
  readonly text: string;
  readonly doc: Document.Parsed;
  readonly value: Record<string, unknown>;
  /** 1-based line and column of a 0-based character offset. */
  position(offset: number): { line: number; column: number };
  /** The span of the value at `path` (or of its key, when `key` is set), falling back to the nearest ancestor. */
  locate(path: Path, options?: { key?: boolean }): Position;
  /** The YAML node at `path`, if there is one. */
  node(path: Path): Node | undefined;
}

export type LoadResult =
  | { readonly ok: true; readonly source: SourceFile }
  | {
    readonly ok: false;
    readonly diagnostics: Diagnostic[];
    /** Why the file could not be read at all (missing, permission denied, not a regular file); absent when it was read. */
    readonly unreadable?: string;
    /** The file's text when it was read and decoded, for the excerpts under its problems. */
    readonly text?: string;
  };

/** Reads and parses a workflow file. I/O errors are returned as diagnostics with rule id `io`. */
export async function loadFile(path: string, file: string = path): Promise<LoadResult> {
  const read = readLimited(path);
  if (read instanceof Uint8Array) return parseSource(file, read);
  if (read.tooLarge) return fail(file, 'file-size', read.reason);
  return { ok: false, diagnostics: [{ file, line: 1, column: 1, severity: 'error', ruleId: 'io', message: `cannot read file: ${read.reason}` }], unreadable: read.reason };
}

// Opening a FIFO for reading blocks until a writer appears, and a device such as /dev/zero
// never ends: only regular files are opened, and without blocking, in case the path was
// swapped for something else between the stat and the open.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/**
 * Reads a file of at most MAX_FILE_BYTES. Synchronous on purpose: workflow files are small and
 * many, and one stat/open/fstat/read/close beats the promise round trips by a wide margin.
 * Returns the bytes, or why they cannot be read.
 */
function readLimited(path: string): Buffer | { readonly reason: string; readonly tooLarge?: true } {
  let fd: number | undefined;
  try {
    const before = statSync(path);
    const kind = notRegular(before);
    if (kind !== undefined) return { reason: kind };
    fd = openSync(path, OPEN_FLAGS);
    const info = fstatSync(fd);
    const now = notRegular(info);
    if (now !== undefined) return { reason: now };
    if (info.size > MAX_FILE_BYTES) return { reason: `file is ${info.size} bytes; workflow files are limited to ${MAX_FILE_BYTES} bytes`, tooLarge: true };
    const buffer = Buffer.allocUnsafe(info.size);
    let at = 0;
    while (at < info.size) {
      const n = readSync(fd, buffer, at, info.size - at, at);
      if (n === 0) break;
      at += n;
    }
    return buffer.subarray(0, at);
  } catch (error) {
    return { reason: describeIoError(error) };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Why a file of this kind is not read, or undefined for a regular file. */
function notRegular(info: Stats): string | undefined {
  if (info.isFile()) return undefined;
  if (info.isDirectory()) return 'it is a directory, not a workflow file';
  const kind = info.isFIFO() ? 'a FIFO' : info.isSocket() ? 'a socket' : info.isCharacterDevice() ? 'a character device'
    : info.isBlockDevice() ? 'a block device' : 'an unknown kind of file';
  return `not a regular file (${kind}); workflows are read from regular files only`;
}

/** Parses workflow text (or raw bytes) that is already in memory. */
export function parseSource(file: string, input: string | Uint8Array): LoadResult {
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    if (input.length > MAX_FILE_BYTES) {
      return fail(file, 'file-size', `file is ${input.length} bytes; workflow files are limited to ${MAX_FILE_BYTES} bytes`);
    }
    const nul = input.indexOf(0);
    if (nul !== -1) return fail(file, 'encoding', `file looks binary (a NUL byte at offset ${nul}); workflow files are UTF-8 YAML text`);
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      const at = firstInvalidUtf8(input);
      const before = Buffer.from(input.subarray(0, at)).toString('utf8');
      const line = before.split('\n').length;
      const column = before.length - before.lastIndexOf('\n');
      return fail(file, 'encoding', `file is not valid UTF-8 (invalid byte 0x${(input[at] ?? 0).toString(16)} at offset ${at})`, line, column);
    }
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const result = parseText(file, text);
  // A syntax error or a duplicate key has a place in the text worth showing under it; a
  // problem with the file as a whole stands at 1:1 with no span, and line 1 would mislead.
  if (result.ok || !result.diagnostics.some((d) => d.endLine !== undefined || d.line !== 1 || d.column !== 1)) return result;
  return { ...result, text };
}

function parseText(file: string, text: string): LoadResult {
  if (text.trim() === '') return fail(file, 'empty-file', 'file is empty; a workflow needs at least name, owner, trigger and steps');

  const tooDeep = findExcessiveNesting(text);
  if (tooDeep !== undefined) {
    const before = text.slice(0, tooDeep);
    const line = before.split('\n').length;
    return fail(file, 'yaml', `the document nests more than ${MAX_NESTING} levels deep; workflows are far shallower`, line, tooDeep - before.lastIndexOf('\n'));
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  const position = (offset: number) => {
    const p = lineCounter.linePos(Math.max(0, Math.min(offset, text.length)));
    return { line: p.line, column: p.col };
  };
  if (doc.contents === null && doc.errors.length === 0) {
    return fail(file, 'empty-file', 'file holds only comments; a workflow needs at least name, owner, trigger and steps');
  }
  const diagnostics: Diagnostic[] = [];
  const multiple = doc.errors.find((e) => e.code === 'MULTIPLE_DOCS');
  if (multiple) {
    const at = position(multiple.pos[0]);
    return { ok: false, diagnostics: [{ file, ...at, severity: 'error', ruleId: 'yaml', message: 'file holds more than one YAML document; put each workflow in its own file' }] };
  }
  // A syntax error throws the parser off for the rest of the file: report the first one only,
  // plus every duplicate key (each of those is its own cause).
  const firstSyntax = doc.errors.find((e) => e.code !== 'DUPLICATE_KEY');
  for (const error of doc.errors) {
    if (error.code !== 'DUPLICATE_KEY' && error !== firstSyntax) continue;
    const [from, to] = error.code === 'DUPLICATE_KEY' ? keySpan(text, error.pos[0], error.pos[1]) : error.pos;
    const start = position(from);
    const end = position(to);
    const line = text.split('\n', start.line)[start.line - 1] ?? '';
    const hint = error.code !== 'DUPLICATE_KEY' && line.includes('${{') && /: /.test(line.slice(line.indexOf('${{')))
      ? '; an expression that contains `: ` must be quoted, e.g. "${{ a ? b : c }}"'
      : '';
    const first = error.code === 'DUPLICATE_KEY' ? firstDefinition(doc, from) : undefined;
    const message = first
      ? `duplicate key \`${first.key}\`; each key may appear once in a mapping (first defined at ${position(first.offset).line}:${position(first.offset).column})`
      : yamlMessage(error.code, error.message) + hint;
    diagnostics.push({ file, ...start, endLine: end.line, endColumn: end.column, severity: 'error', ruleId: 'yaml', message });
  }
  if (diagnostics.length > 0) return { ok: false, diagnostics };

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    const message = error instanceof Error && /alias/i.test(error.message)
      ? `too many alias expansions (more than ${MAX_ALIAS_COUNT}); the document looks like an alias bomb`
      : `cannot read YAML: ${error instanceof Error ? error.message : String(error)}`;
    return fail(file, 'yaml', message);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const kind = value === null ? 'empty' : Array.isArray(value) ? 'a list' : `a ${typeof value}`;
    const at = doc.contents?.range ? position(doc.contents.range[0]) : { line: 1, column: 1 };
    return fail(file, 'yaml', `the top level is ${kind}; a workflow file must be a mapping with name, owner, trigger and steps`, at.line, at.column);
  }

  const node = (path: Path): Node | undefined => nodeAt(doc.contents as Node | null, path);
  const locate = (path: Path, options: { key?: boolean } = {}): Position => {
    for (let depth = path.length; depth >= 0; depth--) {
      const sub = path.slice(0, depth);
      const useKey = options.key === true && depth === path.length;
      const target = useKey ? keyNodeAt(doc.contents as Node | null, sub) : nodeAt(doc.contents as Node | null, sub);
      if (target?.range) {
        const start = position(target.range[0]);
        const end = position(target.range[1]);
        return { ...start, endLine: end.line, endColumn: end.column };
      }
    }
    return { line: 1, column: 1 };
  };
  return { ok: true, source: { file, text, doc, value: value as Record<string, unknown>, position, locate, node } };
}

function nodeAt(root: Node | null, path: Path): Node | undefined {
  let current: unknown = root;
  for (const segment of path) {
    if (isMap(current)) {
      const pair = findPair(current.items as Pair[], segment);
      current = pair?.value ?? undefined;
    } else if (isSeq(current) && typeof segment === 'number') {
      current = current.items[segment];
    } else {
      return undefined;
    }
    if (current === undefined || current === null) return undefined;
  }
  return current as Node;
}

function keyNodeAt(root: Node | null, path: Path): Node | undefined {
  if (path.length === 0) return undefined;
  const parent = nodeAt(root, path.slice(0, -1));
  if (!isMap(parent)) return nodeAt(root, path);
  const pair = findPair(parent.items as Pair[], path[path.length - 1]!);
  return (pair?.key as Node | undefined) ?? undefined;
}

function findPair(items: Pair[], segment: PathSegment): Pair | undefined {
  for (const item of items) {
    if (!isPair(item)) continue;
    const key = isScalar(item.key) ? item.key.value : item.key;
    if (key === segment || String(key) === String(segment)) return item;
  }
  return undefined;
}

/**
 * The span of a duplicate key. The parser reports it from where the pair's properties start,
 * which after a key with an empty value (`a:` then `a: 1`) is the end of the line before, or
 * a blank or comment line: move on to the key itself.
 */
function keySpan(text: string, from: number, to: number): [number, number] {
  let at = from;
  while (at < text.length) {
    const c = text[at]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === ',') at++;
    else if (c === '#') {
      const eol = text.indexOf('\n', at);
      at = eol === -1 ? text.length : eol;
    } else break;
  }
  if (at >= text.length) return [from, Math.max(from, to)];
  const key = /^(?:"(?:[^"\\\n]|\\.)*"|'(?:[^'\n]|'')*'|[^\n,{}[\]]*?(?=\s*:(?:\s|$)|[\n,{}[\]]|$))/.exec(text.slice(at, at + 1024));
  return [at, at + Math.max(1, key?.[0].length ?? 1)];
}

/** For the key at `offset`, its text and where the same key first stands in that mapping. */
function firstDefinition(doc: Document.Parsed, offset: number): { key: string; offset: number } | undefined {
  let found: { key: string; offset: number } | undefined;
  visit(doc, {
    Map(_, map) {
      const pairs = map.items.filter((p): p is Pair => isPair(p) && isScalar(p.key));
      const at = pairs.findIndex((p) => (p.key as Node).range?.[0] === offset);
      if (at === -1) return undefined;
      const value = (pairs[at]!.key as { value: unknown }).value;
      const earlier = pairs.slice(0, at).find((p) => (p.key as { value: unknown }).value === value);
      const start = (earlier?.key as Node | undefined)?.range?.[0];
      const key = String(value);
      if (start !== undefined) found = { key: key.length > 60 ? `${key.slice(0, 59)}…` : key, offset: start };
      return visit.BREAK;
    },
  });
  return found;
}

function yamlMessage(code: string, message: string): string {
  const first = message.split('\n')[0] ?? message;
  const cleaned = first.replace(/ at line \d+, column \d+:?$/, '');
  if (/call stack/i.test(first)) return 'the document nests too deeply to read';
  if (code === 'DUPLICATE_KEY') return `duplicate key: ${cleaned.replace(/^Map keys must be unique.*$/, 'each key may appear once in a mapping')}`;
  return `invalid YAML: ${cleaned.charAt(0).toLowerCase()}${cleaned.slice(1)}`;
}

function fail(file: string, ruleId: string, message: string, line = 1, column = 1): LoadResult {
  return { ok: false, diagnostics: [{ file, line, column, severity: 'error', ruleId, message }] };
}

/**
 * Finds where flow collections (`[`, `{`) or indentation nest deeper than MAX_NESTING, before
 * the parser recurses into them; returns the offset, or undefined when the text is fine.
 */
function findExcessiveNesting(text: string): number | undefined {
  let depth = 0;
  let quote: string | null = null;
  let lineStart = true;
  let indent = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') {
      lineStart = true;
      indent = 0;
      if (quote === "'" || quote === '"') continue;
      continue;
    }
    if (lineStart) {
      if (c === ' ' || c === '-') {
        indent++;
        if (indent > MAX_NESTING * 2) return i;
        continue;
      }
      lineStart = false;
    }
    if (quote !== null) {
      if (quote === '"' && c === '\\') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end - 1;
    } else if (c === '"' || c === "'") {
      // A quote opens a scalar only at the start of a value; elsewhere it is literal text.
      const prev = text.slice(Math.max(0, i - 2), i);
      if (/(^|[\s,[{:])$/.test(prev.slice(-1)) || prev === '') quote = c;
    } else if (c === '[' || c === '{') {
      if (++depth > MAX_NESTING) return i;
    } else if ((c === ']' || c === '}') && depth > 0) {
      depth--;
    }
  }
  return undefined;
}

function firstInvalidUtf8(bytes: Uint8Array): number {
  // Decode growing prefixes by lead byte; good enough to point at the first bad sequence.
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const len = b < 0x80 ? 1 : b >> 5 === 6 ? 2 : b >> 4 === 14 ? 3 : b >> 3 === 30 ? 4 : 0;
    if (len === 0) return i;
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(i, i + len));
    } catch {
      return i;
    }
    i += len;
  }
  return 0;
}

/** Turns a Node fs error into words without a stack (and without the path, which the caller names). */
export function describeIoError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT': return 'no such file';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EISDIR': return 'it is a directory, not a workflow file';
    case 'ELOOP': return 'symlink loop (ELOOP): the link resolves back to itself';
    case 'ENOTDIR': return 'a part of the path is not a directory';
    case 'ENAMETOOLONG': return 'the path is too long';
    case 'EMFILE': case 'ENFILE': return 'too many open files';
    default: break;
  }
  const message = error instanceof Error ? error.message : String(error);
  // Node's messages read "EIO: i/o error, open '/the/path'": keep the code and the words.
  return message.replace(/, \w+ '.*'$/s, '');
}
