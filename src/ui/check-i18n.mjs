// Fails when the two catalogues differ: a key in one language and not the
// other, an empty string, a namespace file missing; or when UI code shows
// words that do not come from a catalogue (JSX text, or a string literal in
// a prop people read: title, label, aria-label, placeholder, helperText,
// alt, titleText, description). Run by `make lint`; prints every problem.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const problems = [];
const langs = ['en', 'zh-CN'];
const base = 'src/locales';

function flat(obj, prefix = '', out = {}) {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object') flat(v, key, out);
    else out[key] = v;
  }
  return out;
}
// i18next plural forms: zh has only `_other`; en has `_one` and `_other`.
const stem = (k) => k.replace(/_(zero|one|two|few|many|other)$/, '');

const files = {};
for (const l of langs) files[l] = readdirSync(join(base, l)).filter((f) => f.endsWith('.json')).sort();
for (const f of new Set([...files.en, ...files['zh-CN']])) {
  const cats = {};
  for (const l of langs) {
    try {
      cats[l] = flat(JSON.parse(readFileSync(join(base, l, f), 'utf8')));
    } catch (e) {
      problems.push(`${l}/${f}: ${e.code === 'ENOENT' ? 'missing' : e.message}`);
      cats[l] = {};
    }
    for (const [k, v] of Object.entries(cats[l])) {
      if (typeof v !== 'string' || v.trim() === '') problems.push(`${l}/${f}: \`${k}\` is empty`);
    }
  }
  const stems = (l) => new Set(Object.keys(cats[l]).map(stem));
  const en = stems('en');
  const zh = stems('zh-CN');
  for (const k of en) if (!zh.has(k)) problems.push(`zh-CN/${f}: \`${k}\` is missing (English has it)`);
  for (const k of zh) if (!en.has(k)) problems.push(`en/${f}: \`${k}\` is missing (Chinese has it)`);
  // Untranslated: a Chinese value identical to a multi-word English one.
  for (const [k, v] of Object.entries(cats.en)) {
    const z = cats['zh-CN'][k];
    if (typeof v === 'string' && v === z && /[a-z]{3,}\s+[a-z]{3,}/i.test(v)) problems.push(`zh-CN/${f}: \`${k}\` is still English: "${v}"`);
  }
}

// Words in the code: JSX text and reader-facing string props.
const PROPS = ['title', 'label', 'aria-label', 'placeholder', 'helperText', 'alt', 'titleText', 'description', 'loginTitle', 'screenReaderText'];
function walk(dir, out = []) {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.tsx$/.test(n)) out.push(p);
  }
  return out;
}
for (const file of walk('src')) {
  const src = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '))
    .replace(/(^|[^:])\/\/.*$/gm, '$1');
  const lines = src.split('\n');
  lines.forEach((line, i) => {
    // JSX text between tags: >Some words<
    if (line.includes('<svg')) return;
    for (const m of line.matchAll(/>([^<>{}]*[A-Za-z\u4e00-\u9fff][^<>{}]*)</g)) {
      const text = m[1].trim();
      const before = line[m.index - 1];
      const after = line.slice(m.index + m[0].length - 1);
      if (before === '=' || /^<[\w[\], |.]+>/.test(after) || /^\(?\w+:\s/.test(text)) continue;
      if (text && !/^[\s\d.,:;·—–\-/()%+×]*$/.test(text) && !/=>|&&|\|\||\?/.test(m[1])) problems.push(`${file}:${i + 1}: text not from a catalogue: "${text}"`);
    }
    for (const p of PROPS) {
      for (const m of line.matchAll(new RegExp(`\\s${p}="([^"]*)"`, 'g'))) {
        if (/[A-Za-z\u4e00-\u9fff]{2,}/.test(m[1])) problems.push(`${file}:${i + 1}: ${p}="${m[1]}" not from a catalogue`);
      }
    }
  });
  // JSX text alone on a line (between a tag on the line above and below).
  lines.forEach((line, i) => {
    const t = line.trim();
    if (/^[A-Za-z\u4e00-\u9fff][^<>{}=;()]*$/.test(t) && /[>]\s*$/.test(lines[i - 1] || '') && /^\s*</.test(lines[i + 1] || '') && !/^(import|export|const|let|return|if|else|type|interface)\b/.test(t))
      problems.push(`${file}:${i + 1}: text not from a catalogue: "${t}"`);
  });
}

// Every literal key the code asks for exists (in English, hence in both).
const catalogue = {};
for (const f of files.en) catalogue[f.replace(/\.json$/, '')] = flat(JSON.parse(readFileSync(join(base, 'en', f), 'utf8')));
const has = (ns, key) => {
  const c = catalogue[ns];
  return !!c && (key in c || `${key}_one` in c || `${key}_other` in c || Object.keys(c).some((k) => k.startsWith(key + '.')));
};
for (const file of walk('src')) {
  const src = readFileSync(file, 'utf8');
  const own = /useTranslation\(\s*'([\w-]+)'/.exec(src)?.[1] || 'common';
  for (const m of src.matchAll(/\bt\(\s*'([\w.:-]+)'/g)) {
    const [ns, key] = m[1].includes(':') ? m[1].split(':') : [own, m[1]];
    if (!has(ns, key)) problems.push(`${file}: key \`${ns}:${key}\` is in no catalogue`);
  }
}

if (problems.length) {
  console.log(problems.join('\n'));
  console.log(`check-i18n: ${problems.length} problem(s)`);
  process.exit(1);
}
console.log(`check-i18n: ${files.en.length} namespaces, both languages complete, no words outside the catalogues`);
