/**
 * Certificates for TLS tests, made with the `openssl` CLI in a temp folder: a CA, server
 * certificates for 127.0.0.1 and localhost signed by it, and a client certificate (EC P-256 keys:
 * fast to generate). Nothing is committed and nothing outlives the test.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A certificate and its key, as files and as PEM. */
export interface CertificatePair {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: Buffer;
  readonly key: Buffer;
  /** SHA-256 fingerprint, as `X509Certificate.fingerprint256` writes it. */
  readonly fingerprint: string;
}

/** A CA and a way to issue certificates under it. */
export interface TestCa {
  readonly dir: string;
  readonly caFile: string;
  readonly ca: Buffer;
  /** A server certificate for 127.0.0.1, ::1 and localhost, in files named `<name>.crt`/`<name>.key`. */
  issueServer(name: string): Promise<CertificatePair>;
  /** A client certificate (extendedKeyUsage clientAuth). */
  issueClient(name: string): Promise<CertificatePair>;
}

/** Makes a CA in a temp folder removed after the test. */
export async function createTestCa(t: TestContext, label = 'Stratum Test CA'): Promise<TestCa> {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-tls-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const caFile = join(dir, 'ca.crt');
  const caKey = join(dir, 'ca.key');
  await openssl([
    'req',
    '-x509',
    ...EC_KEY,
    '-nodes',
    '-keyout',
    caKey,
    '-out',
    caFile,
    '-days',
    '2',
    '-subj',
    `/CN=${label}`,
  ]);
  const issue = async (name: string, extensions: string): Promise<CertificatePair> => {
    const keyFile = join(dir, `${name}.key`);
    const certFile = join(dir, `${name}.crt`);
    const csr = join(dir, `${name}.csr`);
    const ext = join(dir, `${name}.ext`);
    await writeFile(ext, extensions);
    await openssl(['req', '-new', ...EC_KEY, '-nodes', '-keyout', keyFile, '-out', csr, '-subj', `/CN=${name}`]);
    await openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      caFile,
      '-CAkey',
      caKey,
      '-CAcreateserial',
      '-out',
      certFile,
      '-days',
      '2',
      '-extfile',
      ext,
    ]);
    const [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)]);
    return { certFile, keyFile, cert, key, fingerprint: new X509Certificate(cert).fingerprint256 };
  };
  return {
    dir,
    caFile,
    ca: await readFile(caFile),
    issueServer: (name) =>
      issue(name, 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nextendedKeyUsage=serverAuth\n'),
    issueClient: (name) => issue(name, 'extendedKeyUsage=clientAuth\n'),
  };
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];

async function openssl(args: string[]): Promise<void> {
  await run('/usr/bin/openssl', args);
}
