import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import type { AppRouter } from '@lepton/api';
import { loadConfig, startServer, type StartedServer } from '../src';

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'lepton-server-test-'));
}

/**
 * A real server on an ephemeral port over a real SQLite file in `dataDir`. Variant builds are off unless a test
 * turns them on (LEPTON_BUILD_VARIANTS: '1'), so background jobs never change the records other tests look at.
 */
export function startTestServer(dataDir: string, env: Record<string, string> = {}): Promise<StartedServer> {
  return startServer(loadConfig({ PORT: '0', LEPTON_DATA_DIR: dataDir, LEPTON_LOG_LEVEL: 'silent', LEPTON_BUILD_VARIANTS: '0', ...env }));
}

export function trpcClient(url: string) {
  return createTRPCClient<AppRouter>({ links: [httpLink({ url: `${url}/trpc` })] });
}

/** The Lepton error of a failed tRPC call: { httpStatus, code, message }. */
export async function trpcFailure(p: Promise<unknown>): Promise<{ httpStatus: number; code: string; message: string }> {
  const err = await p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
  if (!(err instanceof TRPCClientError)) throw err;
  const data = (err as TRPCClientError<AppRouter>).data!;
  return { httpStatus: data.httpStatus, code: data.lepton.code, message: data.lepton.message };
}

/** A canonical 44-byte-header PCM WAV around `data` (for hand-made edge cases such as 0 samples). */
export function pcmWav(data: Uint8Array, opts: { rate?: number; channels?: number; bits?: number } = {}): Buffer {
  const rate = opts.rate ?? 16000;
  const channels = opts.channels ?? 1;
  const bits = opts.bits ?? 16;
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE((rate * channels * bits) / 8, 28);
  h.writeUInt16LE((channels * bits) / 8, 32);
  h.writeUInt16LE(bits, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}
