// The builders moved to src/testing so app tests can share them (`@lepton/onnx/testing`).
export * from '../../src/testing';
