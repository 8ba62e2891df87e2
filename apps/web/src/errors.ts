import { isLeptonError } from '@lepton/tensor-core';

/** An error as the page shows it: a stable code and a message a person can act on. */
export interface ShownError {
  code: string;
  message: string;
  /** Where it happened: the in-page run, the server call, or the page itself. */
  platform: 'browser' | 'server' | 'page';
}

interface TrpcErrorShape {
  message?: unknown;
  data?: { code?: unknown; lepton?: { code?: unknown; message?: unknown } };
}

/**
 * Map anything thrown to a ShownError. LeptonError carries its own code; a tRPC client error carries ours in
 * `data.lepton` (the server's errorFormatter) and the tRPC code in `data.code` as a fallback.
 */
export function describeError(err: unknown, platform: ShownError['platform']): ShownError {
  if (isLeptonError(err)) return { code: err.code, message: err.message, platform };
  if (err instanceof Error) {
    const shaped = err as Error & TrpcErrorShape;
    const lepton = shaped.data?.lepton;
    if (lepton && typeof lepton.code === 'string') {
      const message = typeof lepton.message === 'string' ? lepton.message : err.message;
      return { code: lepton.code, message, platform };
    }
    if (typeof shaped.data?.code === 'string') return { code: shaped.data.code, message: err.message, platform };
    return { code: err.name === 'Error' ? 'INTERNAL' : err.name, message: err.message, platform };
  }
  return { code: 'INTERNAL', message: String(err), platform };
}

export function formatError(e: ShownError): string {
  return `${e.platform}: ${e.code}: ${e.message}`;
}
