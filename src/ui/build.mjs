// Builds the console into dist/: one JS and one CSS bundle (and the JS
// chunks of the VM consoles, loaded on first connect) with
// content-hashed names (plus the fonts and images PatternFly's CSS names),
// index.html naming them, and a .gz and .br beside every text file. The
// Rust build embeds dist/ (build.rs); `make ui` runs this after `npm ci`.
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const out = 'dist';
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// Each language's catalogue: every namespace's file merged into one
// content-hashed JSON asset; the bundle learns their paths as __VDI_LOCALES__
// and fetches only the language it shows.
const locales = {};
mkdirSync(join(out, 'assets'), { recursive: true });
for (const lang of readdirSync('src/locales').filter((d) => statSync(join('src/locales', d)).isDirectory()).sort()) {
  const cat = {};
  for (const f of readdirSync(join('src/locales', lang)).filter((f) => f.endsWith('.json')).sort()) {
    cat[f.slice(0, -5)] = JSON.parse(readFileSync(join('src/locales', lang, f), 'utf8'));
  }
  const body = JSON.stringify(cat);
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 10);
  const name = `assets/locale-${lang}-${hash}.json`;
  writeFileSync(join(out, name), body);
  locales[lang] = name;
}

// PatternFly's class maps (react-styles/*.mjs) each import their CSS, and
// esbuild keeps a CSS import even where tree shaking drops the class map,
// so every component's CSS would ship. A first pass finds the class maps
// the JS really uses; the second drops the CSS of every other one.
const common = {
  entryPoints: ['src/main.tsx'],
  bundle: true,
  minify: true,
  sourcemap: false,
  format: 'esm',
  target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
  outdir: join(out, 'assets'),
  entryNames: 'app-[hash]',
  // The VM consoles (noVNC, spice-html5) are imported on first connect:
  // chunks of their own, not in the first load.
  splitting: true,
  chunkNames: 'chunk-[hash]',
  assetNames: '[name]-[hash]',
  loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.svg': 'file', '.png': 'file', '.jpg': 'file', '.otf': 'file' },
  define: { 'process.env.NODE_ENV': '"production"', __VDI_LOCALES__: JSON.stringify(locales) },
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
};
const probe = await esbuild.build({ ...common, write: false, outdir: join(out, 'probe') });
const used = new Set();
for (const [file, o] of Object.entries(probe.metafile.outputs)) {
  if (!file.endsWith('.js')) continue;
  for (const [input, i] of Object.entries(o.inputs)) if (i.bytesInOutput > 0 && input.includes('@patternfly/react-styles/css/')) used.add(input);
}
const unusedStyles = {
  name: 'unused-patternfly-css',
  setup(b) {
    b.onResolve({ filter: /\.css$/ }, (args) => {
      if (!args.importer.includes('@patternfly/react-styles/css/')) return undefined;
      const importer = relative(process.cwd(), args.importer);
      return used.has(importer) ? undefined : { path: args.path, namespace: 'unused-css' };
    });
    b.onLoad({ filter: /.*/, namespace: 'unused-css' }, () => ({ contents: '', loader: 'css' }));
  },
};
const result = await esbuild.build({ ...common, plugins: [unusedStyles] });

const outputs = Object.keys(result.metafile.outputs).map((p) => relative(out, p));
const js = Object.entries(result.metafile.outputs)
  .filter(([, o]) => o.entryPoint === 'src/main.tsx')
  .map(([p]) => relative(out, p))
  .find((p) => p.endsWith('.js'));
const chunks = outputs.filter((p) => p.endsWith('.js') && p !== js).sort();
const css = outputs.find((p) => p.endsWith('.css'));
if (!js || !css) throw new Error(`esbuild produced no JS or CSS bundle: ${outputs.join(', ')}`);

const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vdi-appliance</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/${css}">
<script type="module" src="/${js}"></script>
</head>
<body>
<div id="root"></div>
<noscript>The vdi-appliance console needs JavaScript.</noscript>
</body>
</html>
`;
writeFileSync(join(out, 'index.html'), html);

const text = /\.(js|css|html|svg|json|ttf|otf)$/;
let sizes = {};
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (text.test(name)) {
      const body = readFileSync(p);
      const gz = gzipSync(body, { level: 9 });
      const br = brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
      writeFileSync(p + '.gz', gz);
      writeFileSync(p + '.br', br);
      sizes[relative(out, p)] = { raw: body.length, gzip: gz.length, br: br.length };
    }
  }
}
walk(out);
const h = createHash('sha256').update(readFileSync(join(out, js))).update(readFileSync(join(out, css)));
for (const c of chunks) h.update(readFileSync(join(out, c)));
const digest = h.update(JSON.stringify(locales)).digest('hex').slice(0, 12);
writeFileSync(join(out, 'build.json'), JSON.stringify({ js, css, chunks, locales, digest, sizes }, null, 1));
const kb = (n) => (n / 1024).toFixed(1) + ' KiB';
console.log(`ui: ${js} ${kb(sizes[js].gzip)} gzip (+ ${chunks.length} chunks loaded later, ${kb(chunks.reduce((n, c) => n + sizes[c].gzip, 0))} gzip), ${css} ${kb(sizes[css].gzip)} gzip, ${Object.entries(locales).map(([l, p]) => `${l} ${kb(sizes[p].gzip)}`).join(', ')} gzip -> ${out}/`);
