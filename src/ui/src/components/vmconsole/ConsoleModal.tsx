// A desktop's console in a dialog (the desktop rows' "Console" action):
// connects with VNC when it opens, disconnects when it closes.
import { Modal, ModalBody, ModalHeader } from '@patternfly/react-core';
import { useTranslation } from 'react-i18next';
import { ConsoleKind, VmConsole } from '../VmConsole';

export function ConsoleModal({ kind, uuid, name, onClose }: { kind: ConsoleKind; uuid: string; name: string; onClose: () => void }) {
  const { t } = useTranslation('vmconsole');
  return (
    <Modal variant="large" isOpen onClose={onClose} aria-labelledby="vm-console-modal-title" data-testid="vm-console-modal">
      <ModalHeader title={t('modalTitle', { name })} labelId="vm-console-modal-title" />
      <ModalBody>
        <VmConsole kind={kind} uuid={uuid} name={name} autoConnect />
      </ModalBody>
    </Modal>
  );
}
