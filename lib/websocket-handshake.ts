import { createHash, randomBytes } from 'node:crypto';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const HEAD_END = '\r\n\r\n';
/** An answer whose head runs past this fails the connection: a gateway's 101 is a few hundred bytes. */
export const MAX_HANDSHAKE_ANSWER_BYTES = 16 * 1024;

/**
 * The client side of one RFC 6455 opening handshake, written as plain HTTP/1.1 on the socket
 * so that the socket can read into a caller's buffer from its first byte (Node's `onread`,
 * which its HTTP client cannot use).
 *
 * @internal Used by `GatewayWebSocket`; not part of the public API.
 */
export class WebSocketHandshake {
  private readonly key = randomBytes(16).toString('base64');
  /** The answer so far, one character per byte (latin1). */
  private head = '';

  /** The upgrade request for `url`: path and query as given, no extension, no subprotocol. */
  request(url: URL): string {
    return (
      `GET ${url.pathname}${url.search} HTTP/1.1\r\n` +
      `Host: ${url.host}\r\n` +
      'Connection: Upgrade\r\n' +
      'Upgrade: websocket\r\n' +
      `Sec-WebSocket-Key: ${this.key}\r\n` +
      'Sec-WebSocket-Version: 13\r\n\r\n'
    );
  }

  /**
   * Takes one read of the answer, `buf[start..end)`.
   *
   * @returns where the WebSocket stream starts in `buf` once the head is complete and valid,
   *   -1 while more of the head is needed, or a string saying why the answer is refused
   */
  read(buf: Buffer, start: number, end: number): number | string {
    const before = this.head.length;
    this.head += buf.toString('latin1', start, end);
    // The end marker may straddle two reads.
    const at = this.head.indexOf(HEAD_END, Math.max(0, before - 3));
    if (at < 0) {
      return this.head.length > MAX_HANDSHAKE_ANSWER_BYTES ? `Handshake answer over ${MAX_HANDSHAKE_ANSWER_BYTES} bytes without its end` : -1;
    }
    const problem = answerProblem(this.head.slice(0, at), this.key);
    this.head = '';
    return problem ?? start + (at + HEAD_END.length - before);
  }
}

/** What is wrong with an answer's head (status line and header lines), if anything. */
function answerProblem(head: string, key: string): string | undefined {
  const lines = head.split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0]!);
  if (status === null) return `Not an HTTP answer to the handshake: ${JSON.stringify(lines[0]!.slice(0, 80))}`;
  if (status[1] !== '101') return `Unexpected server response: ${status[1]} ${status[2] ?? ''}`.trimEnd();
  const headers = new Map<string, string>();
  let last = '';
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    // A line starting with a space or tab continues the previous header (RFC 9112 §5.2 obs-fold).
    if ((line.startsWith(' ') || line.startsWith('\t')) && last !== '') {
      headers.set(last, `${headers.get(last)!} ${line.trim()}`.trim());
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return `Malformed header line in the handshake answer: ${JSON.stringify(line.slice(0, 80))}`;
    last = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const earlier = headers.get(last);
    headers.set(last, earlier === undefined ? value : `${earlier}, ${value}`);
  }
  if (headers.get('upgrade')?.toLowerCase() !== 'websocket') return 'Invalid Upgrade header in the handshake answer';
  if (!/(?:^|,)\s*upgrade\s*(?:,|$)/i.test(headers.get('connection') ?? '')) return 'Invalid Connection header in the handshake answer';
  const expected = createHash('sha1').update(key + GUID).digest('base64');
  if (headers.get('sec-websocket-accept') !== expected) return 'Invalid Sec-WebSocket-Accept header in the handshake answer';
  if (headers.has('sec-websocket-extensions')) return 'The server chose an extension that was not offered';
  if (headers.has('sec-websocket-protocol')) return 'The server chose a subprotocol that was not offered';
  return undefined;
}
