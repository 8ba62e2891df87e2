// The one numeric closeness helper every test uses (explicit atol and rtol; NaN equals NaN).
export * from './assert-close';
