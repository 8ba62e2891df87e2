/** 0004_variant_jobs: background builds of web/edge variants (see src/variants/). */
export interface VariantJobsTable {
  id: string;
  model_id: string;
  version: string;
  /** Target profile: web | edge. */
  target: string;
  /** int8-weight | int8-dynamic | fp16, or int8-auto until the worker has chosen. */
  pass: string;
  /** queued | running | succeeded | failed */
  status: string;
  /** 0..1 */
  progress: number;
  stage: string | null;
  error_code: string | null;
  error_message: string | null;
  /** VariantReport JSON (succeeded jobs). */
  report: string | null;
  variant_id: string | null;
  precision: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** Tie-breaker for jobs created in the same millisecond: queue order. */
  seq: number;
}
