// Test helpers: file locations (the tests run from dist/test/).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The sdk-ts folder. */
export const pkgRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The repository root. */
export const repoRoot = resolve(pkgRoot, '..');

/** Reads a JSON file of sdk-ts/test/testdata. */
export function testdata(name: string): any {
  return JSON.parse(readFileSync(join(pkgRoot, 'test', 'testdata', name), 'utf8'));
}

/**
 * The @phala/sdk oracle's folder: $CELLA_PHALA_ORACLE, else ../shared/oracle/phala
 * next to the repository (never copied into it); undefined when absent.
 */
export function oracleDir(): string | undefined {
  for (const d of [process.env.CELLA_PHALA_ORACLE, join(repoRoot, '..', 'shared', 'oracle', 'phala')]) {
    if (d && existsSync(join(d, 'vectors.json'))) {
      return d;
    }
  }
  return undefined;
}

/** Reads a JSON file of the oracle. */
export function oracleFile(name: string): any {
  return JSON.parse(readFileSync(join(oracleDir()!, name), 'utf8'));
}

/** Reads a file of the repository. */
export function repoFile(path: string): Buffer {
  return readFileSync(join(repoRoot, path));
}
