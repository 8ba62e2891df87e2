// One onnxruntime-node session on its own thread (see threaded-ort.ts). Plain JavaScript so it loads in any worker,
// whatever TypeScript loader the parent uses. Messages: { id, feeds } -> { id, outputs } | { id, error }.
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

let session;
try {
  session = await ort.InferenceSession.create(workerData.model, workerData.options);
  parentPort.postMessage({ ready: true, inputNames: session.inputNames, outputNames: session.outputNames });
} catch (e) {
  parentPort.postMessage({ ready: false, error: e instanceof Error ? e.message : String(e) });
}

parentPort.on('message', async (msg) => {
  if (msg.release) {
    await session?.release();
    parentPort.postMessage({ released: true });
    return;
  }
  try {
    const feeds = {};
    for (const [name, t] of Object.entries(msg.feeds)) feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
    const results = await session.run(feeds);
    const outputs = {};
    const transfer = new Set();
    for (const [name, t] of Object.entries(results)) {
      outputs[name] = { type: t.type, data: t.data, dims: t.dims };
      if (ArrayBuffer.isView(t.data)) transfer.add(t.data.buffer);
    }
    try {
      // Outputs are ours alone: hand their buffers over instead of copying them.
      parentPort.postMessage({ id: msg.id, outputs }, [...transfer]);
    } catch {
      parentPort.postMessage({ id: msg.id, outputs });
    }
  } catch (e) {
    parentPort.postMessage({ id: msg.id, error: e instanceof Error ? e.message : String(e) });
  }
});
