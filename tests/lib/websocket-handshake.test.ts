import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { WebSocketHandshake } from '../../lib/websocket-handshake.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const URL_ = new URL('ws://127.0.0.1:9000/gw?v=10&encoding=json');

/** A handshake and the answer a correct server gives it, followed by `tail`. */
function exchange(tail: Buffer): { handshake: WebSocketHandshake; answer: Buffer; headLength: number } {
  const handshake = new WebSocketHandshake();
  const key = /\r\nSec-WebSocket-Key: (\S+)\r\n/.exec(handshake.request(URL_))![1]!;
  const accept = createHash('sha1').update(key + GUID).digest('base64');
  const head = Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`, 'latin1');
  return { handshake, answer: Buffer.concat([head, tail]), headLength: head.length };
}

describe('WebSocketHandshake', () => {
  test('the request names path, query, host and port, and a fresh 16-byte key', () => {
    const a = new WebSocketHandshake().request(URL_);
    const b = new WebSocketHandshake().request(URL_);
    assert.match(a, /^GET \/gw\?v=10&encoding=json HTTP\/1\.1\r\nHost: 127\.0\.0\.1:9000\r\n/);
    assert.ok(a.endsWith('\r\n\r\n'));
    const key = (text: string): string => /Sec-WebSocket-Key: (\S+)/.exec(text)![1]!;
    assert.equal(Buffer.from(key(a), 'base64').length, 16);
    assert.notEqual(key(a), key(b));
    assert.match(new WebSocketHandshake().request(new URL('wss://gateway.discord.gg/?v=10')), /\r\nHost: gateway\.discord\.gg\r\n/);
  });

  test('an answer split at any byte, its end marker included, gives where the frames start', () => {
    const tail = Buffer.from([0x81, 0x02, 0x68, 0x69]);
    const { answer, headLength } = exchange(tail);
    for (let cut = 1; cut < answer.length; cut++) {
      const { handshake, answer: again } = exchange(tail);
      const first = handshake.read(again, 0, cut);
      if (cut < headLength) {
        assert.equal(first, -1, `cut at ${cut}`);
        assert.equal(handshake.read(again, cut, again.length), headLength, `cut at ${cut}`);
      } else {
        assert.equal(first, headLength, `cut at ${cut}`);
      }
    }
    assert.equal(answer.length - headLength, tail.length);
  });

  test('one byte per read: nothing until the last byte of the head', () => {
    const { handshake, answer, headLength } = exchange(Buffer.alloc(0));
    for (let i = 0; i < headLength - 1; i++) assert.equal(handshake.read(answer, i, i + 1), -1);
    assert.equal(handshake.read(answer, headLength - 1, headLength), headLength);
  });

  test('a header folded over two lines (obs-fold) is read as one', () => {
    const handshake = new WebSocketHandshake();
    const key = /\r\nSec-WebSocket-Key: (\S+)\r\n/.exec(handshake.request(URL_))![1]!;
    const accept = createHash('sha1').update(key + GUID).digest('base64');
    const answer = Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: keep-alive,\r\n\t Upgrade\r\nSec-WebSocket-Accept:\r\n ${accept}\r\n\r\n`, 'latin1');
    assert.equal(handshake.read(answer, 0, answer.length), answer.length);
  });

  test('a refused answer is a sentence, not an offset', () => {
    const handshake = new WebSocketHandshake();
    handshake.request(URL_);
    const answer = Buffer.from('HTTP/1.1 429 Too Many Requests\r\nRetry-After: 5\r\n\r\n');
    assert.equal(handshake.read(answer, 0, answer.length), 'Unexpected server response: 429 Too Many Requests');
  });
});
