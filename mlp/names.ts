// canonical names of every tensor the model exposes: activations (and, with the same keys, their
// gradients) and parameters. One scheme, derived from the layer structure.

/**
 * a named activation: `input`, `layers.K.pre` / `layers.K.post` for hidden layer K, `logits`, `loss`.
 * Models with normalisation (mlp/norm.ts) add `layers.K.norm` (the LayerNorm/BatchNorm output, before or
 * after the ReLU) and `layers.K.drop` (the dropout output, training mode only), in model order.
 */
export type ActName =
  | 'input' | `layers.${number}.pre` | `layers.${number}.norm` | `layers.${number}.post` | `layers.${number}.drop`
  | `layers.${number}.pool` | 'logits' | 'loss';
/*
 * A CNN (mlp/cnn.ts) numbers its weighted layers the same way: conv layer K has `layers.K.pre` (the
 * convolution, [B, C, H, W]), `layers.K.post` (its ReLU) and, where a max pooling follows it,
 * `layers.K.pool` (the pooled map); linear layers after it continue the count. `input` stays the
 * flat image [B, pixels] the data gives.
 */

/**
 * a parameter: `layers.K.W` [d_in, d_out] (a conv layer's: [out, in, kh, kw], PyTorch's layout) and `layers.K.b` [d_out]; the output layer is the last K.
 * A normalised hidden layer adds `layers.K.norm.w` and `layers.K.norm.b` [d_out] (the affine weight and bias).
 */
export type ParamName = `layers.${number}.W` | `layers.${number}.b` | `layers.${number}.norm.w` | `layers.${number}.norm.b`;

/** the reference model's names (784-32-16-10), in model order; pinned by a test */
export const REFERENCE_ACT_NAMES = [
  'input', 'layers.0.pre', 'layers.0.post', 'layers.1.pre', 'layers.1.post', 'logits', 'loss',
] as const satisfies readonly ActName[];

/** activation names of an MLP with `hidden` hidden layers, in model order */
export function actNames(hidden: number): ActName[] {
  const names: ActName[] = ['input'];
  for (let k = 0; k < hidden; k++) names.push(`layers.${k}.pre`, `layers.${k}.post`);
  names.push('logits', 'loss');
  return names;
}

export const preName = (k: number): ActName => `layers.${k}.pre`;
export const postName = (k: number): ActName => `layers.${k}.post`;
export const normName = (k: number): ActName => `layers.${k}.norm`;
export const dropName = (k: number): ActName => `layers.${k}.drop`;
export const poolName = (k: number): ActName => `layers.${k}.pool`;

/** the reference CNN's names (conv 8×5, pool 2, conv 16×5, pool 2, linear 32, output), in model order; pinned by a test */
export const REFERENCE_CNN_ACT_NAMES = [
  'input', 'layers.0.pre', 'layers.0.post', 'layers.0.pool', 'layers.1.pre', 'layers.1.post', 'layers.1.pool',
  'layers.2.pre', 'layers.2.post', 'logits', 'loss',
] as const satisfies readonly ActName[];
