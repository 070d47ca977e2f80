import assert from 'node:assert/strict'
import { test } from 'node:test'

import { MAX_COLUMNS, MAX_POINTS, applyMessage, createState, isPickable, isSteerable, replay, shownBatch, thin } from '../lib/state.js'
import { message, smcRun } from './fixtures.mjs'

function reduceAll(messages, state = createState()) {
  for (const [type, data] of messages) applyMessage(state, type, data)
  return state
}

test('a full run reduces to a finished panel state', () => {
  const state = reduceAll(smcRun({ steps: 4, n: 4, budget: 16 }))
  assert.equal(state.status, 'done')
  assert.equal(state.promptId, 'p1')
  assert.equal(state.nodeId, '7')
  const b = shownBatch(state)
  assert.equal(b.method, 'smc')
  assert.equal(b.nfeUsed, 16)
  assert.equal(b.nfeBudget, 16)
  assert.equal(b.bestReward, 4.3)
  assert.equal(b.done, true)
  assert.equal(b.columns.length, 4)
  assert.deepEqual(b.columns[1].parents, [0, 0, 0, 0])
  assert.equal(b.populations.length, 4)
  assert.deepEqual(b.populations[0], { nfe: 4, step: 1, rewards: [1, 1.1, 1.2, 1.3] })
  // best-so-far curve: one point per NFE reached, non-decreasing here
  assert.deepEqual(b.best.map((p) => p[0]), [4, 8, 12, 16])
  assert.deepEqual(b.best.map((p) => p[1]), [1.3, 2.3, 3.3, 4.3])
  assert.equal(b.thumbs.images.length, 4)
  assert.equal(b.thumbs.bestIndex, 3)
  assert.equal(b.thumbs.final, true)
  assert.equal(b.elapsed, 2)
  assert.equal(isSteerable(state), false)
})

test('NFE counter never goes backwards and duplicates are ignored', () => {
  const run = smcRun({ steps: 3, n: 2, budget: 6 })
  const state = reduceAll(run.slice(0, 3))
  assert.equal(shownBatch(state).nfeUsed, 4)
  // a replayed (older) message does not move anything
  applyMessage(state, ...run[1])
  assert.equal(shownBatch(state).nfeUsed, 4)
  assert.equal(shownBatch(state).columns.length, 2)
  assert.equal(isSteerable(state), true)
})

test('a message of another prompt starts a new run; an older summary is ignored', () => {
  const state = reduceAll(smcRun({ promptId: 'p1' }))
  applyMessage(state, ...message('flowsearch.start', { prompt_id: 'p2', seq: 0, method: 'rbf', nfe_budget: 50 }))
  assert.equal(state.promptId, 'p2')
  assert.equal(state.status, 'running')
  assert.equal(shownBatch(state).method, 'rbf')
  assert.equal(shownBatch(state).columns.length, 0)
  applyMessage(state, 'flowsearch.summary', { prompt_id: 'p1', node_id: '7', seq: 99, nfe_used: 16 })
  assert.equal(state.summary, null)
  assert.equal(state.promptId, 'p2')
})

test('non-finite and missing numbers become null, never NaN', () => {
  const state = createState()
  applyMessage(state, ...message('flowsearch.progress', {
    seq: 0, kind: 'step', nfe_used: 2, best_reward: null, steps_since: [{ step: 1, nfe: 2, best: null, rewards: [null, 1.5], parents: null, population: 0 }]
  }))
  const b = shownBatch(state)
  assert.equal(b.bestReward, null)
  assert.deepEqual(b.populations[0].rewards, [null, 1.5])
  assert.deepEqual(b.best, [])
  assert.equal(b.columns[0].parents, null)
})

test('several batch items: done only when every item is done', () => {
  const first = smcRun({ batch: 0, batchSize: 2, seq0: 0 })
  const second = smcRun({ batch: 1, batchSize: 2, seq0: first.length })
  const state = reduceAll(first)
  assert.equal(state.status, 'running')
  assert.equal(state.batchSize, 2)
  reduceAll(second, state)
  assert.equal(state.status, 'done')
  assert.equal(state.activeBatch, 1)
  assert.equal(shownBatch(state, 0).batch, 0)
  assert.equal(shownBatch(state, 5).batch, 1)
})

