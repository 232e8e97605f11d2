/**
 * The vocabulary of access control as the transports see it: the permissions a route or gRPC
 * method can require, and the `Authorizer` they ask. Which permission each route needs is declared
 * with the route (`http/route-table.ts` lists them all; `grpc/grpc-methods.ts` the gRPC methods);
 * which roles hold which permissions is `src/security/role-permissions.ts`.
 */
export { PERMISSIONS, type Permission } from '../security/permission.ts';
export { allowAll, type Authorization, type AuthorizationRequest, type Authorizer } from '../security/authorizer.ts';
