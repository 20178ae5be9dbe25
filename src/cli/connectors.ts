/**
 * `flux connectors [NAME [OPERATION]]`: the connectors flux knows, one connector's
 * operations, or one operation's fields with an example step; `--markdown` prints the
 * reference that docs/connectors.md holds.
 */
import { closest, connectorSpecs } from '../connectors/index.js';
import { connectorText, listText, operationText, referenceMarkdown } from '../connectors/reference.js';
import { escapeControl } from '../text/escape.js';
import { ExitCode, type Io } from './io.js';

export function connectorsCommand(name: string | undefined, operation: string | undefined, options: { markdown?: boolean }, io: Io): number {
  if (options.markdown) {
    if (name !== undefined) return usage(io, '--markdown prints the whole reference; give no connector name with it');
    io.stdout.write(referenceMarkdown());
    return ExitCode.ok;
  }
  if (name === undefined) {
    io.stdout.write(listText());
    return ExitCode.ok;
  }
  const spec = Object.hasOwn(connectorSpecs, name) ? connectorSpecs[name] : undefined;
  if (!spec) {
    const guess = closest(name, Object.keys(connectorSpecs));
    return usage(io, `unknown connector \`${escapeControl(name)}\`${guess ? `; did you mean \`${guess}\`?` : ''} (flux connectors lists them)`);
  }
  if (operation === undefined) {
    io.stdout.write(connectorText(spec));
    return ExitCode.ok;
  }
  const op = Object.hasOwn(spec.operations, operation) ? spec.operations[operation] : spec.standalone && operation === spec.name ? spec.standalone : undefined;
  if (!op) {
    const guess = closest(operation, Object.keys(spec.operations));
    return usage(io, `connector \`${spec.name}\` has no operation \`${escapeControl(operation)}\`${guess ? `; did you mean \`${guess}\`?` : `; it has ${Object.keys(spec.operations).map((o) => `\`${o}\``).join(', ')}`}`);
  }
  io.stdout.write(operationText(spec, operation, op));
  return ExitCode.ok;
}

function usage(io: Io, message: string): number {
  io.stderr.write(`flux: ${message}\n`);
  return ExitCode.usage;
}
