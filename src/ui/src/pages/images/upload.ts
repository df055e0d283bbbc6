// Streams a file to an upload route with XMLHttpRequest (fetch reports no
// upload progress): the raw body, the session's token, the {code,msg,data}
// envelope read back into data or an ApiError; abort() cancels.
import { ApiError, get, getSession } from '../../api';

export interface Upload {
  done: Promise<unknown>;
  abort: () => void;
}

/** Sends `file` as the body of `PUT path`; `onProgress(sent, total)`. */
export function upload(path: string, file: File, onProgress: (sent: number, total: number) => void): Upload {
  const xhr = new XMLHttpRequest();
  let aborted = false;
  const done = (async () => {
    // Any call refreshes an expired access token first.
    await get('/api/v1.0/resource_pool/?searchtype=all&page=1&page_size=1');
    if (aborted) throw new DOMException('aborted', 'AbortError');
    return new Promise<unknown>((resolve, reject) => {
      xhr.open('PUT', path);
      const s = getSession();
      if (s) xhr.setRequestHeader('Authorization', 'Bearer ' + s.access_token);
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.setRequestHeader('Content-Type', 'application/octet-stream');
      xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
      xhr.onerror = () => reject(new ApiError('unreachable', -1, 0));
      xhr.onabort = () => reject(new DOMException('aborted', 'AbortError'));
      xhr.onload = () => {
        let env: { code?: number; msg?: string; data?: unknown } | null = null;
        try {
          env = JSON.parse(xhr.responseText);
        } catch {
          env = null;
        }
        if (!env || typeof env.code !== 'number') return reject(new ApiError(`HTTP ${xhr.status}`, -1, xhr.status));
        if (env.code !== 0) return reject(new ApiError(env.msg || `code ${env.code}`, env.code, xhr.status));
        resolve(env.data);
      };
      xhr.send(file);
    });
  })();
  return {
    done,
    abort: () => {
      aborted = true;
      xhr.abort();
    },
  };
}
