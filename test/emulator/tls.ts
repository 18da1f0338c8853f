/**
 * A certificate authority made at start, and a server certificate for 127.0.0.1 signed by it.
 * Node trusts the CA through NODE_EXTRA_CA_CERTS, so the unmodified SDKs talk HTTPS to us.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface Tls {
  key: string;
  cert: string;
  /** Path of the CA certificate in PEM, for NODE_EXTRA_CA_CERTS. */
  caFile: string;
}

export async function makeTls(dir = mkdtempSync(join(tmpdir(), 'spot-emulator-'))): Promise<Tls> {
  const ca = await generate([{ name: 'commonName', value: 'azure-spot-restarter emulator CA' }], {
    keySize: 2048,
    notAfterDate: new Date(Date.now() + 2 * 86_400_000),
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }
    ]
  });
  const server = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keySize: 2048,
    notAfterDate: new Date(Date.now() + 2 * 86_400_000),
    algorithm: 'sha256',
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' }
        ]
      }
    ]
  });
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, ca.cert);
  return { key: server.private, cert: server.cert, caFile };
}
