import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BuildProgress, BuildRequest, BuildResult } from './build-variant';

export type WorkerMessage =
  | ({ type: 'progress' } & BuildProgress)
  | ({ type: 'done' } & BuildResult)
  | { type: 'failed'; code: string; message: string }
  | { type: 'stopped' };

export type HostMessage = { type: 'stop' };

export interface WorkerOutcome {
  result?: BuildResult;
  error?: { code: string; message: string };
}

/**
 * Start the build of one variant on a worker thread, off the event loop. From source (.ts: `node --import tsx`,
 * vitest) the worker first registers tsx's loader, resolved from this file, so it does not depend on the
 * current directory or on flags the parent was started with; a built server (.js) starts the worker file as it
 * is. `stop()` asks the build to stop at its next step and waits for the thread to end (never terminate: a
 * thread terminated while onnxruntime-node runs aborts the process); `done` then has no result and no error.
 */
export function runBuildWorker(req: BuildRequest, onProgress: (p: BuildProgress) => void): { done: Promise<WorkerOutcome>; stop(): Promise<void> } {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(`./variant-worker.${fromSource ? 'ts' : 'js'}`, import.meta.url);
  let worker: Worker;
  if (fromSource) {
    const tsx = tsxLoaderUrl();
    const boot = `import(${JSON.stringify(tsx)}).then((m) => { (m.register ?? m.default.register)(); return import(${JSON.stringify(entry.href)}); })`;
    worker = new Worker(boot, { eval: true, workerData: req });
  } else {
    worker = new Worker(entry, { workerData: req });
  }
  let stopped = false;
  const done = new Promise<WorkerOutcome>((resolve) => {
    let outcome: WorkerOutcome | undefined;
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') onProgress(m);
      else if (m.type === 'done') outcome = { result: { bytes: m.bytes, pass: m.pass, precision: m.precision, opset: m.opset, ...(m.sessionOptions ? { sessionOptions: m.sessionOptions } : {}), report: m.report } };
      else if (m.type === 'failed') outcome = { error: { code: m.code, message: m.message } };
      else outcome = {};
    });
    worker.on('error', (err) => {
      outcome ??= { error: { code: 'INTERNAL', message: `variant worker failed: ${err.message}` } };
    });
    worker.on('exit', (code) => {
      // A build that finished before it saw the stop keeps its result.
      resolve(outcome ?? (stopped ? {} : { error: { code: 'INTERNAL', message: `variant worker exited with code ${code} before it finished` } }));
    });
  });
  return {
    done,
    async stop() {
      stopped = true;
      worker.postMessage({ type: 'stop' } satisfies HostMessage);
      await done;
    },
  };
}

/** tsx's ESM API entry (its `import` export; the CommonJS one loads files relative to itself and fails here). */
function tsxLoaderUrl(): string {
  const require = createRequire(import.meta.url);
  const pkgFile = require.resolve('tsx/package.json');
  const pkg = require(pkgFile) as { exports?: Record<string, { import?: { default?: string } } | undefined> };
  const rel = pkg.exports?.['./esm/api']?.import?.default ?? './dist/esm/api/index.mjs';
  return pathToFileURL(join(dirname(pkgFile), rel)).href;
}
