import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { InferenceObserver } from '../inference/server-inference';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Per model and version, the figures Triton users look for (names in the README, section "Metrics"):
 * request outcomes, inferences (rows) against executions (model runs) for the batching ratio, queue and compute
 * time, request duration, and pending requests. Labels are the registered model id and version only, so
 * unknown names sent by clients cannot grow the label set (they count under model "(unknown)").
 */
export function inferenceMetrics(registry: Registry, pending: () => { model: string; version: string; pending: number }[]): InferenceObserver {
  const labelNames = ['model', 'version'] as const;
  const success = new Counter({
    name: 'lepton_inference_request_success_total',
    help: 'Infer requests (tRPC or KServe) answered successfully',
    labelNames,
    registers: [registry],
  });
  const failure = new Counter({
    name: 'lepton_inference_request_failure_total',
    help: 'Infer requests that failed, by Lepton error code',
    labelNames: [...labelNames, 'code'] as const,
    registers: [registry],
  });
  const inferences = new Counter({
    name: 'lepton_inference_count_total',
    help: 'Inferences performed: rows (dim 0) summed over every execution',
    labelNames,
    registers: [registry],
  });
  const executions = new Counter({
    name: 'lepton_inference_exec_count_total',
    help: 'Model executions (session runs); inference_count / exec_count is the average batch size',
    labelNames,
    registers: [registry],
  });
  const batchRequests = new Histogram({
    name: 'lepton_inference_batch_requests',
    help: 'Requests answered by one execution',
    labelNames,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [registry],
  });
  const queue = new Histogram({
    name: 'lepton_inference_queue_duration_seconds',
    help: 'Time a request waited in the model queue before its execution started',
    labelNames,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const compute = new Histogram({
    name: 'lepton_inference_compute_duration_seconds',
    help: 'Time of one model execution (batch), including concatenating and splitting rows',
    labelNames,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'lepton_inference_request_duration_seconds',
    help: 'Infer request time inside the server: model lookup, queue, execution, output selection',
    labelNames,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  new Gauge({
    name: 'lepton_inference_pending_requests',
    help: 'Requests queued or running per loaded model version',
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const p of pending()) this.labels(p.model, p.version).set(p.pending);
    },
  });

  // prom-client hashes the label values on every labels() call; the children of one model version are looked
  // up once and kept (the set is bounded: registered model versions only).
  const children = new Map<string, ReturnType<typeof childrenOf>>();
  function childrenOf(model: string, version: string) {
    return {
      success: success.labels(model, version),
      duration: duration.labels(model, version),
      executions: executions.labels(model, version),
      inferences: inferences.labels(model, version),
      batchRequests: batchRequests.labels(model, version),
      compute: compute.labels(model, version),
      queue: queue.labels(model, version),
    };
  }
  const of = (model: string, version: string) => {
    const key = `${model}\0${version}`;
    let c = children.get(key);
    if (c === undefined) children.set(key, (c = childrenOf(model, version)));
    return c;
  };

  return {
    onRequest(e) {
      const c = of(e.model, e.version);
      if (e.ok) c.success.inc();
      else failure.labels(e.model, e.version, e.code ?? 'INTERNAL').inc();
      c.duration.observe(e.durationMs / 1000);
    },
    onExecute(model, version, e) {
      const c = of(model, version);
      c.executions.inc();
      c.inferences.inc(e.rows);
      c.batchRequests.observe(e.requests);
      c.compute.observe(e.computeMs / 1000);
      for (const q of e.queueMs) c.queue.observe(q / 1000);
    },
  };
}
