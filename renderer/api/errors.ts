/** An error returned by the backend (any transport) or a contract violation seen by the renderer. */
export class ApiCallError extends Error {
  constructor(
    readonly method: string,
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ApiCallError';
  }
}

export function errorText(e: unknown): string {
  if (e instanceof ApiCallError) return e.code ? `${e.message} (${e.code})` : e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
