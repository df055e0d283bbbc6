// The catalogues: one JSON file per namespace under locales/<lang>/
// (check-i18n.mjs proves the two languages have the same keys and no empty
// string). build.mjs merges each language's files into one content-hashed
// asset, so a browser downloads only the language it shows; the build
// passes their paths in as __VDI_LOCALES__.
declare const __VDI_LOCALES__: Record<string, string>;

export const namespaces = ['common', 'shell', 'login', 'setup', 'dashboard', 'servers', 'network', 'pools', 'images', 'templates', 'classrooms', 'edu', 'personal', 'users', 'terminals', 'tasks', 'oplog', 'settings', 'vmconsole'] as const;

export type Catalogue = Record<(typeof namespaces)[number], Record<string, unknown>>;

const loaded = new Map<string, Promise<Catalogue>>();

/** One language's catalogue (every namespace), fetched once. */
export function loadCatalogue(lang: string): Promise<Catalogue> {
  let p = loaded.get(lang);
  if (!p) {
    const path = __VDI_LOCALES__[lang];
    if (!path) return Promise.reject(new Error(`no catalogue for ${lang}`));
    p = fetch(`/${path}`).then((r) => {
      if (!r.ok) throw new Error(`catalogue ${lang}: HTTP ${r.status}`);
      return r.json() as Promise<Catalogue>;
    });
    p.catch(() => loaded.delete(lang));
    loaded.set(lang, p);
  }
  return p;
}
