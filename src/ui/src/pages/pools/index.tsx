// The resource pools page: the pool listing (with each pool's server count),
// create and edit in a modal form, delete with a confirmation naming the pool.
import { Alert, Button, Label, PageSection, Title, ToolbarItem } from '@patternfly/react-core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { list, post } from '../../api';
import { PageProps } from '../../app/pages';
import { ConfirmModal } from '../../components/ConfirmModal';
import { ErrorAlert, errorText } from '../../components/errors';
import { useLoad } from '../../components/hooks';
import { ListView } from '../../components/ListView';
import { useNotify } from '../../components/notify';
import { fmtDate, fmtNumber } from '../../i18n';
import { Pool, PoolForm } from './PoolForm';

/** What still uses a pool (servers, templates, desktop groups, base images): a delete is refused while any does. */
function InUse({ pool }: { pool: Pool }) {
  const { t } = useTranslation('pools');
  const { data, error } = useLoad(
    (s) =>
      Promise.all(
        ['node', 'voi/education/template', 'desktop_group', 'base_image'].map((r) => list(r, { page: 1, pageSize: 1, filters: { pool_uuid: pool.uuid } }, s).then((p) => p.count)),
      ),
    [pool.uuid],
  );
  if (error) return <ErrorAlert error={error} />;
  if (!data) return null;
  const [servers, templates, groups, images] = data;
  if (servers + templates + groups + images === 0) return <p>{t('deleteFree', { name: pool.name })}</p>;
  return (
    <Alert variant="warning" isInline title={t('deleteInUse', { name: pool.name })} data-testid="pool-in-use">
      {[t('nServers', { count: servers }), t('nTemplates', { count: templates }), t('nGroups', { count: groups }), t('nImages', { count: images })].join(' · ')}
    </Alert>
  );
}

/** The number of servers in a pool (the node listing filtered by pool). */
function NodeCount({ pool }: { pool: string }) {
  const { data } = useLoad((s) => list('node', { page: 1, pageSize: 1, filters: { pool_uuid: pool } }, s), [pool]);
  return <>{data ? fmtNumber(data.count) : '…'}</>;
}

export default function Page(_p: PageProps) {
  const { t } = useTranslation('pools');
  const notify = useNotify();
  const [reload, setReload] = useState(0);
  const [editing, setEditing] = useState<Pool | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Pool | null>(null);
  const done = () => setReload((n) => n + 1);
  const makeDefault = async (r: Pool) => {
    try {
      await post('/api/v1/resource_pool/update', { uuid: r.uuid, value: { default: true } });
      notify('success', t('madeDefault', { name: r.name }));
      done();
    } catch (e) {
      notify('danger', t('makeDefaultFailed', { name: r.name }), errorText(e));
    }
  };
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t('title')}</Title>
        <p className="vdi-muted">{t('intro')}</p>
      </PageSection>
      <PageSection>
        <ListView<Pool>
          resource="resource_pool"
          ariaLabel={t('title')}
          testId="pools-list"
          reloadKey={reload}
          rowName={(r) => r.name}
          searchFields={[
            { field: 'name', label: t('common:name') },
            { field: 'desc', label: t('common:description') },
          ]}
          toolbar={
            <ToolbarItem>
              <Button variant="primary" onClick={() => setEditing('new')} data-testid="pools-create">
                {t('create')}
              </Button>
            </ToolbarItem>
          }
          columns={[
            { key: 'name', title: t('common:name') },
            { key: 'desc', title: t('common:description') },
            { key: 'default', title: t('default'), render: (r) => (r.default ? <Label color="blue">{t('isDefault')}</Label> : '') },
            { key: 'nodes', title: t('servers'), render: (r) => <NodeCount pool={r.uuid} /> },
            { key: 'created_at', title: t('common:created'), render: (r) => fmtDate(r.created_at) },
          ]}
          rowActions={(r) => [
            { title: t('common:edit'), onClick: () => setEditing(r) },
            ...(r.default ? [] : [{ title: t('makeDefault'), onClick: () => void makeDefault(r) }]),
            { title: t('common:delete'), onClick: () => setDeleting(r), isDanger: true },
          ]}
        />
      </PageSection>
      {editing && (
        <PoolForm
          pool={editing === 'new' ? null : editing}
          onClose={(saved) => {
            setEditing(null);
            if (saved) done();
          }}
        />
      )}
      {deleting && (
        <ConfirmModal
          title={t('deleteTitle', { name: deleting.name })}
          body={
            <>
              <p>{t('deleteBody', { name: deleting.name })}</p>
              {deleting.default && <p>{t('deleteDefault')}</p>}
              <InUse pool={deleting} />
            </>
          }
          confirmLabel={t('common:delete')}
          onConfirm={() => post('/api/v1/resource_pool/delete', { uuid: deleting.uuid })}
          onClose={(ok) => {
            if (ok) {
              notify('success', t('deleted', { name: deleting.name }));
              done();
            }
            setDeleting(null);
          }}
        />
      )}
    </>
  );
}
