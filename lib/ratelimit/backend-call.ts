import { BackendError } from '../errors.js';

/**
 * Runs one request to a shared backend (Redis) with a deadline. Whatever goes wrong (an error,
 * a rejected promise, no answer within `timeout` ms, e.g. while ioredis queues commands for a
 * server that is gone) becomes a {@link BackendError}; a late answer after the deadline is
 * dropped, never left as an unhandled rejection.
 *
 * @param what - names the operation in the error message, e.g. `'acquire gateway:0:1'`
 * @param timeout - ms to wait for the answer
 * @param run - starts the request
 * @returns the request's result
 * @throws BackendError when the request fails or times out
 */
export function backendCall<T>(what: string, timeout: number, run: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let request: Promise<T>;
    try {
      request = run();
    } catch (error) {
      reject(toBackendError(what, error));
      return;
    }
    const timer = setTimeout(() => reject(new BackendError(`${what}: no answer from the backend within ${timeout} ms`)), timeout);
    request.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(toBackendError(what, error));
      },
    );
  });
}

function toBackendError(what: string, error: unknown): BackendError {
  if (error instanceof BackendError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new BackendError(`${what}: ${message}`, { cause: error });
}
