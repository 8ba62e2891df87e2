import { cpus } from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import * as ort from 'onnxruntime-node';
import { LeptonError } from '@lepton/tensor-core';
import { evaluateVariant, formatReportTable, inspectModel, sessionOptionsOf, type CreateRunner, type InspectReport, type ModelProto, type OutputSpec } from '@lepton/onnx';
import { loadModel, stdout, type Out } from './files';
import { withProgress, type ProgressStream } from './progress';
import { describeSessionOptions, ortSessionOptions } from './session';
import { CALIBRATION_KEY, describeSource, loadSamples, parseSampleSpec, sampleOverlap, type SampleSource } from './samples';

interface Flags {
  data: string;
  output?: string;
  classes?: number;
  threshold?: number;
  json?: boolean;
}

/** The calibration samples a model records (`lepton quantize --mode int8-static`), if any. */
function calibrationOf(model: ModelProto): SampleSource | undefined {
  const value = model.metadataProps.find((p) => p.key === CALIBRATION_KEY)?.value;
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value) as SampleSource;
  } catch {
    throw new LeptonError('VALIDATION_FAILED', `model metadata ${CALIBRATION_KEY} is ${JSON.stringify(value)}; expected the JSON lepton quantize writes`);
  }
}

const positiveInteger = (value: string): number => {
  if (!/^\s*\d+\s*$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('expected a positive integer.');
  return Number(value);
};

// `--threshold abc` was Number('abc'): every decision `value >= NaN` was false, and the report agreed 100 %.
const finiteNumber = (value: string): number => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a finite number.');
  return n;
};

/** A variant is fed the reference's samples: its inputs must be the same names and dtypes (else onnxruntime said it, as INTERNAL). */
function checkSameInputs(refFile: string, ref: InspectReport, varFile: string, variant: InspectReport): void {
  const describe = (r: InspectReport) => r.inputs.map((i) => `${i.name} ${i.dtype}`).join(', ');
  const same = ref.inputs.length === variant.inputs.length && ref.inputs.every((i) => variant.inputs.some((v) => v.name === i.name && v.dtype === i.dtype));
  if (!same) {
    throw new LeptonError(
      'VALIDATION_FAILED',
      `${varFile} takes inputs (${describe(variant)}), ${refFile} takes (${describe(ref)}); expected a variant with the reference's inputs (convert --fp16 keeps them unless --no-keep-io-types)`,
      { reference: refFile, variant: varFile },
    );
  }
}

/**
 * `lepton eval REFERENCE VARIANT --data DATA`: accuracy of a variant against the float32 model on onnxruntime-node,
 * with size and the latency ratio measured side by side. Labelled data (mnist) adds accuracy and cross-entropy.
 * Each model's session uses the options it records in `lepton.session_options`, else what its graph requires
 * (@lepton/onnx sessionOptionsOf): the numbers every platform gets. Samples the variant was calibrated on are
 * refused (VALIDATION_FAILED), so accuracy is never measured on calibration data.
 */
export function registerEvalCommand(program: Command, out: Out = stdout, progress: ProgressStream = process.stderr): Command {
  return program
    .command('eval')
    .description('compare a model variant with its float32 reference: accuracy, agreement, max abs diff, SQNR, size, latency')
    .argument('<reference>', 'float32 ONNX model')
    .argument('<variant>', 'compressed ONNX model')
    .requiredOption('--data <data>', 'samples: mnist[:N], random:N or a samples JSON file')
    .option('--output <name>', 'output to compare (default: the first)')
    .option('--classes <n>', 'argmax decisions over the last n values (default: the output\'s last dim)', positiveInteger)
    .option('--threshold <t>', 'decisions as value >= t instead of argmax', finiteNumber)
    .option('--json', 'print the accuracy report as JSON')
    .action(async (refFile: string, varFile: string, flags: Flags) => {
      const ref = await loadModel(refFile);
      const variant = await loadModel(varFile);
      const info = inspectModel(ref.proto);
      checkSameInputs(refFile, info, varFile, inspectModel(variant.proto));
      const output = info.outputs.find((o) => o.name === (flags.output ?? info.outputs[0]?.name));
      if (!output) throw new LeptonError('VALIDATION_FAILED', `output ${JSON.stringify(flags.output)} is not an output of ${refFile}; expected one of ${info.outputs.map((o) => o.name).join(', ')}`);
      const last = output.shape?.[output.shape.length - 1];
      const classes = flags.classes ?? (typeof last === 'number' ? last : 1);
      const spec: OutputSpec = flags.threshold !== undefined ? { name: output.name, decision: { threshold: flags.threshold } } : { name: output.name, decision: 'argmax', classes };
      const source = parseSampleSpec(flags.data, 'evaluation');
      const calibration = calibrationOf(variant.proto);
      const overlap = calibration && sampleOverlap(calibration, source);
      if (overlap) {
        throw new LeptonError(
          'VALIDATION_FAILED',
          `--data ${flags.data} reuses the samples ${varFile} was calibrated on (${describeSource(calibration)}): ${overlap}; expected evaluation samples disjoint from calibration${calibration.kind === 'mnist' && calibration.to !== null ? `, such as --data mnist:${calibration.to}:${calibration.to + 20}` : ''}`,
          { data: flags.data, calibration: describeSource(calibration) },
        );
      }
      const samples = loadSamples(flags.data, info, 'evaluation');
      const labelled = samples.some((s) => s.label !== undefined);
      const sessionOptions = { reference: sessionOptionsOf(ref.proto) ?? null, variant: sessionOptionsOf(variant.proto) ?? null };
      const runner: CreateRunner = async (b) => (await ort.InferenceSession.create(b, ortSessionOptions((b === ref.bytes ? sessionOptions.reference : sessionOptions.variant) ?? undefined))) as never;
      const report = await evaluateVariant(ref.bytes, variant.bytes, withProgress(samples, 'evaluating', progress), runner, {
        variant: varFile,
        outputs: [spec],
        ...(labelled && spec.decision === 'argmax' ? { labelOutput: output.name } : {}),
        now: () => performance.now(),
        machine: `onnxruntime-node ${ort.env.versions.common}, ${cpus()[0]?.model ?? 'unknown CPU'}`,
      });
      report.size = { bytes: variant.size, referenceBytes: ref.size, ratio: variant.size / ref.size };
      if (flags.json) out(JSON.stringify({ ...report, data: describeSource(source), sessionOptions }, null, 2));
      else {
        out(formatReportTable([report]));
        out(`data: ${describeSource(source)}; sessions: reference ${describeSessionOptions(sessionOptions.reference ?? undefined)}, variant ${describeSessionOptions(sessionOptions.variant ?? undefined)}`);
      }
    });
}
