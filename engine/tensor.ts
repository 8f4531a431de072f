// Tensor and reverse-mode autograd. A tensor is a shape, a dtype and backend storage, plus the op
// that made it and its inputs; backward() walks that graph in reverse topological order.
import type { Backend, DType } from './backend.ts';
import { cpu } from './cpu.ts';
import type { CpuArray, Primitive } from './primitive.ts';
import { fmt, sizeOf, type Shape } from './shape.ts';
import * as P from './ops/index.ts';

let gradEnabled = true;

/** runs `fn` without recording a graph (evaluation, optimiser updates, backward itself). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try { return fn(); } finally { gradEnabled = prev; }
}

export interface TensorOptions {
  backend?: Backend;
  dtype?: DType;
  requiresGrad?: boolean;
  name?: string;
}

export class Tensor {
  /** gradient of the last backward()'s root w.r.t. this tensor; leaves accumulate (+=) across calls */
  grad: Tensor | null = null;
  /** canonical dotted name (`layers.0.pre`) when the model gave one */
  name: string | undefined;

  constructor(
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly backend: Backend,
    public storage: unknown,
    readonly requiresGrad = false,
    /** the primitive that made this tensor ('leaf' for data and parameters) */
    readonly op: string = 'leaf',
    readonly parents: readonly Tensor[] = [],
    private readonly prim?: Primitive<any>,
    private readonly attrs?: unknown,
  ) {}

  /** a tensor holding a copy of host data */
  static from(data: ArrayLike<number>, shape: Shape, opts: TensorOptions = {}): Tensor {
    if (sizeOf(shape) !== data.length) {
      throw new Error(`Tensor.from: ${data.length} values do not fill shape ${fmt(shape)}`);
    }
    const backend = opts.backend ?? cpu, dtype = opts.dtype ?? 'f32';
    const t = new Tensor([...shape], dtype, backend, backend.upload(data, dtype), opts.requiresGrad ?? false);
    t.name = opts.name;
    return t;
  }

  static zeros(shape: Shape, opts: TensorOptions = {}): Tensor {
    return Tensor.from(new Float32Array(sizeOf(shape)), shape, opts);
  }

  get size(): number { return sizeOf(this.shape); }

  /** copies the values to the host (the one asynchronous boundary) */
  read(): Promise<CpuArray> { return this.backend.read(this.storage, this.size, this.dtype); }

  /** the values, on backends whose storage is host memory (cpu) */
  data(): CpuArray { return this.backend.readSync(this.storage, this.size, this.dtype); }

  named(name: string): this { this.name = name; return this; }

  /** the same values, cut from the graph */
  detach(): Tensor { return new Tensor(this.shape, this.dtype, this.backend, this.storage, false, 'detach'); }

  /** replaces this leaf's values (an optimiser step); the old storage is released */
  assign(values: Tensor): void {
    if (values.size !== this.size || values.backend !== this.backend) {
      throw new Error(`assign: ${fmt(values.shape)} on ${values.backend.name} into ${fmt(this.shape)} on ${this.backend.name}`);
    }
    if (values.storage === this.storage) return;
    this.backend.release(this.storage);
    this.storage = values.storage;
  }

  /** fills .grad of every tensor in the graph that requires one; `this` is the root (grad 1) */
  backward(seed?: Tensor): void {
    const order = topoOrder(this);
    // only leaves accumulate across calls: an intermediate's grad belongs to one backward pass
    for (const t of order) if (t.parents.length) t.grad = null;
    noGrad(() => {
      this.grad = accumulate(this.grad, seed ?? P.fill(this, 1));
      for (let i = order.length - 1; i >= 0; i--) {
        const t = order[i];
        if (!t.grad || !t.prim?.backward) continue;
        const grads = t.prim.backward({ inputs: t.parents, out: t, dy: t.grad, attrs: t.attrs });
        t.parents.forEach((p, k) => {
          const rule = grads[k];
          if (rule && p.requiresGrad) p.grad = accumulate(p.grad, rule());
        });
      }
    });
  }

  // --- ops as methods (the primitives and composites live in ops/ and composite.ts)
  matmul(b: Tensor, opts: { transA?: boolean; transB?: boolean } = {}): Tensor { return P.matmul(this, b, opts); }
  add(b: Tensor): Tensor { return P.add(this, b); }
  mul(b: Tensor): Tensor { return P.mul(this, b); }
  scale(s: number): Tensor { return P.scale(this, s); }
  relu(): Tensor { return P.relu(this); }
  exp(): Tensor { return P.exp(this); }
  log(): Tensor { return P.log(this); }
  sum(axis: number, keepDims = false): Tensor { return P.sum(this, axis, keepDims); }
  max(axis: number, keepDims = false): Tensor { return P.max(this, axis, keepDims); }
}

function accumulate(prev: Tensor | null, g: Tensor): Tensor {
  return prev ? P.add(prev, g) : g;
}

/** every tensor `root` depends on, inputs before outputs (iterative: no recursion limit) */
function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [], seen = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [t, k] = top;
    if (k < t.parents.length) {
      top[1]++;
      const p = t.parents[k];
      if (!seen.has(p) && p.requiresGrad) { seen.add(p); stack.push([p, 0]); }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}

/** applies a primitive: checks inputs, computes the output on their backend, records the graph. */
export function apply<A>(prim: Primitive<A>, inputs: readonly Tensor[], attrs: A): Tensor {
  if (inputs.length !== prim.arity) throw new Error(`${prim.name}: expects ${prim.arity} inputs, got ${inputs.length}`);
  const { backend, dtype } = inputs[0];
  for (const t of inputs) {
    if (t.backend !== backend) throw new Error(`${prim.name}: inputs on ${backend.name} and ${t.backend.name}`);
    if (t.dtype !== dtype) throw new Error(`${prim.name}: inputs of dtype ${dtype} and ${t.dtype}`);
  }
  const outShape = prim.shape(inputs.map((t) => t.shape), attrs);
  const storage = backend.run(prim, inputs, outShape, dtype, attrs);
  const track = gradEnabled && !!prim.backward && inputs.some((t) => t.requiresGrad);
  return new Tensor(outShape, dtype, backend, storage, track, prim.name,
    track ? inputs : [], track ? prim : undefined, track ? attrs : undefined);
}
