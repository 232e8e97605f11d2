/**
 * What a deployment's clients use, on SQL: the `deployment_usage` rows (one per input name sent
 * and output name read). Written on first sight of a name by the serving replicas, so the write is
 * an idempotent insert outside the change feed: no other replica has to react to it, and two
 * replicas recording the same name at once both succeed.
 */
import { requireDeployment } from './deployment-rows.ts';
import type { ClientUsage, MetadataStore } from './metadata-store.ts';
import type { SqlValue } from './sql-driver.ts';
import type { RowMethodsOptions } from './store-rows.ts';

type UsageMethods = Pick<MetadataStore, 'recordClientUsage' | 'clientUsage'>;

/** The client usage methods of the SQL store. */
export function usageMethods(options: RowMethodsOptions): UsageMethods {
  const { driver } = options;
  return {
    recordClientUsage: async (usage) => {
      const rows = [
        ...(usage.inputs ?? []).map((name) => ['input', name] as const),
        ...(usage.outputs ?? []).map((name) => ['output', name] as const),
      ];
      await requireDeployment(driver, usage.deployment);
      if (rows.length === 0) return;
      const now = Date.now();
      const params: SqlValue[] = rows.flatMap(([kind, name]) => [usage.deployment, kind, name, now]);
      await driver.execute(
        `INSERT INTO deployment_usage (deployment, kind, name, first_seen) VALUES ${rows.map(() => '(?, ?, ?, ?)').join(', ')}
         ON CONFLICT (deployment, kind, name) DO NOTHING`,
        params,
      );
    },

    clientUsage: async (deployment): Promise<ClientUsage> => {
      await requireDeployment(driver, deployment);
      const rows = await driver.query<{ kind: string; name: string }>(
        'SELECT kind, name FROM deployment_usage WHERE deployment = ?',
        [deployment],
      );
      // Sorted here: the engines' collations order mixed-case names differently.
      const names = (kind: string): string[] =>
        rows
          .filter((row) => row.kind === kind)
          .map((row) => row.name)
          .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      return { inputs: names('input'), outputs: names('output') };
    },
  };
}
