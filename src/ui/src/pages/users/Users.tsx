// The users tab: users of one group or all (generic query), create one or
// a batch, CSV import, enable / disable / delete (bulk), edit, new password.
import { Button, Label, List, ListItem, ToolbarItem } from '@patternfly/react-core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { post } from '../../api';
import { ConfirmModal } from '../../components/ConfirmModal';
import { errorText } from '../../components/errors';
import { ListView } from '../../components/ListView';
import { useNotify } from '../../components/notify';
import { fmtDate } from '../../i18n';
import { GroupSelect } from './GroupSelect';
import { ImportModal } from './ImportModal';
import { User, UserGroup } from './types';
import { BatchForm, PasswordForm, UserForm } from './UserForms';

type Dialog = { kind: 'create' } | { kind: 'batch' } | { kind: 'import' } | { kind: 'edit'; user: User } | { kind: 'password'; user: User } | { kind: 'delete'; user: User };

export function Users({ groups, group, setGroup, onChanged }: { groups: UserGroup[]; group: string; setGroup: (g: string) => void; onChanged: () => void }) {
  const { t } = useTranslation('users');
  const notify = useNotify();
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [reload, setReload] = useState(0);
  const close = (saved: boolean) => {
    setDialog(null);
    if (saved) {
      setReload((n) => n + 1);
      onChanged();
    }
  };
  const names = (rows: User[]) => (
    <List>
      {rows.slice(0, 15).map((u) => (
        <ListItem key={u.uuid}>{u.user_name}</ListItem>
      ))}
      {rows.length > 15 && <ListItem>{t('users.andMore', { count: rows.length - 15 })}</ListItem>}
    </List>
  );
  const toggle = (u: User) => {
    const verb = u.enabled ? 'disable' : 'enable';
    post(`/api/v1/group/user/${verb}`, { uuid: u.uuid }).then(
      () => {
        notify('success', t(`users.${verb}d`, { name: u.user_name }));
        close(true);
      },
      (e) => notify('danger', t('users.failed', { name: u.user_name }), errorText(e)),
    );
  };
  const noGroup = groups.length === 0;
  return (
    <>
      <ListView<User>
        resource="group_user"
        ariaLabel={t('users.title')}
        testId="users-list"
        reloadKey={reload}
        filters={{ group_uuid: group || undefined }}
        rowName={(u) => u.user_name}
        searchFields={[
          { field: 'user_name', label: t('form.userName') },
          { field: 'name', label: t('form.realName') },
          { field: 'email', label: t('form.email') },
          { field: 'phone', label: t('form.phone') },
        ]}
        columns={[
          { key: 'user_name', title: t('form.userName') },
          { key: 'name', title: t('form.realName') },
          { key: 'group_name', title: t('form.group') },
          { key: 'phone', title: t('form.phone') },
          { key: 'email', title: t('form.email') },
          {
            key: 'enabled',
            title: t('common:state'),
            render: (u) => (u.enabled ? <Label color="green">{t('common:enabled')}</Label> : <Label color="grey">{t('common:disabled')}</Label>),
          },
          { key: 'created_at', title: t('common:created'), render: (u) => fmtDate(u.created_at) },
        ]}
        toolbar={
          <>
            <ToolbarItem>
              <GroupSelect id="users-group-filter" groups={groups} value={group} onChange={setGroup} allowAll ariaLabel={t('users.filterGroup')} testId="users-group-filter" />
            </ToolbarItem>
            <ToolbarItem>
              <Button onClick={() => setDialog({ kind: 'create' })} isDisabled={noGroup} data-testid="users-create">
                {t('users.create')}
              </Button>
            </ToolbarItem>
            <ToolbarItem>
              <Button variant="secondary" onClick={() => setDialog({ kind: 'batch' })} isDisabled={noGroup} data-testid="users-batch">
                {t('users.batch')}
              </Button>
            </ToolbarItem>
            <ToolbarItem>
              <Button variant="secondary" onClick={() => setDialog({ kind: 'import' })} isDisabled={noGroup} data-testid="users-import">
                {t('users.import')}
              </Button>
            </ToolbarItem>
          </>
        }
        bulkActions={[
          { label: t('common:enable'), run: (u) => post('/api/v1/group/user/enable', { uuid: u.uuid }) },
          { label: t('common:disable'), run: (u) => post('/api/v1/group/user/disable', { uuid: u.uuid }) },
          {
            label: t('common:delete'),
            danger: true,
            confirm: (rows) => ({
              title: t('users.deleteTitle', { count: rows.length }),
              body: (
                <>
                  <p>{t('users.deleteBody', { count: rows.length })}</p>
                  {names(rows)}
                </>
              ),
            }),
            run: (u) => post('/api/v1/group/user/delete', { uuid: u.uuid }),
          },
        ]}
        rowActions={(u) => [
          { title: t('common:edit'), onClick: () => setDialog({ kind: 'edit', user: u }) },
          { title: t('users.resetPassword'), onClick: () => setDialog({ kind: 'password', user: u }) },
          { title: u.enabled ? t('common:disable') : t('common:enable'), onClick: () => toggle(u) },
          { isSeparator: true },
          { title: t('common:delete'), isDanger: true, onClick: () => setDialog({ kind: 'delete', user: u }) },
        ]}
        emptyText={noGroup ? t('users.noGroups') : t('users.empty')}
      />
      {dialog?.kind === 'create' && <UserForm user={null} groups={groups} group={group} onClose={close} />}
      {dialog?.kind === 'edit' && <UserForm user={dialog.user} groups={groups} group={group} onClose={close} />}
      {dialog?.kind === 'batch' && <BatchForm groups={groups} group={group} onClose={close} />}
      {dialog?.kind === 'import' && <ImportModal groups={groups} group={group} onClose={close} />}
      {dialog?.kind === 'password' && <PasswordForm user={dialog.user} onClose={close} />}
      {dialog?.kind === 'delete' && (
        <ConfirmModal
          title={t('users.deleteTitle', { count: 1 })}
          body={
            <>
              <p>{t('users.deleteBody', { count: 1 })}</p>
              {names([dialog.user])}
            </>
          }
          confirmLabel={t('common:delete')}
          onConfirm={() => post('/api/v1/group/user/delete', { uuid: dialog.user.uuid })}
          onClose={close}
        />
      )}
    </>
  );
}
