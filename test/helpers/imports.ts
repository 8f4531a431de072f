// the imports of our source files, read with TypeScript's own scanner (ts.preProcessFile: import,
// export … from, import('literal'), type-only ones too; comments and strings are not mistaken for
// imports). Used by test/architecture.test.ts (the import rules) and test/deno-files.ts (which tests run
// under Deno).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

export interface ImportRef {
  /** the importing file, relative to the root, with / separators */
  file: string;
  line: number;
  specifier: string;
  /** for a relative specifier: the imported file, relative to the root */
  target?: string;
}

const posix = (p: string) => p.split(sep).join('/');

/** every .ts/.js/.mjs file under `dirs` (relative to `root`; a file given there is taken as is), sorted; node_modules and dist left out */
export function sourceFiles(root: string, dirs: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    let entries;
    try { entries = readdirSync(join(root, dir), { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      const path = dir === '.' ? e.name : `${dir}/${e.name}`;
      if (e.isDirectory()) { if (e.name !== 'node_modules' && e.name !== 'dist' && !e.name.startsWith('.')) walk(path); }
      else if (/\.(ts|js|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(path);
    }
  };
  for (const d of dirs) {
    if (existsSync(join(root, d)) && statSync(join(root, d)).isFile()) out.push(d);
    else walk(d);
  }
  return out.sort();
}

/** the imports of `file` (relative to `root`) that have a literal specifier */
export function importsOf(root: string, file: string): ImportRef[] {
  const text = readFileSync(join(root, file), 'utf8');
  const { importedFiles } = ts.preProcessFile(text, true, true);
  const lineOf = (pos: number) => text.slice(0, pos).split('\n').length;
  return importedFiles.map(({ fileName, pos }) => {
    const ref: ImportRef = { file, line: lineOf(pos), specifier: fileName };
    if (fileName.startsWith('.')) ref.target = posix(relative(root, resolve(root, dirname(file), fileName)));
    return ref;
  });
}

/**
 * `file` and every file it reaches through relative imports (relative to `root`); only the files for
 * which `follow` says yes have their own imports followed (the others are in the set, not expanded)
 */
export function importClosure(root: string, file: string, follow: (file: string) => boolean = () => true): Set<string> {
  const seen = new Set<string>();
  const stack = [file];
  while (stack.length) {
    const f = stack.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    if (f !== file && !follow(f)) continue;
    let refs: ImportRef[];
    try { refs = importsOf(root, f); } catch { continue; } // a missing file: the test itself will say so
    for (const r of refs) if (r.target) stack.push(r.target);
  }
  return seen;
}
