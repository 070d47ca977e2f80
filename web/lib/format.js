// Numbers and words the panel shows: durations, rewards, the cost of more NFEs, the
// method's events. Pure logic, no DOM.

/** "0.42 s", "12 s", "3 min 20 s", "1 h 05 min"; "–" for an unknown duration. */
export function formatDuration(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return '–'
  if (seconds < 1) return `${seconds.toFixed(2)} s`
  if (seconds < 10) return `${seconds.toFixed(1)} s`
  if (seconds < 60) return `${Math.round(seconds)} s`
  const total = Math.round(seconds)
  if (total < 3600) {
    const m = Math.floor(total / 60)
    const s = total % 60
    return s ? `${m} min ${s} s` : `${m} min`
  }
  const h = Math.floor(total / 3600)
  const m = Math.round((total % 3600) / 60)
  return `${h} h ${String(m).padStart(2, '0')} min`
}

/** A reward with 3 significant digits ("0.925", "-12.4", "1.23e+4"); "–" when unknown. */
export function formatReward(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '–'
  const a = Math.abs(value)
  if (a !== 0 && (a >= 1e4 || a < 1e-3)) return value.toExponential(2)
  return Number(value.toPrecision(3)).toString()
}

/** Seconds per 100 NFE from `seconds` spent on `nfe` NFEs (null when unknown). */
export function secondsPer100Nfe(seconds, nfe) {
  if (!(nfe > 0) || typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return null
  return (100 * seconds) / nfe
}

/**
 * What `extra` more NFEs would cost on this machine, from the measured seconds per 100
 * NFE: `{extra, seconds, text}`; text like "+250 NFE ≈ 31 s".
 */
export function moreNfeCost(secPer100, extra) {
  const n = Math.max(0, Math.round(Number(extra) || 0))
  if (typeof secPer100 !== 'number' || !Number.isFinite(secPer100)) {
    return { extra: n, seconds: null, text: `+${n} NFE ≈ –` }
  }
  const seconds = (secPer100 * n) / 100
  return { extra: n, seconds, text: `+${n} NFE ≈ ${formatDuration(seconds)}` }
}

/**
 * Seconds per 100 NFE of a batch item while it runs, from the seconds it has run and the
 * NFEs it has used (null until there is enough to go on).
 */
export function liveRate(batch) {
  if (!batch || !(batch.nfeUsed >= 4) || !(batch.elapsed > 0)) return null
  return secondsPer100Nfe(batch.elapsed, batch.nfeUsed)
}

/** Time split "model 62% · decode 8% · verifier 25% · overhead 5%" from summary timings. */
export function timingSplit(timings) {
  const parts = ['model', 'decode', 'verifier', 'overhead']
  const values = parts.map((k) => (Number.isFinite(timings?.[k]) ? Math.max(0, timings[k]) : null))
  const total = values.reduce((a, v) => a + (v ?? 0), 0)
  if (!(total > 0)) return []
  return parts
    .map((name, i) => ({ name, seconds: values[i], share: values[i] === null ? null : values[i] / total }))
    .filter((p) => p.seconds !== null)
}

/** Method names as the panel shows them. */
export const METHOD_LABELS = {
  bon: 'best-of-N',
  zero_order: 'zero-order',
  sop: 'search over paths',
  smc: 'SMC',
  svdd: 'SVDD',
  code: 'CoDe',
  rbf: 'RBF',
  dps: 'DPS'
}

export function methodLabel(method) {
  return METHOD_LABELS[method] ?? (method ? String(method) : 'search')
}

/**
 * One short line describing the method's latest events (the core's `SearchEvent.events`):
 * RBF acceptance and rolled-over quota, SMC effective sample size and resampling, ...
 * Unknown keys are shown as `key value` so nothing the core reports is hidden.
 */
export function describeEvents(events) {
  if (!events || typeof events !== 'object') return ''
  const parts = []
  const used = new Set()
  const take = (key) => {
    used.add(key)
    return events[key]
  }
  const ess = take('ess')
  if (Number.isFinite(ess)) parts.push(`ESS ${Number(ess.toPrecision(3))}`)
  const resampled = take('resampled')
  if (resampled === true) parts.push('resampled')
  const accepted = take('accepted')
  if (Number.isInteger(accepted)) parts.push(`accepted #${accepted}`)
  else if (accepted === true) parts.push('accepted')
  else if (accepted === false || accepted === null) parts.push('no improvement')
  const rolled = take('rolled_over')
  if (Number.isFinite(rolled) && rolled > 0) parts.push(`+${rolled} NFE rolled over`)
  const quota = take('quota')
  if (Number.isFinite(quota)) parts.push(`quota ${quota}`)
  const tried = take('proposals')
  if (Number.isFinite(tried)) parts.push(`${tried} proposals`)
  take('held_out')
  for (const [key, value] of Object.entries(events)) {
    if (used.has(key)) continue
    if (typeof value === 'number' && Number.isFinite(value)) parts.push(`${key.replace(/_/g, ' ')} ${Number(value.toPrecision(3))}`)
    else if (typeof value === 'boolean' && value) parts.push(key.replace(/_/g, ' '))
    else if (typeof value === 'string' && value.length <= 24) parts.push(`${key.replace(/_/g, ' ')} ${value}`)
  }
  return parts.join(' · ')
}
