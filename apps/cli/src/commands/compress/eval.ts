import { cpus } from 'node:os';
import type { Command } from 'commander';
import * as ort from 'onnxruntime-node';
import { LeptonError } from '@lepton/tensor-core';
import { evaluateVariant, formatReportTable, inspectModel, type OutputSpec } from '@lepton/onnx';
import { loadModel, stdout, type Out } from './files';
import { withProgress } from './progress';
import { loadSamples } from './samples';

interface Flags {
  data: string;
  output?: string;
  classes?: string;
  threshold?: string;
  json?: boolean;
}

/**
 * `lepton eval REFERENCE VARIANT --data DATA`: accuracy of a variant against the float32 model on onnxruntime-node,
 * with size and the latency ratio measured side by side. Labelled data (mnist) adds accuracy and cross-entropy.
 */
export function registerEvalCommand(program: Command, out: Out = stdout): Command {
  return program
    .command('eval')
    .description('compare a model variant with its float32 reference: accuracy, agreement, max abs diff, SQNR, size, latency')
    .argument('<reference>', 'float32 ONNX model')
    .argument('<variant>', 'compressed ONNX model')
    .requiredOption('--data <data>', 'samples: mnist[:N], random:N or a samples JSON file')
    .option('--output <name>', 'output to compare (default: the first)')
    .option('--classes <n>', 'argmax decisions over the last n values (default: the output\'s last dim)')
    .option('--threshold <t>', 'decisions as value >= t instead of argmax')
    .option('--json', 'print the accuracy report as JSON')
    .action(async (refFile: string, varFile: string, flags: Flags) => {
      const ref = await loadModel(refFile);
      const variant = await loadModel(varFile);
      const info = inspectModel(ref.proto);
      const output = info.outputs.find((o) => o.name === (flags.output ?? info.outputs[0]?.name));
      if (!output) throw new LeptonError('VALIDATION_FAILED', `output ${JSON.stringify(flags.output)} is not an output of ${refFile}; expected one of ${info.outputs.map((o) => o.name).join(', ')}`);
      const last = output.shape?.[output.shape.length - 1];
      const classes = flags.classes ? Number(flags.classes) : typeof last === 'number' ? last : 1;
      const spec: OutputSpec = flags.threshold !== undefined ? { name: output.name, decision: { threshold: Number(flags.threshold) } } : { name: output.name, decision: 'argmax', classes };
      const samples = loadSamples(flags.data, info);
      const labelled = samples.some((s) => s.label !== undefined);
      const report = await evaluateVariant(ref.bytes, variant.bytes, withProgress(samples, 'evaluating'), async (b) => (await ort.InferenceSession.create(b)) as never, {
        variant: varFile,
        outputs: [spec],
        ...(labelled && spec.decision === 'argmax' ? { labelOutput: output.name } : {}),
        now: () => performance.now(),
        machine: `onnxruntime-node ${ort.env.versions.common}, ${cpus()[0]?.model ?? 'unknown CPU'}`,
      });
      report.size = { bytes: variant.size, referenceBytes: ref.size, ratio: variant.size / ref.size };
      out(flags.json ? JSON.stringify(report, null, 2) : formatReportTable([report]));
    });
}
