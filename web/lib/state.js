// Panel state of one Flow Search node, reduced from the server's `flowsearch.*` messages.
//
// Pure logic (no DOM, no ComfyUI imports) so node's test runner can check it. The protocol
// (message names, fields, rates) is specified in docs/web.md. `applyMessage` mutates the
// state it is given and returns it: messages arrive ~10 per second and carry thumbnails,
// so copying the state on every message would only make garbage.

export const PROTOCOL_VERSION = 1
/** Sparkline points kept per batch item; older points are thinned beyond this. */
export const MAX_POINTS = 400
/** Lineage columns (populations) kept per batch item. */
export const MAX_COLUMNS = 10

const SERVER_TYPES = new Set([
  'flowsearch.start',
  'flowsearch.progress',
  'flowsearch.thumbs',
  'flowsearch.done',
  'flowsearch.summary'
])

/** A node's panel state before any message. */
export function createState() {
  return {
    promptId: null,
    nodeId: null,
    status: 'idle', // idle | running | stopping | picking | done | stopped | interrupted
    batchSize: 1,
    activeBatch: 0,
    batches: {},
    summary: null,
    seq: -1,
    notice: null, // {level: 'info' | 'error', text}
    pending: null // {action: 'stop'} | {action: 'pick', batch, population, index}
  }
}

function createBatch(batch) {
  return {
    batch,
    method: null,
    steps: null,
    step: 0,
    s: null,
    nfeUsed: 0,
    nfeBudget: null,
    bestReward: null,
    population: null,
    events: {},
    best: [], // [[nfe, best so far]], one point per progress message or step record
    populations: [], // [{nfe, step, rewards: number[]}], one per step record
    columns: [], // lineage: [{population, step, parents, rewards}]
    thumbs: null,
    heldOut: null,
    done: false,
    stopped: false,
    picked: null, // {population, index} once the core finished a hand-picked particle
    pickError: null, // why a requested pick could not be honoured (the core's message)
    nfeFinish: 0, // NFEs the core spent finishing the picked particle (outside the budget)
    result: null, // {image, reward}: the sample the node returned (after done)
    elapsed: null // seconds this batch item has run (server clock)
  }
}

function finiteOrNull(value) {
  return typeof value === 'number' && Number.isFinite(value) ? value : null
}

function numberList(values) {
  return Array.isArray(values) ? values.map(finiteOrNull) : null
}

/** Keep `list` at most `max` long by dropping every other element of its older half. */
export function thin(list, max) {
  if (list.length <= max) return list
  const half = Math.floor(list.length / 2)
  const older = list.slice(0, half).filter((_, i) => i % 2 === 0)
  return older.concat(list.slice(half))
}

function pickOf(value) {
  return Array.isArray(value) && value.length === 2 ? { population: value[0], index: value[1] } : null
}

function nonNegativeInt(value) {
  return Number.isInteger(value) && value > 0 ? value : 0
}

function pickErrorNotice(batch) {
  return { level: 'error', text: `Your pick could not be honoured: ${batch.pickError}` }
}

function batchOf(state, data) {
  const b = Number.isInteger(data.batch) ? data.batch : 0
  if (!state.batches[b]) state.batches[b] = createBatch(b)
  return state.batches[b]
}

function resetFor(state, data) {
  const fresh = createState()
  fresh.promptId = data.prompt_id
  fresh.nodeId = data.node_id
  Object.assign(state, fresh)
}

function pushBest(batch, nfe, best) {
  const value = finiteOrNull(best)
  if (value === null || !Number.isFinite(nfe)) return
  const last = batch.best[batch.best.length - 1]
  if (last && last[0] >= nfe) last[1] = Math.max(last[1], value)
  else batch.best.push([nfe, value])
  batch.best = thin(batch.best, MAX_POINTS)
}

function applyStepRecord(batch, record) {
  const rewards = numberList(record.rewards)
  const nfe = Number.isFinite(record.nfe) ? record.nfe : batch.nfeUsed
  if (rewards && rewards.length) {
    batch.populations.push({ nfe, step: record.step, rewards })
    batch.populations = thin(batch.populations, MAX_POINTS)
  }
  pushBest(batch, nfe, record.best)
  if (rewards || record.parents) {
    batch.columns.push({
      population: record.population ?? null,
      step: record.step ?? null,
      parents: Array.isArray(record.parents) ? record.parents.slice() : null,
      rewards: rewards ?? []
    })
    if (batch.columns.length > MAX_COLUMNS) batch.columns.splice(0, batch.columns.length - MAX_COLUMNS)
  }
  if (record.events && typeof record.events === 'object') batch.events = record.events
  if (record.events && finiteOrNull(record.events.held_out) !== null) batch.heldOut = record.events.held_out
}

