export { registerLoadtestCommand } from './command';
export { runLoadTest, checkLoopback, type LoadTestOptions } from './runner';
export { prepareRequest, syntheticInputs, LOAD_PROTOCOLS, type LoadProtocol, type PreparedRequest } from './payload';
export { percentile, summarize, toCsv, toTable, type StepResult } from './stats';
