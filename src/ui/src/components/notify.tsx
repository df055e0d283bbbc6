// Toast notifications (PatternFly AlertGroup) that any page can raise.
import { Alert, AlertActionCloseButton, AlertGroup, AlertProps } from '@patternfly/react-core';
import { createContext, ReactNode, useCallback, useContext, useState } from 'react';

interface Toast {
  key: number;
  variant: AlertProps['variant'];
  title: string;
  body?: ReactNode;
}
type Notify = (variant: Toast['variant'], title: string, body?: ReactNode) => void;
const Ctx = createContext<Notify>(() => {});
let next = 1;

export function NotifyProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const notify = useCallback<Notify>((variant, title, body) => {
    const key = next++;
    setToasts((ts) => [...ts, { key, variant, title, body }]);
  }, []);
  const close = (key: number) => setToasts((ts) => ts.filter((x) => x.key !== key));
  return (
    <Ctx.Provider value={notify}>
      {children}
      <AlertGroup isToast isLiveRegion>
        {toasts.map((x) => (
          <Alert
            key={x.key}
            variant={x.variant}
            title={x.title}
            timeout={x.variant === 'danger' ? false : 6000}
            onTimeout={() => close(x.key)}
            actionClose={<AlertActionCloseButton onClose={() => close(x.key)} />}
          >
            {x.body}
          </Alert>
        ))}
      </AlertGroup>
    </Ctx.Provider>
  );
}

export const useNotify = () => useContext(Ctx);
