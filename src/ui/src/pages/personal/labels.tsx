// A group's state labels: being made / deleted, maintenance, desktops running.
import { Label, LabelGroup } from '@patternfly/react-core';
import { useTranslation } from 'react-i18next';
import { PersonalGroup, STATE_COLOR, STATUS_COLOR } from './model';

export function GroupLabels({ group: g }: { group: PersonalGroup }) {
  const { t } = useTranslation('personal');
  return (
    <LabelGroup>
      {g.state !== 'ready' && (
        <Label color={STATE_COLOR[g.state] || 'grey'} data-testid="personal-state">
          {t(`state.${g.state}`, { defaultValue: g.state })}
        </Label>
      )}
      {g.state === 'ready' && (
        <Label color={g.active_count > 0 ? 'green' : 'grey'} data-testid="personal-state">
          {g.active_count > 0 ? t('state.running') : t('state.stopped')}
        </Label>
      )}
      {g.maintenance && (
        <Label color="orange" data-testid="personal-maintenance">
          {t('state.maintenance')}
        </Label>
      )}
    </LabelGroup>
  );
}

/** A desktop's power state and, while made or deleted, its phase. */
export function DesktopLabels({ status, state }: { status: string; state: string }) {
  const { t } = useTranslation('personal');
  return (
    <LabelGroup>
      <Label color={STATUS_COLOR[status] || 'grey'}>{t(`status.${status}`, { defaultValue: status })}</Label>
      {state !== 'ready' && <Label color={STATE_COLOR[state] || 'grey'}>{t(`state.${state}`, { defaultValue: state })}</Label>}
    </LabelGroup>
  );
}
