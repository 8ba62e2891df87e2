// The web app's pure helpers, exported for other packages' tests and tools; the page itself starts in main.ts.
export { encodeWav16, floatToInt16 } from './wav-encoder';
export { compareProbabilities, msPerChunk, type Comparison } from './compare';
