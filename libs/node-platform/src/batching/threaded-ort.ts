import { Worker } from 'node:worker_threads';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';
import type { OrtModule } from '@lepton/runtime';
import { ortNode } from '../ort-node';

interface WireOrtTensor {
  type: OrtTensor.Type;
  data: OrtTensor['data'];
  dims: readonly number[];
}

type Reply = { id: number; outputs?: Record<string, WireOrtTensor>; error?: string };

/**
 * An onnxruntime session that runs on a worker thread. onnxruntime-node runs `session.run` synchronously on the
 * JavaScript thread (inside a setImmediate), so several sessions on the main thread take turns on one core; each
 * of these owns a thread, so a pool of them uses every core while the main thread keeps serving HTTP.
 */
class WorkerSession {
  private readonly pending = new Map<number, { resolve(r: Reply): void }>();
  private next = 0;

  private constructor(
    private readonly worker: Worker,
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
  ) {
    worker.on('message', (r: Reply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      p.resolve(r);
    });
    const fail = (why: string) => {
      for (const p of this.pending.values()) p.resolve({ id: -1, error: why });
      this.pending.clear();
    };
    worker.on('error', (err) => fail(`session thread failed: ${err.message}`));
    worker.on('exit', () => fail('session thread exited (the session was released)'));
  }

  static create(model: Uint8Array, options: InferenceSession.SessionOptions | undefined): Promise<WorkerSession> {
    const worker = new Worker(new URL('./ort-worker.mjs', import.meta.url), {
      // Plain JavaScript: no TypeScript loader needed, whatever the parent was started with.
      execArgv: [],
      workerData: { model, options: options ?? {} },
    });
    return new Promise((resolve, reject) => {
      worker.once('message', (m: { ready: boolean; error?: string; inputNames?: string[]; outputNames?: string[] }) => {
        if (m.ready) resolve(new WorkerSession(worker, m.inputNames!, m.outputNames!));
        else {
          void worker.terminate();
          reject(new Error(m.error));
        }
      });
      worker.once('error', reject);
    });
  }

  async run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>> {
    const id = this.next++;
    const wire: Record<string, WireOrtTensor> = {};
    for (const [name, t] of Object.entries(feeds)) wire[name] = { type: t.type, data: t.data, dims: t.dims };
    // Inputs are copied (structured clone), not transferred: constant feeds are reused on every call.
    const reply = await new Promise<Reply>((resolve) => {
      this.pending.set(id, { resolve });
      this.worker.postMessage({ id, feeds: wire });
    });
    if (reply.error !== undefined) throw new Error(reply.error);
    const out: Record<string, OrtTensor> = {};
    for (const [name, t] of Object.entries(reply.outputs!)) out[name] = new ortNode.Tensor(t.type, t.data as never, t.dims);
    return out;
  }

  async release(): Promise<void> {
    await this.worker.terminate();
  }
}

/**
 * An OrtModule whose sessions each run on their own worker thread; pass it to createPredictor like onnxruntime-node.
 * Results are identical (same onnxruntime build, same options); only where the work happens changes.
 */
export function threadedOrt(): OrtModule {
  return {
    Tensor: ortNode.Tensor as unknown as OrtModule['Tensor'],
    InferenceSession: {
      create: async (model, options) => (await WorkerSession.create(model, options)) as unknown as InferenceSession,
    },
  };
}
