/**
 * The layout of a GBDT histogram: per feature, per bin, a slot of (gradient sum, hessian sum).
 * There is no row count: as in XGBoost, the smaller child is chosen by hessian and an empty side
 * is one with no hessian, which saves a third of the histogram loop's memory traffic.
 */

/** Histogram slots per feature; bin indices are bytes. */
export const BIN_STRIDE = 256;
/** Values per histogram slot: gradient sum, hessian sum. */
export const SLOT = 2;
/** Histogram values per feature. */
export const FEATURE_STRIDE = BIN_STRIDE * SLOT;
