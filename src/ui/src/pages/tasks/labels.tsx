// Task states as coloured labels and task kinds by their translated names.
import { Label, LabelProps } from '@patternfly/react-core';
import { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { Task } from '../../api';

export const STATES: Task['state'][] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
const COLOR: Record<string, LabelProps['color']> = { queued: 'grey', running: 'blue', succeeded: 'green', failed: 'red', cancelled: 'orange' };

export function StateLabel({ state }: { state: string }) {
  const { t } = useTranslation('tasks');
  return <Label color={COLOR[state] || 'grey'}>{t(`state.${state}`, { defaultValue: state })}</Label>;
}

export const kindName = (t: TFunction, kind: string) => t(`tasks:kind.${kind}`, { defaultValue: kind });
