import { DTYPES, DTYPE_INFO, LeptonError, type DType } from '@lepton/tensor-core';

// KServe v2 datatype names <-> Lepton dtypes, from tensor-core's one table (DTYPE_INFO.kserve), so the two
// never drift apart.
const BY_KSERVE = new Map<string, DType>(DTYPES.map((d) => [DTYPE_INFO[d].kserve, d]));

/** Every KServe datatype name we accept, for error messages. */
export const KSERVE_DATATYPES: readonly string[] = DTYPES.map((d) => DTYPE_INFO[d].kserve);

export function kserveDatatypeOf(dtype: DType): string {
  return DTYPE_INFO[dtype].kserve;
}

/** The dtype for a KServe datatype name (case-sensitive, as the protocol says); DTYPE_UNSUPPORTED otherwise. */
export function dtypeOfKserve(datatype: unknown, what: string): DType {
  const d = typeof datatype === 'string' ? BY_KSERVE.get(datatype) : undefined;
  if (d === undefined) {
    throw new LeptonError(
      'DTYPE_UNSUPPORTED',
      `${what} has datatype ${JSON.stringify(datatype)}; expected one of ${KSERVE_DATATYPES.join(', ')}`,
      { datatype: typeof datatype === 'string' ? datatype : String(datatype) },
    );
  }
  return d;
}
