import { useState } from 'react';
import { useAuthFetch } from '../../adapters/frameworks/react/index.js';
import { errorText } from '../frameworks/example-config.js';

/** Calls the protected API with the credential's token (`useAuthFetch`: the bearer attached, R10 on 401). */
export function ApiButton({ url, credential }: { readonly url: string; readonly credential: string }) {
  const api = useAuthFetch(credential);
  const [result, setResult] = useState('');
  const call = (): void => {
    setResult('…');
    api(url).then(
      async (response) => setResult(`HTTP ${response.status}: ${await response.text()}`),
      (error: unknown) => setResult(errorText(error)),
    );
  };
  return (
    <>
      <button data-testid="call-api" onClick={call}>Call the API</button>
      <span data-testid="api-result" className="result">{result}</span>
    </>
  );
}
