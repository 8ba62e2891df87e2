import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawConnection, responseEnd, serializeRequest } from '../src';

const b = (s: string) => Buffer.from(s, 'latin1');

describe("loadtest's raw HTTP/1.1 client", () => {
  it('serializes the request once: request line, host, headers, length, body', () => {
    const bytes = serializeRequest('127.0.0.1', '8080', { path: '/v2/models/m/infer', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array([1, 2, 3]) });
    expect(bytes.toString('latin1')).toBe(
      'POST /v2/models/m/infer HTTP/1.1\r\nhost: 127.0.0.1:8080\r\nconnection: keep-alive\r\ncontent-type: application/octet-stream\r\ncontent-length: 3\r\n\r\n\x01\x02\x03',
    );
    expect(serializeRequest('[::1]', '9', { method: 'GET', path: '/v2/health/live', headers: {}, body: new Uint8Array() }).toString('latin1')).toBe(
      'GET /v2/health/live HTTP/1.1\r\nhost: [::1]:9\r\nconnection: keep-alive\r\n\r\n',
    );
  });

  it('finds the end of Content-Length and chunked responses, and waits while they are incomplete', () => {
    const cl = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello';
    expect(responseEnd(b(cl))).toEqual({ end: cl.length, status: 200, close: false });
    expect(responseEnd(b(cl.slice(0, -1)))).toBeUndefined();
    expect(responseEnd(b('HTTP/1.1 200 OK\r\nContent-Le'))).toBeUndefined();
    // Two responses back to back: the first ends where the second starts.
    expect(responseEnd(b(`${cl}HTTP/1.1 503 x\r\n`))?.end).toBe(cl.length);
    const chunked = 'HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\na\r\n0123456789\r\n0\r\n\r\n';
    expect(responseEnd(b(chunked))).toEqual({ end: chunked.length, status: 503, close: true });
    for (const cut of [chunked.length - 1, chunked.length - 5, chunked.indexOf('0123') + 2]) expect(responseEnd(b(chunked.slice(0, cut)))).toBeUndefined();
    expect(responseEnd(b('HTTP/1.1 204 No Content\r\n\r\n'))).toEqual({ end: 27, status: 204, close: false });
  });

  let server: Server;
  let port = 0;
  const seen: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${body}`);
        if (req.url === '/chunked') {
          res.writeHead(429, { 'content-type': 'text/plain' });
          res.write('slow ');
          res.end('down');
        } else if (req.url === '/close') {
          res.writeHead(200, { connection: 'close', 'content-length': '2' });
          res.end('ok');
        } else {
          res.writeHead(200, { 'content-length': String(body.length) });
          res.end(body);
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('sends the same bytes repeatedly on one keep-alive socket, reconnecting when the server closes', async () => {
    const conn = new RawConnection('127.0.0.1', port);
    const echo = serializeRequest('127.0.0.1', String(port), { path: '/echo', headers: {}, body: new TextEncoder().encode('abc') });
    const chunked = serializeRequest('127.0.0.1', String(port), { path: '/chunked', headers: {}, body: new Uint8Array() });
    const close = serializeRequest('127.0.0.1', String(port), { method: 'GET', path: '/close', headers: {}, body: new Uint8Array() });
    const statuses: number[] = [];
    for (const bytes of [echo, echo, chunked, close, echo]) statuses.push(await conn.send(bytes));
    conn.close();
    expect(statuses).toEqual([200, 200, 429, 200, 200]);
    expect(seen).toEqual(['POST /echo abc', 'POST /echo abc', 'POST /chunked ', 'GET /close ', 'POST /echo abc']);
    // A refused connection is status 0, not a throw.
    const dead = new RawConnection('127.0.0.1', 1);
    expect(await dead.send(echo)).toBe(0);
  });
});
