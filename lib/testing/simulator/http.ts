/**
 * The simulator's slice of Discord's HTTP API: `GET /gateway` and `GET /gateway/bot`
 * (protocol §1.1), with Discord's error bodies.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayBotInfo, APIGatewayInfo } from 'discord-api-types/v10';

/** Path prefix of the simulated REST API. */
export const API_PREFIX = '/api/v10';

/** What the routes need from the simulator. */
export interface HttpContext {
  /** The gateway URL to hand out. */
  readonly gatewayURL: string;
  /** Whether a bot token is valid. */
  validToken(token: string): boolean;
  /** The current `/gateway/bot` answer. */
  gatewayBot(): APIGatewayBotInfo;
}

interface Reply {
  status: number;
  body: unknown;
}

const UNAUTHORIZED: Reply = { status: 401, body: { message: '401: Unauthorized', code: 0 } };
const NOT_FOUND: Reply = { status: 404, body: { message: '404: Not Found', code: 0 } };
const METHOD_NOT_ALLOWED: Reply = { status: 405, body: { message: '405: Method Not Allowed', code: 0 } };

/** Bot token from `Authorization: Bot <token>`, or null. */
function botToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  return header?.startsWith('Bot ') ? header.slice(4) : null;
}

const ROUTES: Readonly<Record<string, (ctx: HttpContext, req: IncomingMessage) => Reply>> = {
  '/gateway': (ctx) => ({ status: 200, body: { url: ctx.gatewayURL } satisfies APIGatewayInfo }),
  '/gateway/bot': (ctx, req) => {
    const token = botToken(req);
    return token !== null && ctx.validToken(token) ? { status: 200, body: ctx.gatewayBot() } : UNAUTHORIZED;
  },
};

/** Answers one HTTP request. */
export function handleHttp(ctx: HttpContext, req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname.replace(/\/+$/, '');
  const route = path.startsWith(API_PREFIX) ? ROUTES[path.slice(API_PREFIX.length)] : undefined;
  const reply = !route ? NOT_FOUND : req.method !== 'GET' ? METHOD_NOT_ALLOWED : route(ctx, req);
  const body = JSON.stringify(reply.body);
  res.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
