import { connect, type Socket } from 'node:net';
import type { PreparedRequest } from './payload';

/**
 * A minimal HTTP/1.1 keep-alive client for the load generator: the request is serialized once (request line,
 * headers and body in one buffer) and written as is on every send, and the response is read only as far as the
 * status and the body's end (Content-Length or chunked). node:http builds header objects, events and streams per
 * request; on a 2-core machine the generator shares the CPU with the server, so every microsecond it spends per
 * request is taken from the server being measured. One request at a time per connection (no pipelining), so a
 * closed loop of N connections is exactly N requests in flight.
 */
export function serializeRequest(host: string, port: string, req: PreparedRequest): Buffer {
  const method = req.method ?? 'POST';
  const lines = [`${method} ${req.path} HTTP/1.1`, `host: ${host}:${port}`, 'connection: keep-alive'];
  for (const [k, v] of Object.entries(req.headers)) lines.push(`${k}: ${v}`);
  if (method !== 'GET' || req.body.length > 0) lines.push(`content-length: ${req.body.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return Buffer.concat([head, req.body]);
}

const CRLF2 = Buffer.from('\r\n\r\n');

/** Where the response that starts `buf` ends (its byte length), or -1 while it is incomplete. */
export function responseEnd(buf: Buffer): { end: number; status: number; close: boolean } | undefined {
  const headEnd = buf.indexOf(CRLF2);
  if (headEnd < 0) return undefined;
  const head = buf.toString('latin1', 0, headEnd);
  const status = Number(head.slice(9, 12));
  const lower = head.toLowerCase();
  const close = /\r\nconnection:\s*close/.test(lower);
  const bodyStart = headEnd + 4;
  const cl = /\r\ncontent-length:\s*(\d+)/.exec(lower);
  if (cl) {
    const end = bodyStart + Number(cl[1]);
    return buf.length >= end ? { end, status, close } : undefined;
  }
  if (/\r\ntransfer-encoding:[^\r]*chunked/.test(lower)) {
    let o = bodyStart;
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', o);
      if (lineEnd < 0) return undefined;
      const size = parseInt(buf.toString('latin1', o, lineEnd), 16);
      if (!Number.isFinite(size)) return { end: buf.length, status: 0, close: true };
      o = lineEnd + 2 + size + 2;
      if (size === 0) return buf.length >= o ? { end: o, status, close } : undefined;
      if (buf.length < o) return undefined;
    }
  }
  // No length and not chunked: 1xx/204/304 have no body; anything else is read to close, which we treat as end.
  return { end: bodyStart, status, close: close || !(status === 204 || status === 304) };
}

/** One keep-alive connection that sends the same bytes each time and resolves with the status (0 on failure). */
export class RawConnection {
  private socket: Socket | undefined;
  private buf: Buffer = Buffer.alloc(0);
  private waiting: ((status: number) => void) | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  private open(): Socket {
    const s = connect({ host: this.host, port: this.port, noDelay: true });
    s.on('data', (chunk: Buffer) => {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      const r = responseEnd(this.buf);
      if (!r) return;
      this.buf = this.buf.subarray(r.end);
      if (r.close) this.drop();
      this.settle(r.status);
    });
    const fail = () => {
      this.drop();
      this.settle(0);
    };
    s.on('error', fail);
    s.on('close', fail);
    this.socket = s;
    return s;
  }

  private drop(): void {
    const s = this.socket;
    this.socket = undefined;
    this.buf = Buffer.alloc(0);
    s?.removeAllListeners();
    s?.on('error', () => undefined);
    s?.destroy();
  }

  private settle(status: number): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.(status);
  }

  send(bytes: Buffer): Promise<number> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      (this.socket ?? this.open()).write(bytes);
    });
  }

  close(): void {
    this.drop();
  }
}
