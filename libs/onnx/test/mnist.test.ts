import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AccuracyReportSchema, calibrateAndQuantize, convertFloat16, evaluateVariant, quantizeDynamic, quantizeWeightsInt8, type Sample } from '../src';
import { MNIST_PATH, hasMnist, mnistDigits } from './support/data';
import { checkModels, createRunner, createWebRunner, hasChecker, tensor } from './support/ort';

// The full 10,000-digit study is tools/bench/compression.ts; here 1,000 digits keep the suite fast.
describe.skipIf(!hasMnist)('mnist-8 variants (../shared/models/mnist-8.onnx)', () => {
  const fp32 = hasMnist ? new Uint8Array(readFileSync(MNIST_PATH)) : new Uint8Array(0);
  const digits = hasMnist ? mnistDigits(100, 0) : [];
  const samples: Sample[] = digits.map((d) => ({ feeds: { Input3: tensor(d.image, [1, 1, 28, 28]) }, label: d.label }));
  const calib = hasMnist ? mnistDigits(10, 500).map((d) => ({ feeds: { Input3: tensor(d.image, [1, 1, 28, 28]) } })) : [];
  const spec = { outputs: [{ name: 'Plus214_Output_0', decision: 'argmax' as const, classes: 10 }], labelOutput: 'Plus214_Output_0' };

  it('int8-weight, int8-static, int8-dynamic and fp16 keep top-1 within 0.5 points of fp32 and agree on >= 99 %', async () => {
    const variants = {
      'int8-weight': quantizeWeightsInt8(fp32).model,
      'int8-static': (await calibrateAndQuantize(fp32, calib, createRunner)).model,
      'int8-dynamic': quantizeDynamic(fp32).model,
      fp16: convertFloat16(fp32).model,
    };
    for (const [name, bytes] of Object.entries(variants)) {
      const r = AccuracyReportSchema.parse(await evaluateVariant(fp32, bytes, samples, createRunner, { ...spec, variant: name }));
      expect(r.samples).toBe(1000);
      expect(r.labelled!.referenceAccuracy).toBeGreaterThan(0.98);
      expect(r.labelled!.accuracy, name).toBeGreaterThanOrEqual(r.labelled!.referenceAccuracy - 0.005);
      expect(r.outputs[0]!.agreement, name).toBeGreaterThanOrEqual(0.99);
      expect(r.size.ratio, name).toBeLessThan(name === 'fp16' ? 0.6 : 0.5);
      // Same variant on onnxruntime-web: the same decisions as on onnxruntime-node.
      const web = await evaluateVariant(bytes, bytes, samples.slice(0, 100), async (b) => (b === bytes ? createWebRunner(b) : createRunner(b)), { ...spec, variant: `${name}-web` });
      expect(web.outputs[0]!.agreement, `${name} web`).toBe(1);
    }
    if (hasChecker) expect(Object.values(checkModels(variants))).toEqual(['', '', '', '']);
  });
});
