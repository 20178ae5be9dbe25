/**
 * A terminal table that fits a width: a flexible first column of names (cut with an ellipsis)
 * and fixed columns of figures, right-aligned. When the width is short, the columns that
 * matter least are dropped whole rather than every cell squeezed into nonsense.
 */
import { align, displayWidth, seg, type Line, type Segment } from './cells.js';

/** A column of figures. */
export interface GridColumn {
  /** A label on the row above the heads, right-aligned to the column's end (may reach left into an unlabelled neighbour). */
  readonly top?: string;
  readonly head: string;
  readonly width: number;
  readonly align: 'left' | 'right';
  /** One per row. */
  readonly cells: readonly Segment[];
  /** Dropped when the width is short, highest first; never when absent. */
  readonly drop?: number;
}

/** The whole table. */
export interface Grid {
  readonly head: string;
  /** The first column: one name per row, already escaped. */
  readonly names: readonly Segment[];
  /** The first column is never narrower than this (or its longest name, when shorter). */
  readonly minName: number;
  readonly columns: readonly GridColumn[];
  /** How many of the last rows are a footer (a total) set off by a rule. */
  readonly footer?: number;
  /** Lines shown under a row (a note such as the most common error), by row index. */
  readonly notes?: ReadonlyMap<number, Line>;
  /** Leading spaces of every line. */
  readonly indent?: number;
}

const SEP = ' ';
const NAME_SEP = '  ';

/** Lays a grid out in at most `width` columns (lines may still be cut when even the minimum does not fit). */
export function grid(spec: Grid, width: number): Line[] {
  const indent = ' '.repeat(spec.indent ?? 0);
  const want = Math.max(displayWidth(spec.head), ...spec.names.map((n) => displayWidth(n.text)));
  const minName = Math.min(want, spec.minName);
  let columns = [...spec.columns];
  const fixed = (): number => indent.length + NAME_SEP.length + columns.reduce((sum, c) => sum + c.width + SEP.length, 0) - SEP.length;
  while (fixed() + minName > width) {
    const droppable = columns.filter((c) => c.drop !== undefined);
    if (droppable.length === 0) break;
    const victim = droppable.reduce((a, b) => ((b.drop ?? 0) > (a.drop ?? 0) ? b : a));
    columns = columns.filter((c) => c !== victim);
  }
  const nameWidth = Math.max(minName, Math.min(want, width - fixed()));
  const total = fixed() + nameWidth;

  const lines: Line[] = [];
  if (columns.some((c) => c.top !== undefined)) {
    const top = Array.from({ length: total }, () => ' ');
    let end = indent.length + nameWidth + NAME_SEP.length;
    for (const c of columns) {
      end += c.width;
      if (c.top !== undefined) {
        const start = Math.max(0, end - c.top.length);
        for (let i = 0; i < c.top.length && start + i < total; i++) top[start + i] = c.top[i]!;
      }
      end += SEP.length;
    }
    lines.push([seg(top.join(''), 'dim')]);
  }
  lines.push([
    seg(indent),
    seg(align(spec.head, nameWidth, 'left'), 'dim'),
    seg(NAME_SEP),
    ...columns.flatMap((c, i) => [seg(i === 0 ? '' : SEP), seg(align(c.head, c.width, c.align), 'dim')]),
  ]);
  const footerFrom = spec.names.length - (spec.footer ?? 0);
  spec.names.forEach((name, row) => {
    if (row === footerFrom) lines.push([seg(indent), seg('─'.repeat(total - indent.length), 'dim')]);
    const line: Segment[] = [seg(indent), seg(align(name.text, nameWidth, 'left'), name.style), seg(NAME_SEP)];
    columns.forEach((c, i) => {
      const cell = c.cells[row] ?? seg('');
      line.push(seg(i === 0 ? '' : SEP), seg(align(cell.text, c.width, c.align), cell.style));
    });
    lines.push(line);
    const note = spec.notes?.get(row);
    if (note) lines.push(note);
  });
  return lines;
}
