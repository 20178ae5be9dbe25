/**
 * Connector specs: what a connector is called, which operations it offers, and the typed
 * parameters each takes. One spec drives `flux lint` of `with:` blocks, the docs and the runtime.
 */

export type FieldType = 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array' | 'any';

export interface FieldSpec {
  readonly type: FieldType | readonly FieldType[];
  readonly description: string;
  readonly required?: boolean;
  readonly enum?: readonly string[];
  readonly default?: unknown;
  readonly example?: unknown;
}

export interface OperationSpec {
  readonly summary: string;
  readonly fields: Readonly<Record<string, FieldSpec>>;
  /** Sets of fields of which at most one may be given (e.g. json, form, body). */
  readonly exclusive?: ReadonlyArray<readonly string[]>;
  /** What `steps.<id>.output` holds after the call. */
  readonly output: string;
}

export interface ConnectorSpec {
  readonly name: string;
  readonly summary: string;
  /** The operation run by `uses: <name>` on its own, without a connection. */
  readonly standalone?: OperationSpec;
  /** Operations run by `uses: <connection>.<operation>` on a connection of this type. */
  readonly operations: Readonly<Record<string, OperationSpec>>;
}
