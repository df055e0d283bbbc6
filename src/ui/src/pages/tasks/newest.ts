// Newest-first paging over a generic listing (`ordering=-id`), with exact
// filters, substring ones (any substring filter makes the query
// `contain`), and a UTC day (`created_at__gte` / `created_at__lt`). Used by
// the task history and the operation log.
import { useState } from 'react';
import { get, Page } from '../../api';
import { useLoad } from '../../components/hooks';

export type Filters = Record<string, string | undefined>;

/** The UTC day after `YYYY-MM-DD`. */
function nextDay(day: string): string {
  const d = new Date(day + 'T00:00:00Z');
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

function url(resource: string, exact: Filters, contain: Filters, page: number, pageSize: number): string {
  const p = new URLSearchParams();
  const day = contain.created_at?.trim();
  const c = Object.entries(contain).filter(([k, v]) => k !== 'created_at' && v && v.trim() !== '');
  p.set('searchtype', c.length ? 'contain' : 'all');
  p.set('ordering', '-id');
  p.set('page', String(page));
  p.set('page_size', String(pageSize));
  for (const [k, v] of Object.entries(exact)) if (v) p.set(k, v);
  for (const [k, v] of c) p.set(k, (v as string).trim());
  if (day) {
    p.set('created_at__gte', day);
    p.set('created_at__lt', nextDay(day));
  }
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
      const p = await get<Page<R>>(url(resource, exact, contain, page, pageSize), signal);
      setMs(refreshMs?.(p.results));
      return { count: p.count, rows: p.results };
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
