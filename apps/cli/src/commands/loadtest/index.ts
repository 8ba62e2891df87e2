export { registerLoadtestCommand } from './command';
export { runLoadTest, runPreparedSteps, checkLoopback, type LoadTestOptions, type StepPlan } from './runner';
export { RawConnection, responseEnd, serializeRequest } from './raw-http';
export { prepareRequest, syntheticInputs, LOAD_PROTOCOLS, type LoadProtocol, type PreparedRequest } from './payload';
export { percentile, summarize, toCsv, toTable, type StepResult } from './stats';
