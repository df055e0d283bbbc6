// The Prometheus scrape token: issuing a new one stops the old one; the new
// one is shown once, with a copy button and where to use it.
import { Alert, Button, ClipboardCopy, Content, Stack, StackItem } from '@patternfly/react-core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { post } from '../../api';
import { ConfirmModal } from '../../components/ConfirmModal';

export function Metrics() {
  const { t } = useTranslation('settings');
  const [confirm, setConfirm] = useState(false);
  const [token, setToken] = useState<string | null>(null);
  const metricsUrl = `${window.location.origin}/metrics`;
  return (
    <Stack hasGutter>
      <StackItem>
        <Content component="p">{t('metrics.intro', { url: metricsUrl })}</Content>
      </StackItem>
      <StackItem>
        <Button onClick={() => setConfirm(true)} data-testid="metrics-token-new">
          {t('metrics.issue')}
        </Button>
      </StackItem>
      {token && (
        <StackItem>
          <Alert variant="warning" isInline title={t('metrics.once')} data-testid="metrics-token">
            <ClipboardCopy isReadOnly hoverTip={t('metrics.copy')} clickTip={t('metrics.copied')} textAriaLabel={t('metrics.token')} toggleAriaLabel={t('metrics.copy')}>
              {token}
            </ClipboardCopy>
            <Content component="p" style={{ marginTop: 'var(--pf-t--global--spacer--sm)' }}>
              {t('metrics.use')}
            </Content>
          </Alert>
        </StackItem>
      )}
      {confirm && (
        <ConfirmModal
          title={t('metrics.confirmTitle')}
          body={<p>{t('metrics.confirmBody')}</p>}
          confirmLabel={t('metrics.issue')}
          onConfirm={async () => setToken((await post<{ token: string }>('/api/v1/system/metrics_token', {})).token)}
          onClose={() => setConfirm(false)}
        />
      )}
    </Stack>
  );
}
