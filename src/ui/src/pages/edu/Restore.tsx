// The restore flags of a group: whether the system disk returns to the
// template at every start, and what happens to the data disk.
import { Checkbox, FormGroup, Radio } from '@patternfly/react-core';
import { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

export function RestoreFields(p: {
  sys: boolean;
  data: number;
  onSys: (v: boolean) => void;
  onData: (v: number) => void;
  /** The template has a data disk (otherwise the data choice does not apply). */
  hasData: boolean;
  /** Creating: "no data disk" may be chosen. */
  creating: boolean;
  help: (f: string[]) => ReactNode;
  v: (f: string[]) => 'error' | 'default';
}) {
  const { t } = useTranslation('edu');
  const options = p.creating || p.data === 2 ? [0, 1, 2] : [0, 1];
  return (
    <>
      <FormGroup fieldId="edu-sys-restore" label={t('restore.system')}>
        <Checkbox id="edu-sys-restore" data-testid="edu-sys-restore" label={t('restore.systemLabel')} description={t('restore.systemHint')} isChecked={p.sys} onChange={(_e, v) => p.onSys(v)} isValid={p.v(['sys_restore', 'value.sys_restore']) !== 'error'} />
        {p.help(['sys_restore', 'value.sys_restore'])}
      </FormGroup>
      <FormGroup role="radiogroup" fieldId="edu-data-restore" label={t('restore.data')} isStack>
        {p.hasData ? (
          options.map((n) => (
            <Radio key={n} id={`edu-data-restore-${n}`} name="edu-data-restore" label={t(`restore.data${n}`)} description={t(`restore.data${n}Hint`)} isChecked={p.data === n} onChange={() => p.onData(n)} data-testid={`edu-data-restore-${n}`} />
          ))
        ) : (
          <p className="vdi-muted">{t('restore.noDataDisk')}</p>
        )}
        {p.help(['data_restore', 'value.data_restore'])}
      </FormGroup>
    </>
  );
}

/** The restore flags in words. */
export function restoreText(t: (k: string) => string, sys: boolean | number, data: number) {
  return `${t(sys ? 'restore.sysOn' : 'restore.sysOff')} · ${t(`restore.data${data}`)}`;
}
