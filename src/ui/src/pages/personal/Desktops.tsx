// The desktops of a personal group: name, state, address, server and
// assigned user; power and delete per row and in bulk ("N succeeded, M
// failed"); for static groups, assign a user and free the desktop; a
// running desktop's console.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { listAll } from '../../api';
import { ConfirmModal } from '../../components/ConfirmModal';
import { errorText } from '../../components/errors';
import { useLoad } from '../../components/hooks';
import { ListView } from '../../components/ListView';
import { useNotify } from '../../components/notify';
import { useTasks } from '../../components/tasks';
import { ConsoleModal } from '../../components/vmconsole/ConsoleModal';
import { fmtDate } from '../../i18n';
import { AssignModal } from './AssignModal';
import { DesktopLabels } from './labels';
import { Desktop, DesktopVerb, getUser, INSTANCE, instanceBody, INSTANCES, PersonalGroup, unassign } from './model';

function UserCell({ uuid }: { uuid: string | null }) {
  const { t } = useTranslation('personal');
  const u = useLoad(() => (uuid ? getUser(uuid) : Promise.resolve(null)), [uuid]);
  if (!uuid) return <span className="vdi-muted">{t('desktops.free')}</span>;
  if (u.loading && !u.data) return <>…</>;
  if (!u.data) return <span className="vdi-muted">{t('desktops.userGone')}</span>;
  return <span data-testid="personal-desktop-user">{u.data.user_name}</span>;
}

type Dialog = { kind: 'assign' | 'unassign' | 'delete' | 'console'; desktop: Desktop } | null;

export function Desktops({ group: g, reloadKey, onChanged }: { group: PersonalGroup; reloadKey: number; onChanged: () => void }) {
  const { t } = useTranslation('personal');
  const notify = useNotify();
  const { runTask } = useTasks();
  const [reload, setReload] = useState(0);
  const [dialog, setDialog] = useState<Dialog>(null);
  const nodes = useLoad(() => listAll<{ uuid: string; name: string }>('node'), []);
  const nodeName = (u: string) => nodes.data?.find((n) => n.uuid === u)?.name || '—';
  const isStatic = g.desktop_type === 2;
  const verb = (d: Desktop, v: DesktopVerb) => runTask(t(`desktops.task.${v}`, { name: d.name }), 'POST', `${INSTANCE}${v}`, instanceBody(d));
  const refresh = () => {
    setReload((x) => x + 1);
    onChanged();
  };
  const doVerb = async (d: Desktop, v: DesktopVerb) => {
    try {
      await verb(d, v);
      notify('success', t(`desktops.done.${v}`, { name: d.name }));
    } catch (e) {
      notify('danger', t('desktops.failed', { name: d.name }), errorText(e));
    }
    refresh();
  };
  return (
    <>
      <ListView<Desktop>
        resource={INSTANCES}
        filters={{ desktop_group: g.uuid }}
        ariaLabel={t('desktops.title')}
        testId="personal-desktops"
        rowName={(r) => r.name}
        searchFields={[
          { field: 'name', label: t('common:name') },
          { field: 'desktop_ip', label: t('desktops.ip') },
        ]}
        reloadKey={reload + reloadKey}
        refreshMs={5000}
        emptyText={t('desktops.empty')}
        columns={[
          { key: 'name', title: t('common:name') },
          { key: 'status', title: t('common:state'), render: (r) => <DesktopLabels status={r.status} state={r.state} /> },
          { key: 'desktop_ip', title: t('desktops.ip'), render: (r) => r.desktop_ip || t('desktops.dhcp') },
          { key: 'node_uuid', title: t('desktops.server'), render: (r) => nodeName(r.node_uuid) },
          { key: 'user_uuid', title: t('desktops.user'), render: (r) => <UserCell uuid={r.user_uuid} /> },
          { key: 'start_datetime', title: t('desktops.started'), render: (r) => (r.status === 'active' && r.start_datetime ? fmtDate(r.start_datetime) : '—') },
        ]}
        rowActions={(r) => [
          { title: t('vmconsole:action'), isDisabled: r.status !== 'active', onClick: () => setDialog({ kind: 'console', desktop: r }) },
          { isSeparator: true },
          { title: t('power.start'), onClick: () => void doVerb(r, 'start') },
          { title: t('power.stop'), onClick: () => void doVerb(r, 'stop') },
          { title: t('power.reboot'), onClick: () => void doVerb(r, 'reboot') },
          ...(isStatic
            ? [
                { isSeparator: true },
                { title: r.user_uuid ? t('assign.change') : t('assign.button'), onClick: () => setDialog({ kind: 'assign', desktop: r }) },
                { title: t('unassign.button'), isDisabled: !r.user_uuid, onClick: () => setDialog({ kind: 'unassign', desktop: r }) },
              ]
            : r.user_uuid
              ? [{ isSeparator: true }, { title: t('unassign.button'), onClick: () => setDialog({ kind: 'unassign', desktop: r }) }]
              : []),
          { isSeparator: true },
          { title: t('common:delete'), isDanger: true, onClick: () => setDialog({ kind: 'delete', desktop: r }) },
        ]}
        bulkActions={[
          { label: t('power.start'), run: (r) => verb(r, 'start') },
          { label: t('power.stop'), run: (r) => verb(r, 'stop') },
          { label: t('power.reboot'), run: (r) => verb(r, 'reboot') },
          {
            label: t('common:delete'),
            danger: true,
            confirm: (rows) => ({ title: t('desktops.deleteManyTitle', { count: rows.length }), body: t('desktops.deleteManyBody', { count: rows.length, names: rows.map((r) => r.name).join(', ') }) }),
            run: (r) => verb(r, 'delete'),
          },
        ]}
      />
      {dialog?.kind === 'console' && <ConsoleModal kind="desktop" uuid={dialog.desktop.uuid} name={dialog.desktop.name} onClose={() => setDialog(null)} />}
      {dialog?.kind === 'assign' && (
        <AssignModal
          desktop={dialog.desktop}
          group={g}
          onClose={(done) => {
            setDialog(null);
            if (done) refresh();
          }}
        />
      )}
      {dialog?.kind === 'unassign' && (
        <ConfirmModal
          title={t('unassign.title', { name: dialog.desktop.name })}
          body={t('unassign.body', { name: dialog.desktop.name })}
          confirmLabel={t('unassign.button')}
          onConfirm={async () => {
            await unassign(dialog.desktop);
            notify('success', t('unassign.done', { name: dialog.desktop.name }));
          }}
          onClose={(done) => {
            setDialog(null);
            if (done) refresh();
          }}
        />
      )}
      {dialog?.kind === 'delete' && (
        <ConfirmModal
          title={t('desktops.deleteTitle', { name: dialog.desktop.name })}
          body={t('desktops.deleteBody', { name: dialog.desktop.name })}
          confirmLabel={t('common:delete')}
          onConfirm={async () => {
            await verb(dialog.desktop, 'delete');
            notify('success', t('desktops.done.delete', { name: dialog.desktop.name }));
          }}
          onClose={(done) => {
            setDialog(null);
            if (done) refresh();
          }}
        />
      )}
    </>
  );
}
