// The base image listing: name, OS, pool, sizes, and its distribution to
// each server of its pool (held or missing, with retransmit to one server
// or all); delete with a confirmation naming the image and the templates
// built on it (the service refuses while one is).
import { Label, LabelGroup } from '@patternfly/react-core';
import CheckCircleIcon from '@patternfly/react-icons/dist/esm/icons/check-circle-icon';
import ExclamationTriangleIcon from '@patternfly/react-icons/dist/esm/icons/exclamation-triangle-icon';
import { ReactNode, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { listAll, post } from '../../api';
import { ConfirmModal } from '../../components/ConfirmModal';
import { errorText } from '../../components/errors';
import { useLoad } from '../../components/hooks';
import { ListView } from '../../components/ListView';
import { useNotify } from '../../components/notify';
import { useTasks } from '../../components/tasks';
import { fmtBytes, fmtDate, fmtGB } from '../../i18n';

export interface BaseImage extends Record<string, unknown> {
  uuid: string;
  name: string;
  pool_uuid: string;
  os_type: string;
  md5_sum: string;
  size: number;
  virtual_size_gb: number;
  nodes: string[];
  created_at: string;
}
interface Node {
  uuid: string;
  name: string;
  pool_uuid: string | null;
  status: string;
}
interface Pool {
  uuid: string;
  name: string;
}

export function ImageList({ toolbar, reloadKey }: { toolbar: ReactNode; reloadKey: number }) {
  const { t } = useTranslation('images');
  const notify = useNotify();
  const { runTask } = useTasks();
  const [reload, setReload] = useState(0);
  const [del, setDel] = useState<{ img: BaseImage; users: string[] } | null>(null);
  const ctx = useLoad(async () => ({ nodes: await listAll<Node>('node'), pools: await listAll<Pool>('resource_pool') }), [reloadKey]);
  const nodes = ctx.data?.nodes || [];
  const poolName = (u: string) => ctx.data?.pools.find((p) => p.uuid === u)?.name || u;

  const retransmit = async (img: BaseImage, node?: Node) => {
    const title = node ? t('retransmit.toOne', { name: img.name, server: node.name }) : t('retransmit.toAll', { name: img.name });
    try {
      await runTask(title, 'POST', '/api/v1/resource_pool/images/retransmit', { image_id: img.uuid, ...(node ? { host_uuid: node.uuid } : {}) });
      notify('success', t('retransmit.done', { name: img.name }));
    } catch (e) {
      notify('danger', t('retransmit.failed', { name: img.name }), errorText(e));
    }
    setReload((x) => x + 1);
  };
  const askDelete = async (img: BaseImage) => {
    let users: string[] = [];
    try {
      users = (await listAll<{ name: string }>('/api/v1.0/voi/education/template/', { base_image: img.uuid })).map((x) => x.name);
    } catch {
      /* the service still refuses if a template uses it */
    }
    setDel({ img, users });
  };

  const distribution = (r: BaseImage) => {
    const inPool = nodes.filter((n) => n.pool_uuid === r.pool_uuid);
    if (inPool.length === 0) return '—';
    const held = inPool.filter((n) => r.nodes.includes(n.uuid)).length;
    return (
      <LabelGroup categoryName={t('dist.summary', { held, total: inPool.length })} numLabels={4} data-testid="image-distribution">
        {inPool.map((n) =>
          r.nodes.includes(n.uuid) ? (
            <Label key={n.uuid} color="green" icon={<CheckCircleIcon />} isCompact>
              {t('dist.held', { server: n.name })}
            </Label>
          ) : (
            <Label key={n.uuid} color="orange" icon={<ExclamationTriangleIcon />} isCompact onClick={() => void retransmit(r, n)} title={t('retransmit.toOne', { name: r.name, server: n.name })}>
              {t('dist.missing', { server: n.name })}
            </Label>
          ),
        )}
      </LabelGroup>
    );
  };

  return (
    <>
      <ListView<BaseImage>
        resource="base_image"
        ariaLabel={t('tabs.images')}
        testId="images-list"
        rowName={(r) => r.name}
        searchFields={[
          { field: 'name', label: t('common:name') },
          { field: 'os_type', label: t('col.os') },
        ]}
        toolbar={toolbar}
        reloadKey={reloadKey + reload}
        emptyText={t('emptyImages')}
        columns={[
          { key: 'name', title: t('common:name') },
          { key: 'os_type', title: t('col.os'), render: (r) => (r.os_type ? t(`os.${r.os_type}`, { defaultValue: r.os_type }) : '—') },
          { key: 'pool_uuid', title: t('col.pool'), render: (r) => poolName(r.pool_uuid) },
          { key: 'size', title: t('col.size'), render: (r) => fmtBytes(r.size) },
          { key: 'virtual_size_gb', title: t('col.virtualSize'), render: (r) => fmtGB(r.virtual_size_gb) },
          { key: 'nodes', title: t('col.distribution'), render: distribution },
          { key: 'created_at', title: t('common:created'), render: (r) => fmtDate(r.created_at) },
        ]}
        rowActions={(r) => [
          { title: t('retransmit.action'), onClick: () => void retransmit(r) },
          { isSeparator: true },
          { title: t('common:delete'), onClick: () => void askDelete(r), isDanger: true },
        ]}
      />
      {del && (
        <ConfirmModal
          title={t('deleteImage.title', { name: del.img.name })}
          body={
            <>
              <p>{t('deleteImage.body', { name: del.img.name })}</p>
              {del.users.length > 0 && (
                <p data-testid="image-used-by">
                  <strong>{t('deleteImage.usedBy', { count: del.users.length, names: del.users.join(', ') })}</strong>
                </p>
              )}
            </>
          }
          confirmLabel={t('common:delete')}
          onConfirm={() => post('/api/v1/resource_pool/images/delete', { image_id: del.img.uuid })}
          onClose={(done) => {
            if (done) {
              notify('success', t('deleteImage.done', { name: del.img.name }));
              setReload((x) => x + 1);
            }
            setDel(null);
          }}
        />
      )}
    </>
  );
}