test('stop and pick: pending until the server reports done; errors restore running', () => {
  const run = smcRun({ steps: 4 })
  const state = reduceAll(run.slice(0, 3))
  applyMessage(state, 'local.pick', { batch: 0, population: 2, index: 1 })
  assert.equal(state.status, 'picking')
  assert.deepEqual(state.pending, { action: 'pick', batch: 0, population: 2, index: 1 })
  applyMessage(state, 'local.control_error', { message: 'population 2 is gone' })
  assert.equal(state.status, 'running')
  assert.equal(state.pending, null)
  assert.deepEqual(state.notice, { level: 'error', text: 'population 2 is gone' })
  applyMessage(state, 'local.stop')
  assert.equal(state.status, 'stopping')
  applyMessage(state, ...message('flowsearch.done', { seq: 50, nfe_used: 9, stopped: true, best_reward: 2.3, picked: null }))
  assert.equal(state.status, 'stopped')
  assert.equal(state.pending, null)
  assert.equal(shownBatch(state).stopped, true)
})

test('a hand-picked particle and its finishing NFEs are reported by done', () => {
  const state = reduceAll(smcRun({ steps: 2 }).slice(0, 3))
  applyMessage(state, ...message('flowsearch.done', { seq: 10, nfe_used: 10, picked: [2, 1], best_reward: 2.1, nfe_finish: 6 }))
  assert.deepEqual(shownBatch(state).picked, { population: 2, index: 1 })
  assert.equal(shownBatch(state).bestReward, 2.1)
  assert.equal(shownBatch(state).nfeFinish, 6)
  assert.equal(shownBatch(state).nfeUsed, 10) // the budget's count: finishing NFEs are apart
  assert.equal(state.status, 'done')
})

test('a pick the core could not honour is shown as an error', () => {
  const state = reduceAll(smcRun({ steps: 2 }).slice(0, 3))
  applyMessage(state, 'local.pick', { batch: 0, population: 0, index: 1 })
  applyMessage(state, ...message('flowsearch.done', {
    seq: 10, nfe_used: 8, picked: null, stopped: true, pick_error: 'population 0 is no longer held (held: [1, 2])'
  }))
  const batch = shownBatch(state)
  assert.equal(batch.picked, null)
  assert.equal(batch.pickError, 'population 0 is no longer held (held: [1, 2])')
  assert.equal(state.notice.level, 'error')
  assert.match(state.notice.text, /could not be honoured: population 0 is no longer held/)
  assert.equal(state.status, 'stopped')
})

test('interruption marks a running panel, not a finished one', () => {
  const running = reduceAll(smcRun().slice(0, 2))
  applyMessage(running, 'local.interrupted', { prompt_id: 'p1' })
  assert.equal(running.status, 'interrupted')
  const finished = reduceAll(smcRun())
  applyMessage(finished, 'local.interrupted', { prompt_id: 'p1' })
  assert.equal(finished.status, 'done')
  const other = reduceAll(smcRun().slice(0, 2))
  applyMessage(other, 'local.interrupted', { prompt_id: 'another' })
  assert.equal(other.status, 'running')
})

test('summary fills the timings and the held-out score of each batch item', () => {
  const state = reduceAll(smcRun())
  applyMessage(state, ...message('flowsearch.summary', {
    seq: 100, nfe_used: 16, nfe_budget: 16, seconds: 4, sec_per_100_nfe: 25,
    timings: { model: 2, decode: 0.5, verifier: 1, overhead: 0.5 }, held_out: [0.7], best_reward: [4.3], picked: [null]
  }))
  assert.equal(state.summary.secPer100Nfe, 25)
  assert.equal(state.summary.timings.model, 2)
  assert.equal(shownBatch(state).heldOut, 0.7)
})

test('the summary (the node\'s report) has the last word on picks and finishing NFEs', () => {
  const state = reduceAll(smcRun().slice(0, 3))
  applyMessage(state, ...message('flowsearch.done', { seq: 20, nfe_used: 9, picked: [2, 1], nfe_finish: 2 }))
  assert.deepEqual(shownBatch(state).picked, { population: 2, index: 1 })
  applyMessage(state, ...message('flowsearch.summary', { seq: 21, batch: null, picked: [null], nfe_finish: [0] }))
  assert.equal(shownBatch(state).picked, null)
  assert.equal(shownBatch(state).nfeFinish, 0)
  applyMessage(state, ...message('flowsearch.summary', { seq: 22, batch: null, picked: [[3, 0]], nfe_finish: [5] }))
  assert.deepEqual(shownBatch(state).picked, { population: 3, index: 0 })
  assert.equal(shownBatch(state).nfeFinish, 5)
  applyMessage(state, ...message('flowsearch.summary', { seq: 23, batch: null, picked: [null], pick_error: ['gone'] }))
  assert.equal(shownBatch(state).pickError, 'gone')
  assert.match(state.notice.text, /gone/)
})

