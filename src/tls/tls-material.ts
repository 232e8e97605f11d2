/**
 * Reads the TLS files named by the `tls` settings and checks them as a set: the certificate chain
 * parses, the key parses, the key belongs to the leaf certificate, and Node accepts them as a
 * secure context. Used at start-up (a failure is CONFIG_INVALID naming the file) and on every
 * reload (a failure keeps the pair being served). A key's bytes never appear in a message.
 */
import { createHash, createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import type { TlsConfig } from '../config/index.ts';
import { StratumError } from '../errors/index.ts';

/** The files of a TLS server: the `tls` settings with TLS on. */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile?: string | undefined;
}

/** A checked certificate, key and (for mutual TLS) CA bundle, as PEM bytes. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer | undefined;
  /** SHA-256 fingerprint of the leaf certificate (`AB:CD:…`), safe to log. */
  readonly fingerprint: string;
  /** The leaf certificate's expiry, for the log. */
  readonly validTo: string;
  /** Changes when any of the three files' contents change (the key is hashed, never kept as text). */
  readonly digest: string;
}

/** The files of the `tls` settings, or undefined when TLS is off. */
export function tlsFilesOf(settings: TlsConfig): TlsFiles | undefined {
  if (settings.certFile === undefined || settings.keyFile === undefined) return undefined;
  return { certFile: settings.certFile, keyFile: settings.keyFile, caFile: settings.caFile };
}

/**
 * Reads and checks the files.
 * @throws StratumError CONFIG_INVALID naming the setting and file that is missing, unreadable,
 *   not PEM, or not the key of the certificate.
 */
export async function readTlsMaterial(files: TlsFiles): Promise<TlsMaterial> {
  const [cert, key, ca] = await Promise.all([
    readSetting(files.certFile, 'tls.certFile'),
    readSetting(files.keyFile, 'tls.keyFile'),
    files.caFile === undefined ? undefined : readSetting(files.caFile, 'tls.caFile'),
  ]);
  const leaf = parseCertificate(cert, { file: files.certFile, setting: 'tls.certFile' });
  const privateKey = parseKey(key, files.keyFile);
  if (!leaf.checkPrivateKey(privateKey)) {
    throw invalid(
      `tls.keyFile ${files.keyFile} is not the private key of the certificate in tls.certFile ${files.certFile} (fingerprint ${leaf.fingerprint256}); they must be a pair`,
      { setting: 'tls.keyFile', file: files.keyFile },
    );
  }
  if (ca !== undefined && files.caFile !== undefined) {
    parseCertificate(ca, { file: files.caFile, setting: 'tls.caFile' });
  }
  try {
    createSecureContext({ cert, key, ...(ca !== undefined && { ca }) });
  } catch (error) {
    throw invalid(
      `TLS files ${files.certFile} and ${files.keyFile} are refused by Node's TLS: ${(error as Error).message}`,
      {
        setting: 'tls.certFile',
        file: files.certFile,
        cause: error,
      },
    );
  }
  const digest = createHash('sha256')
    .update(cert)
    .update('\0')
    .update(key)
    .update('\0')
    .update(ca ?? '')
    .digest('hex');
  return { cert, key, ca, fingerprint: leaf.fingerprint256, validTo: leaf.validTo, digest };
}

async function readSetting(file: string, setting: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EACCES' || code === 'EPERM'
          ? 'cannot be read (permission denied)'
          : code === 'EISDIR'
            ? 'is a folder, not a file'
            : `cannot be read (${code ?? (error as Error).message})`;
    throw invalid(`${setting} ${file} ${why}`, { setting, file, cause: error });
  }
}

function parseCertificate(pem: Buffer, where: { file: string; setting: string }): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (error) {
    throw invalid(`${where.setting} ${where.file} is not a PEM certificate: ${(error as Error).message}`, {
      ...where,
      cause: error,
    });
  }
}

function parseKey(pem: Buffer, file: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (error) {
    // OpenSSL's message names the decoder that failed, never the key's bytes.
    throw invalid(
      `tls.keyFile ${file} is not a PEM private key (an encrypted key is not supported): ${(error as Error).message}`,
      {
        setting: 'tls.keyFile',
        file,
        cause: error,
      },
    );
  }
}

function invalid(message: string, where: { setting: string; file: string; cause?: unknown }): StratumError {
  return new StratumError('CONFIG_INVALID', message, {
    details: { setting: where.setting, file: where.file },
    ...(where.cause !== undefined && { cause: where.cause }),
  });
}
