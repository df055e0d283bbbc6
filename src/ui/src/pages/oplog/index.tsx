// The operation log, newest first: every mutating call and login attempt
// with who, what, target, result and client; failures show their code and
// message. Filters: who, what, target, result, day (UTC).
import { Button, DatePicker, EmptyState, FormSelect, FormSelectOption, Label, PageSection, Pagination, TextInput, Title, Toolbar, ToolbarContent, ToolbarItem } from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import SyncAltIcon from '@patternfly/react-icons/dist/esm/icons/sync-alt-icon';
import { FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { PageProps } from '../../app/pages';
import { ErrorAlert } from '../../components/errors';
import { fmtDate } from '../../i18n';
import { useNewestFirst } from '../tasks/newest';

interface Entry {
  id: number;
  created_at: string;
  owner: string;
  action: string;
  target: string;
  result: 'success' | 'failure';
  code: number;
  msg: string;
  client: string;
}

const EMPTY = { owner: '', action: '', target: '' };

export default function Page(_p: PageProps) {
  const { t } = useTranslation('oplog');
  const [draft, setDraft] = useState(EMPTY);
  const [applied, setApplied] = useState(EMPTY);
  const [result, setResult] = useState('');
  const [day, setDay] = useState('');
  const h = useNewestFirst<Entry>('operation_log', { result }, { ...applied, created_at: day });
  const apply = (e?: FormEvent) => {
    e?.preventDefault();
    setApplied(draft);
  };
  const text = (k: keyof typeof EMPTY) => (
    <ToolbarItem>
      <TextInput
        type="search"
        value={draft[k]}
        onChange={(_e, v) => setDraft({ ...draft, [k]: v })}
        onKeyDown={(e) => e.key === 'Enter' && apply()}
        onBlur={() => apply()}
        placeholder={t(`filter.${k}`)}
        aria-label={t(`filter.${k}`)}
        data-testid={`oplog-filter-${k}`}
        style={{ width: '11rem' }}
      />
    </ToolbarItem>
  );
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t('title')}</Title>
        <p className="vdi-muted">{t('intro')}</p>
      </PageSection>
      <PageSection>
        <Toolbar>
          <ToolbarContent>
            {text('owner')}
            {text('action')}
            {text('target')}
            <ToolbarItem>
              <FormSelect id="oplog-result" value={result} onChange={(_e, v) => setResult(v)} aria-label={t('filter.result')} data-testid="oplog-filter-result">
                <FormSelectOption value="" label={t('filter.anyResult')} />
                <FormSelectOption value="success" label={t('result.success')} />
                <FormSelectOption value="failure" label={t('result.failure')} />
              </FormSelect>
            </ToolbarItem>
            <ToolbarItem>
              <DatePicker
                value={day}
                onChange={(_e, v) => setDay(/^\d{4}-\d{2}-\d{2}$/.test(v) || v === '' ? v : day)}
                placeholder={t('filter.dayFormat')}
                aria-label={t('filter.day')}
                buttonAriaLabel={t('filter.dayPick')}
                appendTo={() => document.body}
                data-testid="oplog-filter-day"
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
        <p className="vdi-muted">{t('filterNote')}</p>
        <ErrorAlert error={h.error} />
        <Table aria-label={t('title')} variant="compact" isStriped data-testid="oplog-list">
          <Thead>
            <Tr>
              <Th>{t('col.time')}</Th>
              <Th>{t('col.owner')}</Th>
              <Th>{t('col.action')}</Th>
              <Th>{t('col.target')}</Th>
              <Th>{t('col.result')}</Th>
              <Th>{t('col.client')}</Th>
            </Tr>
          </Thead>
          <Tbody>
            {h.rows.map((x) => (
              <Tr key={x.id} data-testid="row" data-name={x.action}>
                <Td dataLabel={t('col.time')}>{fmtDate(x.created_at)}</Td>
                <Td dataLabel={t('col.owner')}>{x.owner === '-' || !x.owner ? t('anonymous') : x.owner}</Td>
                <Td dataLabel={t('col.action')}>{x.action}</Td>
                <Td dataLabel={t('col.target')} modifier="breakWord">
                  {x.target || '—'}
                </Td>
                <Td dataLabel={t('col.result')}>
                  {x.result === 'success' ? (
                    <Label color="green">{t('result.success')}</Label>
                  ) : (
                    <>
                      <Label color="red">{t('result.failure')}</Label>{' '}
                      <span data-testid="oplog-failure">
                        {t('failure', { code: x.code, msg: x.msg })}
                      </span>
                    </>
                  )}
                </Td>
                <Td dataLabel={t('col.client')}>{x.client || '—'}</Td>
              </Tr>
            ))}
          </Tbody>
        </Table>
        {!h.loading && !h.error && h.rows.length === 0 && <EmptyState titleText={t('empty')} headingLevel="h3" variant="sm" />}
      </PageSection>
    </>
  );
}
