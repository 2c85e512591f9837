/**
 * UsageError: an error caused by the caller's options or data (not by a bug or the machine),
 * whose message is meant for the user as is. The CLI prints it and exits with status 2.
 */

/** An error caused by the options or the data, whose message is meant for the user as is. */
export class UsageError extends Error {
  override name = 'UsageError';
}
