// How an API error reaches the user: its message in a PatternFly alert, and
// the field it names highlighted in the form (useFieldErrors).
import { Alert, FormHelperText, HelperText, HelperTextItem } from '@patternfly/react-core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api';
import i18n from '../i18n';

/** The words to show for an error: the envelope's message, or ours when there is none. */
export function errorText(e: unknown): string {
  const t = i18n.t.bind(i18n);
  if (e instanceof ApiError) {
    if (e.code === -1 && e.status === 0) return t('common:error.unreachable');
    if (e.code === -1) return t('common:error.unreadable', { status: e.status });
    return e.message;
  }
  if (e instanceof Error) return e.message;
  return String(e);
}

/** A danger alert with the envelope's message (nothing when no error). */
export function ErrorAlert({ error, title }: { error: unknown; title?: string }) {
  const { t } = useTranslation();
  if (!error) return null;
  const code = error instanceof ApiError && error.code > 0 ? error.code : null;
  return (
    <Alert variant="danger" isInline title={title || t('common:error.title')} data-testid="error-alert">
      {errorText(error)}
      {code !== null && <div className="vdi-muted">{t('common:error.code', { code })}</div>}
    </Alert>
  );
}

/**
 * A form's error state: `fail(e)` keeps the error; `v(field)` is the
 * validated state of a field (error when the message names it); `help(field)`
 * the helper text under it.
 */
export function useFieldErrors() {
  const [error, setError] = useState<unknown>(null);
  const field = error instanceof ApiError ? error.field : undefined;
  const names = (f: string | string[]) => (Array.isArray(f) ? f : [f]);
  const hit = (f: string | string[]) => !!field && names(f).some((n) => field === n || field.startsWith(n + '.') || field.startsWith(n + '['));
  return {
    error,
    fail: (e: unknown) => setError(e),
    clear: () => setError(null),
    v: (f: string | string[]): 'error' | 'default' => (hit(f) ? 'error' : 'default'),
    help: (f: string | string[]) =>
      hit(f) && error instanceof ApiError ? (
        <FormHelperText>
          <HelperText>
            <HelperTextItem variant="error">{error.message}</HelperTextItem>
          </HelperText>
        </FormHelperText>
      ) : null,
  };
}
