import t from 'tap';
import fc from 'fast-check';
import { matchWithLimit, solveAssignment } from '../../../edge/track/assignment.ts';

/** Least total cost over every way of giving min(rows, cols) rows distinct columns. */
function bruteForce(cost: number[][]): number {
  const rows = cost.length;
  const cols = cost[0]!.length;
  const k = Math.min(rows, cols);
  let best = Infinity;
  const usedR = new Array<boolean>(rows).fill(false);
  const usedC = new Array<boolean>(cols).fill(false);
  // choose pairs for the smaller side in order
  const walk = (idx: number, sum: number) => {
    if (idx === k) {
      best = Math.min(best, sum);
      return;
    }
    if (rows <= cols) {
      for (let j = 0; j < cols; j++) {
        if (usedC[j]) continue;
        usedC[j] = true;
        walk(idx + 1, sum + cost[idx]![j]!);
        usedC[j] = false;
      }
    } else {
      for (let i = 0; i < rows; i++) {
        if (usedR[i]) continue;
        usedR[i] = true;
        walk(idx + 1, sum + cost[i]![idx]!);
        usedR[i] = false;
      }
    }
  };
  walk(0, 0);
  return best;
}

/** Least Σ matched cost + (unmatched rows + cols)·limit/2 over every partial matching. */
function bruteForceLimited(cost: number[][], limit: number): number {
  const rows = cost.length;
  const cols = cost[0]!.length;
  let best = Infinity;
  const usedC = new Array<boolean>(cols).fill(false);
  const walk = (i: number, sum: number, matched: number) => {
    if (i === rows) {
      best = Math.min(best, sum + (rows + cols - 2 * matched) * (limit / 2));
      return;
    }
    walk(i + 1, sum, matched);
    for (let j = 0; j < cols; j++) {
      if (usedC[j] || !(cost[i]![j]! <= limit)) continue;
      usedC[j] = true;
      walk(i + 1, sum + cost[i]![j]!, matched + 1);
      usedC[j] = false;
    }
  };
  walk(0, 0, 0);
  return best;
}

const matrix = (maxSide: number) =>
  fc
    .tuple(fc.integer({ min: 1, max: maxSide }), fc.integer({ min: 1, max: maxSide }))
    .chain(([r, c]) => fc.array(fc.array(fc.integer({ min: 0, max: 100 }), { minLength: c, maxLength: c }), { minLength: r, maxLength: r }));

t.test('solveAssignment reaches the brute-force optimum on random matrices up to 6×6', async (t) => {
  fc.assert(
    fc.property(matrix(6), (cost) => {
      const rowToCol = solveAssignment(cost);
      const rows = cost.length;
      const cols = cost[0]!.length;
      const taken = rowToCol.filter((j) => j >= 0);
      if (taken.length !== Math.min(rows, cols)) return false;
      if (new Set(taken).size !== taken.length) return false;
      const total = rowToCol.reduce((s, j, i) => (j >= 0 ? s + cost[i]![j]! : s), 0);
      return total === bruteForce(cost);
    }),
    { numRuns: 400, seed: 20240601 },
  );
  t.pass('400 random matrices');
});

t.test('matchWithLimit: optimal partial matching, never a pair above the limit', async (t) => {
  const withForbidden = matrix(5).chain((m) =>
    fc.tuple(
      fc.constant(m),
      fc.array(fc.array(fc.boolean(), { minLength: m[0]!.length, maxLength: m[0]!.length }), { minLength: m.length, maxLength: m.length }),
      fc.integer({ min: 1, max: 100 }),
    ),
  );
  fc.assert(
    fc.property(withForbidden, ([raw, forbid, limit]) => {
      const cost = raw.map((row, i) => row.map((c, j) => (forbid[i]![j] ? Infinity : c)));
      const m = matchWithLimit(cost, limit);
      const rows = new Set(m.matches.map(([i]) => i));
      const cols = new Set(m.matches.map(([, j]) => j));
      if (rows.size !== m.matches.length || cols.size !== m.matches.length) return false;
      if (m.matches.some(([i, j]) => !(cost[i]![j]! <= limit))) return false;
      if (m.unmatchedRows.length + m.matches.length !== cost.length) return false;
      if (m.unmatchedCols.length + m.matches.length !== cost[0]!.length) return false;
      const total = m.matches.reduce((s, [i, j]) => s + cost[i]![j]!, 0) + (m.unmatchedRows.length + m.unmatchedCols.length) * (limit / 2);
      return Math.abs(total - bruteForceLimited(cost, limit)) < 1e-9;
    }),
    { numRuns: 400, seed: 7 },
  );
  t.pass('400 random matrices with forbidden pairs');
});

t.test('the optimum beats greedy where greedy fails', async (t) => {
  // greedy takes (0,0)=1 first and is left with (1,1)=10: total 11; the optimum is 2 + 3 = 5
  const cost = [
    [1, 2],
    [3, 10],
  ];
  t.same(solveAssignment(cost), [1, 0]);
  t.same(matchWithLimit(cost, 20).matches, [
    [0, 1],
    [1, 0],
  ]);
});

t.test('empty and degenerate inputs', async (t) => {
  t.same(solveAssignment([]), []);
  t.same(solveAssignment([[], []]), [-1, -1]);
  t.same(matchWithLimit([], 1), { matches: [], unmatchedRows: [], unmatchedCols: [] });
  t.same(matchWithLimit([], 1, 3), { matches: [], unmatchedRows: [], unmatchedCols: [0, 1, 2] }, 'no rows: every column unmatched');
  t.same(matchWithLimit([[], []], 1), { matches: [], unmatchedRows: [0, 1], unmatchedCols: [] });
  t.same(matchWithLimit([[5]], 1), { matches: [], unmatchedRows: [0], unmatchedCols: [0] }, 'a pair above the limit stays apart');
  t.throws(() => solveAssignment([[Infinity]]), RangeError);
});
