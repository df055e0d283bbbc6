// A template's versions and operations (the web `operate/` listing), with
// rollback to a kept version: unsaved edits are discarded.
import { Label } from '@patternfly/react-core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ConfirmModal } from '../../components/ConfirmModal';
import { useLoad } from '../../components/hooks';
import { ListView } from '../../components/ListView';
import { useNotify } from '../../components/notify';
import { useTasks } from '../../components/tasks';
import { fmtDate } from '../../i18n';
import { list } from '../../api';
import { Template, TEMPLATES } from './model';

interface Operation extends Record<string, unknown> {
  uuid: string;
  remark: string;
  version: number;
  op_type: number;
  exist: boolean;
  updated_at: string;
}

export function Versions({ template: tp, onChanged, reloadKey }: { template: Template; onChanged: () => void; reloadKey: number }) {
  const { t } = useTranslation('templates');
  const notify = useNotify();
  const { runTask } = useTasks();
  const [back, setBack] = useState<Operation | null>(null);
  // The newest operation is the one the current version came from.
  const latest = useLoad((sig) => list<Operation>(`${TEMPLATES}operate/`, { page: 1, pageSize: 1, filters: { template: tp.uuid } }, sig), [tp.uuid, tp.version, reloadKey]);
  const latestId = latest.data?.results[0]?.uuid;
  return (
    <>
      <ListView<Operation>
        resource={`${TEMPLATES}operate/`}
        ariaLabel={t('versions.title')}
        testId="template-versions"
        filters={{ template: tp.uuid }}
        reloadKey={reloadKey + tp.version}
        rowName={(r) => t('versionN', { n: r.version })}
        columns={[
          {
            key: 'version',
            title: t('col.version'),
            render: (r) => (
              <>
                {t('versionN', { n: r.version })} {r.uuid === latestId && <Label color="blue" isCompact>{t('versions.current')}</Label>}
              </>
            ),
          },
          { key: 'op_type', title: t('versions.operation'), render: (r) => t(`versions.op.${r.op_type}`, { defaultValue: String(r.op_type) }) },
          { key: 'remark', title: t('versions.remark') },
          { key: 'exist', title: t('versions.kept'), render: (r) => (r.exist ? t('common:yes') : t('versions.merged')) },
          { key: 'updated_at', title: t('versions.when'), render: (r) => fmtDate(r.updated_at) },
        ]}
        rowActions={(r) => [
          {
            title: t('versions.rollback'),
            isDisabled: !r.exist || r.version === tp.version,
            onClick: () => setBack(r),
          },
        ]}
      />
      {back && (
        <ConfirmModal
          title={t('versions.rollbackTitle', { name: tp.name, n: back.version })}
          body={t('versions.rollbackBody', { name: tp.name, n: back.version, cur: tp.version })}
          confirmLabel={t('versions.rollback')}
          onConfirm={() => runTask(t('versions.rollbackTask', { name: tp.name, n: back.version }), 'POST', '/api/v1/template/rollback', { uuid: tp.uuid, rollback_version: back.version, cur_version: tp.version })}
          onClose={(done) => {
            if (done) {
              notify('success', t('versions.rolledBack', { name: tp.name, n: back.version }));
              onChanged();
            }
            setBack(null);
          }}
        />
      )}
    </>
  );
}
