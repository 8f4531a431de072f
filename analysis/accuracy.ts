// accuracy per class and the misclassified samples, from logits and labels (pure, host arrays).

/** argmax of each row of logits [n, classes] (first maximum on ties, like torch.argmax) → [n] */
export function predictionsOf(logits: Float32Array, classes: number): Uint8Array {
  const n = logits.length / classes;
  const pred = new Uint8Array(n); // [n]
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[i * classes + c] > logits[i * classes + best]) best = c;
    pred[i] = best;
  }
  return pred;
}

export interface ClassAccuracy {
  /** overall accuracy in % */
  accuracy: number;
  /** accuracy of each true class in % [classes] (NaN for a class with no sample) */
  perClass: number[];
  /** samples of each class [classes] */
  counts: number[];
  /** right predictions of each class [classes] */
  correct: number[];
}

/** overall and per-true-class accuracy of predictions [n] against labels [n] */
export function accuracyPerClass(pred: ArrayLike<number>, labels: ArrayLike<number>, classes: number): ClassAccuracy {
  const counts = new Array<number>(classes).fill(0), correct = new Array<number>(classes).fill(0);
  let right = 0;
  for (let i = 0; i < labels.length; i++) {
    counts[labels[i]]++;
    if (pred[i] === labels[i]) { correct[labels[i]]++; right++; }
  }
  return {
    accuracy: (100 * right) / labels.length,
    perClass: counts.map((n, c) => (n ? (100 * correct[c]) / n : NaN)),
    counts, correct,
  };
}

/** classes ordered by accuracy, best first (ties: lower class first), as NB01 cell 49 prints them */
export function classesByAccuracy(perClass: readonly number[]): { cls: number; accuracy: number }[] {
  return perClass.map((accuracy, cls) => ({ cls, accuracy })).sort((a, b) => b.accuracy - a.accuracy || a.cls - b.cls);
}

export interface Misclassified {
  /** row in the analysed data */
  row: number;
  /** index in the source split */
  index: number;
  label: number;
  pred: number;
  /** softmax probability of the predicted class */
  confidence: number;
  /** softmax probability of the true class */
  trueProb: number;
}

/** every sample whose argmax differs from its label, with softmax confidences, in data order */
export function misclassified(
  logits: Float32Array, labels: ArrayLike<number>, classes: number, indices?: ArrayLike<number>,
): Misclassified[] {
  const out: Misclassified[] = [];
  const pred = predictionsOf(logits, classes);
  for (let i = 0; i < labels.length; i++) {
    if (pred[i] === labels[i]) continue;
    const row = logits.subarray(i * classes, (i + 1) * classes);
    const m = row[pred[i]];
    let z = 0;
    for (let c = 0; c < classes; c++) z += Math.exp(row[c] - m);
    out.push({
      row: i, index: indices ? indices[i] : i, label: labels[i], pred: pred[i],
      confidence: 1 / z, trueProb: Math.exp(row[labels[i]] - m) / z,
    });
  }
  return out;
}
