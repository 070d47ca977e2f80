// Lineage layout: where to draw each particle of the last few populations and the edges to
// its parent, and which particles are ancestors of the current winner.
//
// Input columns are consecutive step records `{population, step, parents, rewards}`:
// `parents[i]` is the index, in the previous column, of particle i's parent (the core's
// `SearchEvent.parents`); `null` parents (a method without lineage, or the first kept
// column) draw no edges. Pure logic, no DOM.

/** Index of the largest finite value, or null. */
export function argmax(values) {
  let best = null
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (typeof v !== 'number' || !Number.isFinite(v)) continue
    if (best === null || v > values[best]) best = i
  }
  return best
}

/**
 * Indices of `index`'s ancestors, one per column, last column first; stops where lineage
 * is unknown. Returns an array `path` with `path[c]` = particle index in column c, or
 * undefined for columns before the known lineage.
 */
export function ancestry(columns, index) {
  const path = new Array(columns.length)
  let current = index
  for (let c = columns.length - 1; c >= 0 && current !== null && current !== undefined; c--) {
    const column = columns[c]
    if (current < 0 || current >= columnSize(column)) break
    path[c] = current
    const parents = column.parents
    current = Array.isArray(parents) && c > 0 ? parents[current] : null
  }
  return path
}

function columnSize(column) {
  if (Array.isArray(column.rewards) && column.rewards.length) return column.rewards.length
  return Array.isArray(column.parents) ? column.parents.length : 0
}

/**
 * Layout of the lineage graph in a `width` x `height` box.
 *
 * Columns are spread evenly left to right (oldest left); particles of a column are spread
 * evenly top to bottom by index. `winner` is the particle index in the last column whose
 * ancestry is highlighted (default: the best reward of the last column).
 * Returns `{dots: [{x, y, column, index, reward, onPath, winner}], edges: [{x1, y1, x2, y2,
 * onPath}], winner, rewardRange: [lo, hi] | null}`.
 */
export function layoutLineage(columns, width, height, { winner = null, margin = 6 } = {}) {
  const dots = []
  const edges = []
  if (!columns.length) return { dots, edges, winner: null, rewardRange: null }
  const last = columns[columns.length - 1]
  const chosen = winner ?? argmax(last.rewards ?? [])
  const path = chosen === null ? new Array(columns.length) : ancestry(columns, chosen)
  const innerW = Math.max(0, width - 2 * margin)
  const innerH = Math.max(0, height - 2 * margin)
  const xOf = (c) => margin + (columns.length === 1 ? innerW / 2 : (innerW * c) / (columns.length - 1))
  const yOf = (i, n) => margin + (innerH * (i + 0.5)) / Math.max(1, n)
  let lo = Infinity
  let hi = -Infinity
  columns.forEach((column, c) => {
    const n = columnSize(column)
    for (let i = 0; i < n; i++) {
      const reward = column.rewards?.[i] ?? null
      if (reward !== null && Number.isFinite(reward)) {
        lo = Math.min(lo, reward)
        hi = Math.max(hi, reward)
      }
      dots.push({
        x: xOf(c),
        y: yOf(i, n),
        column: c,
        index: i,
        reward,
        onPath: path[c] === i,
        winner: c === columns.length - 1 && i === chosen
      })
      const parent = c > 0 && Array.isArray(column.parents) ? column.parents[i] : null
      const prevSize = c > 0 ? columnSize(columns[c - 1]) : 0
      if (Number.isInteger(parent) && parent >= 0 && parent < prevSize) {
        edges.push({
          x1: xOf(c - 1),
          y1: yOf(parent, prevSize),
          x2: xOf(c),
          y2: yOf(i, n),
          onPath: path[c] === i && path[c - 1] === parent
        })
      }
    }
  })
  return { dots, edges, winner: chosen, rewardRange: lo <= hi ? [lo, hi] : null }
}

/** Map a reward into [0, 1] within `range` (0.5 when the range is empty or unknown). */
export function rewardShade(reward, range) {
  if (reward === null || !Number.isFinite(reward) || !range) return 0.5
  const [lo, hi] = range
  if (!(hi > lo)) return 0.5
  return Math.min(1, Math.max(0, (reward - lo) / (hi - lo)))
}

/** Columns of the thumbnail grid: at most 8, rows as evenly filled as possible. */
export function thumbColumns(count, max = 8) {
  if (count <= 0) return 1
  const rows = Math.ceil(count / max)
  return Math.ceil(count / rows)
}
