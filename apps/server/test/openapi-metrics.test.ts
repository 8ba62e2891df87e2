import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyBatchModel } from '@lepton/node-platform';
import type { StartedServer } from '../src';
import { startTestServer, tempDataDir, trpcClient } from './helpers';

let server: StartedServer;
beforeAll(async () => {
  // The tiny model comes from LEPTON_MODELS_DIR: NAME.manifest.json beside NAME.onnx.
  const dir = mkdtempSync(join(tmpdir(), 'lepton-models-'));
  const tiny = tinyBatchModel();
  writeFileSync(join(dir, 'tiny.onnx'), tiny.model);
  writeFileSync(join(dir, 'tiny.manifest.json'), JSON.stringify({ ...tiny.manifest, batching: { maxBatchSize: 8 } }));
  server = await startTestServer(tempDataDir(), { LEPTON_MODELS_DIR: dir, LEPTON_SESSIONS_PER_MODEL: '1' });
});
afterAll(() => server?.close());

describe('LEPTON_MODELS_DIR', () => {
  it('registers NAME.manifest.json + NAME.onnx at start, with its batching settings', async () => {
    const record = await server.registry.get('tiny-batch');
    expect(record.manifest.batching).toEqual({ maxBatchSize: 8, maxQueueDelayMs: 0, preferredBatchSizes: [], maxQueueSize: 256, timeoutMs: 30000 });
    expect((await fetch(`${server.url}/v2/models/tiny-batch/ready`)).status).toBe(200);
  });
});

describe('OpenAPI and docs', () => {
  it('describes every tRPC procedure from its zod input, and the KServe routes', async () => {
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { $ref: string } }> }; parameters?: { name: string }[] }>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> };
    };
    expect(doc.openapi).toBe('3.1.0');
    for (const p of ['/trpc/models.list', '/trpc/models.get', '/trpc/infer', '/trpc/vad.detect', '/trpc/devices.enroll']) expect(doc.paths).toHaveProperty(p);
    expect(doc.paths['/trpc/infer']!['post']!.requestBody!.content['application/json']!.schema.$ref).toBe('#/components/schemas/InferInput');
    expect(doc.components.schemas['InferInput']!.required).toEqual(['model', 'inputs']);
    expect(Object.keys(doc.components.schemas['InferInput']!.properties!)).toEqual(['model', 'version', 'inputs', 'outputs', 'format']);
    expect(doc.paths['/trpc/models.get']!['get']!.parameters!.map((p) => p.name)).toEqual(['input']);
    for (const p of ['/v2', '/v2/health/live', '/v2/models/{name}', '/v2/models/{name}/versions/{version}/infer', '/v2/models/{name}/ready']) {
      expect(doc.paths).toHaveProperty([p]);
    }
    expect(doc.paths['/v2/models/{name}/infer']!['post']!.parameters!.map((p) => p.name)).toEqual(['name', 'Inference-Header-Content-Length']);
  });

  it('serves a self-contained /docs page (no external scripts or styles)', async () => {
    const res = await fetch(`${server.url}/docs`);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toContain("fetch('/openapi.json')");
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\//);
  });
});

describe('metrics', () => {
  it('counts requests, inferences and executions per model and version', async () => {
    const client = trpcClient(server.url);
    const x = Buffer.from(new Float32Array([1, 2, 3, 4]).buffer).toString('base64');
    await client.infer.mutate({
      model: 'tiny-batch',
      inputs: [
        { name: 'x', dtype: 'float32', shape: [1, 4], data: x },
        { name: 'b', dtype: 'bool', shape: [1, 3], data: [true, false, true] },
      ],
    });
    await client.infer.mutate({ model: 'tiny-batch', inputs: [{ name: 'x', dtype: 'float32', shape: [1, 4], data: x }] }).catch(() => undefined);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const line = (name: string) => new RegExp(`^${name}\\{model="tiny-batch",version="1"[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1];
    expect(line('lepton_inference_request_success_total')).toBe('1');
    expect(text).toMatch(/^lepton_inference_request_failure_total\{model="tiny-batch",version="1",code="INPUT_MISSING"\} 1$/m);
    expect(line('lepton_inference_count_total')).toBe('1');
    expect(line('lepton_inference_exec_count_total')).toBe('1');
    expect(line('lepton_inference_pending_requests')).toBe('0');
    for (const h of ['queue', 'compute', 'request']) expect(line(`lepton_inference_${h}_duration_seconds_count`)).toBe(h === 'request' ? '2' : '1');
    expect(text).toMatch(/^lepton_process_cpu_seconds_total /m);
  });

  it('exports every metric the README documents, with the documented type', async () => {
    // The README's "Metrics" table is the contract for dashboards: each row must match a # TYPE line.
    const readme = readFileSync(resolve(import.meta.dirname, '../../../README.md'), 'utf8');
    const documented = [...readme.matchAll(/^\| `(lepton_[a-z_]+)` \| (counter|gauge|histogram) \|/gm)].map((m) => [m[1]!, m[2]!]);
    expect(documented.length).toBeGreaterThanOrEqual(10);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const exported = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    for (const [name, type] of documented) expect([name, exported.get(name)]).toEqual([name, type]);
    for (const name of ['lepton_process_cpu_seconds_total', 'lepton_nodejs_heap_size_used_bytes']) expect(exported.has(name)).toBe(true);
  });
});
