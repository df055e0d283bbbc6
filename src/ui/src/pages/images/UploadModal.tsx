// The upload dialog of base images and ISOs: a file, its name, OS and (for
// an image) the resource pool; the file streams with a progress bar showing
// bytes and percent, and can be cancelled. The service computes the md5
// itself, so none is sent.
import { Button, FileUpload, Form, FormGroup, FormSelect, FormSelectOption, Modal, ModalBody, ModalFooter, ModalHeader, Progress, ProgressMeasureLocation, TextInput } from '@patternfly/react-core';
import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { listAll } from '../../api';
import { ErrorAlert, useFieldErrors } from '../../components/errors';
import { useLoad } from '../../components/hooks';
import { fmtBytes, fmtPercent } from '../../i18n';
import { OS_TYPES } from './os';
import { upload, Upload } from './upload';

interface Pool {
  uuid: string;
  name: string;
  default?: boolean;
}

export function UploadModal({ kind, onClose }: { kind: 'image' | 'iso'; onClose: (done: boolean) => void }) {
  const { t } = useTranslation('images');
  const fe = useFieldErrors();
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState('');
  const [os, setOs] = useState('windows_10');
  const [pool, setPool] = useState('');
  const [sent, setSent] = useState<{ sent: number; total: number } | null>(null);
  const job = useRef<Upload | null>(null);
  const pools = useLoad(() => (kind === 'image' ? listAll<Pool>('resource_pool') : Promise.resolve([])), [kind]);
  const poolValue = pool || pools.data?.find((p) => p.default)?.uuid || pools.data?.[0]?.uuid || '';

  const submit = async () => {
    if (!file) return;
    fe.clear();
    const q = new URLSearchParams({ name: name.trim(), os_type: os });
    if (kind === 'image' && poolValue) q.set('pool_uuid', poolValue);
    const path = kind === 'image' ? `/api/v1/base_image/upload?${q}` : `/api/v1/iso/upload?${q}`;
    setSent({ sent: 0, total: file.size });
    job.current = upload(path, file, (s, total) => setSent({ sent: s, total }));
    try {
      await job.current.done;
      job.current = null;
      onClose(true);
    } catch (e) {
      job.current = null;
      setSent(null);
      if ((e as Error).name !== 'AbortError') fe.fail(e);
    }
  };
  const cancel = () => {
    if (job.current) job.current.abort();
    else onClose(false);
  };
  const busy = sent !== null;
  const pct = sent && sent.total ? (sent.sent / sent.total) * 100 : 0;
  return (
    <Modal variant="medium" isOpen onClose={cancel} aria-labelledby="upload-title" data-testid="image-upload-modal">
      <ModalHeader title={kind === 'image' ? t('upload.titleImage') : t('upload.titleIso')} labelId="upload-title" description={kind === 'image' ? t('upload.hintImage') : t('upload.hintIso')} />
      <ModalBody>
        <Form
          id="upload-form"
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <FormGroup label={t('upload.file')} fieldId="image-file" isRequired>
            <FileUpload
              id="image-file"
              data-testid="image-form-file"
              filename={file?.name || ''}
              filenamePlaceholder={t('upload.filePlaceholder')}
              browseButtonText={t('upload.browse')}
              clearButtonText={t('upload.clear')}
              hideDefaultPreview
              isDisabled={busy}
              onFileInputChange={(_e, f) => {
                setFile(f);
                if (!name.trim()) setName(f.name.replace(/\.(qcow2|img|iso)$/i, ''));
              }}
              onClearClick={() => setFile(null)}
            />
          </FormGroup>
          <FormGroup label={t('common:name')} fieldId="image-name" isRequired>
            <TextInput id="image-name" data-testid="image-form-name" value={name} onChange={(_e, v) => setName(v)} isDisabled={busy} validated={fe.v('name')} />
            {fe.help('name')}
          </FormGroup>
          <FormGroup label={t('col.os')} fieldId="image-os">
            <FormSelect id="image-os" data-testid="image-form-os" value={os} onChange={(_e, v) => setOs(v)} isDisabled={busy}>
              {OS_TYPES.map((o) => (
                <FormSelectOption key={o} value={o} label={t(`os.${o}`)} />
              ))}
            </FormSelect>
          </FormGroup>
          {kind === 'image' && (
            <FormGroup label={t('col.pool')} fieldId="image-pool">
              <FormSelect id="image-pool" data-testid="image-form-pool" value={poolValue} onChange={(_e, v) => setPool(v)} isDisabled={busy} validated={fe.v('pool_uuid')}>
                {(pools.data || []).map((p) => (
                  <FormSelectOption key={p.uuid} value={p.uuid} label={p.name} />
                ))}
              </FormSelect>
              {fe.help('pool_uuid')}
            </FormGroup>
          )}
          {sent && (
            <Progress
              data-testid="image-upload-progress"
              value={pct}
              title={pct >= 100 ? t('upload.checking') : t('upload.sending')}
              label={t('upload.progress', { sent: fmtBytes(sent.sent), total: fmtBytes(sent.total), percent: fmtPercent(pct, 0) })}
              valueText={t('upload.progress', { sent: fmtBytes(sent.sent), total: fmtBytes(sent.total), percent: fmtPercent(pct, 0) })}
              measureLocation={ProgressMeasureLocation.outside}
            />
          )}
          <ErrorAlert error={fe.error} />
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button type="submit" form="upload-form" data-testid="image-form-submit" isDisabled={!file || !name.trim() || busy} isLoading={busy}>
          {t('upload.submit')}
        </Button>
        <Button variant="link" onClick={cancel} data-testid="image-form-cancel">
          {busy ? t('upload.cancelUpload') : t('common:cancel')}
        </Button>
      </ModalFooter>
    </Modal>
  );
}
