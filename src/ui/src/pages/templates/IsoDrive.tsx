// The template's CD drive: which ISO is inserted, insert another (by its
// path, as change_device takes it) or eject; a task each.
import { Button, Card, CardBody, CardTitle, Flex, FlexItem, FormGroup, FormSelect, FormSelectOption } from '@patternfly/react-core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { listAll } from '../../api';
import { ErrorAlert } from '../../components/errors';
import { useLoad } from '../../components/hooks';
import { useNotify } from '../../components/notify';
import { useTasks } from '../../components/tasks';
import { Template } from './model';

export function IsoDrive({ template: tp, onChanged }: { template: Template; onChanged: () => void }) {
  const { t } = useTranslation('templates');
  const notify = useNotify();
  const { runTask } = useTasks();
  const isos = useLoad(() => listAll<{ uuid: string; name: string; path: string }>('iso'), []);
  const [path, setPath] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const current = isos.data?.find((i) => i.uuid === tp.attach);
  const chosen = path || isos.data?.[0]?.path || '';
  const change = async (p: string) => {
    setBusy(true);
    setError(null);
    try {
      await runTask(p ? t('iso.insertTask', { name: tp.name }) : t('iso.ejectTask', { name: tp.name }), 'POST', '/api/v1/template/change_device', { uuid: tp.uuid, path: p });
      notify('success', p ? t('iso.inserted', { name: tp.name }) : t('iso.ejected', { name: tp.name }));
      onChanged();
    } catch (e) {
      setError(e);
    }
    setBusy(false);
  };
  return (
    <Card isPlain data-testid="template-iso">
      <CardTitle>{t('iso.title')}</CardTitle>
      <CardBody>
        <p data-testid="template-iso-current">{tp.attach ? t('iso.current', { name: current?.name || tp.attach }) : t('iso.empty')}</p>
        <FormGroup label={t('iso.choose')} fieldId="tpl-iso-choose">
          <FormSelect id="tpl-iso-choose" value={chosen} onChange={(_e, v) => setPath(v)} isDisabled={!isos.data?.length}>
            {(isos.data || []).map((i) => (
              <FormSelectOption key={i.uuid} value={i.path} label={i.name} />
            ))}
          </FormSelect>
        </FormGroup>
        <Flex spaceItems={{ default: 'spaceItemsSm' }} style={{ marginTop: 'var(--pf-t--global--spacer--sm)' }}>
          <FlexItem>
            <Button variant="secondary" isDisabled={busy || !chosen} isLoading={busy} onClick={() => void change(chosen)} data-testid="template-iso-insert">
              {t('iso.insert')}
            </Button>
          </FlexItem>
          <FlexItem>
            <Button variant="link" isDisabled={busy || !tp.attach} onClick={() => void change('')} data-testid="template-iso-eject">
              {t('iso.eject')}
            </Button>
          </FlexItem>
        </Flex>
        <ErrorAlert error={error} />
      </CardBody>
    </Card>
  );
}
