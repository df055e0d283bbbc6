// Changing a personal group: its name, maintenance (terminals cannot open
// its desktops meanwhile) and the user groups it serves.
import { Button, Checkbox, Form, FormGroup, Grid, GridItem, Modal, ModalBody, ModalFooter, ModalHeader, Switch, TextInput } from '@patternfly/react-core';
import { FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { post } from '../../api';
import { ErrorAlert, useFieldErrors } from '../../components/errors';
import { useLoad } from '../../components/hooks';
import { useNotify } from '../../components/notify';
import { loadUserGroups, PERSONAL, PersonalGroup } from './model';

export function EditModal({ group: g, onClose }: { group: PersonalGroup; onClose: (saved: boolean) => void }) {
  const { t } = useTranslation('personal');
  const notify = useNotify();
  const fe = useFieldErrors();
  const userGroups = useLoad(() => loadUserGroups(), []);
  const [name, setName] = useState(g.name);
  const [maintenance, setMaintenance] = useState(g.maintenance);
  const [groups, setGroups] = useState<string[]>(g.groups);
  const [busy, setBusy] = useState(false);
  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    setBusy(true);
    fe.clear();
    try {
      const value: Record<string, unknown> = { maintenance: maintenance ? 1 : 0, groups };
      if (name.trim() !== g.name) value.name = name.trim();
      await post(`${PERSONAL}update`, { uuid: g.uuid, name: g.name, value });
      notify('success', t('edit.done', { name: name.trim() }));
      onClose(true);
    } catch (err) {
      fe.fail(err);
      setBusy(false);
    }
  };
  return (
    <Modal variant="small" isOpen onClose={() => onClose(false)} aria-labelledby="personal-edit-title" data-testid="personal-edit-form">
      <ModalHeader title={t('edit.title', { name: g.name })} labelId="personal-edit-title" />
      <ModalBody>
        <Form id="personal-edit-form" onSubmit={submit}>
          <ErrorAlert error={fe.error} />
          <FormGroup label={t('common:name')} fieldId="personal-edit-name" isRequired>
            <TextInput id="personal-edit-name" data-testid="personal-edit-name" value={name} onChange={(_e, v) => setName(v)} validated={fe.v('value.name')} isRequired />
            {fe.help('value.name')}
          </FormGroup>
          <FormGroup label={t('field.maintenance')} fieldId="personal-edit-maintenance">
            <Switch
              id="personal-edit-maintenance"
              data-testid="personal-edit-maintenance"
              label={t('edit.maintenanceOn')}
              isChecked={maintenance}
              onChange={(_e, v) => setMaintenance(v)}
            />
          </FormGroup>
          <FormGroup label={t('field.userGroups')} fieldId="personal-edit-groups" role="group">
            <ErrorAlert error={userGroups.error} />
            <Grid hasGutter>
              {(userGroups.data || []).map((ug) => (
                <GridItem span={6} key={ug.uuid}>
                  <Checkbox
                    id={`personal-edit-group-${ug.uuid}`}
                    data-testid={`personal-edit-group-${ug.name}`}
                    label={ug.name}
                    isChecked={groups.includes(ug.uuid)}
                    onChange={(_e, on) => setGroups((gs) => (on ? [...gs, ug.uuid] : gs.filter((x) => x !== ug.uuid)))}
                  />
                </GridItem>
              ))}
            </Grid>
            {fe.help(['value.groups', 'groups'])}
          </FormGroup>
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button variant="primary" type="submit" form="personal-edit-form" isLoading={busy} isDisabled={busy || !name.trim()} data-testid="personal-edit-submit">
          {t('common:save')}
        </Button>
        <Button variant="link" onClick={() => onClose(false)}>
          {t('common:cancel')}
        </Button>
      </ModalFooter>
    </Modal>
  );
}
