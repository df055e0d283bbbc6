// Hash routing: `#/servers/<uuid>` → ['servers', '<uuid>']. No library: the
// console has one level of pages and a detail view under some of them.
import { useEffect, useState } from 'react';

export function currentPath(): string[] {
  const h = window.location.hash.replace(/^#\/?/, '');
  const [path] = h.split('?');
  return path.split('/').filter(Boolean).map(decodeURIComponent);
}

export function navigate(path: string) {
  const target = '#/' + path.replace(/^\/+/, '');
  if (window.location.hash !== target) window.location.hash = target;
}

export function href(path: string): string {
  return '#/' + path.replace(/^\/+/, '');
}

export function useRoute(): string[] {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const on = () => setPath(currentPath());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return path;
}
