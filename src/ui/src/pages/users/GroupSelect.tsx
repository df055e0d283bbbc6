// A FormSelect of the user groups (optionally with an "every group" choice).
import { FormSelect, FormSelectOption } from '@patternfly/react-core';
import { useTranslation } from 'react-i18next';
import { UserGroup } from './types';

interface Props {
  id: string;
  groups: UserGroup[];
  value: string;
  onChange: (uuid: string) => void;
  allowAll?: boolean;
  validated?: 'error' | 'default';
  testId?: string;
  ariaLabel?: string;
}

export function GroupSelect({ id, groups, value, onChange, allowAll, validated, testId, ariaLabel }: Props) {
  const { t } = useTranslation('users');
  return (
    <FormSelect id={id} value={value} onChange={(_e, v) => onChange(v)} validated={validated} data-testid={testId} aria-label={ariaLabel}>
      {allowAll && <FormSelectOption value="" label={t('groups.all')} />}
      {!allowAll && !value && <FormSelectOption value="" label={t('groups.choose')} isPlaceholder />}
      {groups.map((g) => (
        <FormSelectOption key={g.uuid} value={g.uuid} label={g.name} />
      ))}
    </FormSelect>
  );
}
