// The first-boot setup (to be moved onto this stack).
import { PageSection, Title } from '@patternfly/react-core';
import { useTranslation } from 'react-i18next';
import { get } from '../../api';

export interface SetupStatus {
  admin_exists: boolean;
  initialised: boolean;
  [k: string]: unknown;
}

export const setupStatus = () => get<SetupStatus>('/api/v1/setup/status');

export function Setup(_p: { status: SetupStatus; onDone: () => void }) {
  const { t } = useTranslation('setup');
  return (
    <PageSection>
      <Title headingLevel="h1">{t('title')}</Title>
    </PageSection>
  );
}
