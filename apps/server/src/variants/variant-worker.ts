import { parentPort, workerData } from 'node:worker_threads';
import { isLeptonError } from '@lepton/tensor-core';
import { BuildCancelled, buildVariant, type BuildRequest } from './build-variant';
import type { HostMessage, WorkerMessage } from './worker-host';

/**
 * Worker thread entry: build one variant (worker-host.ts starts it), report progress, send the bytes back, then
 * close the port and end on its own. The host never terminates it: terminating a thread while an
 * onnxruntime-node session runs aborts the whole process, so a stop is a message the build checks between steps.
 */
const port = parentPort!;
let stop = false;
port.on('message', (m: HostMessage) => {
  if (m.type === 'stop') stop = true;
});
const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

try {
  const result = await buildVariant(workerData as BuildRequest, (p) => post({ type: 'progress', ...p }), () => stop);
  // Transfer, not copy: a view of exactly its own buffer moves to the main thread for free.
  const bytes = result.bytes.byteOffset === 0 && result.bytes.byteLength === result.bytes.buffer.byteLength ? result.bytes : result.bytes.slice();
  post({ type: 'done', ...result, bytes }, [bytes.buffer as ArrayBuffer]);
} catch (err) {
  if (err instanceof BuildCancelled) post({ type: 'stopped' });
  else post({ type: 'failed', code: isLeptonError(err) ? err.code : 'INTERNAL', message: err instanceof Error ? err.message : String(err) });
} finally {
  port.close();
}
