// Which messages between the job's threads cost time: loaded before a command with `node --import`, it
// times every postMessage (the training thread's to its helpers, and the helpers' answers through their
// ports) and prints, on stderr, each one over the threshold with a sketch of what it carried (typed arrays with their length and
// whether their memory is shared). Node only; a measuring aid, never loaded by the job itself.
//   MLP_LENS_MESSAGE_MS=2 node --import ./bench/thread-messages.mjs bench/train.js --out RUN --replace 2>&1 >/dev/null
import { MessagePort, Worker, threadId } from 'node:worker_threads';
import process from 'node:process';

const threshold = Number(process.env.MLP_LENS_MESSAGE_MS ?? 2);
const t0 = performance.now();

/** a short shape of a message: objects' keys, arrays' lengths and first items, typed arrays' kind */
function sketch(v, depth = 0) {
  if (v === null || typeof v !== 'object') return typeof v;
  if (ArrayBuffer.isView(v)) {
    const shared = typeof SharedArrayBuffer === 'function' && v.buffer instanceof SharedArrayBuffer;
    return `${v.constructor.name}(${v.length}${shared ? ' shared' : ''}, buffer ${v.buffer.byteLength})`;
  }
  if (depth > 3) return Array.isArray(v) ? `[${v.length}]` : '{…}';
  if (Array.isArray(v)) return `[${v.length}: ${v.slice(0, 6).map((x) => sketch(x, depth + 1)).join('; ')}]`;
  return `{${Object.entries(v).slice(0, 8).map(([k, x]) => `${k}: ${sketch(x, depth + 1)}`).join(', ')}}`;
}

function timed(proto, who) {
  const post = proto.postMessage;
  proto.postMessage = function (message, transfer) {
    const start = performance.now();
    const r = post.call(this, message, transfer);
    const ms = performance.now() - start;
    if (ms > threshold) {
      process.stderr.write(`[thread ${threadId}] ${who} ${ms.toFixed(1)} ms at ${((start - t0) / 1000).toFixed(2)} s: ${sketch(message).slice(0, 400)}\n`);
    }
    return r;
  };
}
timed(Worker.prototype, 'to a helper');
// (a Worker's postMessage goes through its port too: on the training thread a send shows twice)
timed(MessagePort.prototype, 'through a port');
