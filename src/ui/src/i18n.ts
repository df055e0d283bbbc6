// i18next with the two complete catalogues (English, Simplified Chinese),
// one JSON file per namespace under locales/<lang>/, fetched one language at
// a time (locales/index.ts); the language is the one the user chose
// (localStorage), else the browser's. Numbers, sizes
// and dates go through Intl in the current language.
import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import { loadCatalogue, namespaces } from './locales';

export const LANGS = [
  { code: 'en', label: 'English' },
  { code: 'zh-CN', label: '简体中文' },
] as const;
export type Lang = (typeof LANGS)[number]['code'];
const STORE = 'vdi-appliance.lang';

export function initialLang(): Lang {
  const chosen = localStorage.getItem(STORE);
  if (chosen === 'en' || chosen === 'zh-CN') return chosen;
  for (const l of navigator.languages || [navigator.language]) {
    if (/^zh\b/i.test(l)) return 'zh-CN';
    if (/^en\b/i.test(l)) return 'en';
  }
  return 'en';
}

async function addCatalogue(l: Lang) {
  const c = await loadCatalogue(l);
  for (const ns of namespaces) i18n.addResourceBundle(l, ns, c[ns], true, true);
}

/** Switches the language once its catalogue is here. */
export async function setLang(l: Lang) {
  localStorage.setItem(STORE, l);
  await addCatalogue(l);
  await i18n.changeLanguage(l);
  document.documentElement.lang = l;
}

/** Resolves when the first language's catalogue is loaded (main.tsx renders after it). */
export const i18nReady = addCatalogue(initialLang()).then(() => i18n.changeLanguage(initialLang()));

void i18n.use(initReactI18next).init({
  resources: {},
  partialBundledLanguages: true,
  lng: initialLang(),
  fallbackLng: false,
  ns: namespaces,
  defaultNS: 'common',
  interpolation: { escapeValue: false },
  returnNull: false,
});
document.documentElement.lang = i18n.language;

const lang = () => i18n.language || 'en';

export function fmtNumber(n: number | null | undefined, digits = 0): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  return new Intl.NumberFormat(lang(), { maximumFractionDigits: digits }).format(n);
}

export function fmtPercent(n: number | null | undefined, digits = 0): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  return new Intl.NumberFormat(lang(), { style: 'percent', maximumFractionDigits: digits }).format(n / 100);
}

const UNITS = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte', 'petabyte'];
/** Bytes in binary steps, labelled by Intl's unit names (KB = 1024 B here). */
export function fmtBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return new Intl.NumberFormat(lang(), { style: 'unit', unit: UNITS[i], unitDisplay: 'short', maximumFractionDigits: i === 0 ? 0 : 1 }).format(v);
}

/** GB as the API sends memory and disk sizes. */
export const fmtGB = (gb: number | null | undefined) => (gb === null || gb === undefined ? '—' : fmtBytes(gb * 1024 ** 3));

export function fmtDate(s: string | number | null | undefined): string {
  if (s === null || s === undefined || s === '') return '—';
  const d = typeof s === 'number' ? new Date(s) : new Date(String(s).replace(' ', 'T') + (/[zZ]|[+-]\d\d:?\d\d$/.test(String(s)) ? '' : 'Z'));
  if (Number.isNaN(d.getTime())) return String(s);
  return new Intl.DateTimeFormat(lang(), { dateStyle: 'medium', timeStyle: 'medium' }).format(d);
}

export function fmtAgo(s: string | null | undefined): string {
  if (!s) return '—';
  const d = new Date(String(s).replace(' ', 'T') + (/[zZ]|[+-]\d\d:?\d\d$/.test(String(s)) ? '' : 'Z'));
  if (Number.isNaN(d.getTime())) return String(s);
  const sec = Math.round((d.getTime() - Date.now()) / 1000);
  const rtf = new Intl.RelativeTimeFormat(lang(), { numeric: 'auto' });
  const a = Math.abs(sec);
  if (a < 60) return rtf.format(sec, 'second');
  if (a < 3600) return rtf.format(Math.round(sec / 60), 'minute');
  if (a < 86400) return rtf.format(Math.round(sec / 3600), 'hour');
  return rtf.format(Math.round(sec / 86400), 'day');
}

export default i18n;
