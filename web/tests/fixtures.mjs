// Message streams shaped like the server's (docs/web.md), for the reducer tests.

export function message(type, fields) {
  return [type, { v: 1, prompt_id: 'p1', node_id: '7', batch: 0, ...fields }]
}

/**
 * An SMC-like run: `steps` steps of `n` particles, `chunk` NFEs per step, rewards rising,
 * resampling from particle 0 every other step. Returns [type, data] pairs with seq numbers.
 */
export function smcRun({ steps = 4, n = 4, budget = 16, promptId = 'p1', nodeId = '7', batch = 0, batchSize = 1, seq0 = 0 } = {}) {
  const out = []
  let seq = seq0
  const base = { v: 1, prompt_id: promptId, node_id: nodeId, batch }
  out.push(['flowsearch.start', { ...base, seq: seq++, batch_size: batchSize, method: 'smc', steps, nfe_budget: budget, elapsed: 0 }])
  let best = null
  for (let k = 1; k <= steps; k++) {
    const rewards = Array.from({ length: n }, (_, i) => k + i / 10)
    const parents = k === 1 ? null : Array.from({ length: n }, (_, i) => (k % 2 === 0 ? 0 : i))
    best = Math.max(best ?? -Infinity, ...rewards)
    const nfe = k * n
    out.push(['flowsearch.progress', {
      ...base, seq: seq++, kind: 'step', method: 'smc', step: k, steps, s: 1 - k / steps,
      nfe_used: nfe, nfe_budget: budget, best_reward: best, population: k, elapsed: k * 0.5,
      events: { ess: n - 0.5, resampled: k % 2 === 0 },
      steps_since: [{ step: k, s: 1 - k / steps, nfe, best, rewards, parents, population: k, events: { ess: n - 0.5 } }]
    }])
  }
  out.push(['flowsearch.thumbs', {
    ...base, seq: seq++, population: steps, step: steps, final: true,
    images: Array.from({ length: n }, (_, i) => `data:image/jpeg;base64,AAA${i}`),
    indices: Array.from({ length: n }, (_, i) => i),
    rewards: Array.from({ length: n }, (_, i) => steps + i / 10),
    best_index: n - 1
  }])
  out.push(['flowsearch.done', {
    ...base, seq: seq++, nfe_used: steps * n, nfe_budget: budget, best_reward: best,
    stopped: false, picked: null, elapsed: steps * 0.5
  }])
  return out
}