function applyCommon(batch, data) {
  if (typeof data.method === 'string') batch.method = data.method
  if (Number.isInteger(data.steps)) batch.steps = data.steps
  if (Number.isInteger(data.step)) batch.step = data.step
  if (data.s !== undefined) batch.s = finiteOrNull(data.s)
  if (Number.isFinite(data.nfe_used)) batch.nfeUsed = Math.max(batch.nfeUsed, data.nfe_used)
  if (Number.isFinite(data.nfe_budget)) batch.nfeBudget = data.nfe_budget
  if (data.best_reward !== undefined) batch.bestReward = finiteOrNull(data.best_reward)
  if (Number.isInteger(data.population)) batch.population = data.population
  if (Number.isFinite(data.elapsed)) batch.elapsed = Math.max(batch.elapsed ?? 0, data.elapsed)
}

function handlers() {
  return {
    'flowsearch.start'(state, data) {
      const batch = batchOf(state, data)
      if (Number.isInteger(data.batch_size) && data.batch_size > 0) state.batchSize = data.batch_size
      applyCommon(batch, data)
      state.status = 'running'
      state.activeBatch = batch.batch
    },
    'flowsearch.progress'(state, data) {
      const batch = batchOf(state, data)
      for (const record of Array.isArray(data.steps_since) ? data.steps_since : []) {
        applyStepRecord(batch, record)
      }
      applyCommon(batch, data)
      pushBest(batch, batch.nfeUsed, data.best_reward)
      if (data.events && typeof data.events === 'object') batch.events = data.events
      if (state.status === 'idle') state.status = 'running'
      state.activeBatch = batch.batch
    },
    'flowsearch.thumbs'(state, data) {
      const batch = batchOf(state, data)
      applyCommon(batch, data)
      batch.thumbs = {
        population: data.population ?? null,
        step: data.step ?? null,
        final: data.final === true,
        images: Array.isArray(data.images) ? data.images : [],
        indices: Array.isArray(data.indices) ? data.indices : [],
        rewards: numberList(data.rewards) ?? [],
        bestIndex: Number.isInteger(data.best_index) ? data.best_index : null
      }
    },
    'flowsearch.done'(state, data) {
      const batch = batchOf(state, data)
      applyCommon(batch, data)
      pushBest(batch, batch.nfeUsed, data.best_reward)
      batch.done = true
      // the core's done event says how the search ended (the summary confirms it)
      batch.stopped = data.stopped === true
      batch.picked = pickOf(data.picked)
      batch.pickError = typeof data.pick_error === 'string' && data.pick_error ? data.pick_error : null
      batch.nfeFinish = nonNegativeInt(data.nfe_finish)
      batch.result = {
        image: typeof data.image === 'string' ? data.image : null,
        reward: finiteOrNull(data.best_reward)
      }
      if (data.held_out !== undefined && finiteOrNull(data.held_out) !== null) batch.heldOut = data.held_out
      const allDone = Object.keys(state.batches).length >= state.batchSize &&
        Object.values(state.batches).every((b) => b.done)
      if (allDone) state.status = Object.values(state.batches).some((b) => b.stopped) ? 'stopped' : 'done'
      if (state.pending && state.pending.batch === batch.batch) state.pending = null
      if (allDone) state.pending = null
      if (state.pending === null && state.notice?.level === 'info') state.notice = null
      if (batch.pickError) state.notice = pickErrorNotice(batch)
    },
    'flowsearch.summary'(state, data) {
      state.summary = {
        nfeUsed: finiteOrNull(data.nfe_used),
        nfeBudget: finiteOrNull(data.nfe_budget),
        seconds: finiteOrNull(data.seconds),
        secPer100Nfe: finiteOrNull(data.sec_per_100_nfe),
        timings: data.timings && typeof data.timings === 'object' ? { ...data.timings } : {},
        heldOut: numberList(data.held_out) ?? [],
        bestReward: numberList(data.best_reward) ?? [],
        picked: Array.isArray(data.picked) ? data.picked : [],
        pickError: Array.isArray(data.pick_error) ? data.pick_error : [],
        nfeFinish: Array.isArray(data.nfe_finish) ? data.nfe_finish.map(nonNegativeInt) : [],
        stopped: Array.isArray(data.stopped) ? data.stopped.map((v) => v === true) : [],
        method: typeof data.method === 'string' ? data.method : null
      }
      for (const [b, value] of state.summary.heldOut.entries()) {
        if (value !== null && state.batches[b]) state.batches[b].heldOut = value
      }
      // the node's report has the last word on picks, stops and finishing NFEs (a batch
      // item whose done message was missed, e.g. a page reloaded in between, gets them here)
      state.summary.picked.forEach((pick, b) => {
        if (state.batches[b]) state.batches[b].picked = pickOf(pick)
      })
      state.summary.pickError.forEach((error, b) => {
        if (state.batches[b]) state.batches[b].pickError = typeof error === 'string' && error ? error : null
      })
      state.summary.nfeFinish.forEach((n, b) => {
        if (state.batches[b]) state.batches[b].nfeFinish = n
      })
      state.summary.stopped.forEach((stopped, b) => {
        if (state.batches[b]) state.batches[b].stopped = stopped
      })
      if (!['interrupted'].includes(state.status)) {
        state.status = Object.values(state.batches).some((b) => b.stopped) ? 'stopped' : 'done'
      }
      state.pending = null
      if (state.notice?.level === 'info') state.notice = null
      const refused = Object.values(state.batches).find((b) => b.pickError)
      if (refused && !state.notice) state.notice = pickErrorNotice(refused)
    }
  }
}

