import type { Tensor } from '@lepton/tensor-core';
import { encodeStringBytes, tensorBytesView } from '@lepton/contracts';

/**
 * The canonical bytes of the feeds a platform gave onnxruntime, over one or more calls, for the "identical
 * preprocessing" check: per call, per feed in name order, `name NUL dtype NUL dims joined by 'x' NUL` in ASCII
 * followed by the tensor's little-endian bytes (strings: the KServe BYTES layout). Each platform hashes these
 * with its own SHA-256 (node:crypto, WebCrypto) and the report compares the digests.
 * The browser page builds the same layout in apps/web/src/parity-digest.ts (a test checks the two agree).
 */
export function feedsCanonicalBytes(calls: readonly Record<string, Tensor>[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const feeds of calls) {
    for (const name of Object.keys(feeds).sort()) {
      const t = feeds[name]!;
      parts.push(ascii(`${name}\0${t.dtype}\0${t.shape.join('x')}\0`));
      parts.push(t.dtype === 'string' ? encodeStringBytes(t.data as string[]) : tensorBytesView(t));
    }
  }
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// Input names are ONNX identifiers; anything beyond ASCII is written as its UTF-16 code units' low bytes,
// identically on every platform, which is all a digest needs.
function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
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

/**
 * Wrap a predictor so every feed it is given (run or stream step) is copied into `calls`, in call order: the
 * preprocessed bytes a pipeline such as detectSpeech produced on this platform, for the parity digest.
 * Copies, because pipelines may reuse their frame buffers between steps.
 */
export function recordFeeds<P extends PredictorLike>(predictor: P): { predictor: P; calls: Record<string, Tensor>[] } {
  const calls: Record<string, Tensor>[] = [];
  const keep = (feeds: Record<string, Tensor>) => {
    const copy: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) copy[name] = { dtype: t.dtype, shape: [...t.shape], data: t.data.slice() as Tensor['data'] };
    calls.push(copy);
  };
  const wrapped = Object.create(predictor) as P;
  wrapped.run = (feeds) => {
    // The digest is of what the model gets: after the manifest's preprocess steps where there are any (prepare
    // throws what run would, so a bad feed fails here as it would there).
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
