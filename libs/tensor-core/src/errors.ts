/**
 * The one error type every Lepton library throws for a fault the caller can fix. `code` is stable (listed with
 * its HTTP/tRPC mapping in @lepton/contracts ERROR_CODES); `message` names the value and what was expected.
 */
export class LeptonError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'LeptonError';
    this.code = code;
    this.details = details;
  }
}

export function isLeptonError(value: unknown): value is LeptonError {
  return value instanceof LeptonError || (value instanceof Error && typeof (value as { code?: unknown }).code === 'string' && value.name === 'LeptonError');
}
