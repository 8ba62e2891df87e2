import { checkInteger, checkLength, invalid } from '../quant/validate';

/**
 * Share of rows of scores [rows, classes] whose label is among the k highest scores. A label tied with the k-th
 * score counts as a hit only if fewer than k scores are strictly higher (ties do not push it out).
 */
export function topKAccuracy(scores: ArrayLike<number>, classes: number, labels: ArrayLike<number>, k: number): number {
  if (!Number.isInteger(classes) || classes < 1 || scores.length % classes !== 0) {
    invalid('classes', `is ${classes}; expected a positive integer dividing the ${scores.length} scores`);
  }
  const rows = scores.length / classes;
  checkInteger('k', k, 1, classes);
  checkLength('labels', labels, rows);
  if (rows === 0) return NaN;
  let hits = 0;
  for (let r = 0; r < rows; r++) {
    const label = labels[r]!;
    if (!Number.isInteger(label) || label < 0 || label >= classes) invalid(`labels[${r}]`, `is ${label}; expected an integer in [0, ${classes - 1}]`);
    const base = r * classes;
    const own = scores[base + label]!;
    let higher = 0;
    for (let c = 0; c < classes; c++) if (scores[base + c]! > own) higher++;
    if (higher < k && own === own) hits++;
  }
  return hits / rows;
}

/** Top-1 accuracy. */
export function accuracy(scores: ArrayLike<number>, classes: number, labels: ArrayLike<number>): number {
  return topKAccuracy(scores, classes, labels, 1);
}
