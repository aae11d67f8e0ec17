/**
 * Transpiles `lib/`, `types/` and `bench/` to plain JavaScript in `.bench-out/` before any
 * measurement. The children then run on bare `node`: under tsx every process would also carry
 * tsx's loader thread (about 40 MB of extra RSS) and pay its compile time, which would blur
 * exactly the figures the benchmarks exist to show. Type-checking is `npm run typecheck`'s job;
 * this step only strips types, file by file, so it takes about a second.
 */
import { mkdir, readdir, rm, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

/** The folders that make up everything a child process can load. */
const SOURCE_DIRS = ['lib', 'types', 'bench'];

const COMPILER_OPTIONS: ts.CompilerOptions = {
  module: ts.ModuleKind.ESNext,
  target: ts.ScriptTarget.ES2023,
  verbatimModuleSyntax: true,
  sourceMap: false,
};

async function* sources(dir: string): AsyncGenerator<string> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) yield path;
  }
}

/**
 * Writes `<root>/.bench-out/<pid>/<dir>/<file>.js` for every TypeScript file of the source
 * folders. Each runner gets its own tree, so a CI gate and a full run never overwrite each
 * other's files; {@link removeBuild} deletes it afterwards.
 *
 * @param root - the repository root
 * @returns the output folder
 * @throws Error naming the file when one has a syntax error
 */
export async function buildBench(root: string): Promise<string> {
  const out = join(root, '.bench-out', String(process.pid));
  await rm(out, { recursive: true, force: true });
  for (const dir of SOURCE_DIRS) {
    for await (const file of sources(join(root, dir))) {
      const source = await readFile(file, 'utf8');
      const result = ts.transpileModule(source, { compilerOptions: COMPILER_OPTIONS, fileName: file, reportDiagnostics: true });
      const errors = (result.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
      if (errors.length > 0) {
        const message = ts.flattenDiagnosticMessageText(errors[0]?.messageText ?? 'syntax error', '\n');
        throw new Error(`${relative(root, file)}: ${message}`);
      }
      const target = join(out, relative(root, file)).replace(/\.ts$/, '.js');
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, result.outputText);
    }
  }
  // The repository's package.json says "type": "module"; the copy tree needs the same.
  await writeFile(join(out, 'package.json'), '{ "type": "module" }\n');
  return out;
}

/** Deletes a tree made by {@link buildBench}. */
export async function removeBuild(out: string): Promise<void> {
  await rm(out, { recursive: true, force: true });
}
