/**
 * `npm run bundle`: the action's bundle, dist/index.js plus the chunks it loads on demand, and
 * dist/licenses.txt for the packages inside. esbuild with code splitting, so what a run needs
 * only later (the Compute and Resource Graph clients, see src/azure-clients.ts) is a separate file
 * that is not even parsed before the first request, and minified, because start-up time is mostly
 * V8 compiling source text: fewer bytes, sooner the first request.
 *
 * Node's own modules are loaded with `require`, not `import`: importing `node:http` as an ES module
 * makes Node build its export namespace, and reading every export runs the lazy getters behind
 * `http.WebSocket` and friends, which load Node's internal copy of undici at start-up.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { build, type Plugin } from 'esbuild';

const OUT = 'dist';
const builtins = new Set([...builtinModules, ...builtinModules.map(m => `node:${m}`)]);

const builtinsByRequire: Plugin = {
  name: 'node-builtins-by-require',
  setup(b) {
    b.onResolve({ filter: /.*/ }, args =>
      builtins.has(args.path) && args.namespace !== 'builtin'
        ? { path: args.path, namespace: 'builtin' }
        : undefined
    );
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, args => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js'
    }));
    b.onResolve({ filter: /.*/, namespace: 'builtin' }, args => ({ path: args.path, external: true }));
  }
};

/**
 * Packages that a dependency imports at its top but that a run uses rarely or never. Each such
 * import gets a stand-in with the used part of the API, which loads the package, bundled apart in
 * dist/chunks/<name>.cjs, on first use: nothing to parse or run until then.
 * - undici (half of what a run loaded before its first request): @actions/http-client uses it only
 *   for a ProxyAgent when `fetch` goes through a proxy, which this action never asks for; the
 *   GitHub OIDC request, a run's first, goes over node:http.
 * - jsonwebtoken (with semver, which builds its regular expressions at load): MSAL signs a client
 *   assertion with it only for a certificate credential; GitHub OIDC hands it a ready assertion.
 */
const ON_DEMAND = [
  { name: 'undici', importer: '@actions/http-client', exports: ['ProxyAgent'] },
  { name: 'jsonwebtoken', importer: '@azure/msal-node', exports: ['sign'] }
];
const chunkOf = (name: string) => `chunks/${name}.cjs`;

const onDemand: Plugin = {
  name: 'on-demand',
  setup(b) {
    for (const pkg of ON_DEMAND) {
      b.onResolve({ filter: new RegExp(`^${pkg.name}$`) }, args =>
        args.importer.replace(/\\/g, '/').includes(`/node_modules/${pkg.importer}/`)
          ? { path: pkg.name, namespace: 'on-demand' }
          : undefined
      );
    }
    b.onResolve({ filter: /\.cjs$/, namespace: 'on-demand' }, args => ({ path: args.path, external: true }));
    b.onLoad({ filter: /.*/, namespace: 'on-demand' }, args => {
      const pkg = ON_DEMAND.find(p => p.name === args.path)!;
      const getters = pkg.exports.map(e => `get ${e}() { return load().${e}; }`).join(', ');
      return {
        contents: `let pkg;\nconst load = () => (pkg ??= require('./${chunkOf(pkg.name)}'));\nmodule.exports = { ${getters} };`,
        loader: 'js'
      };
    });
  }
};

rmSync(OUT, { recursive: true, force: true });
const result = await build({
  entryPoints: ['src/index.ts'],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  minify: true,
  // Error messages and SDK logs name classes: keep their names.
  keepNames: true,
  legalComments: 'none',
  outdir: OUT,
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
  // ES modules have no `require`; bundled CommonJS packages and the plugin above need one.
  banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
  plugins: [builtinsByRequire, onDemand]
});
// A stand-in's `require('./chunks/….cjs')` is relative to the file it lands in, which is
// dist/index.js unless code it shares with a chunk loaded on demand (@actions/github shares
// @actions/http-client with @actions/core) moved it into a shared chunk: point it from there.
for (const pkg of ON_DEMAND) {
  const home = Object.entries(result.metafile.outputs).find(
    ([, o]) => `on-demand:${pkg.name}` in o.inputs
  )?.[0];
  if (!home) continue; // not bundled at all
  if (home === join(OUT, 'index.js')) continue;
  const from = new RegExp(`(["'])\\./${chunkOf(pkg.name).replace(/\./g, '\\.')}\\1`);
  const to = `"./${relative(dirname(home), join(OUT, chunkOf(pkg.name))).replace(/\\/g, '/')}"`;
  const code = readFileSync(home, 'utf8');
  if (!from.test(code))
    throw new Error(`the ${pkg.name} stand-in in ${home} names no ./${chunkOf(pkg.name)}`);
  writeFileSync(home, code.replace(from, to));
}
const apart = [];
for (const pkg of ON_DEMAND) {
  apart.push(
    await build({
      // The copy that the importing package itself would load.
      entryPoints: [
        createRequire(join(process.cwd(), 'node_modules', pkg.importer, 'package.json')).resolve(pkg.name)
      ],
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node24',
      minify: true,
      keepNames: true,
      legalComments: 'none',
      outfile: join(OUT, chunkOf(pkg.name)),
      metafile: true,
      logLevel: 'warning'
    })
  );
}
writeFileSync(join(OUT, 'package.json'), '{\n  "type": "module"\n}\n');
writeFileSync(
  join(OUT, 'licenses.txt'),
  licenses([result, ...apart].flatMap(r => Object.keys(r.metafile.inputs)))
);

/** Each bundled package's name, version, license and license text. */
function licenses(inputs: string[]): string {
  const roots = new Set<string>();
  // Inputs in a plugin's namespace (`builtin:http`, …) are stand-ins, not files.
  for (const input of inputs.filter(i => !/^[\w-]+:/.test(i))) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) roots.add(m[1]!);
  }
  return [...roots]
    .map(root => {
      const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
        name: string;
        version: string;
        license?: string;
      };
      const file = readdirSync(root).find(f => /^(licen[cs]e|copying)(\.|$)/i.test(f));
      const text = file ? readFileSync(join(root, file), 'utf8').trim() : '';
      return {
        name: `${pkg.name}@${pkg.version}`,
        text: `${pkg.name} ${pkg.version}\n${pkg.license ?? 'UNKNOWN'}\n${text}\n`
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name))
    .filter((p, i, all) => i === 0 || all[i - 1]!.name !== p.name)
    .map(p => p.text)
    .join('\n');
}
