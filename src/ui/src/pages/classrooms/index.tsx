// The classrooms page: education groups with their terminals' address
// range; create and edit in a modal form, delete with a confirmation that
// names the classroom and what still uses it.
import { Alert, Button, PageSection, Title, ToolbarItem } from '@patternfly/react-core';
import PlusIcon from '@patternfly/react-icons/dist/esm/icons/plus-icon';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { list, listAll, post } from '../../api';
import { PageProps } from '../../app/pages';
import { ConfirmModal } from '../../components/ConfirmModal';
import { ErrorAlert } from '../../components/errors';
import { useLoad } from '../../components/hooks';
import { ListView } from '../../components/ListView';
import { useNotify } from '../../components/notify';
import { fmtDate, fmtNumber } from '../../i18n';
import { ClassroomForm } from './ClassroomForm';
import { Classroom, EDUCATION, GROUPS } from './model';

const TEMPLATES = '/api/v1.0/voi/education/template/';

/** What still uses a classroom: its desktop groups and the templates bound to it (a delete is refused while any does). */
function InUse({ room }: { room: Classroom }) {
  const { t } = useTranslation('classrooms');
  const { data, error } = useLoad(
    async () => {
      const groups = await listAll<{ name: string }>('desktop_group', { group: room.uuid });
      const templates = (await listAll<{ name: string; groups: { uuid: string }[] }>(TEMPLATES)).filter((x) => x.groups?.some((g) => g.uuid === room.uuid));
      return { groups: groups.map((g) => g.name), templates: templates.map((x) => x.name) };
    },
    [room.uuid],
  );
  if (error) return <ErrorAlert error={error} />;
  if (!data) return null;
  const { groups, templates } = data;
  if (groups.length + templates.length === 0) {
    return <p>{room.terminal_count ? t('deleteTerminals', { count: room.terminal_count }) : t('deleteFree', { name: room.name })}</p>;
  }
  return (
    <Alert variant="warning" isInline title={t('deleteInUse', { name: room.name })} data-testid="classroom-in-use">
      {groups.length > 0 && <p>{t('usedByGroups', { count: groups.length, names: groups.join(', ') })}</p>}
      {templates.length > 0 && <p>{t('usedByTemplates', { count: templates.length, names: templates.join(', ') })}</p>}
    </Alert>
  );
}

/** The number of desktop groups of a classroom (the desktop group listing filtered by classroom). */
function GroupCount({ room }: { room: string }) {
  const { data } = useLoad((s) => list('desktop_group', { page: 1, pageSize: 1, filters: { group: room } }, s), [room]);
  return <>{data ? fmtNumber(data.count) : '…'}</>;
}

export default function Page(_p: PageProps) {
  const { t } = useTranslation('classrooms');
  const notify = useNotify();
  const [reload, setReload] = useState(0);
  const [editing, setEditing] = useState<Classroom | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Classroom | null>(null);
  const done = () => setReload((n) => n + 1);
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t('title')}</Title>
        <p className="vdi-muted">{t('intro')}</p>
      </PageSection>
      <PageSection>
        <ListView<Classroom>
          resource={GROUPS}
          filters={EDUCATION}
          ariaLabel={t('title')}
          testId="classrooms-list"
          reloadKey={reload}
          rowName={(r) => r.name}
          emptyText={t('empty')}
          searchFields={[
            { field: 'name', label: t('common:name') },
            { field: 'desc', label: t('common:description') },
            { field: 'start_ip', label: t('startIp') },
          ]}
          toolbar={
            <ToolbarItem>
              <Button variant="primary" icon={<PlusIcon />} onClick={() => setEditing('new')} data-testid="classrooms-create">
                {t('create')}
              </Button>
            </ToolbarItem>
          }
          columns={[
            { key: 'name', title: t('common:name') },
            { key: 'desc', title: t('common:description') },
            {
              key: 'start_ip',
              title: t('range'),
              render: (r) => (r.start_ip && r.end_ip ? `${r.start_ip} – ${r.end_ip} (${t('seatsN', { count: r.seat_count })})` : '—'),
            },
            { key: 'groups', title: t('desktopGroups'), render: (r) => <GroupCount room={r.uuid} /> },
            { key: 'desktop_count', title: t('desktops'), render: (r) => fmtNumber(r.desktop_count) },
            { key: 'terminal_count', title: t('terminals'), render: (r) => fmtNumber(r.terminal_count) },
            { key: 'created_at', title: t('common:created'), render: (r) => fmtDate(r.created_at) },
          ]}
          rowActions={(r) => [
            { title: t('common:edit'), onClick: () => setEditing(r) },
            { title: t('common:delete'), onClick: () => setDeleting(r), isDanger: true },
          ]}
        />
      </PageSection>
      {editing && (
        <ClassroomForm
          room={editing === 'new' ? null : editing}
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
              <p>{t('deleteBody', { name: deleting.name, range: deleting.start_ip && deleting.end_ip ? `${deleting.start_ip} – ${deleting.end_ip}` : '—' })}</p>
              <InUse room={deleting} />
            </>
          }
          confirmLabel={t('common:delete')}
          onConfirm={() => post('/api/v1/group/delete', { uuid: deleting.uuid })}
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
