/**
 * Picks a route by weight. With a key (an A/B key such as a user id) the pick is a pure function
 * of the key and the weights, so a user keeps seeing the same version; the key is hashed onto
 * [0, 100) and the routes own consecutive ranges, so moving weight between two routes re-assigns
 * only the keys in the moved range.
 */

/** A route with its share of traffic (weights sum to 100). */
export interface WeightedRoute {
  readonly version: number;
  readonly weight: number;
}

/** Position of a key on [0, 100), from a 32-bit FNV-1a hash. */
export function keyPosition(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  // The low bits of FNV-1a mix poorly for short keys: fold the high half in first.
  hash = (hash ^ (hash >>> 16)) >>> 0;
  return (hash % 1_000_000) / 10_000;
}

/** The route that owns `position` on [0, 100). */
export function pickRoute(routes: readonly WeightedRoute[], position: number): WeightedRoute {
  let edge = 0;
  for (const route of routes) {
    edge += route.weight;
    if (position < edge && route.weight > 0) return route;
  }
  // Rounding at the top edge: the last route with any weight.
  for (let i = routes.length - 1; i >= 0; i--) {
    const route = routes[i] as WeightedRoute;
    if (route.weight > 0) return route;
  }
  return routes[0] as WeightedRoute;
}
