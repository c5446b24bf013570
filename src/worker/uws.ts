import type * as Uws from 'uWebSockets.js';
import { createRequire } from 'node:module';
import { GatewayError } from '../errors/gateway-error.js';

/**
 * Load uWebSockets.js and refuse the package's silent pure-JS fallback (it loads when the native
 * binding does not, e.g. a Node ABI without a prebuilt binary, or UWS_USE_FALLBACK=1). The fallback
 * is many times slower and lacks parts of the API sluice relies on, so it must never run by accident.
 */
export function loadUws(): typeof Uws {
  const uws = createRequire(import.meta.url)('uWebSockets.js') as typeof Uws;
  if (!isNative(uws)) throw new GatewayError('SLUICE_ERR_UWS_FALLBACK');
  return uws;
}

function isNative(uws: typeof Uws): boolean {
  return (
    typeof uws.App === 'function' &&
    Function.prototype.toString.call(uws.App).includes('[native code]') &&
    typeof (uws as unknown as Record<string, unknown>).SHARED_COMPRESSOR === 'number'
  );
}
