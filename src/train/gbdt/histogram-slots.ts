/** The layout of a GBDT histogram: per feature, per bin, a slot of (gradient sum, hessian sum, row count). */

/** Histogram slots per feature; bin indices are bytes. */
export const BIN_STRIDE = 256;
/** Values per histogram slot: gradient sum, hessian sum, row count. */
export const SLOT = 3;
/** Histogram values per feature. */
export const FEATURE_STRIDE = BIN_STRIDE * SLOT;
