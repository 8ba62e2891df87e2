import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * The server's whole configuration, parsed once from the environment (nobody else reads process.env).
 * LEPTON_ENROLL_TOKEN: a reusable enrollment token (`npm start` sets the documented development value
 * `lepton-dev-enroll-token`); without it only the one-time token printed at first start enrolls devices.
 */
export const ServerConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  LEPTON_DATA_DIR: z.string().min(1).default('./.lepton'),
  LEPTON_DATABASE_URL: z
    .string()
    .regex(/^(postgres(ql)?:\/\/|sqlite:|file:)/, 'expected postgres://..., sqlite:PATH or file:PATH')
    .optional(),
  LEPTON_ENROLL_TOKEN: z.string().min(8, 'enrollment tokens have at least 8 characters').optional(),
  /** A reusable admin API key (`npm start` sets the development value lepton-dev-admin-key). */
  LEPTON_ADMIN_KEY: z.string().min(8, 'admin keys have at least 8 characters').optional(),
  /** How long devices wait between syncs (they add jitter and back off on failures). */
  LEPTON_DEVICE_POLL_MS: z.coerce.number().int().min(100).max(86_400_000).default(30_000),
  LEPTON_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Built web app to serve at / (default apps/web/dist of this checkout). */
  LEPTON_WEB_DIR: z.string().min(1).optional(),
  /** Folder of NAME.manifest.json + NAME.onnx pairs registered at start (see src/kserve/models-dir.ts). */
  LEPTON_MODELS_DIR: z.string().min(1).optional(),
  /** onnxruntime sessions per model version, run side by side (the pool behind the batcher). */
  LEPTON_SESSIONS_PER_MODEL: z.coerce.number().int().min(1).max(64).default(2),
  /**
   * Run each session on its own worker thread (1), on the main thread (0), or auto: the main thread for models that
   * batch, worker threads for the others (see src/kserve/README.md, "Dynamic batching and the session pool").
   */
  LEPTON_SESSION_THREADS: z.enum(['auto', '0', '1', 'true', 'false'], { message: 'expected auto, 1 or 0' }).default('auto'),
  /**
   * A connection that sends and receives nothing for this long is closed (0: never). Uploads may take as long as
   * they need while bytes flow; a client that stalls mid-request (slowloris) no longer holds its socket forever.
   */
  LEPTON_IDLE_TIMEOUT_MS: z.coerce.number().int().min(0).max(86_400_000).default(120_000),
  /** Build web and edge variants of registered models in the background (1) or not (0). */
  LEPTON_BUILD_VARIANTS: z.enum(['0', '1', 'true', 'false'], { message: 'expected 1 or 0' }).default('1'),
  /** WAV files the accuracy report of VAD variants streams (Debian alsa-utils' sounds by default). */
  LEPTON_VARIANT_AUDIO_DIR: z.string().min(1).default('/usr/share/sounds/alsa'),
});

export interface ServerConfig {
  port: number;
  host: string;
  dataDir: string;
  /** postgres://... for PostgreSQL; otherwise the SQLite file (default DATA_DIR/registry.sqlite). */
  databaseUrl: string | undefined;
  enrollToken: string | undefined;
  adminKey: string | undefined;
  pollAfterMs: number;
  logLevel: z.infer<typeof ServerConfigSchema>['LEPTON_LOG_LEVEL'];
  webDir: string | undefined;
  modelsDir: string | undefined;
  sessionsPerModel: number;
  /** Sessions on worker threads (LEPTON_SESSION_THREADS=1), on the main thread (0), or by model ('auto'). */
  sessionThreads: boolean | 'auto';
  /** Socket inactivity limit in ms (LEPTON_IDLE_TIMEOUT_MS; 0: none). */
  idleTimeoutMs: number;
  /** Build web/edge variants after registration and at start (LEPTON_BUILD_VARIANTS). */
  buildVariants: boolean;
  /** WAV folder for the accuracy reports of VAD variants (random inputs when it holds none). */
  variantAudioDir: string;
}

export function loadConfig(env: Record<string, string | undefined>): ServerConfig {
  // An empty variable (PORT= in a shell) means "use the default", not "0".
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = ServerConfigSchema.safeParse(set);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid server configuration: ${problems}`);
  }
  const c = parsed.data;
  return {
    port: c.PORT,
    host: c.HOST,
    dataDir: resolve(c.LEPTON_DATA_DIR),
    databaseUrl: c.LEPTON_DATABASE_URL,
    enrollToken: c.LEPTON_ENROLL_TOKEN,
    adminKey: c.LEPTON_ADMIN_KEY,
    pollAfterMs: c.LEPTON_DEVICE_POLL_MS,
    logLevel: c.LEPTON_LOG_LEVEL,
    webDir: c.LEPTON_WEB_DIR ? resolve(c.LEPTON_WEB_DIR) : undefined,
    modelsDir: c.LEPTON_MODELS_DIR ? resolve(c.LEPTON_MODELS_DIR) : undefined,
    sessionsPerModel: c.LEPTON_SESSIONS_PER_MODEL,
    sessionThreads: c.LEPTON_SESSION_THREADS === 'auto' ? 'auto' : c.LEPTON_SESSION_THREADS === '1' || c.LEPTON_SESSION_THREADS === 'true',
    idleTimeoutMs: c.LEPTON_IDLE_TIMEOUT_MS,
    buildVariants: c.LEPTON_BUILD_VARIANTS === '1' || c.LEPTON_BUILD_VARIANTS === 'true',
    variantAudioDir: resolve(c.LEPTON_VARIANT_AUDIO_DIR),
  };
}
