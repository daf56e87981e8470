// Builds the web app into ../internal/web/dist, which the cella binary
// embeds (internal/web). The TypeScript SDK is bundled from its sources in
// ../sdk-ts/src; its @polkadot dependencies resolve from this package's
// node_modules, so one `npm ci` here is enough.
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'internal', 'web', 'dist');

// Bare imports from the SDK's sources resolve from this package's
// node_modules even when sdk-ts/ has its own (after its tests ran): one set
// of @polkadot modules in the bundle, and the same bytes either way.
const sdkDir = join(here, '..', 'sdk-ts');
const sdkDepsFromWeb = {
  name: 'sdk-deps-from-web',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (!args.importer.startsWith(sdkDir) || args.pluginData?.fromWeb) return undefined;
      return b.resolve(args.path, { kind: args.kind, resolveDir: here, pluginData: { fromWeb: true } });
    });
  },
};

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const result = await esbuild.build({
  entryPoints: [join(here, 'src', 'main.ts')],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  legalComments: 'none',
  sourcemap: false,
  metafile: true,
  outfile: join(out, 'app.js'),
  alias: { '@cella-network/sdk': join(here, '..', 'sdk-ts', 'src', 'index.ts') },
  nodePaths: [join(here, 'node_modules')],
  plugins: [sdkDepsFromWeb],
  logLevel: 'warning',
});
cpSync(join(here, 'src', 'index.html'), join(out, 'index.html'));
cpSync(join(here, 'src', 'style.css'), join(out, 'style.css'));
// A marker file so that Go code can tell a real build from an empty folder.
writeFileSync(join(out, 'BUILD'), 'built by web/build.mjs; do not edit (go generate ./internal/web)\n');
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`web: wrote ${out} (${(bytes / 1024).toFixed(0)} KiB of JavaScript)`);
