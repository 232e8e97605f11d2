/**
 * The tree grower for shards whose histograms cost a round trip to sum (`ShardSet.splitMany`:
 * processes summing through Redis, worker threads waiting for each other): when no leaf budget binds, every leaf that can split will be
 * split, so all open leaves are split at once — one exchange per depth instead of one per split —
 * and the best-first order is replayed afterwards to number the nodes. Histograms, splits, leaf
 * values and node ids are exactly those of `growTree`; only the shards see other (provisional)
 * node ids, which {@link BatchedTree.shardNode} maps back.
 */
import type { GbdtTree } from './gbdt-model.ts';
import { bestSplit, isLeftSmaller, type GrowTreeOptions, type GrownTree, type Split } from './grow-tree.ts';
import { FEATURE_STRIDE, SLOT, type ShardSplit } from './row-shard.ts';

/** A grown tree plus, per node id, the id the shards know the node by. */
export interface BatchedTree extends GrownTree {
  readonly shardNode: Int32Array;
}

/** A node as the batched pass grows it, before it has its final id. */
interface Node {
  /** The id the shards know it by. */
  readonly shardId: number;
  readonly depth: number;
  readonly grad: number;
  readonly hess: number;
  readonly split: Split | undefined;
  histogram: Float64Array;
  children?: [Node, Node];
}

/** True when `growTreeBatched` gives `growTree`'s tree: the shards batch and no leaf budget binds. */
export function canBatch(options: GrowTreeOptions): boolean {
  return options.shards.splitMany !== undefined && options.maxLeaves >= 2 ** options.maxDepth;
}

/** Grows the tree `growTree` would, splitting each depth's leaves in one batch. */
export function growTreeBatched(options: GrowTreeOptions): BatchedTree {
  const { shards, features, pool } = options;
  const makeNode = (node: Omit<Node, 'split'>): Node => {
    const split = node.depth < options.maxDepth ? bestSplit(options, node) : undefined;
    // A leaf that cannot split never needs its histogram again.
    if (split === undefined) pool.give(node.histogram);
    return { ...node, split };
  };
  const rootHistogram = pool.take();
  const [grad, hess] = shards.root({ features, histogram: rootHistogram });
  const root = makeNode({ shardId: 0, depth: 0, histogram: rootHistogram, grad, hess });
  let nextId = 1;
  let frontier = root.split === undefined ? [] : [root];
  while (frontier.length > 0) {
    const batch = frontier.map((node) => {
      const split = node.split as Split;
      const shardSplit: ShardSplit = {
        node: node.shardId,
        left: nextId++,
        right: nextId++,
        feature: split.feature,
        bin: split.bin,
        buildLeft: isLeftSmaller(node, split),
        skipHistogram: node.depth + 1 >= options.maxDepth,
      };
      return { node, split, shardSplit, small: pool.take() };
    });
    (shards.splitMany as NonNullable<typeof shards.splitMany>)({
      splits: batch.map((b) => ({ split: b.shardSplit, histogram: b.small })),
      features,
    });
    frontier = [];
    for (const { node, split, shardSplit, small } of batch) {
      const large = node.histogram;
      if (!shardSplit.skipHistogram) subtract({ options, large, small });
      const depth = node.depth + 1;
      const left = makeNode({
        shardId: shardSplit.left,
        depth,
        histogram: shardSplit.buildLeft ? small : large,
        grad: split.gradLeft,
        hess: split.hessLeft,
      });
      const right = makeNode({
        shardId: shardSplit.right,
        depth,
        histogram: shardSplit.buildLeft ? large : small,
        grad: node.grad - split.gradLeft,
        hess: node.hess - split.hessLeft,
      });
      node.children = [left, right];
      for (const child of node.children) if (child.split !== undefined) frontier.push(child);
    }
  }
  return numberBestFirst({ options, root });
}

/** `large -= small` over the selected features' bins: the larger child from its parent. */
function subtract(args: { options: GrowTreeOptions; large: Float64Array; small: Float64Array }): void {
  const { options, large, small } = args;
  const { features } = options;
  for (let j = 0; j < features.length; j++) {
    const start = (features[j] as number) * FEATURE_STRIDE;
    const end = start + ((options.edges[features[j] as number] as Float32Array).length + 1) * SLOT;
    for (let i = start; i < end; i++) large[i] = (large[i] as number) - (small[i] as number);
  }
}

/**
 * Writes the grown nodes into a tree in the order `growTree` creates them: the open leaf with the
 * largest gain is split next (ties: the older leaf), its children numbered left then right.
 */
function numberBestFirst(args: { options: GrowTreeOptions; root: Node }): BatchedTree {
  const { options, root } = args;
  const tree: GbdtTree & { cover: number[] } = {
    feature: [],
    threshold: [],
    left: [],
    right: [],
    value: [],
    cover: [],
  };
  const binThreshold: number[] = [];
  const shardNode: number[] = [];
  const add = (node: Node): { id: number; node: Node } => {
    const id = tree.feature.length;
    tree.feature.push(-1);
    tree.threshold.push(0);
    tree.left.push(-1);
    tree.right.push(-1);
    tree.value.push(Math.fround((-node.grad / (node.hess + options.lambda)) * options.learningRate));
    tree.cover.push(node.hess);
    binThreshold.push(-1);
    shardNode.push(node.shardId);
    return { id, node };
  };
  const open = [add(root)].filter((entry) => entry.node.split !== undefined);
  while (open.length > 0) {
    let pick = 0;
    for (let i = 1; i < open.length; i++) {
      if ((open[i]?.node.split?.gain as number) > (open[pick]?.node.split?.gain as number)) pick = i;
    }
    const [{ id, node }] = open.splice(pick, 1) as [{ id: number; node: Node }];
    const split = node.split as Split;
    const [leftNode, rightNode] = node.children as [Node, Node];
    tree.feature[id] = split.feature;
    tree.threshold[id] = (options.edges[split.feature] as Float32Array)[split.bin] as number;
    tree.value[id] = 0;
    binThreshold[id] = split.bin;
    const left = add(leftNode);
    const right = add(rightNode);
    tree.left[id] = left.id;
    tree.right[id] = right.id;
    open.push(...[left, right].filter((entry) => entry.node.split !== undefined));
  }
  return { tree, binThreshold, shardNode: Int32Array.from(shardNode) };
}
