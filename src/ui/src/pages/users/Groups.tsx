// The user groups tab: list (group_type 2), create, rename / describe, delete.
import { Button, Form, FormGroup, Modal, ModalBody, ModalFooter, ModalHeader, TextArea, TextInput, ToolbarItem } from '@patternfly/react-core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { post } from '../../api';
import { ConfirmModal } from '../../components/ConfirmModal';
import { ErrorAlert, useFieldErrors } from '../../components/errors';
import { ListView } from '../../components/ListView';
import { useNotify } from '../../components/notify';
import { fmtDate, fmtNumber } from '../../i18n';
import { GROUP_RESOURCE, USER_GROUP, UserGroup } from './types';

function GroupForm({ group, onClose }: { group: UserGroup | null; onClose: (saved: boolean) => void }) {
  const { t } = useTranslation('users');
  const [name, setName] = useState(group?.name || '');
  const [desc, setDesc] = useState(group?.desc || '');
  const [busy, setBusy] = useState(false);
  const fe = useFieldErrors();
  const notify = useNotify();
  const save = async () => {
    setBusy(true);
    fe.clear();
    try {
      if (group) await post('/api/v1/group/update', { uuid: group.uuid, value: { name, desc } });
      else await post('/api/v1/group/create', { name, desc, group_type: USER_GROUP });
      notify('success', group ? t('groups.updated', { name }) : t('groups.created', { name }));
      onClose(true);
    } catch (e) {
      fe.fail(e);
      setBusy(false);
    }
  };
  return (
    <Modal variant="small" isOpen onClose={() => onClose(false)} aria-labelledby="group-form-title">
      <ModalHeader title={group ? t('groups.editTitle', { name: group.name }) : t('groups.createTitle')} labelId="group-form-title" />
      <ModalBody>
        <Form id="group-form" onSubmit={(e) => { e.preventDefault(); void save(); }}>
          <FormGroup label={t('common:name')} fieldId="group-form-name" isRequired>
            <TextInput id="group-form-name" value={name} onChange={(_e, v) => setName(v)} validated={fe.v('name')} data-testid="group-form-name" isRequired />
            {fe.help('name')}
          </FormGroup>
          <FormGroup label={t('common:description')} fieldId="group-form-desc">
            <TextArea id="group-form-desc" value={desc} onChange={(_e, v) => setDesc(v)} validated={fe.v('desc')} rows={2} />
            {fe.help('desc')}
          </FormGroup>
        </Form>
        <ErrorAlert error={fe.error} />
      </ModalBody>
      <ModalFooter>
        <Button type="submit" form="group-form" isLoading={busy} isDisabled={busy || !name.trim()} data-testid="group-form-submit">
          {group ? t('common:save') : t('common:create')}
        </Button>
        <Button variant="link" onClick={() => onClose(false)}>
          {t('common:cancel')}
        </Button>
      </ModalFooter>
    </Modal>
  );
}

export function Groups({ onChanged, onShowUsers }: { onChanged: () => void; onShowUsers: (g: UserGroup) => void }) {
  const { t } = useTranslation('users');
  const [form, setForm] = useState<{ group: UserGroup | null } | null>(null);
  const [del, setDel] = useState<UserGroup | null>(null);
  const [reload, setReload] = useState(0);
  const done = (saved: boolean) => {
    if (saved) {
      setReload((n) => n + 1);
      onChanged();
    }
  };
  return (
    <>
      <ListView<UserGroup>
        resource={GROUP_RESOURCE}
        filters={{ group_type: USER_GROUP }}
        ariaLabel={t('groups.title')}
        testId="user-groups"
        reloadKey={reload}
        rowName={(g) => g.name}
        searchFields={[{ field: 'name', label: t('common:name') }]}
        columns={[
          {
            key: 'name',
            title: t('common:name'),
            render: (g) => (
              <Button variant="link" isInline onClick={() => onShowUsers(g)}>
                {g.name}
              </Button>
            ),
          },
          { key: 'desc', title: t('common:description') },
          { key: 'user_count', title: t('groups.users'), render: (g) => fmtNumber(g.user_count) },
          { key: 'desktop_count', title: t('groups.desktops'), render: (g) => fmtNumber(g.desktop_count) },
          { key: 'created_at', title: t('common:created'), render: (g) => fmtDate(g.created_at) },
        ]}
        toolbar={
          <ToolbarItem>
            <Button onClick={() => setForm({ group: null })} data-testid="groups-create">
              {t('groups.create')}
            </Button>
          </ToolbarItem>
        }
        rowActions={(g) => [
          { title: t('groups.showUsers'), onClick: () => onShowUsers(g) },
          { title: t('common:edit'), onClick: () => setForm({ group: g }) },
          { isSeparator: true },
          { title: t('common:delete'), onClick: () => setDel(g), isDanger: true },
        ]}
        emptyText={t('groups.empty')}
      />
      {form && (
        <GroupForm
          group={form.group}
          onClose={(s) => {
            setForm(null);
            done(s);
          }}
        />
      )}
      {del && (
        <ConfirmModal
          title={t('groups.deleteTitle', { name: del.name })}
          body={
            <>
              <p>{t('groups.deleteBody', { name: del.name })}</p>
              {(del.user_count > 0 || del.desktop_count > 0) && <p>{t('groups.deleteInUse', { users: del.user_count, desktops: del.desktop_count })}</p>}
            </>
          }
          confirmLabel={t('common:delete')}
          onConfirm={() => post('/api/v1/group/delete', { uuid: del.uuid })}
          onClose={(ok) => {
            setDel(null);
            done(ok);
          }}
        />
      )}
    </>
  );
}
