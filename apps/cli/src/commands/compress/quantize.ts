import { Option, type Command } from 'commander';
import { LeptonError } from '@lepton/tensor-core';
import { allGraphs, calibrateAndQuantize, inspectModel, quantizeDynamic, quantizeWeightsInt8, stampSessionOptions, type CalibrationMethod, type ModelProto, type NodeProto } from '@lepton/onnx';
import { list, loadModel, saveModel, stdout, type Out } from './files';
import { withProgress, type ProgressStream } from './progress';
import { CALIBRATION_KEY, describeSource, loadSamples, parseSampleSpec } from './samples';
import { nodeRunner, sessionLine } from './session';

interface Flags {
  output: string;
  mode: 'int8-weight' | 'int8-dynamic' | 'int8-static';
  calib?: string;
  calibMethod: CalibrationMethod;
  perChannel: boolean;
  reduceRange?: boolean;
  excludeOps?: string[];
  excludeNodes?: string[];
  externalData?: boolean;
  json?: boolean;
}

/**
 * `lepton quantize IN -o OUT --mode int8-weight|int8-dynamic|int8-static [--calib DATA]`. reduce_range defaults
 * to on where activations are uint8 and weights int8 (dynamic, static), off for weight-only; see @lepton/onnx.
 * The output records the session options it needs (`lepton.session_options`, printed and in --json) and, for
 * int8-static, its calibration samples (`lepton.calibration`, which `lepton eval` refuses to evaluate on).
 */
export function registerQuantizeCommand(program: Command, out: Out = stdout, progress: ProgressStream = process.stderr): Command {
  return program
    .command('quantize')
    .description('quantize an ONNX model to int8 (weight-only, dynamic or static QDQ)')
    .argument('<in>', 'ONNX model file')
    .requiredOption('-o, --output <file>', 'where to write the quantized model')
    .addOption(new Option('--mode <mode>', 'quantization mode').choices(['int8-weight', 'int8-dynamic', 'int8-static']).default('int8-weight'))
    .option('--calib <data>', 'calibration samples for int8-static: mnist[:N], random:N or a samples JSON file')
    .addOption(new Option('--calib-method <method>', 'calibration method').choices(['minmax', 'percentile', 'entropy', 'mse']).default('minmax'))
    .option('--per-channel', 'one weight scale per output channel', true)
    .option('--no-per-channel', 'one weight scale per tensor')
    .option('--reduce-range', '7-bit weights, exact on CPUs whose u8 x s8 kernels saturate (default for int8-dynamic and int8-static)')
    .option('--no-reduce-range', '8-bit weights (default for int8-weight)')
    .option('--exclude-ops <ops>', 'comma-separated op types to leave in float32 (int8-static)', list)
    .option('--exclude-nodes <names>', 'comma-separated node names to leave in float32', list)
    .option('--external-data', 'write tensors of 1 KiB or more to OUT.data')
    .option('--json', 'print the pass report as JSON')
    .action(async (file: string, flags: Flags) => {
      const { proto, size } = await loadModel(file);
      const excludedInputs = excludedNodeInputs(proto, flags.excludeNodes ?? []);
      let result;
      if (flags.mode === 'int8-weight') {
        // The weight-only pass excludes weights: those the named nodes read.
        result = quantizeWeightsInt8(proto, { perChannel: flags.perChannel, ...(flags.reduceRange !== undefined ? { reduceRange: flags.reduceRange } : {}), exclude: excludedInputs });
      } else if (flags.mode === 'int8-dynamic') {
        result = quantizeDynamic(proto, { perChannel: flags.perChannel, ...(flags.reduceRange !== undefined ? { reduceRange: flags.reduceRange } : {}), excludeNodes: flags.excludeNodes ?? [] });
      } else {
        if (!flags.calib) throw new LeptonError('VALIDATION_FAILED', '--mode int8-static needs --calib DATA (mnist[:N], random:N or a samples JSON file)');
        const samples = loadSamples(flags.calib, inspectModel(proto), 'calibration');
        result = await calibrateAndQuantize(proto, withProgress(samples, 'calibrating', progress), nodeRunner, {
          method: flags.calibMethod,
          perChannel: flags.perChannel,
          ...(flags.reduceRange !== undefined ? { reduceRange: flags.reduceRange } : {}),
          excludeOps: flags.excludeOps ?? [],
          excludeNodes: flags.excludeNodes ?? [],
        });
      }
      const report: unknown = result.report;
      const calibration = flags.mode === 'int8-static' && flags.calib ? parseSampleSpec(flags.calib, 'calibration') : undefined;
      if (calibration) {
        result.proto.metadataProps = result.proto.metadataProps.filter((p) => p.key !== CALIBRATION_KEY);
        result.proto.metadataProps.push({ key: CALIBRATION_KEY, value: JSON.stringify(calibration) });
      }
      const sessionOptions = stampSessionOptions(result.proto) ?? null;
      const written = saveModel(flags.output, result.proto, flags.externalData);
      const summary = {
        input: file,
        output: flags.output,
        mode: flags.mode,
        bytesBefore: size,
        bytesAfter: written,
        ratio: written / size,
        sessionOptions,
        ...(calibration ? { calibration: describeSource(calibration) } : {}),
        report,
      };
      if (flags.json) out(JSON.stringify(summary, null, 2));
      else {
        out(`${file} -> ${flags.output} (${flags.mode}): ${size} -> ${written} bytes (${(written / size).toFixed(3)}x)`);
        out(sessionLine(sessionOptions));
        if (calibration) out(`calibrated on ${describeSource(calibration)}; evaluate on other samples (lepton eval refuses these)`);
      }
    });
}

/**
 * --exclude-nodes: every name must be a node of the model (main graph or any subgraph), else VALIDATION_FAILED
 * naming the unknown ones (a typo would otherwise quantize what the user meant to keep). Returns the names of the
 * tensors those nodes read, which is what the weight-only pass excludes.
 */
export function excludedNodeInputs(proto: ModelProto, names: string[]): string[] {
  if (names.length === 0) return [];
  const nodes = new Map<string, NodeProto>();
  for (const scope of proto.graph ? allGraphs(proto.graph) : []) for (const n of scope.graph.node) if (n.name) nodes.set(n.name, n);
  const unknown = names.filter((n) => !nodes.has(n));
  if (unknown.length > 0) {
    const some = [...nodes.keys()].slice(0, 3).map((n) => JSON.stringify(n));
    const expected = some.length > 0 ? `node names of the model, such as ${some.join(', ')}` : 'node names, but none of the model\'s nodes has a name';
    throw new LeptonError('VALIDATION_FAILED', `--exclude-nodes ${unknown.map((n) => JSON.stringify(n)).join(', ')}: the model has no node of that name; expected ${expected}`);
  }
  return [...new Set(names.flatMap((n) => nodes.get(n)!.input.filter((i) => i !== '')))];
}
