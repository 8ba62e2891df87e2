import type { CreateRunner, Sample } from '../report/evaluate';
import type { PassResult } from './common';
import { Calibrator, calibrationModel, type CalibratorOptions } from './calibration';
import { quantizeStatic, type Int8StaticOptions, type Int8StaticReport } from './int8-static';
import type { ModelInput } from './common';

/**
 * Calibrate on `samples` with the caller's runtime, then quantize: the whole int8-static flow in one call. The
 * runtime is injected, so the same code calibrates on onnxruntime-node, onnxruntime-web or any other predictor.
 */
export async function calibrateAndQuantize(
  input: ModelInput,
  samples: Iterable<Sample> | AsyncIterable<Sample>,
  createRunner: CreateRunner,
  options: Int8StaticOptions & CalibratorOptions = {},
): Promise<PassResult<Int8StaticReport>> {
  const calib = calibrationModel(input, options);
  const runner = await createRunner(calib.model);
  const calibrator = new Calibrator(calib.tensors, options);
  for await (const s of samples) calibrator.observe(await runner.run(s.feeds));
  return quantizeStatic(input, calibrator.ranges(), {
    ...options,
    calibrationMethod: calibrator.method,
    calibrationSamples: calibrator.samples,
    calibrationSkippedNonFinite: calibrator.skippedNonFinite(),
  });
}
