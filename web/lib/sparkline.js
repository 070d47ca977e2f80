// Reward-vs-NFE sparkline geometry: SVG path strings for the best-so-far curve and dots for
// the population rewards, in a `width` x `height` box. Pure logic, no DOM.

/** `[lo, hi]` of the finite numbers among `values` (null when there are none). */
export function finiteRange(values) {
  let lo = Infinity
  let hi = -Infinity
  for (const v of values) {
    if (typeof v !== 'number' || !Number.isFinite(v)) continue
    if (v < lo) lo = v
    if (v > hi) hi = v
  }
  return lo <= hi ? [lo, hi] : null
}

function round(v) {
  return Math.round(v * 10) / 10
}

/**
 * Geometry of the sparkline.
 *
 * `best`: `[[nfe, best so far]]` ascending in NFE (drawn as a step function: the best only
 * changes when a better sample is found); `populations`: `[{nfe, rewards}]` (one dot per
 * finite reward). The x axis spans 0..`nfeMax` (the budget, or the largest NFE seen); the
 * y axis spans the rewards seen with 8% padding (a flat range is widened by 1).
 * Returns `{bestPath, dots: [{x, y}], xMax, yRange: [lo, hi] | null, seen: [min, max] | null,
 * last: {x, y} | null}`: `yRange` is the padded axis, `seen` the rewards' own range (what
 * the panel prints).
 */
export function sparkGeometry(best, populations, width, height, { nfeMax = null, pad = 3 } = {}) {
  const rewards = best.map((p) => p[1])
  for (const pop of populations) rewards.push(...pop.rewards)
  const seen = finiteRange(rewards)
  let yRange = seen
  const seenMax = Math.max(0, ...best.map((p) => p[0]), ...populations.map((p) => p.nfe))
  const xMax = Math.max(1, nfeMax ?? 0, seenMax)
  if (!yRange) return { bestPath: '', dots: [], xMax, yRange: null, seen: null, last: null }
  let [lo, hi] = yRange
  if (hi - lo < 1e-12) {
    lo -= 0.5
    hi += 0.5
  } else {
    const margin = 0.08 * (hi - lo)
    lo -= margin
    hi += margin
  }
  yRange = [lo, hi]
  const x = (nfe) => round(pad + ((width - 2 * pad) * nfe) / xMax)
  const y = (r) => round(height - pad - ((height - 2 * pad) * (r - lo)) / (hi - lo))
  const dots = []
  for (const pop of populations) {
    for (const r of pop.rewards) {
      if (typeof r === 'number' && Number.isFinite(r)) dots.push({ x: x(pop.nfe), y: y(r) })
    }
  }
  let bestPath = ''
  let last = null
  for (const [nfe, r] of best) {
    if (typeof r !== 'number' || !Number.isFinite(r)) continue
    const px = x(nfe)
    const py = y(r)
    bestPath += last === null ? `M${px} ${py}` : `H${px}V${py}`
    last = { x: px, y: py }
  }
  return { bestPath, dots, xMax, yRange, seen, last }
}
