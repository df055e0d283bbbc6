// The Console tab: today a one-time SPICE ticket and a remote-viewer (.vv)
// file for a running template; the in-browser console comes here later.
import { Alert, Button, DescriptionList, DescriptionListDescription, DescriptionListGroup, DescriptionListTerm, EmptyState, EmptyStateBody, Stack, StackItem } from '@patternfly/react-core';
import DesktopIcon from '@patternfly/react-icons/dist/esm/icons/desktop-icon';
import DownloadIcon from '@patternfly/react-icons/dist/esm/icons/download-icon';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { post } from '../../api';
import { ErrorAlert } from '../../components/errors';
import { fmtDate } from '../../i18n';
import { saveText, Template } from './model';

export interface Console {
  host: string;
  port: number;
  ticket: string;
  expire_time: string;
  vv: string;
}

export function ConsoleTab({ template: tp, console: given }: { template: Template; console: Console | null }) {
  const { t } = useTranslation('templates');
  const [c, setC] = useState<Console | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const shown = c || given;
  const ticket = async () => {
    setBusy(true);
    setError(null);
    try {
      setC(await post<Console>('/api/v1/template/console', { uuid: tp.uuid }));
    } catch (e) {
      setError(e);
    }
    setBusy(false);
  };
  return (
    <Stack hasGutter data-testid="template-console">
      <StackItem>
        <Alert isInline variant="info" title={t('console.comingTitle')}>
          {t('console.coming')}
        </Alert>
      </StackItem>
      <StackItem>
        <Button icon={<DesktopIcon />} onClick={() => void ticket()} isLoading={busy} isDisabled={busy} data-testid="template-console-ticket">
          {t('console.getTicket')}
        </Button>
      </StackItem>
      <ErrorAlert error={error} />
      {shown ? (
        <StackItem>
          <DescriptionList isHorizontal isCompact>
            <DescriptionListGroup>
              <DescriptionListTerm>{t('console.address')}</DescriptionListTerm>
              <DescriptionListDescription>
                <code>
                  {shown.host}:{shown.port}
                </code>
              </DescriptionListDescription>
            </DescriptionListGroup>
            <DescriptionListGroup>
              <DescriptionListTerm>{t('console.password')}</DescriptionListTerm>
              <DescriptionListDescription>
                <code data-testid="template-console-password">{shown.ticket}</code>
              </DescriptionListDescription>
            </DescriptionListGroup>
            <DescriptionListGroup>
              <DescriptionListTerm>{t('console.expires')}</DescriptionListTerm>
              <DescriptionListDescription>{fmtDate(shown.expire_time)}</DescriptionListDescription>
            </DescriptionListGroup>
          </DescriptionList>
          <Button variant="secondary" icon={<DownloadIcon />} onClick={() => saveText(shown.vv, `${tp.name}.vv`)} data-testid="template-console-vv">
            {t('console.downloadVv')}
          </Button>
          <p className="vdi-muted">{t('console.vvHint')}</p>
        </StackItem>
      ) : (
        <EmptyState titleText={t('console.noTicket')} headingLevel="h3" variant="sm">
          <EmptyStateBody>{t('console.noTicketBody')}</EmptyStateBody>
        </EmptyState>
      )}
    </Stack>
  );
}