test('only the running batch item\'s particles can be picked', () => {
  const state = reduceAll([
    ...smcRun({ steps: 2, batchSize: 2 }),
    ...smcRun({ steps: 2, batch: 1, batchSize: 2, seq0: 20 }).slice(0, 2)
  ])
  assert.equal(state.status, 'running')
  assert.equal(isPickable(state, state.batches[0]), false) // finished
  assert.equal(isPickable(state, state.batches[1]), true)
  applyMessage(state, 'local.stop')
  assert.equal(isPickable(state, state.batches[1]), false)
})

test('the summary says which batch items stopped early', () => {
  const state = reduceAll(smcRun())
  assert.equal(state.status, 'done')
  applyMessage(state, ...message('flowsearch.summary', { seq: 40, batch: null, stopped: [true] }))
  assert.equal(state.status, 'stopped')
  assert.equal(shownBatch(state).stopped, true)
  applyMessage(state, ...message('flowsearch.summary', { seq: 41, batch: null, stopped: [false] }))
  assert.equal(state.status, 'done')
})

test('replay of the server log equals live reduction, with overlapping live messages', () => {
  const run = smcRun({ steps: 6, n: 3, budget: 18 })
  const live = reduceAll(run)
  // the log holds everything up to message 5; messages 4.. arrived live meanwhile
  const rebuilt = replay(run.slice(0, 6), run.slice(4).reverse())
  assert.deepEqual(rebuilt, live)
})

test('long runs keep bounded history', () => {
  const state = createState()
  for (let k = 0; k < 3000; k++) {
    applyMessage(state, ...message('flowsearch.progress', {
      seq: k, kind: 'step', nfe_used: 2 * (k + 1), best_reward: k,
      steps_since: [{ step: k, nfe: 2 * (k + 1), best: k, rewards: [k, k - 1], parents: [0, 0], population: k }]
    }))
  }
  const b = shownBatch(state)
  assert.ok(b.best.length <= MAX_POINTS)
  assert.ok(b.populations.length <= MAX_POINTS)
  assert.equal(b.columns.length, MAX_COLUMNS)
  assert.equal(b.columns.at(-1).population, 2999)
  assert.deepEqual(b.best.at(-1), [6000, 2999])
  assert.deepEqual(b.best[0], [2, 0]) // thinning keeps the first point
  for (let i = 1; i < b.best.length; i++) assert.ok(b.best[i][0] > b.best[i - 1][0])
})

test('thin keeps the newest half and every other older element', () => {
  assert.deepEqual(thin([1, 2, 3], 5), [1, 2, 3])
  assert.deepEqual(thin([0, 1, 2, 3, 4, 5, 6, 7], 7), [0, 2, 4, 5, 6, 7])
})

test('unknown messages and malformed payloads are ignored', () => {
  const state = createState()
  applyMessage(state, 'flowsearch.nonsense', { prompt_id: 'p1' })
  applyMessage(state, 'flowsearch.progress', null)
  assert.deepEqual(state, createState())
})

test('done carries the returned sample', () => {
  const state = reduceAll(smcRun({ steps: 2 }).slice(0, 3))
  applyMessage(state, ...message('flowsearch.done', { seq: 10, nfe_used: 8, best_reward: 2.3, image: 'data:image/jpeg;base64,QQ' }))
  assert.deepEqual(shownBatch(state).result, { image: 'data:image/jpeg;base64,QQ', reward: 2.3 })
  applyMessage(state, ...message('flowsearch.done', { seq: 11, nfe_used: 8, best_reward: 2.3 }))
  assert.equal(shownBatch(state).result.image, null)
})

test('done clears the stop / pick notice', () => {
  const state = reduceAll(smcRun().slice(0, 3))
  applyMessage(state, 'local.pick', { batch: 0, population: 1, index: 0 })
  assert.equal(state.notice.level, 'info')
  applyMessage(state, ...message('flowsearch.done', { seq: 30, nfe_used: 9, picked: [1, 0] }))
  assert.equal(state.notice, null)
  assert.equal(state.status, 'done')
})
