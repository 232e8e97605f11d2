/** How many front-end processes a server starts, from the `frontEnds` setting and the machine. */
import { StratumError } from '../../errors/index.ts';

/** What `auto` looks at. */
export interface FrontEndMachine {
  /** `os.availableParallelism()`. */
  readonly cores: number;
  /** TLS is on: front ends do not terminate TLS yet, so the server's own loop answers. */
  readonly tls: boolean;
}

/**
 * `auto`: PLACEHOLDER, decided by measurement.
 * @throws StratumError CONFIG_INVALID for front ends with TLS.
 */
export function resolveFrontEnds(setting: 'auto' | number, machine: FrontEndMachine): number {
  if (setting === 'auto') return machine.tls || machine.cores < 2 ? 0 : Math.min(machine.cores - 1, 8);
  if (setting > 0 && machine.tls) {
    throw new StratumError(
      'CONFIG_INVALID',
      `frontEnds: ${setting} front-end processes cannot serve TLS yet; set frontEnds to 0 (or auto) with tls`,
    );
  }
  return setting;
}
