// Server actions: power (reboot / shut down, `force` for the controller),
// delete (names what refuses it; `force` for an unreachable node), this
// server's root password, and a new node credential shown once.
import { Alert, Button, Checkbox, ClipboardCopy, Form, FormGroup, FormHelperText, HelperText, HelperTextItem, Modal, ModalBody, ModalFooter, ModalHeader, TextInput } from '@patternfly/react-core';
import { FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { list, post } from '../../api';
import { ConfirmModal } from '../../components/ConfirmModal';
import { ErrorAlert, useFieldErrors } from '../../components/errors';
import { useLoad } from '../../components/hooks';
import { useNotify } from '../../components/notify';
import { Node } from '../network/types';

export type Action = 'reboot' | 'shutdown' | 'delete' | 'credential';

const isController = (n: Node) => n.role.includes('controller');

function PowerConfirm({ node, op, onClose }: { node: Node; op: 'reboot' | 'shutdown'; onClose: (done: boolean) => void }) {
  const { t } = useTranslation('servers');
  const notify = useNotify();
  const [force, setForce] = useState(false);
  const ctl = isController(node);
  return (
    <ConfirmModal
      title={t(`${op}.title`, { name: node.name })}
      body={
        <>
          <p>{t(`${op}.body`, { name: node.name })}</p>
          {ctl && (
            <>
              <Alert variant="warning" isInline title={t(`${op}.controller`)} />
              <Checkbox id="power-force" label={t(`${op}.force`)} isChecked={force} onChange={(_e, v) => setForce(v)} data-testid="power-force" />
            </>
          )}
        </>
      }
      confirmLabel={t(`${op}.button`)}
      onConfirm={() => post(`/api/v1/node/${op}`, { uuid: node.uuid, force })}
      onClose={(ok) => {
        if (ok) notify('success', t(`${op}.done`, { name: node.name }));
        onClose(ok);
      }}
    />
  );
}

function DeleteConfirm({ node, onClose }: { node: Node; onClose: (done: boolean) => void }) {
  const { t } = useTranslation('servers');
  const notify = useNotify();
  const [force, setForce] = useState(false);
  const counts = useLoad(
    async (s) => {
      const [d, tp] = await Promise.all([
        list('instance', { page: 1, pageSize: 1, filters: { node_uuid: node.uuid } }, s),
        list('voi/education/template', { page: 1, pageSize: 1, filters: { node_uuid: node.uuid } }, s),
      ]);
      return { desktops: d.count, templates: tp.count };
    },
    [node.uuid],
  );
  const blocked = !!counts.data && counts.data.desktops + counts.data.templates > 0;
  return (
    <ConfirmModal
      title={t('delete.title', { name: node.name })}
      body={
        <>
          <p>{t('delete.body', { name: node.name })}</p>
          {isController(node) && <Alert variant="danger" isInline title={t('delete.controller')} />}
          {blocked && counts.data && (
            <Alert variant="warning" isInline title={t('delete.blocked', { name: node.name })}>
              {t('delete.desktops', { count: counts.data.desktops })} · {t('delete.templates', { count: counts.data.templates })}
            </Alert>
          )}
          <ErrorAlert error={counts.error} />
          <Checkbox id="delete-force" label={t('delete.force')} description={t('delete.forceHelp')} isChecked={force} onChange={(_e, v) => setForce(v)} data-testid="delete-force" />
        </>
      }
      confirmLabel={t('common:delete')}
      onConfirm={() => post('/api/v1/node/delete', { uuid: node.uuid, force })}
      onClose={(ok) => {
        if (ok) notify('success', t('delete.done', { name: node.name }));
        onClose(ok);
      }}
    />
  );
}

function CredentialModal({ node, onClose }: { node: Node; onClose: (done: boolean) => void }) {
  const { t } = useTranslation('servers');
  const [cred, setCred] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const make = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await post<{ credential: string }>('/api/v1/node/credential', { node_uuid: node.uuid });
      setCred(r.credential);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal variant="medium" isOpen onClose={() => onClose(!!cred)} aria-labelledby="cred-title" data-testid="credential-modal">
      <ModalHeader title={t('credential.title', { name: node.name })} labelId="cred-title" titleIconVariant={cred ? undefined : 'warning'} />
      <ModalBody>
        <ErrorAlert error={error} />
        {cred ? (
          <>
            <Alert variant="info" isInline title={t('credential.once')} />
            <ClipboardCopy isReadOnly hoverTip={t('credential.copy')} clickTip={t('credential.copied')} textAriaLabel={t('credential.value')} toggleAriaLabel={t('credential.show')} data-testid="credential-value">
              {cred}
            </ClipboardCopy>
          </>
        ) : (
          <p>{t('credential.body', { name: node.name })}</p>
        )}
      </ModalBody>
      <ModalFooter>
        {!cred && (
          <Button variant="danger" onClick={make} isLoading={busy} isDisabled={busy} data-testid="credential-make">
            {t('credential.make')}
          </Button>
        )}
        <Button variant={cred ? 'primary' : 'link'} onClick={() => onClose(!!cred)}>
          {cred ? t('common:close') : t('common:cancel')}
        </Button>
      </ModalFooter>
    </Modal>
  );
}

