/** An error meant for the user, with a stable code the transports map to a status. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string = 'bad-request',
  ) {
    super(message);
  }
}
