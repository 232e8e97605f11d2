/**
 * gRPC server credentials whose certificate can be replaced while the server runs. grpc-js (1.10
 * and later) subscribes each bound HTTP/2 server to its credentials, and when they announce new
 * context options it calls `setSecureContext` on the server: new handshakes use the new pair,
 * while open connections keep the session they negotiated (their calls are not interrupted) until
 * they close. `ServerCredentials.createSsl` never announces a change, and grpc-js's own
 * file-watching provider polls on a timer and has no notion of a half-written pair, so Stratum
 * announces its own checked pairs through the same protected hook.
 */
import * as grpc from '@grpc/grpc-js';
import type { TlsMaterial } from './tls-material.ts';
import { type ClientAuth, clientCertificateOptions, secureContextOf } from './tls-server-options.ts';

/** Server credentials that {@link ReloadableServerCredentials.update} switches to a new pair. */
export class ReloadableServerCredentials extends grpc.ServerCredentials {
  constructor(material: TlsMaterial, clientAuth: ClientAuth) {
    super(clientCertificateOptions(clientAuth), secureContextOf(material));
  }

  /** Serves `material` on new connections of every server bound with these credentials. */
  update(material: TlsMaterial): void {
    this.updateSecureContextOptions(secureContextOf(material));
  }

  // grpc-js compares credentials to tell whether a port is bound twice with the same ones.
  override _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}
