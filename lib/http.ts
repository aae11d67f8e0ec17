import http from 'node:http';
import https from 'node:https';
import { HTTPError } from './errors.js';

/**
 * GETs a JSON document with node:http(s). Not the global `fetch`: its internal timers live
 * in the global timer queue, which test suites fake, and one GET per connect does not need it.
 *
 * @throws {@link HTTPError} on a non-2xx status, a network error (status 0) or a timeout
 */
export function getJSON<T>(url: string, headers: Record<string, string>, timeoutMs = 15_000): Promise<T> {
  const target = new URL(url);
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise<T>((resolve, reject) => {
    const request = transport.get(target, { headers: { Accept: 'application/json', ...headers }, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', (err) => reject(new HTTPError(0, url, err.message)));
      response.on('end', () => {
        const status = response.statusCode ?? 0;
        if (status < 200 || status >= 300) return reject(new HTTPError(status, url, `GET ${target.pathname} failed`));
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as T);
        } catch {
          reject(new HTTPError(status, url, `GET ${target.pathname} returned invalid JSON`));
        }
      });
    });
    request.on('timeout', () => request.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    request.on('error', (err) => reject(new HTTPError(0, url, `GET ${target.pathname} failed: ${err.message}`)));
  });
}
