/**
 * trl's packing ("bfd", best-fit decreasing, what the trainer asks with packing: true): the rows, longest first,
 * each into the fullest sequence of max_seq_length it still fits in, else a new one. Answers how many sequences.
 * The free space of the open sequences is kept in a segment tree over 0..max_seq_length (counts per free space),
 * so each row finds the smallest free space at least its length in O(log max_seq_length).
 */
export function packedSequences(lengths: readonly number[], maxSeqLength: number): number {
  const size = maxSeqLength + 1;
  let width = 1;
  while (width < size) width *= 2;
  const tree = new Int32Array(2 * width); // counts of open sequences by free space; inner nodes: sums
  const add = (free: number, delta: number) => {
    for (let i = free + width; i >= 1; i >>= 1) tree[i] = (tree[i] ?? 0) + delta;
  };
  /** the smallest free space >= need with an open sequence, or -1 */
  const smallestAtLeast = (need: number): number => {
    const go = (node: number, lo: number, hi: number): number => {
      if ((tree[node] ?? 0) === 0 || hi < need) return -1;
      if (lo === hi) return lo;
      const mid = (lo + hi) >> 1;
      const left = go(2 * node, lo, mid);
      return left !== -1 ? left : go(2 * node + 1, mid + 1, hi);
    };
    return go(1, 0, width - 1);
  };
  let sequences = 0;
  const sorted = lengths.map((n) => Math.min(n, maxSeqLength)).sort((a, b) => b - a);
  for (const n of sorted) {
    if (n <= 0) continue;
    const free = smallestAtLeast(n);
    if (free === -1) {
      sequences++;
      add(maxSeqLength - n, 1);
    } else {
      add(free, -1);
      add(free - n, 1);
    }
  }
  return sequences;
}

/** transformers' optimizer steps for an epoch of `examples` (one device): ceil(batches / gradient_accumulation_steps). */
export function stepsPerEpoch(examples: number, batchSize: number, accumulation: number): number {
  const batches = Math.ceil(examples / batchSize);
  return Math.max(1, Math.ceil(batches / accumulation));
}

/** The examples left for training after datasets' train_test_split holds out ceil(fraction × n) (at least one). */
export function trainExamples(examples: number, evalFraction: number): number {
  if (!evalFraction || examples < 2) return examples;
  return examples - Math.max(1, Math.ceil(evalFraction * examples));
}
