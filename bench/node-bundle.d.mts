// Types of bench/node-bundle.mjs (plain JavaScript: Node runs it before it can read TypeScript).
/** the URL of a fresh cached bundle of `entry` (relative to the repository root), or null where none can be had */
export function bundledEntry(entry: string, setting?: string): Promise<string | null>;
/** whether every [path, size, mtimeMs] still holds */
export function inputsUnchanged(inputs: [path: string, size: number, mtimeMs: number][]): boolean;
/** the repository-relative paths of the modules the run layer calls on helper threads */
export function taskModules(): string[];
