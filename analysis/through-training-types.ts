// The shape of the analyses through training (analysis/through-training.ts computes them from the
// weights kept after every epoch; run/ saves them as RUN/through-training.json; the report and the page
// draw them). One type, so producer and consumers agree. Epoch −1 is the initial weights.

/** the format tag and version of RUN/through-training.json */
export const THROUGH_TRAINING_FORMAT = 'mlp-lens/through-training';

/** the fixed, seeded, class-stratified sample of test images every epoch is looked at on */
export interface EpochSample {
  /** rows of the test split, sorted ascending [count] */
  rows: number[];
  /** their labels [count] */
  labels: number[];
  seed: number;
  /** rows per class [classes] */
  perClass: number[];
  /** the probe's held-out rows: positions in `rows` (not test-split rows), sorted [heldOut] */
  heldOut: number[];
}

/** one hidden layer (its ReLU output, `layers.K.post`) at one epoch */
export interface LayerAtEpoch {
  /** S[c][i] as analysis/selectivity.ts, from the class means on the sample [classes][width] */
  selectivity: number[][];
  /** per class the 3 most selective neurons [classes][3] */
  top3: number[][];
  /** per neuron its most selective class [width] */
  topClass: number[];
  /** neurons active (> 0) on none of the sample's rows */
  dead: number[];
  /** neurons active on fewer than 1 % of the rows (but some) */
  rare: number[];
  /** fraction of rows on which each neuron is active [width] */
  activeFraction: number[];
  /** silhouette of the labels in this layer's space (euclidean), exact on the sample */
  silhouette: number;
  /** a multinomial logistic-regression probe trained on the sample's other rows, scored on its held-out rows (%, and on its training rows) */
  probe: { heldOutAccuracy: number; trainAccuracy: number };
  /** the 2-D PCA of the sample's rows in this layer, rotated into the last epoch's axes (orthogonal Procrustes) [count][2] */
  aligned: number[][];
  /** explained variance ratio of the two axes (before rotation) [2] */
  explained: number[];
}

export interface EpochAnalysis {
  /** −1: the initial weights; 0…: after that epoch */
  epoch: number;
  /** one per hidden layer, in model order */
  layers: LayerAtEpoch[];
  /** linear CKA between hidden layers at this epoch [hidden][hidden] */
  ckaLayers: number[][];
  /** test accuracy of the model on the sample (%) */
  sampleAccuracy: number;
}

/** a finding stated in words, computed from the numbers, with the table it comes from */
export interface Finding {
  /** e.g. 'neuron 14 of layer 1 is the most class-7-selective neuron from epoch 3 on' */
  text: string;
  /** what kind: 'selective-from', 'dies', 'never-fires', 'clusters-form', 'layer-first', … */
  kind: string;
  /** the table the sentence reads: column names and rows of numbers */
  table: { columns: string[]; rows: (number | string)[][] };
}

export interface ThroughTraining {
  format: typeof THROUGH_TRAINING_FORMAT;
  version: 1;
  /** layer sizes of the model, input to classes */
  sizes: number[];
  classes: number;
  sample: EpochSample;
  /** the epochs analysed, ascending (−1 first when the initial weights were kept) */
  epochs: number[];
  /** per epoch, in `epochs` order */
  perEpoch: EpochAnalysis[];
  /** per hidden layer, linear CKA between its representation at epoch e and at epoch f [hidden][epochs][epochs] */
  ckaEpochs: number[][][];
  findings: Finding[];
  /** seconds each part took */
  timings: Record<string, number>;
}
