// The SDK's chain reader decodes the node's base64 with Node's Buffer; in
// the browser this stands in for the two uses it makes (Buffer.from of
// bytes or of base64 text, and toString('base64')). esbuild injects it
// wherever the bundle names Buffer.
import { base64Decode, base64Encode } from '@polkadot/util-crypto';

function only64(enc?: string): void {
  if (enc !== 'base64') {
    throw new Error('Buffer shim: only base64 text');
  }
}

/** Buffer.from for bytes and base64 text; the result's toString('base64') encodes. */
export const Buffer = {
  from(v: Uint8Array | string, enc?: string): Uint8Array {
    let b: Uint8Array;
    if (typeof v === 'string') {
      only64(enc);
      b = v === '' ? new Uint8Array() : base64Decode(v);
    } else {
      b = new Uint8Array(v);
    }
    return Object.assign(b, {
      toString(e?: string): string {
        only64(e);
        return base64Encode(b);
      },
    });
  },
};
