import { readFileSync, writeFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { quantizeWeightsInt8 } from './src';
for (const [p, out] of [['/work/main/node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx','/tmp/sil_w8.onnx'],['/work/shared/models/mnist-8.onnx','/tmp/mn_w8.onnx']]) {
  const b = new Uint8Array(readFileSync(p));
  const t = performance.now();
  const r = quantizeWeightsInt8(b);
  console.log(p, 'ms', performance.now()-t, r.model.length / b.length, r.report.quantized.length, r.report.kept, r.report.notes, r.report.opsetBefore, r.report.opsetAfter);
  writeFileSync(out, r.model);
  const s = await ort.InferenceSession.create(r.model);
  console.log(s.inputNames, s.outputNames);
}
