// Administrators: list (GET /api/v1.0/admin/), create, new password,
// enable / disable, delete. The service refuses to disable or delete the
// last enabled admin or yourself; its message is shown.
import { Button, Form, FormGroup, FormHelperText, HelperText, HelperTextItem, Label, Modal, ModalBody, ModalFooter, ModalHeader, TextInput, ToolbarItem } from '@patternfly/react-core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { getSession, post } from '../../api';
import { ConfirmModal } from '../../components/ConfirmModal';
import { ErrorAlert, errorText, useFieldErrors } from '../../components/errors';
import { ListView } from '../../components/ListView';
import { useNotify } from '../../components/notify';
import { fmtDate, fmtNumber } from '../../i18n';

interface Admin {
  [k: string]: unknown;
  name: string;
  enabled: boolean;
  created_at: string;
  updated_at: string;
  sessions: number;
}

function AdminForm({ admin, onClose }: { admin: Admin | null; onClose: (saved: boolean) => void }) {
  const { t } = useTranslation('settings');
  const notify = useNotify();
  const fe = useFieldErrors();
  const [name, setName] = useState(admin?.name || '');
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [busy, setBusy] = useState(false);
  const mismatch = again !== '' && again !== password;
  const save = async () => {
    setBusy(true);
    fe.clear();
    try {
      if (admin) await post('/api/v1/admin/update', { name: admin.name, password });
      else await post('/api/v1/admin/create', { name, password });
      notify('success', admin ? t('admins.passwordDone', { name }) : t('admins.created', { name }));
      onClose(true);
    } catch (e) {
      fe.fail(e);
      setBusy(false);
    }
  };
  return (
    <Modal variant="small" isOpen onClose={() => onClose(false)} aria-labelledby="admin-form-title" data-testid="admin-form">
      <ModalHeader title={admin ? t('admins.passwordTitle', { name: admin.name }) : t('admins.createTitle')} labelId="admin-form-title" />
      <ModalBody>
        <Form id="admin-form" onSubmit={(e) => { e.preventDefault(); void save(); }}>
          {!admin && (
            <FormGroup label={t('admins.name')} fieldId="admin-form-name" isRequired>
              <TextInput id="admin-form-name" value={name} onChange={(_e, v) => setName(v)} validated={fe.v('name')} data-testid="admin-form-name" autoComplete="off" />
              {fe.help('name')}
            </FormGroup>
          )}
          <FormGroup label={t('admins.password')} fieldId="admin-form-password" isRequired>
            <TextInput id="admin-form-password" type="password" value={password} onChange={(_e, v) => setPassword(v)} validated={fe.v('password')} data-testid="admin-form-password" autoComplete="new-password" />
            {fe.help('password')}
          </FormGroup>
          <FormGroup label={t('admins.again')} fieldId="admin-form-again" isRequired>
            <TextInput id="admin-form-again" type="password" value={again} onChange={(_e, v) => setAgain(v)} validated={mismatch ? 'error' : 'default'} data-testid="admin-form-again" autoComplete="new-password" />
            {mismatch && (
              <FormHelperText>
                <HelperText>
                  <HelperTextItem variant="error">{t('admins.mismatch')}</HelperTextItem>
                </HelperText>
              </FormHelperText>
            )}
          </FormGroup>
        </Form>
        <ErrorAlert error={fe.error} />
      </ModalBody>
      <ModalFooter>
        <Button type="submit" form="admin-form" isLoading={busy} isDisabled={busy || !password || password !== again || (!admin && !name.trim())} data-testid="admin-form-submit">
          {admin ? t('admins.setPassword') : t('common:create')}
        </Button>
        <Button variant="link" onClick={() => onClose(false)}>
          {t('common:cancel')}
        </Button>
      </ModalFooter>
    </Modal>
  );
}

export function Admins() {
  const { t } = useTranslation('settings');
  const notify = useNotify();
  const me = getSession()?.name;
  const [form, setForm] = useState<{ admin: Admin | null } | null>(null);
  const [del, setDel] = useState<Admin | null>(null);
  const [reload, setReload] = useState(0);
  const done = (ok: boolean) => ok && setReload((n) => n + 1);
  const toggle = (a: Admin) =>
    post('/api/v1/admin/update', { name: a.name, enabled: !a.enabled }).then(
      () => {
        notify('success', a.enabled ? t('admins.disabledDone', { name: a.name }) : t('admins.enabledDone', { name: a.name }));
        done(true);
      },
      (e) => notify('danger', t('admins.failed', { name: a.name }), errorText(e)),
    );
  return (
    <>
      <ListView<Admin>
        resource="admin"
        ariaLabel={t('admins.title')}
        testId="admins-list"
        reloadKey={reload}
        rowKey={(a) => a.name}
        rowName={(a) => a.name}
        searchFields={[{ field: 'name', label: t('admins.name') }]}
        columns={[
          {
            key: 'name',
            title: t('admins.name'),
            render: (a) => (
              <>
                {a.name} {a.name === me && <Label isCompact color="blue">{t('admins.you')}</Label>}
              </>
            ),
          },
          { key: 'enabled', title: t('common:state'), render: (a) => (a.enabled ? <Label color="green">{t('common:enabled')}</Label> : <Label color="grey">{t('common:disabled')}</Label>) },
          { key: 'sessions', title: t('admins.sessions'), render: (a) => fmtNumber(a.sessions) },
          { key: 'created_at', title: t('common:created'), render: (a) => fmtDate(a.created_at) },
          { key: 'updated_at', title: t('common:updated'), render: (a) => fmtDate(a.updated_at) },
        ]}
        toolbar={
          <ToolbarItem>
            <Button onClick={() => setForm({ admin: null })} data-testid="admins-create">
              {t('admins.create')}
            </Button>
          </ToolbarItem>
        }
        rowActions={(a) => [
          { title: t('admins.setPassword'), onClick: () => setForm({ admin: a }) },
          { title: a.enabled ? t('common:disable') : t('common:enable'), onClick: () => void toggle(a) },
          { isSeparator: true },
          { title: t('common:delete'), isDanger: true, onClick: () => setDel(a) },
        ]}
        emptyText={t('admins.empty')}
      />
      {form && (
        <AdminForm
          admin={form.admin}
          onClose={(ok) => {
            setForm(null);
            done(ok);
          }}
        />
      )}
      {del && (
        <ConfirmModal
          title={t('admins.deleteTitle', { name: del.name })}
          body={<p>{t('admins.deleteBody', { name: del.name, count: del.sessions })}</p>}
          confirmLabel={t('common:delete')}
          onConfirm={() => post('/api/v1/admin/delete', { name: del.name })}
          onClose={(ok) => {
            setDel(null);
            done(ok);
          }}
        />
      )}
    </>
  );
}
