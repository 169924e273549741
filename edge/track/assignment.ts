// Optimal one-to-one assignment (minimum total cost), the step that turns a track × detection
// cost matrix into matches. Greedy matching takes the best pair first and can leave two objects
// that pass close to each other swapped; the optimum cannot.
//
// solveAssignment is the shortest-augmenting-path Hungarian method with row and column potentials
// (the Jonker–Volgenant formulation): one row enters per phase, a Dijkstra-like scan over reduced
// costs finds the cheapest augmenting path, O(n²·m) for n ≤ m.

/**
 * Minimum-cost assignment of a rectangular matrix of finite costs: every row gets a distinct
 * column when rows ≤ columns, every column a distinct row otherwise. Returns, for each row, its
 * column or −1 (only possible when rows > columns).
 */
export function solveAssignment(cost: readonly (readonly number[])[]): number[] {
  const rows = cost.length;
  const cols = rows === 0 ? 0 : cost[0]!.length;
  if (rows === 0) return [];
  if (cols === 0) return new Array<number>(rows).fill(-1);
  if (rows > cols) {
    // Solve the transpose so that the side entering one per phase is the smaller one.
    const t: number[][] = Array.from({ length: cols }, (_, j) => Array.from({ length: rows }, (_, i) => cost[i]![j]!));
    const colToRow = solveAssignment(t);
    const rowToCol = new Array<number>(rows).fill(-1);
    colToRow.forEach((i, j) => {
      if (i >= 0) rowToCol[i] = j;
    });
    return rowToCol;
  }
  // 1-based with a virtual column 0 that holds the row being inserted.
  const u = new Float64Array(rows + 1);
  const v = new Float64Array(cols + 1);
  const owner = new Int32Array(cols + 1); // row assigned to each column, 0 = none
  const way = new Int32Array(cols + 1);
  const minv = new Float64Array(cols + 1);
  const used = new Uint8Array(cols + 1);
  for (let i = 1; i <= rows; i++) {
    owner[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = owner[j0]!;
      const row = cost[i0 - 1]!;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= cols; j++) {
        if (used[j]) continue;
        const reduced = row[j - 1]! - u[i0]! - v[j]!;
        if (reduced < minv[j]!) {
          minv[j] = reduced;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      if (j1 === 0) throw new RangeError('assignment costs must be finite numbers');
      for (let j = 0; j <= cols; j++) {
        if (used[j]) {
          u[owner[j]!] = u[owner[j]!]! + delta;
          v[j] = v[j]! - delta;
        } else {
          minv[j] = minv[j]! - delta;
        }
      }
      j0 = j1;
    } while (owner[j0] !== 0);
    // Flip the augmenting path back to column 0.
    do {
      const j1 = way[j0]!;
      owner[j0] = owner[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const rowToCol = new Array<number>(rows).fill(-1);
  for (let j = 1; j <= cols; j++) if (owner[j]! > 0) rowToCol[owner[j]! - 1] = j - 1;
  return rowToCol;
}

export interface Matching {
  /** [row, column] pairs, each with cost ≤ limit */
  matches: [number, number][];
  unmatchedRows: number[];
  unmatchedCols: number[];
}

/**
 * Matches rows to columns where leaving a row or a column unmatched is allowed and costs limit/2:
 * the result minimises Σ cost(matched) + (unmatched rows + unmatched columns)·limit/2, so no pair
 * costlier than `limit` is ever taken. Costs above the limit (Infinity included) mean "never".
 * Done by padding to a square (rows + cols) matrix of dummies, as lapjv's cost_limit does.
 * `cols` is needed when there are no rows (a matrix of no rows cannot say how wide it is).
 */
export function matchWithLimit(cost: readonly (readonly number[])[], limit: number, cols = cost[0]?.length ?? 0): Matching {
  const rows = cost.length;
  if (rows === 0 || cols === 0) {
    return { matches: [], unmatchedRows: range(rows), unmatchedCols: range(cols) };
  }
  const n = rows + cols;
  const half = limit / 2;
  const never = limit * 2 + 1; // dearer than leaving both sides unmatched (limit)
  const padded: number[][] = [];
  for (let i = 0; i < n; i++) {
    const line = new Array<number>(n);
    for (let j = 0; j < n; j++) {
      if (i < rows && j < cols) {
        const c = cost[i]![j]!;
        line[j] = c <= limit ? c : never;
      } else {
        line[j] = i >= rows && j >= cols ? 0 : half;
      }
    }
    padded.push(line);
  }
  const rowToCol = solveAssignment(padded);
  const matches: [number, number][] = [];
  const colTaken = new Uint8Array(cols);
  const unmatchedRows: number[] = [];
  for (let i = 0; i < rows; i++) {
    const j = rowToCol[i]!;
    if (j >= 0 && j < cols && cost[i]![j]! <= limit) {
      matches.push([i, j]);
      colTaken[j] = 1;
    } else {
      unmatchedRows.push(i);
    }
  }
  const unmatchedCols = range(cols).filter((j) => !colTaken[j]);
  return { matches, unmatchedRows, unmatchedCols };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
