// Images and ISOs: two tabs with the base image and ISO listings, the
// upload dialog with its progress bar, the image's distribution to the
// servers of its pool (retransmit), and deletion.
import { Button, PageSection, Tab, Tabs, TabTitleText, Title, ToolbarItem } from '@patternfly/react-core';
import UploadIcon from '@patternfly/react-icons/dist/esm/icons/upload-icon';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { PageProps } from '../../app/pages';
import { useNotify } from '../../components/notify';
import { ImageList } from './ImageList';
import { IsoList } from './IsoList';
import { UploadModal } from './UploadModal';

export default function Page(_p: PageProps) {
  const { t } = useTranslation('images');
  const notify = useNotify();
  const [tab, setTab] = useState<'image' | 'iso'>('image');
  const [uploading, setUploading] = useState<'image' | 'iso' | null>(null);
  const [reload, setReload] = useState(0);
  const uploadButton = (kind: 'image' | 'iso') => (
    <ToolbarItem>
      <Button icon={<UploadIcon />} onClick={() => setUploading(kind)} data-testid={kind === 'image' ? 'images-upload' : 'isos-upload'}>
        {kind === 'image' ? t('upload.buttonImage') : t('upload.buttonIso')}
      </Button>
    </ToolbarItem>
  );
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t('title')}</Title>
        <p className="vdi-muted">{t('intro')}</p>
      </PageSection>
      <PageSection>
        <Tabs activeKey={tab} onSelect={(_e, k) => setTab(k as 'image' | 'iso')} aria-label={t('title')}>
          <Tab eventKey="image" title={<TabTitleText>{t('tabs.images')}</TabTitleText>} data-testid="images-tab-images">
            {tab === 'image' && <ImageList toolbar={uploadButton('image')} reloadKey={reload} />}
          </Tab>
          <Tab eventKey="iso" title={<TabTitleText>{t('tabs.isos')}</TabTitleText>} data-testid="images-tab-isos">
            {tab === 'iso' && <IsoList toolbar={uploadButton('iso')} reloadKey={reload} />}
          </Tab>
        </Tabs>
      </PageSection>
      {uploading && (
        <UploadModal
          kind={uploading}
          onClose={(done) => {
            if (done) {
              notify('success', uploading === 'image' ? t('upload.doneImage') : t('upload.doneIso'));
              setReload((r) => r + 1);
            }
            setUploading(null);
          }}
        />
      )}
    </>
  );
}
