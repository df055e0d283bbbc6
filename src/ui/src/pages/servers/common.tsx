// Pieces the server list and detail share: state and role labels, pool
// names, and the monitor overview's per-server figures (last report).
import { Label } from '@patternfly/react-core';
import { useTranslation } from 'react-i18next';
import { get, listAll } from '../../api';
import { useLoad } from '../../components/hooks';
import { Node } from '../network/types';

export function StateLabel({ status }: { status: string }) {
  const { t } = useTranslation('servers');
  const color = status === 'up' ? 'green' : status === 'down' ? 'red' : 'grey';
  return <Label color={color}>{t(`state.${status}`, { defaultValue: status })}</Label>;
}

export function RoleText({ role }: { role: string }) {
  const { t } = useTranslation('servers');
  return (
    <>
      {role
        .split('+')
        .map((r) => t(`role.${r}`, { defaultValue: r }))
        .join(' + ')}
    </>
  );
}

export function CpuText({ node }: { node: Node }) {
  const { t } = useTranslation('servers');
  return <>{t('cpuShort', { count: node.sockets, sockets: node.sockets, cores: node.cores, threads: node.threads })}</>;
}

export interface Overview {
  nodes: { list: { uuid: string; last_report: string | number | null; desktops: number; desktops_running: number }[] };
}

export function usePools() {
  return useLoad(() => listAll<{ uuid: string; name: string; default: boolean }>('resource_pool'), []);
}

export function useOverview(refreshMs?: number) {
  return useLoad((s) => get<Overview>('/api/v1.0/monitor/overview', s), [], refreshMs);
}
