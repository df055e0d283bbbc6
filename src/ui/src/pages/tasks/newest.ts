// Newest-first paging over a generic listing that answers oldest first:
// page 1 shown is the listing's last page, its rows reversed. Exact filters
// and substring ones (any substring filter makes the query `contain`).
// Used by the task history and the operation log.
import { useState } from 'react';
import { get, Page } from '../../api';
import { useLoad } from '../../components/hooks';

export type Filters = Record<string, string | undefined>;

function url(resource: string, exact: Filters, contain: Filters, page: number, pageSize: number): string {
  const p = new URLSearchParams();
  const c = Object.entries(contain).filter(([, v]) => v && v.trim() !== '');
  p.set('searchtype', c.length ? 'contain' : 'all');
  p.set('page', String(page));
  p.set('page_size', String(pageSize));
  for (const [k, v] of Object.entries(exact)) if (v) p.set(k, v);
  for (const [k, v] of c) p.set(k, (v as string).trim());
  return `/api/v1.0/${resource}/?${p.toString()}`;
}

export function useNewestFirst<R>(resource: string, exact: Filters, contain: Filters, refreshMs?: (rows: R[]) => number | undefined) {
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(20);
  const [ms, setMs] = useState<number | undefined>(undefined);
  const key = JSON.stringify([exact, contain]);
  const [lastKey, setLastKey] = useState(key);
  if (key !== lastKey) {
    setLastKey(key);
    setPage(1);
  }
  const loaded = useLoad(
    async (signal) => {
      const head = await get<Page<R>>(url(resource, exact, contain, 1, 1), signal);
      const last = Math.max(1, Math.ceil(head.count / pageSize));
      const apiPage = last - page + 1;
      const rows = apiPage >= 1 && head.count > 0 ? (await get<Page<R>>(url(resource, exact, contain, apiPage, pageSize), signal)).results.slice().reverse() : [];
      const next = refreshMs?.(rows);
      setMs(next);
      return { count: head.count, rows };
    },
    [resource, key, page, pageSize],
    ms,
  );
  return {
    ...loaded,
    rows: loaded.data?.rows || [],
    count: loaded.data?.count ?? 0,
    page,
    setPage,
    pageSize,
    setPageSize: (n: number) => {
      setPageSize(n);
      setPage(1);
    },
  };
}

/** `YYYY-MM-DD` of a Date in UTC (the API's times are UTC). */
export const utcDay = (d: Date) => d.toISOString().slice(0, 10);
