/** The state database could not be opened, or is not one this flux can use. */
export class StoreOpenError extends Error {
  override readonly name = 'StoreOpenError';
  constructor(readonly path: string, reason: string) {
    super(`cannot open the state database ${path}: ${reason}`);
  }
}
