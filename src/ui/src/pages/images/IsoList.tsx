// The ISO listing: name, OS, size, md5, date; delete with a confirmation
// naming the ISO (refused by the service while a template holds it).
import { ReactNode, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { post } from '../../api';
import { ConfirmModal } from '../../components/ConfirmModal';
import { ListView } from '../../components/ListView';
import { useNotify } from '../../components/notify';
import { fmtBytes, fmtDate } from '../../i18n';

export interface Iso extends Record<string, unknown> {
  uuid: string;
  name: string;
  os_type: string;
  path: string;
  md5_sum: string;
  size: number;
  created_at: string;
}

export function IsoList({ toolbar, reloadKey }: { toolbar: ReactNode; reloadKey: number }) {
  const { t } = useTranslation('images');
  const notify = useNotify();
  const [del, setDel] = useState<Iso | null>(null);
  const [reload, setReload] = useState(0);
  return (
    <>
      <ListView<Iso>
        resource="iso"
        ariaLabel={t('tabs.isos')}
        testId="isos-list"
        rowName={(r) => r.name}
        searchFields={[{ field: 'name', label: t('common:name') }]}
        toolbar={toolbar}
        reloadKey={reloadKey + reload}
        emptyText={t('emptyIsos')}
        columns={[
          { key: 'name', title: t('common:name') },
          { key: 'os_type', title: t('col.os'), render: (r) => (r.os_type ? t(`os.${r.os_type}`, { defaultValue: r.os_type }) : '—') },
          { key: 'size', title: t('col.size'), render: (r) => fmtBytes(r.size) },
          { key: 'md5_sum', title: t('col.md5'), render: (r) => <code>{r.md5_sum}</code> },
          { key: 'created_at', title: t('common:created'), render: (r) => fmtDate(r.created_at) },
        ]}
        rowActions={(r) => [{ title: t('common:delete'), onClick: () => setDel(r), isDanger: true }]}
      />
      {del && (
        <ConfirmModal
          title={t('deleteIso.title', { name: del.name })}
          body={t('deleteIso.body', { name: del.name })}
          confirmLabel={t('common:delete')}
          onConfirm={() => post('/api/v1/iso/delete', { uuid: del.uuid, name: del.name })}
          onClose={(done) => {
            if (done) {
              notify('success', t('deleteIso.done', { name: del.name }));
              setReload((x) => x + 1);
            }
            setDel(null);
          }}
        />
      )}
    </>
  );
}
