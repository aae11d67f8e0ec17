/**
 * Where each contender lives. Modules are imported only when a benchmark asks for them, so a
 * contender that does not build yet (disgate while its Client and Session are being written)
 * fails its own probe without taking the others down.
 */
import { isContender, type Contender } from './contender.js';

/** Contender name (as used on the command line) → module path relative to this file. */
export const CONTENDER_MODULES: Readonly<Record<string, string>> = {
  raw: './raw.js',
  'raw-awaited': './raw-awaited.js',
  discordjs: './discordjs.js',
  disgate: './disgate.js',
};

/** Every contender name, in table order; `raw` first because the ratios are relative to it. */
export const CONTENDER_NAMES: readonly string[] = Object.keys(CONTENDER_MODULES);

/**
 * Imports a contender by name.
 *
 * @throws Error when the name is unknown, the module fails to load, or it exports no contender
 */
export async function loadContender(name: string): Promise<Contender> {
  const path = CONTENDER_MODULES[name];
  if (path === undefined) throw new Error(`unknown contender "${name}" (known: ${CONTENDER_NAMES.join(', ')})`);
  const module: unknown = await import(path);
  const candidate: unknown = typeof module === 'object' && module !== null ? Reflect.get(module, 'default') : undefined;
  if (!isContender(candidate)) throw new Error(`${path} has no default export implementing Contender`);
  return candidate;
}
