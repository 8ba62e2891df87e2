import { Command, InvalidArgumentError, Option } from 'commander';
import { parseInputSpecs } from './inputs';
import { inferHuman, inferJson } from './format';
import { runInfer, type InferTarget } from './run-infer';

export { parseInputSpecs } from './inputs';
export { inferHuman, inferJson } from './format';
export { runInfer, type InferCommandOptions, type InferOutcome, type InferTarget } from './run-infer';

const url = (value: string): string => {
  if (!/^https?:\/\/[^/]/.test(value)) throw new InvalidArgumentError('expected an http:// or https:// URL.');
  return value.replace(/\/+$/, '');
};

// `previous` is the option's default: undefined for a repeatable flag without one (--output), so never assume an array.
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

interface InferFlags {
  input: string[];
  on: InferTarget;
  json?: boolean;
  format: 'base64' | 'array';
  output?: string[];
  server: string;
  edge: string;
  key?: string;
}

/** `lepton infer MODEL --input SPEC... [--on server|edge|local] [--json]`. */
export function registerInferCommand(program: Command, io: { out(text: string): void }): void {
  program
    .command('infer')
    .description('run a model on tensors and print its outputs')
    .argument('<model>', 'model id (id or id@version), or an .onnx file with --on local')
    .option('--input <spec>', 'an input: @FILE.json, NAME=@FILE.json or NAME=DTYPE:[SHAPE]:V1,V2,... (repeatable)', collect, [] as string[])
    .addOption(new Option('--on <platform>', 'where the model runs').choices(['server', 'edge', 'local']).default('server'))
    .option('--json', 'print { model, version, outputs, answeredBy } with outputs as wire tensors')
    .addOption(new Option('--format <f>', 'encoding of the outputs in --json').choices(['base64', 'array']).default('base64'))
    .option('--output <name>', 'an output to return (repeatable; default all)', collect)
    .addOption(new Option('--server <url>', 'server base URL').env('LEPTON_SERVER_URL').argParser(url).default('http://127.0.0.1:8080'))
    .addOption(new Option('--edge <url>', 'edge agent base URL').env('LEPTON_EDGE_URL').argParser(url).default('http://127.0.0.1:8081'))
    .addOption(new Option('--key <key>', 'API key, if the server asks for one').env('LEPTON_API_KEY'))
    .action(async (model: string, flags: InferFlags) => {
      const inputs = parseInputSpecs(flags.input);
      const out = await runInfer(model, inputs, {
        on: flags.on,
        server: flags.server,
        edge: flags.edge,
        format: flags.format,
        ...(flags.key ? { key: flags.key } : {}),
        ...(flags.output ? { outputs: flags.output } : {}),
      });
      io.out(flags.json ? inferJson(out) : inferHuman(out));
    });
}
