// The servers listing: name, address, role, up/down, pool, CPU and memory,
// last report; join a server (wizard), set this server's root password,
// and per-server power, delete and credential actions.
import { Button, ToolbarItem } from '@patternfly/react-core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { href, navigate } from '../../app/router';
import { ListView } from '../../components/ListView';
import { fmtAgo, fmtGB } from '../../i18n';
import { Node } from '../network/types';
import { Action, NodeAction, RootPasswordModal } from './actions';
import { CpuText, RoleText, StateLabel, useOverview, usePools } from './common';
import { JoinWizard } from './JoinWizard';

export function ServerList() {
  const { t } = useTranslation('servers');
  const pools = usePools();
  const overview = useOverview(30000);
  const [reload, setReload] = useState(0);
  const [joining, setJoining] = useState(false);
  const [rootpw, setRootpw] = useState(false);
  const [act, setAct] = useState<{ node: Node; action: Action } | null>(null);
  const poolName = (u: string) => pools.data?.find((p) => p.uuid === u)?.name || '—';
  const lastReport = (u: string) => {
    const x = overview.data?.nodes.list.find((n) => n.uuid === u);
    if (!x) return '—';
    if (x.last_report === null) return t('noReport');
    return fmtAgo(typeof x.last_report === 'number' ? new Date(x.last_report * 1000).toISOString() : x.last_report);
  };
  return (
    <>
      <ListView<Node>
        resource="node"
        ariaLabel={t('title')}
        testId="servers-list"
        reloadKey={reload}
        refreshMs={15000}
        rowName={(r) => r.name}
        searchFields={[
          { field: 'name', label: t('common:name') },
          { field: 'ip', label: t('ip') },
          { field: 'hostname', label: t('hostname') },
        ]}
        toolbar={
          <>
            <ToolbarItem>
              <Button variant="primary" onClick={() => setJoining(true)} data-testid="servers-join">
                {t('join.open')}
              </Button>
            </ToolbarItem>
            <ToolbarItem>
              <Button variant="secondary" onClick={() => setRootpw(true)} data-testid="servers-rootpw">
                {t('rootpw.open')}
              </Button>
            </ToolbarItem>
          </>
        }
        columns={[
          { key: 'name', title: t('common:name'), render: (r) => <a href={href(`servers/${r.uuid}`)}>{r.name}</a> },
          { key: 'ip', title: t('ip') },
          { key: 'role', title: t('roleTitle'), render: (r) => <RoleText role={r.role} /> },
          { key: 'status', title: t('common:state'), render: (r) => <StateLabel status={r.status} /> },
          { key: 'pool_uuid', title: t('pool'), render: (r) => poolName(r.pool_uuid) },
          { key: 'cpu', title: t('cpu'), render: (r) => <CpuText node={r} /> },
          { key: 'memory_gb', title: t('memory'), render: (r) => fmtGB(r.memory_gb as number) },
          { key: 'last', title: t('lastReport'), render: (r) => lastReport(r.uuid) },
        ]}
        rowActions={(r) => [
          { title: t('common:details'), onClick: () => navigate(`servers/${r.uuid}`) },
          { title: t('common:reboot'), onClick: () => setAct({ node: r, action: 'reboot' }) },
          { title: t('shutdown.button'), onClick: () => setAct({ node: r, action: 'shutdown' }) },
          { title: t('credential.open'), onClick: () => setAct({ node: r, action: 'credential' }) },
          { isSeparator: true },
          { title: t('common:delete'), onClick: () => setAct({ node: r, action: 'delete' }), isDanger: true },
        ]}
      />
      {joining && (
        <JoinWizard
          onClose={(joined) => {
            setJoining(false);
            if (joined) setReload((n) => n + 1);
          }}
        />
      )}
      {rootpw && <RootPasswordModal onClose={() => setRootpw(false)} />}
      {act && (
        <NodeAction
          node={act.node}
          action={act.action}
          onClose={(done) => {
            setAct(null);
            if (done) setReload((n) => n + 1);
          }}
        />
      )}
    </>
  );
}
