import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedServer } from '../src';
import { pcmWav, startTestServer, tempDataDir } from './helpers';

/**
 * Streaming uploads have no total time limit (an hour of audio takes as long as inference does), so a client that
 * stops sending mid-request would hold its socket forever. LEPTON_IDLE_TIMEOUT_MS closes sockets with no traffic;
 * uploads that keep sending are not affected however long they take.
 */
const IDLE_MS = 700;
let server: StartedServer;

beforeAll(async () => {
  server = await startTestServer(tempDataDir(), { LEPTON_IDLE_TIMEOUT_MS: String(IDLE_MS) });
});
afterAll(async () => {
  await server?.close();
});

function open(): Promise<Socket> {
  return new Promise((ok, fail) => {
    const s = connect(server.port, '127.0.0.1', () => ok(s));
    s.once('error', fail);
  });
}

/** Resolves with what the server sent once it closes the socket. */
function closed(s: Socket): Promise<string> {
  let got = '';
  s.on('data', (c: Buffer) => (got += c.toString('latin1')));
  return new Promise((ok) => s.once('close', () => ok(got)));
}

const header = (length: number) =>
  `POST /api/v1/vad/detect HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: audio/wav\r\nContent-Length: ${length}\r\n\r\n`;

describe('LEPTON_IDLE_TIMEOUT_MS', () => {
  it('closes a connection that stalls mid-body, and keeps serving others meanwhile', async () => {
    const wav = pcmWav(new Uint8Array(32000)); // 1 s of silence
    const s = await open();
    const done = closed(s);
    s.write(header(wav.length));
    s.write(wav.subarray(0, 1000)); // then nothing
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    const got = await done;
    // Closed by the server without an answer for the half-sent upload.
    expect(got).not.toMatch(/^HTTP\/1\.1 200/);
  }, 20_000);

  it('lets an upload that keeps sending run longer than the idle limit', async () => {
    const wav = pcmWav(new Uint8Array(32000 * 3));
    const s = await open();
    let got = '';
    const answered = new Promise<string>((ok) => {
      s.on('data', (c: Buffer) => {
        got += c.toString('latin1');
        if (got.includes('"segments"')) ok(got);
      });
      s.once('close', () => ok(got));
    });
    s.write(header(wav.length));
    // 12 slices, one every IDLE_MS / 2: the upload lasts ~6x the idle limit but is never idle that long.
    const step = Math.ceil(wav.length / 12);
    for (let off = 0; off < wav.length; off += step) {
      s.write(wav.subarray(off, off + step));
      await new Promise((r) => setTimeout(r, IDLE_MS / 2));
    }
    const reply = await answered;
    s.destroy();
    expect(reply).toMatch(/^HTTP\/1\.1 200/);
    const body = JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)) as { chunks: number; segments: unknown[] };
    expect(body.chunks).toBe(Math.ceil((16000 * 3) / 512)); // the last, partial chunk is zero-padded
    expect(body.segments).toEqual([]);
  }, 30_000);
});
