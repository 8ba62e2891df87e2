import { Command, InvalidArgumentError, Option } from 'commander';
import type { VadOptions } from '@lepton/contracts';
import { runVad, type VadTarget } from './commands/vad';
import { vadHuman, vadJson } from './format';

export interface Io {
  out(text: string): void;
}

function probability() {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
      throw new InvalidArgumentError('expected a number in [0, 1].');
    }
    return n;
  };
}

function milliseconds(max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > max) {
      throw new InvalidArgumentError(`expected milliseconds in [0, ${max}].`);
    }
    return n;
  };
}

function baseUrl() {
  return (value: string): string => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new InvalidArgumentError('expected a URL such as http://127.0.0.1:8080.');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new InvalidArgumentError('expected an http:// or https:// URL.');
    }
    return value.replace(/\/+$/, '');
  };
}

interface VadFlags {
  on: VadTarget;
  json?: boolean;
  server: string;
  edge: string;
  model: string;
  threshold?: number;
  negThreshold?: number;
  minSpeechMs?: number;
  minSilenceMs?: number;
  speechPadMs?: number;
}

/** The `lepton` program. Errors propagate to the caller (main prints them as `error CODE: message`). */
export function createProgram(io: Io): Command {
  const program = new Command('lepton')
    .description('Lepton: one ONNX model, identical results on server, edge and in-process')
    .version('0.1.0')
    .showHelpAfterError(false);

  program
    .command('vad')
    .description('detect speech segments in a WAV file')
    .argument('<file>', 'WAV file (PCM 8/16/24/32-bit or float, any rate, mono or multi-channel)')
    .addOption(new Option('--on <platform>', 'where the model runs').choices(['server', 'edge', 'local']).default('server'))
    .option('--json', 'print { segments, chunks, answeredBy } as JSON')
    // The same variable the edge agent reads for its server, so `PORT=... npm start` and the CLI agree.
    .addOption(new Option('--server <url>', 'server base URL').env('LEPTON_SERVER_URL').argParser(baseUrl()).default('http://127.0.0.1:8080'))
    .addOption(new Option('--edge <url>', 'edge agent base URL').env('LEPTON_EDGE_URL').argParser(baseUrl()).default('http://127.0.0.1:8081'))
    .option('--model <id>', 'model id', 'silero-vad-v5')
    .option('--threshold <p>', 'speech probability threshold', probability())
    .option('--neg-threshold <p>', 'probability below which speech ends', probability())
    .option('--min-speech-ms <ms>', 'shortest segment kept', milliseconds(60_000))
    .option('--min-silence-ms <ms>', 'silence that ends a segment', milliseconds(60_000))
    .option('--speech-pad-ms <ms>', 'padding added to each side of a segment', milliseconds(10_000))
    .action(async (file: string, flags: VadFlags) => {
      const options: VadOptions = {};
      if (flags.threshold !== undefined) options.threshold = flags.threshold;
      if (flags.negThreshold !== undefined) options.negThreshold = flags.negThreshold;
      if (flags.minSpeechMs !== undefined) options.minSpeechMs = flags.minSpeechMs;
      if (flags.minSilenceMs !== undefined) options.minSilenceMs = flags.minSilenceMs;
      if (flags.speechPadMs !== undefined) options.speechPadMs = flags.speechPadMs;
      const out = await runVad(file, { on: flags.on, server: flags.server, edge: flags.edge, model: flags.model, options });
      io.out(flags.json ? vadJson(out) : vadHuman(file, out));
    });

  return program;
}
