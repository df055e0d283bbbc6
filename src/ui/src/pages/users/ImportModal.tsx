// CSV import of users (all or none): a file or pasted text, and the lines
// the service refuses (it names positions only, never a cell's content).
import { Alert, Button, Checkbox, Form, FormGroup, FormHelperText, HelperText, HelperTextItem, List, ListItem, Modal, ModalBody, ModalFooter, ModalHeader, TextArea } from '@patternfly/react-core';
import UploadIcon from '@patternfly/react-icons/dist/esm/icons/upload-icon';
import { ChangeEvent, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, post } from '../../api';
import { ErrorAlert, errorText } from '../../components/errors';
import { useNotify } from '../../components/notify';
import { GroupSelect } from './GroupSelect';
import { UserGroup } from './types';

interface ImportReply {
  success_num: number;
  failed_num: number;
}

export function ImportModal({ groups, group, onClose }: { groups: UserGroup[]; group: string; onClose: (saved: boolean) => void }) {
  const { t } = useTranslation('users');
  const notify = useNotify();
  const [g, setG] = useState(group || groups[0]?.uuid || '');
  const [csv, setCsv] = useState('');
  const [fileName, setFileName] = useState('');
  const [enabled, setEnabled] = useState(true);
  const [busy, setBusy] = useState(false);
  const [refused, setRefused] = useState<string[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const fileRef = useRef<HTMLInputElement>(null);

  const pick = async (e: ChangeEvent<HTMLInputElement>) => {
    const f = e.target.files?.[0];
    if (!f) return;
    setFileName(f.name);
    setCsv(await f.text());
    setRefused(null);
    e.target.value = '';
  };

  const submit = async () => {
    setBusy(true);
    setRefused(null);
    setError(null);
    try {
      const r = await post<ImportReply>('/api/v1/group/user/import', { group_uuid: g, csv, enabled });
      notify('success', t('import.done', { count: r.success_num }));
      onClose(true);
    } catch (e) {
      // A refusal of the file's content names its lines; anything else is a plain error.
      if (e instanceof ApiError && (e.field === 'csv' || /\bline \d+/i.test(e.message))) setRefused(errorText(e).split('\n').filter(Boolean));
      else setError(e);
      setBusy(false);
    }
  };

  return (
    <Modal variant="medium" isOpen onClose={() => onClose(false)} aria-labelledby="users-import-title" data-testid="users-import-modal">
      <ModalHeader title={t('import.title')} labelId="users-import-title" description={t('import.intro')} />
      <ModalBody>
        <Form id="users-import-form" onSubmit={(e) => { e.preventDefault(); void submit(); }}>
          <FormGroup label={t('form.group')} fieldId="users-import-group" isRequired>
            <GroupSelect id="users-import-group" groups={groups} value={g} onChange={setG} testId="users-import-group" />
          </FormGroup>
          <FormGroup label={t('import.file')} fieldId="users-import-text" isRequired>
            <input ref={fileRef} type="file" accept=".csv,text/csv,text/plain" hidden onChange={pick} data-testid="users-import-file" aria-label={t('import.choose')} />
            <Button variant="secondary" icon={<UploadIcon />} onClick={() => fileRef.current?.click()}>
              {t('import.choose')}
            </Button>{' '}
            {fileName && <span className="vdi-muted">{fileName}</span>}
            <TextArea
              id="users-import-text"
              value={csv}
              onChange={(_e, v) => {
                setCsv(v);
                setRefused(null);
              }}
              rows={8}
              resizeOrientation="vertical"
              placeholder={t('import.placeholder')}
              validated={refused ? 'error' : 'default'}
              data-testid="users-import-text"
              style={{ fontFamily: 'var(--pf-t--global--font--family--mono)', marginTop: 'var(--pf-t--global--spacer--sm)' }}
            />
            <FormHelperText>
              <HelperText>
                <HelperTextItem>{t('import.columns')}</HelperTextItem>
              </HelperText>
            </FormHelperText>
          </FormGroup>
          <Checkbox id="users-import-enabled" label={t('form.enabled')} isChecked={enabled} onChange={(_e, v) => setEnabled(v)} />
        </Form>
        {refused && (
          <Alert variant="danger" isInline title={t('import.refused')} data-testid="users-import-errors">
            <List>
              {refused.map((m, i) => (
                <ListItem key={i}>{m}</ListItem>
              ))}
            </List>
          </Alert>
        )}
        <ErrorAlert error={error} />
      </ModalBody>
      <ModalFooter>
        <Button type="submit" form="users-import-form" isLoading={busy} isDisabled={busy || !g || !csv.trim()} data-testid="users-import-submit">
          {t('import.submit')}
        </Button>
        <Button variant="link" onClick={() => onClose(false)}>
          {t('common:cancel')}
        </Button>
      </ModalFooter>
    </Modal>
  );
}
