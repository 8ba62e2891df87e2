import { detExp, detLog } from '../post/det-math';
import { checkLength, invalid } from '../quant/validate';

export type Reduction = 'mean' | 'sum';

function rowsOf(x: { length: number }, classes: number): number {
  if (!Number.isInteger(classes) || classes < 1 || x.length % classes !== 0) {
    invalid('classes', `is ${classes}; expected a positive integer dividing the ${x.length} scores`);
  }
  return x.length / classes;
}

function checkLabels(labels: ArrayLike<number>, rows: number, classes: number): void {
  checkLength('labels', labels, rows);
  for (let r = 0; r < rows; r++) {
    const l = labels[r]!;
    if (!Number.isInteger(l) || l < 0 || l >= classes) invalid(`labels[${r}]`, `is ${l}; expected an integer in [0, ${classes - 1}]`);
  }
}

function reduce(total: number, n: number, reduction: Reduction): number {
  return reduction === 'sum' ? total : n === 0 ? NaN : total / n;
}

/** log(sum(exp(x))) of one row, max-shifted so it never overflows. */
function logSumExp(x: ArrayLike<number>, start: number, n: number): number {
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (x[start + i]! > max) max = x[start + i]!;
  if (max === -Infinity) return -Infinity;
  let s = 0;
  for (let i = 0; i < n; i++) s += detExp(x[start + i]! - max);
  return max + detLog(s);
}

export interface CrossEntropyOptions {
  /** Scores are logits (default) or probabilities. */
  from?: 'logits' | 'probabilities';
  reduction?: Reduction;
}

/**
 * Cross-entropy of rows [rows, classes] against integer labels: from logits as logsumexp(x) - x[label]
 * (stable); from probabilities as -log(p[label]) with p clamped to >= 1e-12 so a zero gives a large finite loss.
 */
export function crossEntropy(scores: ArrayLike<number>, classes: number, labels: ArrayLike<number>, options: CrossEntropyOptions = {}): number {
  const rows = rowsOf(scores, classes);
  checkLabels(labels, rows, classes);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const at = r * classes + labels[r]!;
    if ((options.from ?? 'logits') === 'logits') total += logSumExp(scores, r * classes, classes) - scores[at]!;
    else total -= detLog(Math.max(scores[at]!, 1e-12));
  }
  return reduce(total, rows, options.reduction ?? 'mean');
}

/** Negative log-likelihood from log-probabilities [rows, classes]: -logp[label]. */
export function nllLoss(logProbs: ArrayLike<number>, classes: number, labels: ArrayLike<number>, reduction: Reduction = 'mean'): number {
  const rows = rowsOf(logProbs, classes);
  checkLabels(labels, rows, classes);
  let total = 0;
  for (let r = 0; r < rows; r++) total -= logProbs[r * classes + labels[r]!]!;
  return reduce(total, rows, reduction);
}

function pairwise(a: ArrayLike<number>, b: ArrayLike<number>, f: (d: number) => number, reduction: Reduction): number {
  checkLength('b', b, a.length);
  let total = 0;
  for (let i = 0; i < a.length; i++) total += f(a[i]! - b[i]!);
  return reduce(total, a.length, reduction);
}

/** Mean (or summed) squared error. */
export function mse(a: ArrayLike<number>, b: ArrayLike<number>, reduction: Reduction = 'mean'): number {
  return pairwise(a, b, (d) => d * d, reduction);
}

/** Mean (or summed) absolute error. */
export function mae(a: ArrayLike<number>, b: ArrayLike<number>, reduction: Reduction = 'mean'): number {
  return pairwise(a, b, Math.abs, reduction);
}

export interface BceOptions {
  from?: 'logits' | 'probabilities';
  reduction?: Reduction;
}

/**
 * Binary cross-entropy against targets in [0, 1]. From logits: max(x, 0) - x t + log(1 + e^-|x|), stable for
 * any x. From probabilities: p clamped to [1e-12, 1 - 1e-12] so 0 and 1 give large finite losses.
 */
export function binaryCrossEntropy(scores: ArrayLike<number>, targets: ArrayLike<number>, options: BceOptions = {}): number {
  checkLength('targets', targets, scores.length);
  let total = 0;
  const logits = (options.from ?? 'probabilities') === 'logits';
  for (let i = 0; i < scores.length; i++) {
    const t = targets[i]!;
    if (!(t >= 0 && t <= 1)) invalid(`targets[${i}]`, `is ${t}; expected a number in [0, 1]`);
    const x = scores[i]!;
    if (logits) total += Math.max(x, 0) - x * t + detLog(1 + detExp(-Math.abs(x)));
    else {
      const p = Math.min(Math.max(x, 1e-12), 1 - 1e-12);
      total -= t * detLog(p) + (1 - t) * detLog(1 - p);
    }
  }
  return reduce(total, scores.length, options.reduction ?? 'mean');
}
