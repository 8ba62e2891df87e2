// Post-processing: softmax family, sigmoid, argmax and top-k, with engine-independent exp/log.
export * from './det-math';
export * from './softmax';
export * from './argmax';
export { axisView, type AxisView } from './rows';
export * from './fast-exp';
