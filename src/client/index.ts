/** A client of a running Stratum server's management API (`/api/v1`). */
export { createApiClient } from './api-client.ts';
export type {
  ApiClient,
  ApiClientOptions,
  ApiPage,
  DeploymentStatusReply,
  DeploymentWithEtag,
  GcReply,
  JobUpdate,
} from './api-client.ts';
