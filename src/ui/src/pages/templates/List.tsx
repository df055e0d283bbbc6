// The template listing: name (to its detail), OS, state, version,
// hardware, address, server, the desktop groups made from it; power and
// delete per row and in bulk; the create wizard.
import { Button, Label, PageSection, Title, ToolbarItem } from '@patternfly/react-core';
import PlusIcon from '@patternfly/react-icons/dist/esm/icons/plus-icon';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { listAll } from '../../api';
import { href, navigate } from '../../app/router';
import { useLoad } from '../../components/hooks';
import { ListView } from '../../components/ListView';
import { useNotify } from '../../components/notify';
import { fmtGB } from '../../i18n';
import { CreateWizard } from './CreateWizard';
import { DeleteTemplate } from './DeleteTemplate';
import { power, PowerVerb, STATUS_COLOR, Template, TEMPLATES } from './model';

export function TemplateList() {
  const { t } = useTranslation('templates');
  const notify = useNotify();
  const [creating, setCreating] = useState(false);
  const [reload, setReload] = useState(0);
  const [del, setDel] = useState<Template | null>(null);
  const nodes = useLoad(() => listAll<{ uuid: string; name: string }>('node'), []);
  const nodeName = (u: string) => nodes.data?.find((n) => n.uuid === u)?.name || '—';
  const doPower = async (r: Template, verb: PowerVerb) => {
    try {
      await power(r, verb);
      notify('success', t(`power.done.${verb}`, { name: r.name }));
    } catch (e) {
      notify('danger', t('power.failed', { name: r.name }), (e as Error).message);
    }
    setReload((x) => x + 1);
  };
  const powerBulk = (verb: PowerVerb) => ({ label: t(`power.${verb}`), run: (r: Template) => power(r, verb) });
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t('title')}</Title>
        <p className="vdi-muted">{t('intro')}</p>
      </PageSection>
      <PageSection>
        <ListView<Template>
          resource={TEMPLATES}
          ariaLabel={t('title')}
          testId="templates-list"
          rowName={(r) => r.name}
          searchFields={[
            { field: 'name', label: t('common:name') },
            { field: 'os_type', label: t('col.os') },
            { field: 'bind_ip', label: t('col.ip') },
          ]}
          reloadKey={reload}
          refreshMs={10000}
          emptyText={t('empty')}
          toolbar={
            <ToolbarItem>
              <Button icon={<PlusIcon />} onClick={() => setCreating(true)} data-testid="templates-create">
                {t('create.button')}
              </Button>
            </ToolbarItem>
          }
          columns={[
            { key: 'name', title: t('common:name'), render: (r) => <a href={href(`templates/${r.uuid}`)}>{r.name}</a> },
            { key: 'os_type', title: t('col.os'), render: (r) => (r.os_type ? t(`images:os.${r.os_type}`, { defaultValue: r.os_type }) : '—') },
            { key: 'status', title: t('common:state'), render: (r) => <Label color={STATUS_COLOR[r.status] || 'grey'}>{t(`status.${r.status}`, { defaultValue: r.status })}</Label> },
            { key: 'version', title: t('col.version'), render: (r) => t('versionN', { n: r.version }) },
            {
              key: 'vcpu',
              title: t('col.hardware'),
              render: (r) => t('hardwareShort', { vcpu: r.vcpu, ram: fmtGB(r.ram), disks: r.devices.map((d) => fmtGB(d.size)).join(' + ') }),
            },
            { key: 'bind_ip', title: t('col.ip') },
            { key: 'node_uuid', title: t('col.server'), render: (r) => nodeName(r.node_uuid) },
            { key: 'desktop_count', title: t('col.usedBy'), render: (r) => (r.desktop_count ? `${t('usedByN', { count: r.desktop_count })} · ${t('desktopsN', { count: r.terminal_count })}` : t('usedByN', { count: 0 })) },
          ]}
          rowActions={(r) => [
            { title: t('common:details'), onClick: () => navigate(`templates/${r.uuid}`) },
            { title: t('power.start'), onClick: () => void doPower(r, 'start') },
            { title: t('power.stop'), onClick: () => void doPower(r, 'stop') },
            { title: t('power.hard_stop'), onClick: () => void doPower(r, 'hard_stop') },
            { title: t('power.reboot'), onClick: () => void doPower(r, 'reboot') },
            { isSeparator: true },
            { title: t('common:delete'), onClick: () => setDel(r), isDanger: true },
          ]}
          bulkActions={[powerBulk('start'), powerBulk('stop')]}
        />
      </PageSection>
      {creating && (
        <CreateWizard
          onClose={(uuid) => {
            setCreating(false);
            setReload((x) => x + 1);
            if (uuid) navigate(`templates/${uuid}`);
          }}
        />
      )}
      {del && (
        <DeleteTemplate
          template={del}
          onClose={(done) => {
            setDel(null);
            if (done) setReload((x) => x + 1);
          }}
        />
      )}
    </>
  );
}
