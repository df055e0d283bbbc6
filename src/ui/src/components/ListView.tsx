// The one list of every resource page: the generic web query with
// server-side paging (10–100), a substring search on a chosen field, exact
// filters, selection with bulk actions that report "N succeeded, M failed"
// with each failure's reason, and per-row actions. PatternFly's Table,
// Toolbar, SearchInput and Pagination do the drawing.
import {
  Alert,
  AlertActionCloseButton,
  Button,
  EmptyState,
  EmptyStateBody,
  MenuToggle,
  Pagination,
  SearchInput,
  Select,
  SelectList,
  SelectOption,
  Toolbar,
  ToolbarContent,
  ToolbarGroup,
  ToolbarItem,
} from '@patternfly/react-core';
import { ActionsColumn, IAction, Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import SyncAltIcon from '@patternfly/react-icons/dist/esm/icons/sync-alt-icon';
import { ReactNode, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { list, Page } from '../api';
import { ConfirmModal } from './ConfirmModal';
import { ErrorAlert, errorText } from './errors';
import { useLoad } from './hooks';

export type Row = Record<string, unknown>;

export interface Column<R> {
  key: string;
  title: string;
  render?: (r: R) => ReactNode;
}

export interface BulkAction<R> {
  label: string;
  danger?: boolean;
  /** Confirmation text for the selected rows; none runs at once. */
  confirm?: (rows: R[]) => { title: string; body: ReactNode };
  run: (r: R) => Promise<unknown>;
}

export interface ListViewProps<R> {
  resource: string;
  ariaLabel: string;
  columns: Column<R>[];
  rowName: (r: R) => string;
  rowKey?: (r: R) => string;
  searchFields?: { field: string; label: string }[];
  filters?: Record<string, string | number | boolean | undefined>;
  toolbar?: ReactNode;
  rowActions?: (r: R) => IAction[];
  bulkActions?: BulkAction<R>[];
  refreshMs?: number;
  reloadKey?: number;
  emptyText?: string;
  testId?: string;
}

interface BulkReport {
  label: string;
  ok: number;
  failed: { name: string; reason: string }[];
}

export function ListView<R extends Row>(p: ListViewProps<R>) {
  const { t } = useTranslation();
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(20);
  const [field, setField] = useState(p.searchFields?.[0]?.field || 'name');
  const [fieldOpen, setFieldOpen] = useState(false);
  const [search, setSearch] = useState('');
  const [applied, setApplied] = useState('');
  const [selected, setSelected] = useState<Record<string, R>>({});
  const [bulk, setBulk] = useState<BulkAction<R> | null>(null);
  const [report, setReport] = useState<BulkReport | null>(null);
  const key = p.rowKey || ((r: R) => String(r.uuid ?? r.id));
  const filtersKey = JSON.stringify(p.filters || {});
  useEffect(() => setPage(1), [filtersKey, applied, field]);
  const { data, error, loading, reload } = useLoad<Page<R>>(
    (signal) => list<R>(p.resource, { page, pageSize, search: p.searchFields ? { field, value: applied } : undefined, filters: p.filters }, signal),
    [p.resource, page, pageSize, field, applied, filtersKey, p.reloadKey],
    p.refreshMs,
  );
  const rows = data?.results || [];
  const chosen = Object.values(selected);
  const allOnPage = rows.length > 0 && rows.every((r) => selected[key(r)]);

  const runBulk = async (a: BulkAction<R>, targets: R[]) => {
    const failed: BulkReport['failed'] = [];
    let ok = 0;
    for (const r of targets) {
      try {
        await a.run(r);
        ok++;
      } catch (e) {
        failed.push({ name: p.rowName(r), reason: errorText(e) });
      }
    }
    setReport({ label: a.label, ok, failed });
    setSelected({});
    reload();
  };

  const searchLabel = p.searchFields?.find((f) => f.field === field)?.label || field;
  return (
    <div data-testid={p.testId || `list-${p.resource.replace(/\W+/g, '-')}`}>
      <Toolbar>
        <ToolbarContent>
          {p.searchFields && (
            <ToolbarGroup variant="filter-group">
              {p.searchFields.length > 1 && (
                <ToolbarItem>
                  <Select
                    isOpen={fieldOpen}
                    selected={field}
                    onSelect={(_e, v) => {
                      setField(String(v));
                      setFieldOpen(false);
                    }}
                    onOpenChange={setFieldOpen}
                    toggle={(ref) => (
                      <MenuToggle ref={ref} onClick={() => setFieldOpen(!fieldOpen)} isExpanded={fieldOpen} aria-label={t('common:list.searchField')}>
                        {searchLabel}
                      </MenuToggle>
                    )}
                  >
                    <SelectList>
                      {p.searchFields.map((f) => (
                        <SelectOption key={f.field} value={f.field}>
                          {f.label}
                        </SelectOption>
                      ))}
                    </SelectList>
                  </Select>
                </ToolbarItem>
              )}
              <ToolbarItem>
                <SearchInput
                  aria-label={t('common:list.searchBy', { field: searchLabel })}
                  placeholder={t('common:list.searchBy', { field: searchLabel })}
                  value={search}
                  onChange={(_e, v) => setSearch(v)}
                  submitSearchButtonLabel={t('common:list.search')}
                  resetButtonLabel={t('common:list.reset')}
                  onSearch={() => setApplied(search)}
                  onClear={() => {
                    setSearch('');
                    setApplied('');
                  }}
                />
              </ToolbarItem>
            </ToolbarGroup>
          )}
          {p.toolbar}
          {p.bulkActions?.map((a) => (
            <ToolbarItem key={a.label}>
              <Button
                variant={a.danger ? 'danger' : 'secondary'}
                isDisabled={chosen.length === 0}
                onClick={() => (a.confirm ? setBulk(a) : void runBulk(a, chosen))}
              >
                {a.label}
              </Button>
            </ToolbarItem>
          ))}
          <ToolbarItem>
            <Button variant="plain" aria-label={t('common:list.refresh')} onClick={reload} icon={<SyncAltIcon />} />
          </ToolbarItem>
          <ToolbarItem variant="pagination">
            <Pagination
              itemCount={data?.count ?? 0}
              page={page}
              perPage={pageSize}
              perPageOptions={[10, 20, 50, 100].map((n) => ({ title: String(n), value: n }))}
              onSetPage={(_e, n) => setPage(n)}
              onPerPageSelect={(_e, n) => {
                setPageSize(n);
                setPage(1);
              }}
              isCompact
              titles={{
                paginationAriaLabel: t('common:list.pagination'),
                ofWord: t('common:list.of'),
                items: t('common:list.items'),
                page: t('common:list.page'),
                pages: t('common:list.pages'),
                itemsPerPage: t('common:list.itemsPerPage'),
                perPageSuffix: t('common:list.perPageSuffix'),
                toFirstPageAriaLabel: t('common:list.toFirst'),
                toPreviousPageAriaLabel: t('common:list.toPrevious'),
                toNextPageAriaLabel: t('common:list.toNext'),
                toLastPageAriaLabel: t('common:list.toLast'),
                currPageAriaLabel: t('common:list.currentPage'),
                optionsToggleAriaLabel: t('common:list.perPageOptions'),
              }}
            />
          </ToolbarItem>
        </ToolbarContent>
      </Toolbar>
      {report && (
        <Alert
          isInline
          variant={report.failed.length ? 'warning' : 'success'}
          title={t('common:list.bulkReport', { action: report.label, ok: report.ok, failed: report.failed.length })}
          actionClose={<AlertActionCloseButton onClose={() => setReport(null)} />}
          data-testid="bulk-report"
        >
          {report.failed.length > 0 && (
            <ul>
              {report.failed.map((f, i) => (
                <li key={i}>
                  <strong>{f.name}</strong>: {f.reason}
                </li>
              ))}
            </ul>
          )}
        </Alert>
      )}
      <ErrorAlert error={error} />
      <Table aria-label={p.ariaLabel} variant="compact" isStriped>
        <Thead>
          <Tr>
            {p.bulkActions && (
              <Th
                select={{
                  onSelect: (_e, on) => {
                    const s = { ...selected };
                    rows.forEach((r) => (on ? (s[key(r)] = r) : delete s[key(r)]));
                    setSelected(s);
                  },
                  isSelected: allOnPage,
                }}
                aria-label={t('common:list.selectAll')}
              />
            )}
            {p.columns.map((c) => (
              <Th key={c.key}>{c.title}</Th>
            ))}
            {p.rowActions && <Th screenReaderText={t('common:list.actions')} />}
          </Tr>
        </Thead>
        <Tbody>
          {rows.map((r, i) => (
            <Tr key={key(r)} data-testid="row" data-name={p.rowName(r)}>
              {p.bulkActions && (
                <Td
                  select={{
                    rowIndex: i,
                    onSelect: (_e, on) => {
                      const s = { ...selected };
                      if (on) s[key(r)] = r;
                      else delete s[key(r)];
                      setSelected(s);
                    },
                    isSelected: !!selected[key(r)],
                  }}
                />
              )}
              {p.columns.map((c) => (
                <Td key={c.key} dataLabel={c.title}>
                  {c.render ? c.render(r) : show(r[c.key])}
                </Td>
              ))}
              {p.rowActions && (
                <Td isActionCell>
                  <ActionsColumn items={p.rowActions(r)} />
                </Td>
              )}
            </Tr>
          ))}
        </Tbody>
      </Table>
      {!loading && !error && rows.length === 0 && (
        <EmptyState titleText={t('common:list.empty')} headingLevel="h2" variant="sm">
          {p.emptyText && <EmptyStateBody>{p.emptyText}</EmptyStateBody>}
        </EmptyState>
      )}
      {bulk && bulk.confirm && (
        <ConfirmModal
          {...bulk.confirm(chosen)}
          confirmLabel={bulk.label}
          danger={bulk.danger}
          onConfirm={() => runBulk(bulk, chosen)}
          onClose={() => setBulk(null)}
        />
      )}
    </div>
  );
}

/** A cell's value as text; objects never show as raw JSON. */
export function show(v: unknown): ReactNode {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'boolean') return v ? '✓' : '✗';
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'object' ? '' : String(x))).filter(Boolean).join(', ') || '—';
  if (typeof v === 'object') return '—';
  return String(v);
}
