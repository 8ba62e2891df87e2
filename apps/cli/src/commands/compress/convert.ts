import type { Command } from 'commander';
import { LeptonError } from '@lepton/tensor-core';
import { convertFloat16, DEFAULT_FP16_BLOCK_LIST, stampSessionOptions } from '@lepton/onnx';
import { list, loadModel, saveModel, stdout, type Out } from './files';
import { sessionLine } from './session';

/** `lepton convert IN -o OUT --fp16 [--no-keep-io-types] [--block-ops ...]`; the output records the session options it needs. */
export function registerConvertCommand(program: Command, out: Out = stdout): Command {
  return program
    .command('convert')
    .description('convert an ONNX model to float16 (clamped to the float16 range; float32 kept where ops need it)')
    .argument('<in>', 'ONNX model file')
    .requiredOption('-o, --output <file>', 'where to write the converted model')
    .option('--fp16', 'convert to float16 (required: the only target so far)')
    .option('--no-keep-io-types', 'make the model inputs and outputs float16 too')
    .option('--block-ops <ops>', `comma-separated op types kept in float32 (default: ${DEFAULT_FP16_BLOCK_LIST.length} ops)`, list)
    .option('--block-nodes <names>', 'comma-separated node names kept in float32', list)
    .option('--external-data', 'write tensors of 1 KiB or more to OUT.data')
    .option('--json', 'print the pass report as JSON')
    .action(async (file: string, flags: { output: string; fp16?: boolean; keepIoTypes: boolean; blockOps?: string[]; blockNodes?: string[]; externalData?: boolean; json?: boolean }) => {
      if (!flags.fp16) throw new LeptonError('VALIDATION_FAILED', 'convert needs a target precision; expected --fp16');
      const { proto, size } = await loadModel(file);
      const r = convertFloat16(proto, { keepIoTypes: flags.keepIoTypes, ...(flags.blockOps ? { opBlockList: flags.blockOps } : {}), nodeBlockList: flags.blockNodes ?? [] });
      const sessionOptions = stampSessionOptions(r.proto) ?? null;
      const written = saveModel(flags.output, r.proto, flags.externalData);
      const rep = r.report;
      if (flags.json) out(JSON.stringify({ input: file, output: flags.output, bytesBefore: size, bytesAfter: written, ratio: written / size, sessionOptions, report: rep }, null, 2));
      else {
        out(
          `${file} -> ${flags.output} (fp16): ${size} -> ${written} bytes; ${rep.convertedTensors} tensors converted, ${rep.clampedHigh} values clamped to +-65504, ${rep.clampedLow} tiny values kept at +-2^-24, ${rep.castsInserted} casts, ${rep.keptFp32Nodes.length} nodes kept float32`,
        );
        out(sessionLine(sessionOptions));
      }
    });
}
