// The CLI as it ran before the compiled package: tsx registered at run time over the TypeScript
// sources (the old bin/stratum.js, verbatim). The startup bench measures it beside the compiled CLI.
import { register } from 'tsx/esm/api';

register();
await import('../../src/cli/main.ts');
