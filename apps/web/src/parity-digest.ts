import type { Tensor } from '@lepton/tensor-core';
import { encodeStringBytes, tensorBytesView } from '@lepton/contracts';

// The browser's copy of @lepton/api's feedsCanonicalBytes/recordFeeds (the page imports only types from the
// api package, so no server code reaches the bundle); parity-digest.test.ts checks both give the same bytes.

/** Per call, per feed in name order: `name NUL dtype NUL dims-joined-by-x NUL` + little-endian bytes. */
export function feedsCanonicalBytes(calls: readonly Record<string, Tensor>[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const feeds of calls) {
    for (const name of Object.keys(feeds).sort()) {
      const t = feeds[name]!;
      const head = `${name}\0${t.dtype}\0${t.shape.join('x')}\0`;
      parts.push(Uint8Array.from(head, (c) => c.charCodeAt(0) & 0xff));
      parts.push(t.dtype === 'string' ? encodeStringBytes(t.data as string[]) : tensorBytesView(t));
    }
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

interface StreamLike {
  step(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>>;
  reset(): void;
}
interface PredictorLike {
  run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>>;
  /** The feeds after the manifest's tensor preprocess steps, as the model gets them (a Predictor has it). */
  prepare?(feeds: Record<string, Tensor>): Record<string, Tensor>;
  openStream(): StreamLike;
}

/** A predictor that copies every feed it is given into `calls` (pipelines reuse frame buffers). */
export function recordFeeds<P extends PredictorLike>(predictor: P): { predictor: P; calls: Record<string, Tensor>[] } {
  const calls: Record<string, Tensor>[] = [];
  const keep = (feeds: Record<string, Tensor>) => {
    const copy: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) copy[name] = { dtype: t.dtype, shape: [...t.shape], data: t.data.slice() as Tensor['data'] };
    calls.push(copy);
  };
  const wrapped = Object.create(predictor) as P;
  wrapped.run = (feeds) => {
    // What the model gets: after the manifest's preprocess steps (as libs/api recordFeeds records on the server).
    try {
      keep(predictor.prepare ? predictor.prepare(feeds) : feeds);
    } catch (err) {
      return Promise.reject(err);
    }
    return predictor.run(feeds);
  };
  wrapped.openStream = () => {
    const stream = predictor.openStream();
    return {
      step: (feeds) => {
        keep(feeds);
        return stream.step(feeds);
      },
      reset: () => stream.reset(),
    };
  };
  return { predictor: wrapped, calls };
}