export function RootPasswordModal({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation('servers');
  const notify = useNotify();
  const [pw, setPw] = useState('');
  const [again, setAgain] = useState('');
  const [busy, setBusy] = useState(false);
  const fe = useFieldErrors();
  const mismatch = again !== '' && pw !== again;
  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    setBusy(true);
    fe.clear();
    try {
      await post('/api/v1/system/root_password', { password: pw });
      notify('success', t('rootpw.done'));
      onClose();
    } catch (err) {
      fe.fail(err);
      setBusy(false);
    }
  };
  return (
    <Modal variant="small" isOpen onClose={onClose} aria-labelledby="rootpw-title" data-testid="rootpw-modal">
      <ModalHeader title={t('rootpw.title')} labelId="rootpw-title" />
      <ModalBody>
        <Form id="rootpw-form" onSubmit={submit}>
          <p>{t('rootpw.body')}</p>
          <ErrorAlert error={fe.error} />
          <FormGroup label={t('rootpw.password')} fieldId="rootpw-password" isRequired>
            <TextInput id="rootpw-password" type="password" autoComplete="new-password" value={pw} onChange={(_e, v) => setPw(v)} validated={fe.v('password')} />
            {fe.help('password')}
          </FormGroup>
          <FormGroup label={t('rootpw.again')} fieldId="rootpw-again" isRequired>
            <TextInput id="rootpw-again" type="password" autoComplete="new-password" value={again} onChange={(_e, v) => setAgain(v)} validated={mismatch ? 'error' : 'default'} />
            {mismatch && (
              <FormHelperText>
                <HelperText>
                  <HelperTextItem variant="error">{t('rootpw.mismatch')}</HelperTextItem>
                </HelperText>
              </FormHelperText>
            )}
          </FormGroup>
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button variant="primary" type="submit" form="rootpw-form" isLoading={busy} isDisabled={busy || !pw || pw !== again} data-testid="rootpw-submit">
          {t('common:save')}
        </Button>
        <Button variant="link" onClick={onClose}>
          {t('common:cancel')}
        </Button>
      </ModalFooter>
    </Modal>
  );
}

/** The dialog of one action on one server. */
export function NodeAction({ node, action, onClose }: { node: Node; action: Action; onClose: (done: boolean) => void }) {
  if (action === 'reboot' || action === 'shutdown') return <PowerConfirm node={node} op={action} onClose={onClose} />;
  if (action === 'delete') return <DeleteConfirm node={node} onClose={onClose} />;
  return <CredentialModal node={node} onClose={onClose} />;
}
