// The Console tab: the template's screen in the page (VNC or SPICE through
// the service's WebSocket gateway, components/VmConsole.tsx) with the CD
// drive beside it (insert an ISO while installing), and, for a desktop
// client, a one-time SPICE ticket and a remote-viewer (.vv) file.
import {
  Button,
  Card,
  CardBody,
  CardTitle,
  DescriptionList,
  DescriptionListDescription,
  DescriptionListGroup,
  DescriptionListTerm,
  EmptyState,
  EmptyStateBody,
  Grid,
  GridItem,
  Stack,
  StackItem,
} from '@patternfly/react-core';
import DesktopIcon from '@patternfly/react-icons/dist/esm/icons/desktop-icon';
import DownloadIcon from '@patternfly/react-icons/dist/esm/icons/download-icon';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { post } from '../../api';
import { ErrorAlert } from '../../components/errors';
import { VmConsole } from '../../components/VmConsole';
import { fmtDate } from '../../i18n';
import { IsoDrive } from './IsoDrive';
import { saveText, Template } from './model';

export interface Console {
  host: string;
  port: number;
  ticket: string;
  expire_time: string;
  vv: string;
}

const nothing = () => undefined;

export function ConsoleTab({ template: tp, console: given, onChanged = nothing }: { template: Template; console: Console | null; onChanged?: () => void }) {
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
        <Grid hasGutter style={{ marginTop: 'var(--pf-t--global--spacer--md)' }}>
          <GridItem xl={9} lg={8} span={12}>
            <VmConsole kind="template" uuid={tp.uuid} name={tp.name} />
          </GridItem>
          <GridItem xl={3} lg={4} span={12}>
            <Stack hasGutter>
              <StackItem>
                <IsoDrive template={tp} onChanged={onChanged} />
              </StackItem>
              <StackItem>
                <Card isPlain data-testid="template-console-remote-viewer">
                  <CardTitle>{t('console.remoteViewer')}</CardTitle>
                  <CardBody>
                    <p className="vdi-muted">{t('console.remoteViewerIntro')}</p>
                    <Button variant="secondary" icon={<DesktopIcon />} onClick={() => void ticket()} isLoading={busy} isDisabled={busy} data-testid="template-console-ticket" style={{ marginTop: 'var(--pf-t--global--spacer--sm)' }}>
                      {t('console.getTicket')}
                    </Button>
                    <ErrorAlert error={error} />
                    {shown ? (
                      <div style={{ marginTop: 'var(--pf-t--global--spacer--md)' }}>
                        <DescriptionList isCompact>
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
                        <Button variant="secondary" icon={<DownloadIcon />} onClick={() => saveText(shown.vv, `${tp.name}.vv`)} data-testid="template-console-vv" style={{ marginTop: 'var(--pf-t--global--spacer--sm)' }}>
                          {t('console.downloadVv')}
                        </Button>
                        <p className="vdi-muted">{t('console.vvHint')}</p>
                      </div>
                    ) : (
                      <EmptyState titleText={t('console.noTicket')} headingLevel="h3" variant="xs">
                        <EmptyStateBody>{t('console.noTicketBody')}</EmptyStateBody>
                      </EmptyState>
                    )}
                  </CardBody>
                </Card>
              </StackItem>
            </Stack>
          </GridItem>
        </Grid>
      </StackItem>
    </Stack>
  );
}
