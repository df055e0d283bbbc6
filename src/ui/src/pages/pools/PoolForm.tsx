// The pool form (create and edit in one modal): name, description, default.
import { Button, Checkbox, Form, FormGroup, Modal, ModalBody, ModalFooter, ModalHeader, TextArea, TextInput } from '@patternfly/react-core';
import { FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { post } from '../../api';
import { ErrorAlert, useFieldErrors } from '../../components/errors';
import { useNotify } from '../../components/notify';

export interface Pool extends Record<string, unknown> {
  uuid: string;
  name: string;
  desc: string;
  default: boolean;
  created_at: string;
}

export function PoolForm({ pool, onClose }: { pool: Pool | null; onClose: (saved: boolean) => void }) {
  const { t } = useTranslation('pools');
  const notify = useNotify();
  const [name, setName] = useState(pool?.name || '');
  const [desc, setDesc] = useState(pool?.desc || '');
  const [isDefault, setDefault] = useState(pool?.default || false);
  const [busy, setBusy] = useState(false);
  const fe = useFieldErrors();
  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    setBusy(true);
    fe.clear();
    try {
      if (pool) {
        const value: Record<string, unknown> = { name, desc };
        if (isDefault && !pool.default) value.default = true;
        await post('/api/v1/resource_pool/update', { uuid: pool.uuid, value });
        notify('success', t('saved', { name }));
      } else {
        await post('/api/v1/resource_pool/create', { name, desc, default: isDefault });
        notify('success', t('created', { name }));
      }
      onClose(true);
    } catch (err) {
      fe.fail(err);
      setBusy(false);
    }
  };
  return (
    <Modal variant="small" isOpen onClose={() => onClose(false)} aria-labelledby="pool-form-title" data-testid="pool-form">
      <ModalHeader title={pool ? t('editTitle', { name: pool.name }) : t('createTitle')} labelId="pool-form-title" />
      <ModalBody>
        <Form id="pool-form" onSubmit={submit}>
          <ErrorAlert error={fe.error} />
          <FormGroup label={t('common:name')} fieldId="pool-form-name" isRequired>
            <TextInput id="pool-form-name" data-testid="pool-form-name" value={name} onChange={(_e, v) => setName(v)} validated={fe.v('name')} isRequired />
            {fe.help('name')}
          </FormGroup>
          <FormGroup label={t('common:description')} fieldId="pool-form-description">
            <TextArea id="pool-form-description" data-testid="pool-form-description" value={desc} onChange={(_e, v) => setDesc(v)} validated={fe.v(['desc', 'description'])} resizeOrientation="vertical" />
            {fe.help(['desc', 'description'])}
          </FormGroup>
          <FormGroup fieldId="pool-form-default">
            <Checkbox
              id="pool-form-default"
              label={t('makeDefaultLabel')}
              description={pool?.default ? t('alreadyDefault') : t('defaultHelp')}
              isChecked={isDefault}
              isDisabled={!!pool?.default}
              onChange={(_e, v) => setDefault(v)}
            />
          </FormGroup>
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button variant="primary" type="submit" form="pool-form" isLoading={busy} isDisabled={busy || !name.trim()} data-testid="pool-form-submit">
          {pool ? t('common:save') : t('common:create')}
        </Button>
        <Button variant="link" onClick={() => onClose(false)}>
          {t('common:cancel')}
        </Button>
      </ModalFooter>
    </Modal>
  );
}
