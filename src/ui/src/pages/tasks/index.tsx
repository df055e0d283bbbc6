// The task history, newest first: filters by state, kind and day; a task
// opens in a modal with its whole log, error and result; the list refreshes
// every 2 s while a shown task is queued or running.
import { Button, DatePicker, EmptyState, FormSelect, FormSelectOption, PageSection, Pagination, Progress, ProgressSize, SearchInput, Title, Toolbar, ToolbarContent, ToolbarItem } from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import SyncAltIcon from '@patternfly/react-icons/dist/esm/icons/sync-alt-icon';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Task, taskDone } from '../../api';
import { PageProps } from '../../app/pages';
import { ErrorAlert } from '../../components/errors';
import { fmtAgo, fmtDate } from '../../i18n';
import { kindName, StateLabel, STATES } from './labels';
import { useNewestFirst } from './newest';
import { TaskDetail } from './TaskDetail';

export default function Page(_p: PageProps) {
  const { t } = useTranslation('tasks');
  const [state, setState] = useState('');
  const [kindText, setKindText] = useState('');
  const [kind, setKind] = useState('');
  const [day, setDay] = useState('');
  const [open, setOpen] = useState<Task | null>(null);
  const h = useNewestFirst<Task>('task', { state }, { kind, created_at: day }, (rows) => (rows.some((r) => !taskDone(r)) ? 2000 : undefined));
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t('title')}</Title>
        <p className="vdi-muted">{t('intro')}</p>
      </PageSection>
      <PageSection>
        <Toolbar>
          <ToolbarContent>
            <ToolbarItem>
              <FormSelect id="tasks-state" value={state} onChange={(_e, v) => setState(v)} aria-label={t('filter.state')} data-testid="tasks-filter-state">
                <FormSelectOption value="" label={t('filter.anyState')} />
                {STATES.map((s) => (
                  <FormSelectOption key={s} value={s} label={t(`state.${s}`)} />
                ))}
              </FormSelect>
            </ToolbarItem>
            <ToolbarItem>
              <SearchInput
                aria-label={t('filter.kind')}
                placeholder={t('filter.kind')}
                value={kindText}
                onChange={(_e, v) => setKindText(v)}
                onSearch={() => setKind(kindText)}
                onClear={() => {
                  setKindText('');
                  setKind('');
                }}
                data-testid="tasks-filter-kind"
              />
            </ToolbarItem>
            <ToolbarItem>
              <DatePicker
                value={day}
                onChange={(_e, v) => setDay(/^\d{4}-\d{2}-\d{2}$/.test(v) || v === '' ? v : day)}
                placeholder={t('filter.dayFormat')}
                aria-label={t('filter.day')}
                buttonAriaLabel={t('filter.dayPick')}
                appendTo={() => document.body}
                data-testid="tasks-filter-day"
              />
            </ToolbarItem>
            <ToolbarItem>
              <Button variant="plain" aria-label={t('common:list.refresh')} onClick={h.reload} icon={<SyncAltIcon />} />
            </ToolbarItem>
            <ToolbarItem variant="pagination">
              <Pagination
                itemCount={h.count}
                page={h.page}
                perPage={h.pageSize}
                perPageOptions={[10, 20, 50, 100].map((n) => ({ title: String(n), value: n }))}
                onSetPage={(_e, n) => h.setPage(n)}
                onPerPageSelect={(_e, n) => h.setPageSize(n)}
                isCompact
                titles={{ paginationAriaLabel: t('common:list.pagination') }}
              />
            </ToolbarItem>
          </ToolbarContent>
        </Toolbar>
        <p className="vdi-muted">{t('dayNote')}</p>
        <ErrorAlert error={h.error} />
        <Table aria-label={t('title')} variant="compact" isStriped data-testid="tasks-list">
          <Thead>
            <Tr>
              <Th>{t('col.kind')}</Th>
              <Th>{t('col.target')}</Th>
              <Th>{t('col.owner')}</Th>
              <Th>{t('col.state')}</Th>
              <Th>{t('col.created')}</Th>
              <Th>{t('col.finished')}</Th>
            </Tr>
          </Thead>
          <Tbody>
            {h.rows.map((x) => (
              <Tr key={x.uuid} data-testid="row" data-name={x.kind}>
                <Td dataLabel={t('col.kind')}>
                  <Button variant="link" isInline onClick={() => setOpen(x)} data-testid="task-open">
                    {kindName(t, x.kind)}
                  </Button>
                </Td>
                <Td dataLabel={t('col.target')}>{x.target || '—'}</Td>
                <Td dataLabel={t('col.owner')}>{x.owner || '—'}</Td>
                <Td dataLabel={t('col.state')}>
                  {taskDone(x) ? (
                    <StateLabel state={x.state} />
                  ) : (
                    <Progress value={x.percent} title={t(`state.${x.state}`)} size={ProgressSize.sm} aria-label={t('progressOf', { kind: kindName(t, x.kind) })} style={{ minWidth: '12rem' }} />
                  )}
                </Td>
                <Td dataLabel={t('col.created')}>{fmtDate(x.created_at)}</Td>
                <Td dataLabel={t('col.finished')}>{fmtAgo(x.finished_at)}</Td>
              </Tr>
            ))}
          </Tbody>
        </Table>
        {!h.loading && !h.error && h.rows.length === 0 && <EmptyState titleText={t('empty')} headingLevel="h3" variant="sm" />}
      </PageSection>
      {open && <TaskDetail task={open} onClose={() => setOpen(null)} />}
    </>
  );
}