const HANDLERS = handlers()

/**
 * Apply one server message (`type` = its `flowsearch.*` name, `data` = its payload) or one
 * local action (`local.*`, from the panel) to `state`; returns `state`.
 *
 * A message of another prompt starts a new run (the state is reset) unless it is an older
 * summary; a message whose `seq` is not above the last applied one is a duplicate (a replay
 * overlapping live messages) and is ignored.
 */
export function applyMessage(state, type, data) {
  if (type.startsWith('local.')) return applyLocal(state, type, data ?? {})
  if (!SERVER_TYPES.has(type) || !data || typeof data !== 'object') return state
  if (data.prompt_id !== state.promptId) {
    if (type === 'flowsearch.summary' && state.promptId !== null) return state
    resetFor(state, data)
  } else if (Number.isInteger(data.seq) && data.seq <= state.seq) {
    return state
  }
  if (Number.isInteger(data.seq)) state.seq = data.seq
  HANDLERS[type](state, data)
  return state
}

function applyLocal(state, type, data) {
  switch (type) {
    case 'local.stop':
      state.pending = { action: 'stop' }
      state.status = 'stopping'
      state.notice = { level: 'info', text: 'Stopping: keeping the best so far…' }
      break
    case 'local.pick':
      state.pending = { action: 'pick', batch: data.batch ?? 0, population: data.population, index: data.index }
      state.status = 'picking'
      state.notice = { level: 'info', text: `Keeping particle #${data.index}: finishing it alone…` }
      break
    case 'local.control_error':
      state.pending = null
      if (state.status === 'stopping' || state.status === 'picking') state.status = 'running'
      state.notice = { level: 'error', text: String(data.message ?? 'control request failed') }
      break
    case 'local.interrupted':
      if (data.prompt_id === state.promptId && !['done', 'stopped'].includes(state.status)) {
        state.status = 'interrupted'
        state.pending = null
        state.notice = { level: 'error', text: data.message ?? 'The prompt was interrupted.' }
      }
      break
    case 'local.clear_notice':
      state.notice = null
      break
  }
  return state
}

/**
 * Rebuild a state from a replay log (the `messages` of `GET /flowsearch/state`) followed by
 * live messages that arrived while the log was being fetched. Both are `[type, data]`
 * pairs; duplicates (same prompt, `seq` already applied) are dropped.
 */
export function replay(log, live = []) {
  const state = createState()
  for (const [type, data] of log) applyMessage(state, type, data)
  const sorted = live.slice().sort((a, b) => (a[1]?.seq ?? 0) - (b[1]?.seq ?? 0))
  for (const [type, data] of sorted) applyMessage(state, type, data)
  return state
}

/** The batch item the panel shows: the requested one if present, else the active one. */
export function shownBatch(state, requested = null) {
  if (requested !== null && state.batches[requested]) return state.batches[requested]
  return state.batches[state.activeBatch] ?? null
}

/** True while the search can still be steered (stop / pick). */
export function isSteerable(state) {
  return state.status === 'running'
}

/** True while `batch`'s particles can be picked: the search runs and this batch item is
 * the one running (a finished or later item refuses picks). */
export function isPickable(state, batch) {
  return isSteerable(state) && !!batch && !batch.done && batch.batch === state.activeBatch
}
