// A template's page: state and actions (power, edit online, save a
// version, copy, download, hardware, delete), its overview with disks and
// the ISO drive, its versions, and the Console tab.
import { Breadcrumb, BreadcrumbItem, Button, Card, CardBody, CardTitle, DescriptionList, DescriptionListDescription, DescriptionListGroup, DescriptionListTerm, Flex, FlexItem, Label, PageSection, Tab, Tabs, TabTitleText, Title } from '@patternfly/react-core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { listAll } from '../../api';
import { href, navigate } from '../../app/router';
import { ErrorAlert, errorText } from '../../components/errors';
import { useLoad } from '../../components/hooks';
import { useNotify } from '../../components/notify';
import { useTasks } from '../../components/tasks';
import { fmtDate, fmtGB } from '../../i18n';
import { Console, ConsoleTab } from './ConsoleTab';
import { DeleteTemplate } from './DeleteTemplate';
import { IsoDrive } from './IsoDrive';
import { CopyModal, HardwareModal, SaveModal } from './Modals';
import { getTemplate, power, PowerVerb, saveExport, STATUS_COLOR, TEMPLATES } from './model';
import { Versions } from './Versions';

type Dialog = 'save' | 'copy' | 'hw' | 'delete' | null;

export function Detail({ uuid }: { uuid: string }) {
  const { t } = useTranslation('templates');
  const notify = useNotify();
  const { runTask } = useTasks();
  const { data: tp, error, reload } = useLoad((s) => getTemplate(uuid, s), [uuid], 5000);
  const nodes = useLoad(() => listAll<{ uuid: string; name: string }>('node'), []);
  const [tab, setTab] = useState<string>('overview');
  const [dialog, setDialog] = useState<Dialog>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [console, setConsole] = useState<Console | null>(null);
  const [versionsKey, setVersionsKey] = useState(0);

  const act = async (key: string, fn: () => Promise<unknown>, done: string, failed: string) => {
    setBusy(key);
    try {
      await fn();
      notify('success', done);
    } catch (e) {
      notify('danger', failed, errorText(e));
    }
    setBusy(null);
    reload();
  };
  if (!tp) {
    return (
      <PageSection>
        <Title headingLevel="h1">{t('title')}</Title>
        <ErrorAlert error={error} />
      </PageSection>
    );
  }
  const doPower = (verb: PowerVerb) => act(verb, () => power(tp, verb), t(`power.done.${verb}`, { name: tp.name }), t('power.failed', { name: tp.name }));
  const edit = () =>
    act(
      'edit',
      async () => {
        const task = await runTask(t('edit.task', { name: tp.name }), 'POST', TEMPLATES, { action: 'edit', param: { uuid: tp.uuid, name: tp.name } });
        const c = (task.result as { console?: Console } | null)?.console;
        if (c) setConsole(c);
        setTab('console');
      },
      t('edit.done', { name: tp.name }),
      t('edit.failed', { name: tp.name }),
    );
  const download = () =>
    act(
      'download',
      async () => {
        const task = await runTask(t('download.task', { name: tp.name }), 'POST', '/api/v1/template/download', { uuid: tp.uuid });
        const r = task.result as { url?: string; path?: string } | null;
        const url = r?.url || (r?.path ? `/api/v1/template/download?path=${encodeURIComponent(r.path)}` : '');
        await saveExport(url, tp.name);
      },
      t('download.done', { name: tp.name }),
      t('download.failed', { name: tp.name }),
    );
  const btn = (key: string, label: string, onClick: () => void, variant: 'primary' | 'secondary' | 'tertiary' | 'danger' = 'secondary') => (
    <FlexItem key={key}>
      <Button variant={variant} onClick={onClick} isLoading={busy === key} isDisabled={busy !== null} data-testid={`template-${key}`}>
        {label}
      </Button>
    </FlexItem>
  );
  const closeDialog = (done: boolean, msg: string) => {
    setDialog(null);
    if (done) {
      notify('success', msg);
      setVersionsKey((x) => x + 1);
      reload();
    }
  };
  const row = (term: string, value: React.ReactNode) => (
    <DescriptionListGroup key={term}>
      <DescriptionListTerm>{term}</DescriptionListTerm>
      <DescriptionListDescription>{value}</DescriptionListDescription>
    </DescriptionListGroup>
  );
  return (
    <>
      <PageSection>
        <Breadcrumb>
          <BreadcrumbItem to={href('templates')}>{t('title')}</BreadcrumbItem>
          <BreadcrumbItem isActive>{tp.name}</BreadcrumbItem>
        </Breadcrumb>
        <Title headingLevel="h1">
          {tp.name}{' '}
          <Label color={STATUS_COLOR[tp.status] || 'grey'} data-testid="template-status">
            {t(`status.${tp.status}`, { defaultValue: tp.status })}
          </Label>{' '}
          <Label color="blue" data-testid="template-version">
            {t('versionN', { n: tp.version })}
          </Label>
        </Title>
        <Flex spaceItems={{ default: 'spaceItemsSm' }} style={{ marginTop: 'var(--pf-t--global--spacer--md)' }}>
          {btn('start', t('power.start'), () => void doPower('start'))}
          {btn('stop', t('power.stop'), () => void doPower('stop'))}
          {btn('hard_stop', t('power.hard_stop'), () => void doPower('hard_stop'))}
          {btn('reboot', t('power.reboot'), () => void doPower('reboot'))}
          {btn('edit', t('edit.button'), () => void edit(), 'primary')}
          {btn('save', tp.status === 'installing' ? t('save.isoButton') : t('save.button'), () => setDialog('save'))}
          {btn('copy', t('copy.button'), () => setDialog('copy'), 'tertiary')}
          {btn('download', t('download.button'), () => void download(), 'tertiary')}
          {btn('hw', t('hw.button'), () => setDialog('hw'), 'tertiary')}
          {btn('delete', t('common:delete'), () => setDialog('delete'), 'danger')}
        </Flex>
      </PageSection>
      <PageSection>
        <Tabs activeKey={tab} onSelect={(_e, k) => setTab(String(k))} aria-label={t('detailTabs')}>
          <Tab eventKey="overview" title={<TabTitleText>{t('tabs.overview')}</TabTitleText>} data-testid="template-tab-overview">
            <Flex alignItems={{ default: 'alignItemsFlexStart' }} style={{ marginTop: 'var(--pf-t--global--spacer--md)' }}>
              <FlexItem flex={{ default: 'flex_2' }}>
                <Card isPlain>
                  <CardTitle>{t('common:details')}</CardTitle>
                  <CardBody>
                    <DescriptionList isHorizontal isCompact columnModifier={{ default: '2Col' }}>
                      {row(t('col.os'), tp.os_type ? t(`images:os.${tp.os_type}`, { defaultValue: tp.os_type }) : '—')}
                      {row(t('common:description'), tp.desc || '—')}
                      {row(t('hw.vcpu'), tp.vcpu)}
                      {row(t('hw.ram'), fmtGB(tp.ram))}
                      {row(t('col.network'), `${tp.network_name || '—'} / ${tp.subnet_name || t('create.dhcp')}`)}
                      {row(t('col.ip'), tp.bind_ip || '—')}
                      {row(t('col.mac'), tp.mac || '—')}
                      {row(t('col.server'), nodes.data?.find((n) => n.uuid === tp.node_uuid)?.name || '—')}
                      {row(t('col.usedBy'), tp.desktop_count ? `${t('usedByN', { count: tp.desktop_count })} · ${t('desktopsN', { count: tp.terminal_count })}` : t('usedByN', { count: 0 }))}
                      {row(t('col.rooms'), tp.groups.length ? tp.groups.map((g) => g.name || g.uuid).join(', ') : t('allRooms'))}
                      {row(t('versions.kept'), tp.versions.map((v) => t('versionN', { n: v })).join(', '))}
                      {row(t('common:updated'), fmtDate(tp.updated_time))}
                    </DescriptionList>
                  </CardBody>
                </Card>
              </FlexItem>
              <FlexItem flex={{ default: 'flex_1' }}>
                <Card isPlain>
                  <CardTitle>{t('disks.title')}</CardTitle>
                  <CardBody>
                    <DescriptionList isCompact>
                      {tp.devices.map((d) =>
                        row(
                          `${d.device_name} · ${t(d.type === 'system' ? 'disks.system' : 'disks.data')}`,
                          t('disks.usage', { used: d.used === null ? '—' : fmtGB(d.used), size: fmtGB(d.size) }),
                        ),
                      )}
                    </DescriptionList>
                  </CardBody>
                </Card>
                <IsoDrive template={tp} onChanged={reload} />
              </FlexItem>
            </Flex>
          </Tab>
          <Tab eventKey="versions" title={<TabTitleText>{t('tabs.versions')}</TabTitleText>} data-testid="template-tab-versions">
            {tab === 'versions' && (
              <Versions
                template={tp}
                reloadKey={versionsKey}
                onChanged={() => {
                  reload();
                  setVersionsKey((x) => x + 1);
                }}
              />
            )}
          </Tab>
          <Tab eventKey="console" title={<TabTitleText>{t('tabs.console')}</TabTitleText>} data-testid="template-tab-console">
            {tab === 'console' && <ConsoleTab template={tp} console={console} onChanged={reload} />}
          </Tab>
        </Tabs>
      </PageSection>
      {dialog === 'save' && <SaveModal template={tp} onClose={(d) => closeDialog(d, t('save.done', { name: tp.name }))} />}
      {dialog === 'copy' && <CopyModal template={tp} onClose={(d) => closeDialog(d, t('copy.done', { name: tp.name }))} />}
      {dialog === 'hw' && <HardwareModal template={tp} onClose={(d) => closeDialog(d, t('hw.done', { name: tp.name }))} />}
      {dialog === 'delete' && (
        <DeleteTemplate
          template={tp}
          onClose={(done) => {
            setDialog(null);
            if (done) navigate('templates');
          }}
        />
      )}
    </>
  );
}
