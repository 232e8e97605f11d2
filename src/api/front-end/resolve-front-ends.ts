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
 * `auto`: none below 4 cores, then one per core beyond two (the server's loop and the session
 * workers keep theirs), at most 4. Measured on 2 cores (docs/BENCHMARKS.md, "Front-end
 * processes"): the hop to a front end costs more than it frees when there is no idle core to run it
 * on, so 0 wins there. The cap follows the profile: a front end spends about three times the
 * server loop's µs per request, so four of them keep the loop busy and a fifth would wait on it.
 * @throws StratumError CONFIG_INVALID for front ends with TLS.
 */
export function resolveFrontEnds(setting: 'auto' | number, machine: FrontEndMachine): number {
  if (setting === 'auto') return machine.tls || machine.cores < 4 ? 0 : Math.min(machine.cores - 2, 4);
  if (setting > 0 && machine.tls) {
    throw new StratumError(
      'CONFIG_INVALID',
      `frontEnds: ${setting} front-end processes cannot serve TLS yet; set frontEnds to 0 (or auto) with tls`,
    );
  }
  return setting;
}
